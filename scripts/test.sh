#!/usr/bin/env bash
# The project's test command: install system packages and Python dependencies, then run the test suite.
# Servers (Redis, PostgreSQL, Prometheus, Alertmanager, nginx, the Kubernetes API emulator, the demo
# gateway) are started by the tests' own session fixtures on free loopback ports and stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/bootstrap-python.sh
set +e
# Two workers by default (the CI machine has two cores; the suite is written for xdist: every
# server is per worker, on free ports). DEPLOYVERIFY_TEST_WORKERS=0 runs it serially.
.venv/bin/python -m pytest tests -n "${DEPLOYVERIFY_TEST_WORKERS:-2}" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests; that is a failure here" >&2
  exit 1
fi
exit "$status"
