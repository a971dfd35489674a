#!/usr/bin/env bash
# The README's first command: start the local sandbox, run the whole verify/ checklist against it with
# the sandbox profile, write the reports, print the verdict, and stop everything that was started.
#   bash scripts/verify-sandbox.sh [extra pytest args, e.g. -n 4 or -m smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/bootstrap-python.sh

state=.sandbox
reports=${DEPLOYVERIFY_REPORTS:-reports}
mkdir -p "$reports"
.venv/bin/python -m sandbox down --state "$state" >/dev/null
trap '.venv/bin/python -m sandbox down --state "$state"' EXIT
.venv/bin/python -m sandbox up --state "$state"
set -a
# shellcheck disable=SC1091
. "$state/env.sh"
set +a

set +e
.venv/bin/python -m pytest verify \
  --env sandbox \
  --signoff "$reports/signoff.md" --signoff "$reports/signoff.json" \
  --html "$reports/report.html" --self-contained-html \
  --junitxml "$reports/junit.xml" \
  --signoff-exit verdict \
  -p no:cacheprovider \
  "$@"
status=$?
set -e
echo
echo "reports written:"
for f in report.html signoff.md signoff.json junit.xml; do
  [ -f "$reports/$f" ] && echo "  $reports/$f"
done
if [ "$status" -eq 5 ]; then
  echo "verify-sandbox: no checks were collected" >&2
  exit 1
fi
exit "$status"
