"""The `deployverify` command as a user meets it: fast start without pytest, the checklist from the
declarations, profile folders found the way a run finds them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_deployverify.cli import main
from pytest_deployverify.components.catalog import all_components, check_catalog

PYTHON = sys.executable


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "pytest_deployverify.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["signoff", "verify", "missing.json"], ["profile", "reference"]],
    ids=["version", "signoff-verify", "profile-reference"],
)
def test_commands_that_do_not_run_pytest_do_not_import_it(argv: list[str], tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from pytest_deployverify.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('PYTEST' if 'pytest' in sys.modules or '_pytest' in sys.modules else 'NO-PYTEST')\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "NO-PYTEST", done.stdout + done.stderr


def test_checklist_without_a_profile_lists_every_declared_check(tmp_path: Path) -> None:
    done = run_cli("checklist", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    catalog = check_catalog(all_components())
    assert document["source"] == "declarations"
    assert document["count"] == len(catalog) == len(document["checks"])
    assert {c["id"] for c in document["checks"]} == set(catalog)
    for check in document["checks"]:
        spec = catalog[check["id"]]
        assert (check["title"], check["section"], check["severity"]) == (
            spec.title,
            spec.section.value,
            spec.severity.value,
        )
        assert check["keys"] == list(spec.keys)
        assert check["component"]
    redis_auth = next(c for c in document["checks"] if c["id"] == "SEC-REDIS-AUTH")
    assert redis_auth["keys"] == ["redis.expect.require_auth"]


def test_checklist_markdown_names_each_check_and_what_it_needs(tmp_path: Path) -> None:
    done = run_cli("checklist", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "declared by the installed components, not run" in done.stdout
    assert (
        "- [ ] **Redis refuses clients without credentials** · `SEC-REDIS-AUTH` · critical · "
        "needs `redis.expect.require_auth`" in done.stdout
    )


def test_checklist_help_after_pytest_arguments(tmp_path: Path) -> None:
    done = run_cli("checklist", "verify", "--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "usage: deployverify checklist" in done.stdout
    assert "internal error" not in done.stderr


def test_checklist_rejects_an_unknown_format(tmp_path: Path) -> None:
    done = run_cli("checklist", "--format", "yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "deployverify: checklist: --format 'yaml': use md or json"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "staging.toml").write_text('version = "2.0"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEPLOYVERIFY_ENV_DIR", raising=False)
    return tmp_path


def test_profile_check_reads_the_folder_from_the_environment_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOYVERIFY_ENV_DIR", "profiles")
    assert main(["profile", "check", "staging"]) == 0
    assert "(folder from DEPLOYVERIFY_ENV_DIR)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("file", "text"),
    [
        ("pytest.ini", "[pytest]\ndeployverify_env_dir = profiles\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\ndeployverify_env_dir = "profiles"\n'),
        ("tox.ini", "[pytest]\ndeployverify_env_dir = profiles\n"),
        ("setup.cfg", "[tool:pytest]\ndeployverify_env_dir = profiles\n"),
    ],
)
def test_profile_check_reads_the_folder_from_the_ini_key(
    project: Path, capsys: pytest.CaptureFixture[str], file: str, text: str
) -> None:
    (project / file).write_text(text)
    sub = project / "deeper"
    sub.mkdir()
    os.chdir(sub)  # the ini file's folder is the base, as for a run from below the rootdir
    assert main(["profile", "check", "staging"]) == 0
    assert "(folder from ini deployverify_env_dir)" in capsys.readouterr().out


def test_profile_check_without_any_folder_setting_names_the_ways_to_set_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", "check", "staging"]) == 1
    err = capsys.readouterr().err
    assert "verify/environments" in err
    assert "DEPLOYVERIFY_ENV_DIR" in err


def test_an_empty_environment_variable_is_an_error_not_an_unset_one(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOYVERIFY_ENV_DIR", "")
    assert main(["profile", "check", "staging"]) == 2
    assert "DEPLOYVERIFY_ENV_DIR is set but empty" in capsys.readouterr().err


def test_an_empty_deployverify_env_fails_the_run_at_the_door(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    pytester._monkeypatch.setenv("DEPLOYVERIFY_ENV", "")  # type: ignore[attr-defined]
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*deployverify: environment variable DEPLOYVERIFY_ENV is set but empty*"]
    )
