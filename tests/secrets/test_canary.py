"""The canary suite: a secret in every secret-typed key of a profile, checks that misuse them in
every way a team's code might, every output pytest and its plugins write, every encoding.

Each secret slot of the profile holds its own canary (backslashes, both quotes, underscores,
non-ASCII, a 300-character key, a ``Bearer`` token). The team's own checks fail with them in the
message, warn, skip, xfail, log an exception, print, record them base64-encoded as evidence, build
a parametrize id from one, and a test file prints one and fails to import. The run is made
serially and with ``-n 2`` with every verbose option and every report, plus ``--collect-only`` and
the ``deployverify`` commands; every canary is then looked for in every output, in every
encoding this file knows (written here, independently of the redactor's own list): 0 found.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from pytest_deployverify.components.catalog import all_components
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.schema import field_hint
from pytest_deployverify.profile.secrets import Secret
from tests.clients.blackhole import refused_port

LONG = "LK" + "".join(f"{i:03d}" for i in range(99)) + "-end"  # 303 characters


def canaries() -> dict[str, str]:
    """One distinct canary per secret slot of the profile below."""
    specials = [
        "cnry\\back\\slash-{n}a1b2",
        "cnry'quote\"both-{n}c3d4",
        "cnry_under_score_{n}e5f6",
        "cnrÿ-ñoño-€uro-{n}g7h8",
        "cnry+plus/slash=eq-{n}i9",
    ]
    ascii_only = [s for s in specials if s.isascii()]
    slots = {
        # URL userinfo passwords and token parameters (Endpoint secret parts)
        "REDIS_URL_PW": "cnryRedisUrlPw01x",
        "PG_DSN_PW": "cnryPgDsnPw02xyz",
        "PROM_URL_TOKEN": "cnryPromUrlTok03",
        # secret-typed keys
        "REDIS_PASSWORD": specials[0],
        "REDIS_MONITOR_PASSWORD": specials[1],
        "SENTINEL_PASSWORD": specials[2],
        "PG_PASSWORD": specials[3],
        "PG_MONITOR_PASSWORD": specials[4],
        "PROM_TOKEN": ascii_only[0],
        "AM_TOKEN": ascii_only[1],
        "GRAFANA_TOKEN": ascii_only[2],
        "TRACING_TOKEN": ascii_only[3],
        "LOGS_TOKEN": LONG,
        "HTTP_HEADER": "Bearer cnryBearerToken-abcdefghijkl",
        "LOGIN_PASSWORD": specials[0],
        "CLIENT_SECRET": specials[1],
        "JWT_KEY": specials[2] + "-jwt-signing-key-32-bytes",
        "API_KEY": "cnryApiKey-\\'q\"-mnopqr",
        "BASIC_PASSWORD": specials[4],
        "TENANT_A_PASSWORD": specials[3],
        "TENANT_B_PASSWORD": specials[0],
        "BURST_PASSWORD": specials[1],
        "BURST_CLIENT_SECRET": specials[2],
    }
    return {name: value.format(n=i) for i, (name, value) in enumerate(slots.items())}


PROFILE = """\
version = "1.0.0"
description = "canary profile: every secret slot set, every endpoint refusing"

[redis]
url = "redis://:${{REDIS_URL_PW}}@127.0.0.1:{port}/0"
password = "${{REDIS_PASSWORD}}"
monitor_username = "monitor"
monitor_password = "${{REDIS_MONITOR_PASSWORD}}"
timeout = 1

[redis.expect.sentinel]
addresses = ["127.0.0.1:{port}"]
min_sentinels = 1
password = "${{SENTINEL_PASSWORD}}"

[postgres]
dsn = "postgresql://app:${{PG_DSN_PW}}@127.0.0.1:{port}/app"
password = "${{PG_PASSWORD}}"
monitor_user = "monitor"
monitor_password = "${{PG_MONITOR_PASSWORD}}"
timeout = 1

[prometheus]
url = "http://127.0.0.1:{port}/?token=${{PROM_URL_TOKEN}}"
bearer_token = "${{PROM_TOKEN}}"
timeout = 1
job = "svc"

[alertmanager]
url = "http://127.0.0.1:{port}"
bearer_token = "${{AM_TOKEN}}"
timeout = 1

[grafana]
url = "http://127.0.0.1:{port}"
api_token = "${{GRAFANA_TOKEN}}"
timeout = 1

