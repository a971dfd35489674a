"""The production guard holds destructive checks back loudly; the header says where settings came from."""

from __future__ import annotations

import pytest

CHECKS = """
import pytest

@pytest.mark.smoke
def test_read_only():
    pass

@pytest.mark.smoke
@pytest.mark.destructive
def test_burst():
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    envs = pytester.mkdir("envs")
    (envs / "production.toml").write_text('protected = true\nversion = "2.0.0"\n')
    (envs / "staging.toml").write_text('version = "2.0.0"\n')
    pytester.makepyfile(test_checks=CHECKS)
    return pytester


def test_protected_env_holds_back_destructive(project: pytest.Pytester) -> None:
    result = project.runpytest("--env", "production", "--env-dir", "envs", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "deployverify: environment 'production' (from --env), profile envs/production.toml",
            "*PROTECTED environment: destructive checks will be HELD BACK*",
            "*1 destructive check(s) held back on protected environment 'production'*",
            "  - test_checks.py::test_burst",
            "SKIPPED*destructive check held back: environment 'production' is protected; "
            "pass --allow-destructive to run it",
        ]
    )


def test_allow_destructive_runs_them(project: pytest.Pytester) -> None:
    result = project.runpytest("--env", "production", "--env-dir", "envs", "--allow-destructive")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*destructive checks ALLOWED*"])


def test_unprotected_env_runs_destructive(project: pytest.Pytester) -> None:
    result = project.runpytest("--env", "staging", "--env-dir", "envs")
    result.assert_outcomes(passed=2)
    assert "held back" not in result.stdout.str()


def test_env_from_variable_and_ini(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOYVERIFY_ENV", "staging")
    result = project.runpytest("--env-dir", "envs")
    result.stdout.fnmatch_lines(["deployverify: environment 'staging' (from DEPLOYVERIFY_ENV)*"])
    monkeypatch.delenv("DEPLOYVERIFY_ENV")
    project.makeini("[pytest]\ndeployverify_env = production\ndeployverify_env_dir = envs\n")
    result = project.runpytest()
    result.stdout.fnmatch_lines(
        ["deployverify: environment 'production' (from ini deployverify_env)*"]
    )


def test_no_env_is_reported_and_profile_fixture_skips(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_p(profile):\n    pass\n")
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "deployverify: no environment selected*",
            "SKIPPED*no environment selected: pass --env NAME*",
        ]
    )


def test_markers_work_under_strict_markers(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_more="""
import pytest

@pytest.mark.infra
@pytest.mark.security
@pytest.mark.monitoring
@pytest.mark.check("A-1", title="t", severity="low")
def test_all():
    pass
"""
    )
    result = project.runpytest("--strict-markers", "--env", "staging", "--env-dir", "envs")
    result.assert_outcomes(passed=3)


def test_destructive_checks_run_last(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_order="""
import pytest

@pytest.mark.destructive
def test_a_burst():
    pass

def test_b_read():
    pass
"""
    )
    result = project.runpytest("--env", "staging", "--env-dir", "envs", "-v", "test_order.py")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_b_read PASSED*", "*test_a_burst PASSED*"])
