#!/usr/bin/env bash
# Create .venv and install the plugin with every component extra plus what the tests need.
# Prefers uv (fast, from PyPI); falls back to pip when uv cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! command -v uv >/dev/null 2>&1; then
  "$PY" -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 || true
fi
if command -v uv >/dev/null 2>&1; then
  [ -x .venv/bin/python ] || uv venv --quiet --python "$PY" .venv
  uv pip install --quiet --python .venv/bin/python -e '.[all,test]'
else
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[all,test]'
fi
echo "python environment ready: .venv ($(.venv/bin/python --version))"