[tracing]
url = "http://127.0.0.1:{port}"
service = "svc"
bearer_token = "${{TRACING_TOKEN}}"
timeout = 1

[logs]
url = "http://127.0.0.1:{port}"
selector = '{{app="svc"}}'
bearer_token = "${{LOGS_TOKEN}}"
timeout = 1

[http]
base_url = "https://127.0.0.1:{port}"
timeout = 1
headers = {{ Authorization = "${{HTTP_HEADER}}" }}

[http.expect.auth]
login_path = "/login"
login = {{ username = "verifier", password = "${{LOGIN_PASSWORD}}" }}
token_url = "/token"
client_id = "verifier-client"
client_secret = "${{CLIENT_SECRET}}"
jwt_signing_key = "${{JWT_KEY}}"
api_key = {{ header = "X-Api-Key", key = "${{API_KEY}}" }}
basic = {{ username = "verifier", password = "${{BASIC_PASSWORD}}" }}

[http.expect.tenants]
a = {{ tenant = "acme", login = {{ username = "a@acme.test", password = "${{TENANT_A_PASSWORD}}" }} }}
b = {{ tenant = "globex", login = {{ username = "b@globex.test", password = "${{TENANT_B_PASSWORD}}" }} }}

[http.expect.rate_limit]
probe_path = "/limited"
login = {{ username = "burst", password = "${{BURST_PASSWORD}}" }}
client_id = "burst-client"
client_secret = "${{BURST_CLIENT_SECRET}}"
"""

# The team's own checks, misusing the secrets every way they can.
TEAM_CHECKS = r"""
import base64
import logging
import os
import warnings

import pytest

log = logging.getLogger("team")


def pw(profile):
    return profile.sections["redis"].password.get()


@pytest.mark.check("TEAM-FAIL", title="fails with the secret", severity="high")
def test_fails_with_secret(profile):
    secret = pw(profile)
    assert secret == "not it", f"password {secret!r} rejected"


def test_warns_with_secret(profile):
    warnings.warn(f"careful with {pw(profile)}")


def test_xfails_with_secret(profile):
    pytest.xfail(f"known bug with {pw(profile)}")


def test_skips_with_secret(profile):
    pytest.skip(f"cannot run with {pw(profile)}")


def test_logs_an_exception(profile):
    try:
        raise RuntimeError(f"backend said {pw(profile)!r}")
    except RuntimeError:
        log.exception("call failed for %s", profile.sections["http"].expect.auth.api_key.key.get())
    log.debug("debug %s", profile.sections["logs"].bearer_token.get())
    assert False, "after logging"


def test_prints_and_fails(profile):
    print("stdout", profile.sections["postgres"].password.get())
    print("the long key", profile.sections["logs"].bearer_token.get())
    assert {"key": profile.sections["logs"].bearer_token.get(), "pad": "x" * 60} == {}


def test_basic_auth_in_evidence(profile, evidence):
    basic = profile.sections["http"].expect.auth.basic
    pair = base64.b64encode(f"{basic.username}:{basic.password.get()}".encode()).decode()
    evidence.record("authorization", f"Basic {pair}")
    evidence.record("header", profile.sections["http"].headers["Authorization"].get())
    assert False, f"Basic {pair}"


@pytest.mark.parametrize("value", [os.environ["CLIENT_SECRET"], os.environ["JWT_KEY"]])
def test_parametrized_by_secret(value):
    assert value.startswith("nope"), value
