"""A secret canary never reaches any output, even from a failing check that holds it in a local."""

from __future__ import annotations

import pytest

CANARY = "Canary-7f3a9c2e-Secret"

PROFILE = """
version = "1.4.2"
[redis]
url = "redis://:${CANARY_PASSWORD}@127.0.0.1:1/0"
password = "${CANARY_PASSWORD}"
[http]
base_url = "https://api.example.com"
headers = { Authorization = "Bearer ${CANARY_PASSWORD}" }
"""

CHECKS = """
import logging
import pytest

log = logging.getLogger("checks")


@pytest.mark.security
@pytest.mark.check("SEC-CANARY", title="canary", severity="high")
def test_holds_secret(profile, evidence):
    password = profile.redis.password.get()
    dsn = profile.redis.url.get()
    header = profile.http.headers["Authorization"].get()
    evidence.record("password seen", password, source=dsn)
    print("stdout:", password, dsn)
    import sys
    print("stderr:", password, file=sys.stderr)
    log.warning("log line with %s", password)
    assert password == "something else", f"password {password} rejected at {dsn} ({header})"


@pytest.mark.security
def test_secret_in_exception(profile):
    raise RuntimeError("connection to " + profile.redis.url.get() + " failed")


@pytest.mark.security
@pytest.mark.parametrize("value", ["x"])
def test_secret_in_fixture_setup(profile, value):
    pass


@pytest.fixture
def broken(profile):
    raise ValueError("setup saw " + profile.redis.password.get())


@pytest.mark.infra
def test_setup_error(broken):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("CANARY_PASSWORD", CANARY)
    envs = pytester.mkdir("envs")
    (envs / "canary.toml").write_text(PROFILE)
    pytester.makepyfile(test_checks=CHECKS)
    return pytester


def test_canary_absent_from_terminal_and_junit(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(
        "--env",
        "canary",
        "--env-dir",
        "envs",
        "-l",
        "--tb=long",
        "-vv",
        "-rA",
        "--junitxml=junit.xml",
        "-o",
        "log_cli=true",
        "-o",
        "log_cli_level=INFO",
        "--showlocals",
    )
    output = result.stdout.str() + result.stderr.str()
    # The checks really failed with the secret in play, so the test would notice a leak.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*password *** rejected at redis://:***@127.0.0.1:1/0 (***)*"])
    result.stdout.fnmatch_lines(["*stdout: *** redis://:***@127.0.0.1:1/0*"])
    result.stdout.fnmatch_lines(["*log line with ****"])
    assert "password   = '***'" in output  # the -l locals are there, masked
    assert CANARY not in output
    junit = (project.path / "junit.xml").read_text()
    assert "rejected at" in junit
    assert CANARY not in junit


def test_canary_absent_under_xdist(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    result = project.runpytest_subprocess(
        "--env",
        "canary",
        "--env-dir",
        "envs",
        "-n",
        "2",
        "-l",
        "--tb=long",
        "-vv",
        "-rA",
        "--junitxml=junit.xml",
    )
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "rejected at redis://:***@" in output
    assert CANARY not in output
    assert CANARY not in (project.path / "junit.xml").read_text()


def test_url_encoded_secret_is_masked_too(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_encoded="""
from urllib.parse import quote

def test_encoded(profile):
    assert 0, "encoded " + quote(profile.redis.password.get() + "/x", safe="")
"""
    )
    result = project.runpytest_subprocess("--env", "canary", "--env-dir", "envs", "test_encoded.py")
    output = result.stdout.str()
    assert "encoded ***" in output
    assert CANARY not in output


def test_canary_printed_by_a_passing_fixture_is_masked(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_fixture_print="""
import pytest

@pytest.fixture
def noisy(profile):
    print("setup sees", profile.redis.password.get())
    yield
    print("teardown sees", profile.redis.password.get())

def test_passes(noisy):
    pass
"""
    )
    result = project.runpytest_subprocess(
        "--env", "canary", "--env-dir", "envs", "-rA", "test_fixture_print.py"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*setup sees ****", "*teardown sees ****"])
    assert CANARY not in result.stdout.str()
