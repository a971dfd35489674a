"""Who ran the verification, when, and against which commit: best effort, never failing the run."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

# The first one set names the person (or CI user) who ran the verification.
ACTOR_VARIABLES = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_USER", "USER")
COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA")
GIT_TIMEOUT = 5.0

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def now_iso() -> str:
    """Local time with its UTC offset, to the second: unambiguous for a reviewer elsewhere."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def who_ran(
    run_by: str | None, environ: Mapping[str, str], account: Callable[[], str] = getpass.getuser
) -> tuple[str | None, str | None]:
    """(name, where it came from): ``--run-by`` first, then CI actor variables, then ``USER``,
    then the operating-system account running pytest."""
    if run_by and run_by.strip():
        return run_by.strip(), "--run-by"
    for name in ACTOR_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value, name
    try:
        return account(), "operating-system account"
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        return None, None


def git_commit(
    rootdir: Path, environ: Mapping[str, str], runner: Runner = subprocess.run
) -> tuple[str | None, str | None]:
    """(commit, source): ``git rev-parse HEAD`` in the rootdir, else the CI commit variables."""
    try:
        done = runner(
            ["git", "-C", str(rootdir), "rev-parse", "--verify", "--quiet", "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is not None and done.returncode == 0:
        sha = done.stdout.strip()
        if _looks_like_sha(sha):
            return sha, "git rev-parse HEAD"
    for name in COMMIT_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value, name
    return None, None


def _looks_like_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text.lower())