"""

BROKEN_IMPORT = """
import os
print("importing with", os.environ["TENANT_B_PASSWORD"])
raise ImportError("cannot import with " + os.environ["TENANT_B_PASSWORD"])
"""


# -- what to look for ----------------------------------------------------------------------------


def _markdown(value: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", value)


def encodings(value: str, usernames: tuple[str, ...]) -> dict[str, str]:
    """Every way this test knows a value can be written (independent of the product's list)."""
    found = {
        "raw": value,
        "repr": repr(value)[1:-1],
        "ascii": ascii(value)[1:-1],
        "unicode-escape": value.encode("unicode_escape").decode("ascii"),
        "repr-of-repr": repr(repr(value)[1:-1])[1:-1],
        "json": json.dumps(value)[1:-1],
        "json-utf8": json.dumps(value, ensure_ascii=False)[1:-1],
        "url": quote(value, safe=""),
        "url-path": quote(value),
        "url-form": quote_plus(value),
        "html": html.escape(value),
        "html-noquote": html.escape(value, quote=False),
        "xml": value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;"),
        "markdown": _markdown(value),
        "base64": base64.b64encode(value.encode()).decode(),
    }
    for user in usernames:
        found[f"basic:{user}"] = base64.b64encode(f"{user}:{value}".encode()).decode()
    if len(value) > 40:  # what is left of a shortened long value: any 12-character piece
        for i in range(0, len(value) - 12, 6):
            found[f"piece@{i}"] = value[i : i + 12]
    # Tokens after a scheme word are looked for on their own too.
    for word in value.split():
        if len(word) >= 8 and word != value:
            found[f"word:{word[:6]}"] = word
    return {k: v for k, v in found.items() if len(v) >= 6}


def find_canaries(outputs: dict[str, str], secrets: dict[str, str]) -> list[str]:
    usernames = ("verifier", "burst", "a@acme.test", "b@globex.test", "monitor", "app")
    leaks = []
    for slot, value in secrets.items():
        for kind, form in encodings(value, usernames).items():
            for where, text in outputs.items():
                count = text.count(form)
                if count:
                    leaks.append(f"{slot} ({kind}) x{count} in {where}")
    return leaks


# -- the profile covers every secret-typed key -----------------------------------------------------


def _strip(hint: typing.Any) -> typing.Any:
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return _strip(args[0])
    return hint


def secret_keys(cls: type, prefix: str) -> Iterator[str]:
    """Dotted paths of every secret-typed field (URLs included: their passwords are secrets)."""
    for field in dataclasses.fields(cls):
        hint = _strip(field_hint(cls, field.name))
        path = f"{prefix}.{field.name}"
        origin = typing.get_origin(hint)
        if isinstance(hint, type) and issubclass(hint, Secret):
            yield path
        elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
            yield from secret_keys(hint, path)
        elif origin is tuple:
            inner = _strip(typing.get_args(hint)[0])
            if isinstance(inner, type) and dataclasses.is_dataclass(inner):
                yield from secret_keys(inner, path)
        elif origin is not None and getattr(origin, "__name__", "") in ("Mapping", "dict"):
            inner = _strip(typing.get_args(hint)[1])
            if isinstance(inner, type) and issubclass(inner, Secret):
                yield path + ".*"


def test_the_canary_profile_fills_every_secret_slot_of_every_component() -> None:
    """A secret key added to a component without a canary here fails this test."""
    keys = set()
    for component in all_components():
        for spec in component.sections:
            hint = _strip(spec.type)
            if typing.get_origin(hint) is tuple:
                hint = _strip(typing.get_args(hint)[0])
            keys |= set(secret_keys(hint, spec.key))
    keys |= set(secret_keys(Profile, "profile"))
    # Tables whose secrets the canary run leaves out on purpose, and why.
    not_here = {
        "services.url": "downstream URLs carry no credentials in practice; covered by http",
        "tracing.url": "plain URL without userinfo; the token is in bearer_token",
        "logs.url": "likewise",
        "grafana.url": "likewise",
        "alertmanager.url": "likewise",
        "http.base_url": "likewise (no userinfo)",
        "http.expect.metrics_url": "optional; same type as base_url",
        "http.expect.tls.http_url": "optional; same type as base_url",
    }
    toml = PROFILE
    missing = []
    for key in sorted(keys):
        if key in not_here or key.startswith("profile."):
            continue
        leaf = key.rsplit(".", 1)[-1].rstrip("*").rstrip(".")
        table = key.rsplit(".", 1)[0]
        if leaf in ("url", "dsn"):
            if "${" not in toml.split(f"[{table}]", 1)[-1].split("\n[", 1)[0]:
                missing.append(key)
            continue
        if leaf and f"{leaf} = " not in toml and f"{leaf} = {{" not in toml:
            missing.append(key)
    assert missing == [], f"secret keys without a canary in the profile: {missing}"


# -- the runs ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def canary_project(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("canary")
    (root / "envs").mkdir()
    (root / "envs" / "canary.toml").write_text(PROFILE.format(port=refused_port()))
    (root / "test_team.py").write_text(TEAM_CHECKS)
    (root / "test_broken_import.py").write_text(BROKEN_IMPORT)
    (root / "pytest.ini").write_text("[pytest]\n")
    return root, canaries()


def environment(secrets: dict[str, str]) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPLOYVERIFY_")}
    return {**env, **secrets, "COLUMNS": "200"}


def run(root: Path, secrets: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=root,
        env=environment(secrets),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=600,
        check=False,
    )


def read_outputs(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix not in (".py", ".toml", ".ini", ".pyc"):
            found[str(path.relative_to(root))] = path.read_bytes().decode(
                "utf-8", "backslashreplace"
            )
    return found


FULL = (
    "--env", "canary", "--env-dir", "envs", "--checklist", "all",
    "-l", "--tb=long", "-vv", "-rA",
    "--junitxml", "out/junit.xml", "--html", "out/report.html", "--self-contained-html",
    "--signoff", "out/signoff.md", "--signoff", "out/signoff.json",
    "--log-file", "out/run.log", "--log-level=DEBUG",
    "--continue-on-collection-errors", "-p", "no:randomly",
)  # fmt: skip


@pytest.mark.parametrize(
    ("workers", "verbose"),
    [(None, True), ("2", True), (None, False)],
    # At default verbosity pytest shortens long values (``'LK00...'``): what is left of a
    # secret must not identify it either.
    ids=["serial", "xdist", "serial-default-verbosity"],
)
def test_no_canary_in_any_output_of_a_run(
    canary_project: tuple[Path, dict[str, str]], workers: str | None, verbose: bool
) -> None:
    root, secrets = canary_project
    out = root / "out"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    args = [a for a in FULL if verbose or a != "-vv"]
    args += ["-n", workers] if workers else []
    done = run(root, secrets, *args)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    outputs = {"stdout": done.stdout, "stderr": done.stderr, **read_outputs(root)}
    for name in (
        "out/junit.xml",
        "out/report.html",
        "out/signoff.md",
        "out/signoff.json",
        "out/run.log",
    ):
        assert name in outputs, f"{name} was not written"
    # The checks did run and misuse the secrets (else finding nothing would prove nothing).
    assert "TEAM-FAIL" in done.stdout
    assert any("call failed for" in text for text in outputs.values())  # the logged exception
    assert "***" in outputs["out/signoff.md"]
    assert find_canaries(outputs, secrets) == []


def test_no_canary_when_collecting_only_or_in_the_commands(
    canary_project: tuple[Path, dict[str, str]],
) -> None:
    root, secrets = canary_project
    outputs: dict[str, str] = {}
    collect = run(
        root, secrets, "--env", "canary", "--env-dir", "envs", "--checklist", "all",
        "--collect-only", "-q", "--continue-on-collection-errors",
    )  # fmt: skip
    outputs["collect-only"] = collect.stdout + collect.stderr
    assert "test_parametrized_by_secret" in collect.stdout
    env = environment(secrets)
    commands = [
        ["checklist", "--env", "canary", "--env-dir", "envs", "test_team.py"],
        ["checklist", "--env", "canary", "--env-dir", "envs", "--format", "json", "test_team.py"],
        ["profile", "check", "canary", "--env-dir", "envs"],
    ]
    first = run(root, secrets, "--env", "canary", "--env-dir", "envs", "--checklist", "none",
                "test_team.py", "--signoff", "s.json")  # fmt: skip
    assert (root / "s.json").exists(), first.stdout[-2000:]
    commands += [["signoff", "verify", "s.json"], ["signoff", "merge", "s.json", "-o", "m.md"]]
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "pytest_deployverify.cli", *command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            errors="backslashreplace",
            check=False,
            timeout=300,
        )
        outputs[" ".join(command)] = done.stdout + done.stderr
    outputs["m.md"] = (root / "m.md").read_text(encoding="utf-8")
    outputs["s.json"] = (root / "s.json").read_text(encoding="utf-8")
    assert "TEAM-FAIL" in outputs["checklist --env canary --env-dir envs test_team.py"]
    assert find_canaries(outputs, secrets) == []


def test_the_search_finds_a_leak() -> None:
    """The counting itself can fail: a secret written in any of the encodings is found."""
    secret = {"X": "cnry'quote\"both-77xy"}
    text = json.dumps({"v": secret["X"]})
    assert find_canaries({"file": text}, secret) != []
    pair = base64.b64encode(b"verifier:" + secret["X"].encode()).decode()
    assert find_canaries({"file": f"Basic {pair}"}, secret) != []
    assert find_canaries({"file": LONG[40:60]}, {"L": LONG}) != []
