"""Who ran it and at which commit (best effort), and atomic file writes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.signoff import integrity
from pytest_deployverify.signoff.files import SignoffFileError, read_json, write_atomic
from pytest_deployverify.signoff.runinfo import git_commit, who_ran

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_who_ran_prefers_the_option_then_ci_actors_then_user() -> None:
    environ = {"USER": "root", "BUILD_USER": "jenkins-bob", "GITHUB_ACTOR": "octocat"}
    assert who_ran("  alice ", environ) == ("alice", "--run-by")
    assert who_ran(None, environ) == ("octocat", "GITHUB_ACTOR")
    assert who_ran("", {"USER": "root", "GITLAB_USER_LOGIN": "gl"}) == ("gl", "GITLAB_USER_LOGIN")
    assert who_ran(None, {"USER": "root"}) == ("root", "USER")
    assert who_ran(None, {}, account=lambda: "svc") == ("svc", "operating-system account")

    def no_account() -> str:
        raise KeyError("uid 1234 has no passwd entry")

    assert who_ran(None, {}, account=no_account) == (None, None)


def fake_git(returncode: int, stdout: str = "") -> Any:
    def runner(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args[0], returncode, stdout=stdout, stderr="")

    return runner


def missing_git(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    raise FileNotFoundError("git")


def test_git_commit_from_rev_parse_then_ci_variables(tmp_path: Path) -> None:
    assert git_commit(tmp_path, {}, fake_git(0, SHA + "\n")) == (SHA, "git rev-parse HEAD")
    ci = {"CI_COMMIT_SHA": "abc123"}
    assert git_commit(tmp_path, ci, fake_git(128)) == ("abc123", "CI_COMMIT_SHA")
    assert git_commit(tmp_path, {"GITHUB_SHA": "def"}, missing_git) == ("def", "GITHUB_SHA")
    assert git_commit(tmp_path, {}, fake_git(0, "not a sha")) == (None, None)


def test_git_commit_outside_a_repository_is_quietly_unknown(tmp_path: Path) -> None:
    assert git_commit(tmp_path, {}) == (None, None)


def test_write_atomic_replaces_whole_files_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "s.md"
    write_atomic(target, "first\n")
    write_atomic(target, "second ✓\n")
    assert target.read_text(encoding="utf-8") == "second ✓\n"
    assert os.listdir(target.parent) == ["s.md"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_atomic_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "s.md"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(TypeError):  # fails inside the write, after the temporary file exists
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["s.md"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON (line 1, column 2"),
        ("[1, 2]", "not a deployverify sign-off"),
        ('{"kind": "signoff"}', "not a deployverify sign-off (no schema_version)"),
    ],
)
def test_read_json_errors_name_the_file(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "s.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SignoffFileError, match=rf"^{path}: .*") as info:
        read_json(path)
    assert message in str(info.value)


def test_nan_in_an_edited_file_is_reported_not_raised() -> None:
    sealed = integrity.seal({"a": 1}, None)
    result = integrity.verify({**sealed, "a": float("nan")}, None)
    assert not result.ok
    assert "NaN" in result.problems[0]
