"""The environment for the gateway's child processes (``python -m sandbox.gateway...``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# sandbox/ is a package of the repository, not an installed one: children import it from here.
REPO_ROOT = Path(__file__).resolve().parents[2]

# Only what a Python child needs; the caller's other variables (credentials included) stay out,
# so a child's settings are exactly what the caller passed.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
