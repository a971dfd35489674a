"""Bad profiles and bad options: one clear message naming the file, the key and the fix, never a traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_deployverify.components.catalog import load_profile
from pytest_deployverify.profile.loader import ProfileError

GOOD = """
version = "1.4.2"
[redis]
url = "redis://127.0.0.1:6379/0"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ProfileError:
    write(tmp_path / "envs", "prod", text)
    with pytest.raises(ProfileError) as info:
        load_profile("prod", tmp_path / "envs", environ or {})
    return info.value


# (profile text, environment, fragments the message must contain)
CASES = {
    "toml-syntax": (
        'version = "1.4.2"\n[redis\nurl = "x"\n',
        {},
        ["prod.toml:2", "TOML syntax error"],
    ),
    "toml-duplicate-key": (
        'version = "1"\nversion = "2"\n',
        {},
        ["prod.toml:2", "TOML syntax error"],
    ),
    "unknown-top-key": (
        'versoin = "1.4.2"\n',
        {},
        ["versoin", "unknown key", "did you mean 'version'"],
    ),
    "unknown-nested-key": (
        '[redis]\nurl = "redis://h:1"\npasword = "x"\n',
        {},
        ["redis.pasword", "line 3", "did you mean 'password'"],
    ),
    "unknown-section": ('[redsi]\nurl = "redis://h:1"\n', {}, ["redsi", "did you mean 'redis'"]),
    "unknown-list-key": (
        '[[services]]\nname = "auth"\nurl = "http://a:1/health"\ntimout = 3\n',
        {},
        ["services[0].timout", "did you mean 'timeout'"],
    ),
    "wrong-type-bool": ('protected = "maybe"\n', {}, ["protected", "boolean"]),
    "wrong-type-number": (
        '[redis]\nurl = "redis://h:1"\ntimeout = "soon"\n',
        {},
        ["redis.timeout", "number"],
    ),
    "wrong-type-table": ('redis = "redis://h:1"\n', {}, ["redis", "RedisConfig"]),
    "negative-timeout": (
        '[redis]\nurl = "redis://h:1"\ntimeout = -1\n',
        {},
        ["redis.timeout", "greater than 0"],
    ),
    "fraction-out-of-range": (
        "[slo]\nerror_rate = 5\n",
        {},
        ["slo.error_rate", "less than or equal to 1"],
    ),
    "missing-required": ("[redis]\ntimeout = 2\n", {}, ["redis.url", "required key is missing"]),
    "missing-var": (
        '[redis]\nurl = "redis://h:1"\npassword = "${REDIS_PASSWORD}"\n',
        {},
        ["redis.password", "REDIS_PASSWORD", "not set", "${REDIS_PASSWORD:-default}"],
    ),
    "missing-var-in-list": (
        '[[services]]\nname = "auth"\nurl = "${AUTH_URL}"\n',
        {},
        ["services[0].url", "AUTH_URL"],
    ),
    "unterminated-var": ('[redis]\nurl = "redis://${HOST:1"\n', {}, ["redis.url", "unterminated"]),
    "bad-var-name": (
        '[redis]\nurl = "redis://${1HOST}:1"\n',
        {},
        ["redis.url", "not a valid variable"],
    ),
    "malformed-url-scheme": (
        '[http]\nbase_url = "api.example.com"\n',
        {},
        ["http.base_url", "http://"],
    ),
    "malformed-url-port": (
        '[http]\nbase_url = "https://api.example.com:99999"\n',
        {},
        ["http.base_url", "malformed URL"],
    ),
    "url-no-host": ('[prometheus]\nurl = "http://"\n', {}, ["prometheus.url", "no host"]),
    "redis-wrong-scheme": (
        '[redis]\nurl = "http://127.0.0.1:6379"\n',
        {},
        ["redis.url", "redis://"],
    ),
    "postgres-wrong-scheme": (
        '[postgres]\ndsn = "mysql://a@h/db"\n',
        {},
        ["postgres.dsn", "postgresql://"],
    ),
    "bad-severity": ('default_severity = "urgent"\n', {}, ["default_severity", "critical"]),
    "bad-waiver-date": (
        '[[waivers]]\ncheck = "X"\nreason = "r"\napprover = "a"\nticket = "T-1"\nexpires = "soon"\n',
        {},
        ["waivers[0].expires", "date"],
    ),
    "waiver-missing-ticket": (
        '[[waivers]]\ncheck = "X"\nreason = "r"\napprover = "a"\nexpires = 2026-12-01\n',
        {},
        ["waivers[0].ticket", "required key is missing"],
    ),
    "bad-manual-section": (
        '[[manual]]\nid = "oncall"\ntitle = "On-call"\nsection = "ops"\n',
        {},
        ["manual[0].section", "infra"],
    ),
    "duplicate-service": (
        '[[services]]\nname = "a"\nurl = "http://a:1"\n[[services]]\nname = "a"\nurl = "http://b:1"\n',
        {},
        ["services", "'a' appears twice"],
    ),
    "name-mismatch": ('name = "staging"\n', {}, ["name", "does not match the file name"]),
    "page-size-zero": (
        "[kubernetes]\npage_size = 0\n",
        {},
        ["kubernetes.page_size", "greater than or equal to 1"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_profile_error_names_file_key_and_fix(tmp_path: Path, case: str) -> None:
    text, environ, fragments = CASES[case]
    error = error_for(tmp_path, text, environ)
    message = str(error)
    assert message.startswith(str(tmp_path / "envs" / "prod.toml")), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_error_never_shows_the_bad_value(tmp_path: Path) -> None:
    canary = "hunter2-canary-value"
    error = error_for(
        tmp_path, f'[redis]\nurl = "redis://h:1"\npassword = 42\ntimeout = "{canary}"\n'
    )
    assert canary not in str(error)


def test_unknown_environment_lists_known_ones(tmp_path: Path) -> None:
    write(tmp_path / "envs", "production", GOOD)
    write(tmp_path / "envs", "staging", GOOD)
    with pytest.raises(ProfileError) as info:
        load_profile("prodution", tmp_path / "envs", {})
    message = str(info.value)
    assert "unknown environment 'prodution'" in message
    assert "did you mean 'production'" in message
    assert "production, staging" in message


def test_missing_profile_folder(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile("prod", tmp_path / "nowhere", {})
    assert "does not exist" in str(info.value)
    assert "--env-dir" in str(info.value)


def test_profile_folder_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "envs").write_text("x")
    with pytest.raises(ProfileError, match="is not a folder"):
        load_profile("prod", tmp_path / "envs", {})


def test_bad_environment_name(tmp_path: Path) -> None:
    write(tmp_path / "envs", "prod", GOOD)
    with pytest.raises(ProfileError, match="not valid"):
        load_profile("../prod", tmp_path / "envs", {})


def test_defaults_and_variables_interpolate(tmp_path: Path) -> None:
    write(
        tmp_path / "envs",
        "prod",
        """
        version = "${RELEASE:-0.0.0}"
        [redis]
        url = "redis://${REDIS_HOST}:6379/0"
        password = "${REDIS_PASSWORD}"
        """,
    )
    loaded = load_profile(
        "prod", tmp_path / "envs", {"REDIS_HOST": "cache", "REDIS_PASSWORD": "pw-1234"}
    )
    assert loaded.profile.version == "0.0.0"
    assert loaded.profile.redis is not None
    assert loaded.profile.redis.url.host == "cache"
    assert loaded.profile.redis.password is not None
    assert loaded.profile.redis.password.get() == "pw-1234"
    assert loaded.variables == ("RELEASE", "REDIS_HOST", "REDIS_PASSWORD")


# Command-line level: the same errors end the run as usage errors (exit 4) with one message.
CLI_CASES = {
    "unknown-env": (["--env", "nope"], "unknown environment 'nope'"),
    "missing-dir": (["--env", "prod", "--env-dir", "missing"], "does not exist"),
    "signoff-extension": (
        ["--env", "prod", "--signoff", "out.txt"],
        "no sign-off format writes .txt; use one of .md, .json",
    ),
    "signoff-unwritable-folder": (
        ["--env", "prod", "--signoff", "/proc/deployverify/s.md"],
        "the folder /proc is not writable",
    ),
    "signoff-without-env": (["--signoff", "out.md"], "--signoff needs an environment profile"),
    "approve-format": (["--env", "prod", "--approve", "Security"], "expects ROLE=NAME"),
    "approve-unknown-role": (["--env", "prod", "--approve", "CEO=Pat"], "no such sign-off role"),
    "approve-bad-date": (["--env", "prod", "--approve", "Security=Pat@tomorrow"], "is not a date"),
    "attest-unknown-item": (["--env", "prod", "--attest", "nope=Pat"], "no manual item"),
    "signoff-twice": (
        ["--env", "prod", "--signoff", "a.md", "--signoff", "./a.md"],
        "same file twice",
    ),
    "signoff-exit-choice": (["--env", "prod", "--signoff-exit", "loose"], "invalid choice"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_command_line_errors_are_usage_errors(pytester: pytest.Pytester, case: str) -> None:
    args, fragment = CLI_CASES[case]
    envs = pytester.mkdir("envs")
    (envs / "prod.toml").write_text(GOOD)
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--env-dir", "envs", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    combined = result.stdout.str() + result.stderr.str()
    assert fragment in combined
    assert "Traceback" not in combined
    assert "INTERNALERROR" not in combined


def test_profile_error_from_cli_names_file_and_line(pytester: pytest.Pytester) -> None:
    envs = pytester.mkdir("envs")
    (envs / "prod.toml").write_text('[redis]\nurl = "redis://h:1"\npasword = "x"\n')
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--env", "prod", "--env-dir", "envs")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*envs/prod.toml*redis.pasword (line 3): unknown key; did you mean 'password'?*"]
    )
    assert "Traceback" not in result.stderr.str()
