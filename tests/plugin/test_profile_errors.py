"""Bad input refused at the door: profiles, options, ini keys and environment variables.

The corpus runs each case through a real pytest run (pytester): the run ends as a usage error
(exit 4) with ONE message naming the file (and line where known), the key and the fix, no
traceback, and never a secret. A canary secret is in the environment of every case, and most
profiles put it into a secret slot (or into the very value that is wrong): it must not appear in
stdout or stderr in any form.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from pytest_deployverify.components.catalog import all_components, load_profile
from pytest_deployverify.profile.loader import ProfileError
from pytest_deployverify.profile.secrets import Redactor

GOOD = """
version = "1.4.2"
[redis]
url = "redis://127.0.0.1:6379/0"
"""

CANARY = "cnry-Q7x4-Zp91-wv3K"
# A canary with a non-ASCII letter, for header values (httpx can only send ASCII).
CANARY_UNICODE = "cnry-\u00fcml-Q7x4-Zp91"
# Every run has both in its environment; a profile takes them with ${DV_CANARY}.
CANARY_ENV = {"DV_CANARY": CANARY, "DV_CANARY_UNICODE": CANARY_UNICODE}

# Appended to every profile: a valid table with the canary in a secret slot, so every case has a
# secret loaded (or about to be) when its error is reported.
CANARY_TABLE = """
[alertmanager]
url = "https://alertmanager.internal:9093"
bearer_token = "${DV_CANARY}"
"""

# A component registered by the run's conftest, with the field types the built-in tables are to
# take (header names and values, files that must exist), so the corpus covers them today.
CONFTEST = """
import dataclasses
from collections.abc import Mapping

from pytest_deployverify import Component, SectionSpec
from pytest_deployverify.profile.fields import ExistingFile, HeaderName, HeaderValue, HttpUrl


@dataclasses.dataclass(frozen=True, kw_only=True)
class EdgeConfig:
    url: HttpUrl
    token: HeaderValue | None = None
    headers: Mapping[HeaderName, HeaderValue] = dataclasses.field(default_factory=dict)
    ca_file: ExistingFile | None = None
    client_cert: ExistingFile | None = None
    kubeconfig: ExistingFile | None = None


component = Component(
    name="edge",
    title="Edge proxy",
    sections=(SectionSpec("edge", EdgeConfig, "the edge proxy in front of the service"),),
)


def pytest_deployverify_components(config):
    return [component]
"""

ARGS = ("--env", "prod", "--env-dir", "envs")
FILE = "envs/prod.toml"


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input. ``profile`` is written to envs/prod.toml (None: not written; the canary
    table is appended unless ``canary_table`` is false); ``fragments`` must all appear in the one
    error message."""

    profile: str | None
    fragments: tuple[str, ...]
    args: tuple[str, ...] = ARGS
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    unset: tuple[str, ...] = ()
    ini: str | None = None
    conftest: bool = False
    canary_table: bool = True
    setup: Callable[[Path], None] | None = None


def _edge(text: str, fragments: tuple[str, ...], **kwargs: Any) -> Case:
    """A profile with the conftest's [edge] table; ``text`` goes after its ``url`` (line 3)."""
    body = '[edge]\nurl = "https://edge.internal:8443"\n' + textwrap.dedent(text)
    return Case(body, fragments, conftest=True, **kwargs)


def _option(*args: str, fragments: tuple[str, ...], **kwargs: Any) -> Case:
    """A good profile, and ``args`` (options), ``env`` or ``ini`` that are wrong."""
    return Case(GOOD, fragments, args=args, **kwargs)


def _symlink_loop(root: Path) -> None:
    (root / "envs" / "prod.toml").unlink()
    os.symlink("loop.toml", root / "envs" / "prod.toml")
    os.symlink("prod.toml", root / "envs" / "loop.toml")


def _dangling_profile(root: Path) -> None:
    (root / "envs" / "prod.toml").unlink()
    os.symlink("gone.toml", root / "envs" / "prod.toml")


def _profile_folder(root: Path) -> None:
    (root / "envs" / "prod.toml").unlink()
    (root / "envs" / "prod.toml").mkdir()


def _bom(root: Path) -> None:
    path = root / "envs" / "prod.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _utf16(root: Path) -> None:
    path = root / "envs" / "prod.toml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def _latin1(root: Path) -> None:
    (root / "envs" / "prod.toml").write_bytes(b'version = "1"\ndescription = "caf\xe9"\n')


def _certs_folder(root: Path) -> None:
    (root / "certs").mkdir()


def _dangling_cert(root: Path) -> None:
    os.symlink("missing-client.pem", root / "client.pem")


def _env_dir_is_a_file(root: Path) -> None:
    (root / "notdir").write_text("x")


def _signoff_folder(root: Path) -> None:
    (root / "out.md").mkdir()


CASES: dict[str, Case] = {
    # --- the profile file: TOML, keys, types -------------------------------------------------
    "toml-syntax": Case(
        'version = "1.4.2"\n[redis\nurl = "x"\n', (f"{FILE}:2", "TOML syntax error")
    ),
    "toml-duplicate-key": Case(
        'version = "1"\nversion = "2"\n', (f"{FILE}:2", "TOML syntax error")
    ),
    "unknown-top-key": Case(
        'versoin = "1.4.2"\n', (f"{FILE}:1", "versoin", "unknown key", "did you mean 'version'")
    ),
    "unknown-nested-key": Case(
        '[redis]\nurl = "redis://h:1"\npasword = "${DV_CANARY}"\n',
        (f"{FILE}:3", "redis.pasword", "line 3", "did you mean 'password'"),
    ),
    "unknown-section": Case(
        '[redsi]\nurl = "redis://h:1"\n', (f"{FILE}:1", "redsi", "did you mean 'redis'")
    ),
    "unknown-list-key": Case(
        '[[services]]\nname = "auth"\nurl = "http://a:1/health"\ntimout = 3\n',
        (f"{FILE}:4", "services[0].timout", "did you mean 'timeout'"),
    ),
    "wrong-type-bool": Case('protected = "maybe"\n', (f"{FILE}:1", "protected", "boolean")),
    "wrong-type-number": Case(
        '[redis]\nurl = "redis://h:1"\ntimeout = "soon"\n',
        (f"{FILE}:3", "redis.timeout", "number"),
    ),
    "wrong-type-table": Case('redis = "redis://h:1"\n', (f"{FILE}:1", "redis", "RedisConfig")),
    "negative-timeout": Case(
        '[redis]\nurl = "redis://h:1"\ntimeout = -1\n',
        (f"{FILE}:3", "redis.timeout", "greater than 0"),
    ),
    "fraction-out-of-range": Case(
        "[slo]\nerror_rate = 5\n", (f"{FILE}:2", "slo.error_rate", "less than or equal to 1")
    ),
    "missing-required": Case(
        "[redis]\ntimeout = 2\n", (FILE, "redis.url", "required key is missing")
    ),
    "bad-severity": Case(
        'default_severity = "urgent"\n', (f"{FILE}:1", "default_severity", "critical")
    ),
    "bad-waiver-date": Case(
        '[[waivers]]\ncheck = "X"\nreason = "r"\napprover = "a"\nticket = "T-1"\nexpires = "soon"\n',
        (f"{FILE}:6", "waivers[0].expires", "date"),
    ),
    "waiver-missing-ticket": Case(
        '[[waivers]]\ncheck = "X"\nreason = "r"\napprover = "a"\nexpires = 2026-12-01\n',
        ("waivers[0].ticket", "required key is missing"),
    ),
    "bad-manual-section": Case(
        '[[manual]]\nid = "oncall"\ntitle = "On-call"\nsection = "ops"\n',
        (f"{FILE}:4", "manual[0].section", "infra"),
    ),
    "duplicate-service": Case(
        '[[services]]\nname = "a"\nurl = "http://a:1"\n[[services]]\nname = "a"\nurl = "http://b:1"\n',
        ("services", "'a' appears twice"),
    ),
    "name-mismatch": Case(
        'name = "staging"\n', (f"{FILE}:1", "name", "does not match the file name")
    ),
    "page-size-zero": Case(
        "[kubernetes]\npage_size = 0\n",
        (f"{FILE}:2", "kubernetes.page_size", "greater than or equal to 1"),
    ),
    "enum-from-secret-variable": Case(
        'default_severity = "${DV_CANARY}"\n',
        (f"{FILE}:1", "default_severity", "expected one of: critical, high"),
    ),
    # --- numbers that are not numbers ---------------------------------------------------------
    "timeout-nan": Case(
        '[redis]\nurl = "redis://h:6379"\ntimeout = nan\n',
        (f"{FILE}:3", "redis.timeout", "not a finite number", "write a number"),
    ),
    "timeout-inf": Case(
        '[postgres]\ndsn = "postgresql://app@db:5432/x"\ntimeout = inf\n',
        (f"{FILE}:3", "postgres.timeout", "not a finite number"),
    ),
    "timeout-nan-from-variable": Case(
        '[redis]\nurl = "redis://h:6379"\ntimeout = "${DV_TIMEOUT}"\n',
        (f"{FILE}:3", "redis.timeout", "not a finite number"),
        env={"DV_TIMEOUT": "NaN"},
    ),
    "fraction-nan": Case(
        "[slo]\ncache_hit_rate = -nan\n", (f"{FILE}:2", "slo.cache_hit_rate", "not a finite number")
    ),
    "timeout-huge-integer": Case(
        '[redis]\nurl = "redis://h:6379"\ntimeout = ' + "9" * 400 + "\n",
        (f"{FILE}:3", "redis.timeout", "too large"),
    ),
    "duration-nan": Case(
        '[logs]\nurl = "http://loki:3100"\nselector = \'{app="api"}\'\nlookback = nan\n',
        (f"{FILE}:4", "logs.lookback", "not a finite number"),
    ),
    # --- ${VAR} interpolation -----------------------------------------------------------------
    "missing-var": Case(
        '[redis]\nurl = "redis://h:1"\npassword = "${REDIS_PASSWORD}"\n',
        (f"{FILE}:3", "redis.password", "REDIS_PASSWORD", "not set", "${REDIS_PASSWORD:-default}"),
    ),
    "missing-var-in-list": Case(
        '[[services]]\nname = "auth"\nurl = "${AUTH_URL}"\n',
        (f"{FILE}:3", "services[0].url", "AUTH_URL", "export AUTH_URL="),
    ),
    "unterminated-var": Case(
        '[redis]\nurl = "redis://${HOST:1"\n', (f"{FILE}:2", "redis.url", "unterminated", "${NAME}")
    ),
    "bad-var-name": Case(
        '[redis]\nurl = "redis://${1HOST}:1"\n',
        (f"{FILE}:2", "redis.url", "not a valid variable", "${NAME}"),
    ),
    "nested-var": Case(
        '[redis]\nurl = "redis://${HOST_${REGION}}:6379"\n',
        (f"{FILE}:2", "redis.url", "nested '${'", "${NAME:-${OTHER}}"),
        env={"REGION": "eu", "HOST_eu": "cache.eu"},
    ),
    "empty-var-takes-the-default": Case(
        # The shell's ${VAR:-default} uses the default when VAR is set but empty: the default
        # (beyond the bound) is what gets judged, not an empty string.
        '[redis]\nurl = "redis://h:6379"\ntimeout = "${DV_TIMEOUT:-7200}"\n',
        (f"{FILE}:3", "redis.timeout", "less than or equal to 3600"),
        env={"DV_TIMEOUT": ""},
    ),
    "secret-variable-echoed-by-a-check": Case(
        # parse_duration quotes the text it cannot read; the loader's safety net masks what
        # interpolation put in.
        '[logs]\nurl = "http://loki:3100"\nselector = \'{app="api"}\'\nlookback = "${DV_CANARY}"\n',
        (f"{FILE}:4", "logs.lookback", "not a duration: '***'", "'15m'", "from ${DV_CANARY}"),
    ),
    # --- URLs and DSNs: never echoed, control characters and whitespace refused ------------------
    "malformed-url-scheme": Case(
        '[http]\nbase_url = "api.example.com"\n',
        (f"{FILE}:2", "http.base_url", "no scheme", "http://"),
    ),
    "malformed-url-port": Case(
        '[http]\nbase_url = "https://api.example.com:99999"\n',
        (f"{FILE}:2", "http.base_url", "malformed URL", "1 to 65535"),
    ),
    "url-port-not-a-number": Case(
        '[redis]\nurl = "redis://:${DV_CANARY}@cache:port/0"\n',
        (f"{FILE}:2", "redis.url", "malformed URL", "port is not a number"),
    ),
    "url-port-zero": Case(
        '[prometheus]\nurl = "http://prom:0/"\n', (f"{FILE}:2", "prometheus.url", "1 to 65535")
    ),
    "url-no-host": Case(
        '[prometheus]\nurl = "http://"\n', (f"{FILE}:2", "prometheus.url", "no host")
    ),
    "redis-wrong-scheme": Case(
        '[redis]\nurl = "http://127.0.0.1:6379"\n',
        (f"{FILE}:2", "redis.url", "redis://", "not http://"),
    ),
    "postgres-wrong-scheme": Case(
        '[postgres]\ndsn = "mysql://a@h/db"\n', (f"{FILE}:2", "postgres.dsn", "postgresql://")
    ),
    "dsn-without-scheme": Case(
        '[postgres]\ndsn = "app:${DV_CANARY}@127.0.0.1:5432/db"\n',
        (f"{FILE}:2", "postgres.dsn", "no scheme", "postgresql:// or postgres://"),
    ),
    "dsn-malformed-ipv6": Case(
        '[postgres]\ndsn = "postgresql://app:${DV_CANARY}@[::1:5432/db"\n',
        (f"{FILE}:2", "postgres.dsn", "IPv6", "in brackets"),
    ),
    "url-ipv6-not-an-address": Case(
        '[http]\nbase_url = "https://u:${DV_CANARY}@[gateway]:8443/"\n',
        (f"{FILE}:2", "http.base_url", "IPv6 host is not valid"),
    ),
    "password-variable-in-url-key": Case(
        '[redis]\nurl = "${DV_CANARY}"\n', (f"{FILE}:2", "redis.url", "redis:// or rediss://")
    ),
    "url-crlf-from-variable": Case(
        '[http]\nbase_url = "${DV_GATEWAY_URL}"\n',
        (f"{FILE}:2", "http.base_url", "carriage return (CR)", "one line"),
        env={"DV_GATEWAY_URL": f"https://u:{CANARY}@api.example.com/\r\n"},
    ),
    "url-line-feed": Case(
        '[redis]\nurl = "redis://cache:6379/0\\n"\n',
        (f"{FILE}:2", "redis.url", "line feed (LF)", "character 21"),
    ),
    "dsn-nul": Case(
        '[postgres]\ndsn = "postgresql://app@db:5432/x\\u0000"\n',
        (f"{FILE}:2", "postgres.dsn", "NUL"),
    ),
    "url-space-inside": Case(
        '[http]\nbase_url = "https://api example.com"\n',
        (f"{FILE}:2", "http.base_url", "a space at character 12", "%20"),
    ),
    "url-leading-space-from-variable": Case(
        '[prometheus]\nurl = "${DV_PROM_URL}"\n',
        (f"{FILE}:2", "prometheus.url", "a space at character 1", "remove spaces"),
        env={"DV_PROM_URL": " https://prometheus.internal:9090"},
    ),
    "url-tab": Case(
        '[[services]]\nname = "auth"\nurl = "http://auth:8080/\\thealth"\n',
        (f"{FILE}:3", "services[0].url", "a tab"),
    ),
    "url-non-breaking-space": Case(
        '[alertmanager]\nurl = "https://am.internal\\u00a0:9093"\n',
        (f"{FILE}:2", "alertmanager.url", "whitespace character (U+00A0)"),
        canary_table=False,
    ),
    # --- secrets too short to redact ------------------------------------------------------------
    "secret-too-short-from-variable": Case(
        '[redis]\nurl = "redis://cache:6379"\npassword = "${DV_SHORT}"\n',
        (f"{FILE}:3", "redis.password", "shorter than 8 characters", "at least 8"),
        env={"DV_SHORT": "abc1234"},
    ),
    "secret-too-short-literal": Case(
        '[postgres]\ndsn = "postgresql://app@db:5432/x"\npassword = "pw"\n',
        (f"{FILE}:3", "postgres.password", "shorter than 8 characters"),
    ),
    "url-password-too-short": Case(
        '[redis]\nurl = "redis://:short@cache:6379"\n',
        (f"{FILE}:2", "redis.url", "password or token in this URL is shorter than 8"),
    ),
    "url-token-parameter-too-short": Case(
        '[prometheus]\nurl = "https://prom:9090/?token=abc"\n',
        (f"{FILE}:2", "prometheus.url", "shorter than 8"),
    ),
    # --- the profile file itself ----------------------------------------------------------------
    "profile-is-a-folder": Case(
        GOOD, (FILE, "is a folder, not a file"), canary_table=False, setup=_profile_folder
    ),
    "profile-symlink-loop": Case(
        GOOD, (FILE, "symbolic link that loops"), canary_table=False, setup=_symlink_loop
    ),
    "profile-dangling-symlink": Case(
        GOOD,
        (FILE, "symbolic link to gone.toml, which does not exist"),
        canary_table=False,
        setup=_dangling_profile,
    ),
    "byte-order-mark-is-read-past": Case(
        'versoin = "1.4.2"\n',
        (f"{FILE}:1", "versoin", "did you mean 'version'"),
        setup=_bom,
    ),
    "utf16-profile": Case(GOOD, (FILE, "UTF-16", "save the file as UTF-8"), setup=_utf16),
    "latin1-profile": Case(
        None, (f"{FILE}:2", "is not UTF-8 text", "save the file as UTF-8"), setup=_latin1
    ),
    # --- header names and values, files that must exist (the conftest's [edge] table) -----------
    "header-value-crlf": _edge(
        'token = "${DV_TOKEN}"\n',
        (f"{FILE}:3", "edge.token", "carriage return (CR)", "printable ASCII"),
        env={"DV_TOKEN": CANARY + "\r\nX-Injected: 1"},
    ),
    "header-value-non-ascii": _edge(
        'token = "${DV_CANARY_UNICODE}"\n',
        (f"{FILE}:3", "edge.token", "non-ASCII character at character 6", "printable ASCII"),
    ),
    "header-value-nul": _edge(
        'headers = { "X-Api-Key" = "${DV_CANARY}\\u0000" }\n',
        (f"{FILE}:3", "edge.headers.X-Api-Key", "NUL"),
    ),
    "header-value-trailing-space": _edge(
        'token = "${DV_CANARY} "\n', (f"{FILE}:3", "edge.token", "ends with whitespace", "remove")
    ),
    "header-value-too-short": _edge(
        'headers = { "X-Tenant" = "acme" }\n',
        (f"{FILE}:3", "edge.headers.X-Tenant", "shorter than 8 characters"),
    ),
    "header-name-space": _edge(
        'headers = { "X Api Key" = "${DV_CANARY}" }\n',
        (f"{FILE}:3", "edge.headers.X Api Key", "not a valid HTTP header name", "a space"),
    ),
    "header-name-colon": _edge(
        'headers = { "X-Api-Key:" = "${DV_CANARY}" }\n',
        (f"{FILE}:3", "edge.headers.X-Api-Key:", "the character ':'", "X-Api-Key"),
    ),
    "ca-file-missing": _edge(
        'ca_file = "certs/ca.pem"\n',
        (
            f"{FILE}:3",
            "edge.ca_file",
            "'certs/ca.pem' does not exist",
            "the folder the run starts in",
        ),
    ),
    "ca-file-is-a-folder": _edge(
        'ca_file = "certs"\n',
        (f"{FILE}:3", "edge.ca_file", "'certs' is a folder", "name the file in it"),
        setup=_certs_folder,
    ),
    "ca-file-empty": _edge(
        'ca_file = "${DV_CA_FILE:-}"\n',
        (f"{FILE}:3", "edge.ca_file", "is empty", "leave the key out"),
    ),
    "client-cert-dangling-symlink": _edge(
        'client_cert = "client.pem"\n',
        (f"{FILE}:3", "edge.client_cert", "symbolic link to a file that does not exist"),
        setup=_dangling_cert,
    ),
    "redis-ca-file-missing": Case(
        # A built-in table's file key (not the conftest's): the run refuses it before connecting.
        '[redis]\nurl = "rediss://cache.internal:6380/0"\nca_file = "certs/redis-ca.pem"\n',
        (
            f"{FILE}:3",
            "redis.ca_file",
            "file 'certs/redis-ca.pem' does not exist",
            "fix the path, or leave the key out",
        ),
    ),
    "kubeconfig-from-variable-missing": _edge(
        'kubeconfig = "${DV_KUBECONFIG}"\n',
        (f"{FILE}:3", "edge.kubeconfig", "does not exist", "the value comes from ${DV_KUBECONFIG}"),
        env={"DV_KUBECONFIG": "/nonexistent/deployverify/kubeconfig"},
    ),
    # --- command-line options -------------------------------------------------------------------
    "unknown-env": _option(
        "--env",
        "nope",
        "--env-dir",
        "envs",
        fragments=("unknown environment 'nope'", "prod", "to create it: deployverify init nope"),
    ),
    "unknown-env-close-match": _option(
        "--env", "prdo", "--env-dir", "envs", fragments=("did you mean 'prod'?",)
    ),
    "missing-dir": _option(
        "--env",
        "prod",
        "--env-dir",
        "missing",
        fragments=("missing", "does not exist", "--env-dir", "deployverify init prod --env-dir"),
    ),
    "env-dir-is-a-file": _option(
        "--env",
        "prod",
        "--env-dir",
        "notdir",
        fragments=("notdir", "is not a folder"),
        setup=_env_dir_is_a_file,
    ),
    "bad-env-name": _option(
        "--env", "../prod", "--env-dir", "envs", fragments=("'../prod' is not valid", "letters")
    ),
    "empty-env-option": _option("--env", " ", fragments=("--env is empty", "leave the option out")),
    "signoff-extension": _option(
        *ARGS, "--signoff", "out.txt", fragments=("no sign-off format writes .txt; use one of .md",)
    ),
    "signoff-unwritable-folder": _option(
        *ARGS,
        "--signoff",
        "/proc/deployverify/s.md",
        fragments=("--signoff", "the folder /proc is not writable"),
    ),
    "signoff-is-a-folder": _option(
        *ARGS,
        "--signoff",
        "out.md",
        fragments=("--signoff 'out.md' is a folder; name a file",),
        setup=_signoff_folder,
    ),
    "signoff-without-env": _option(
        "--signoff", "out.md", fragments=("--signoff needs an environment profile", "--env NAME")
    ),
    "signoff-twice": _option(
        *ARGS, "--signoff", "a.md", "--signoff", "./a.md", fragments=("same file twice",)
    ),
    "signoff-exit-choice": _option(
        *ARGS, "--signoff-exit", "loose", fragments=("--signoff-exit", "invalid choice", "strict")
    ),
    "approve-format": _option(
        *ARGS, "--approve", "Security", fragments=("--approve expects ROLE=NAME",)
    ),
    "approve-unknown-role": _option(
        *ARGS,
        "--approve",
        "CEO=Pat",
        fragments=("--approve 'CEO'", "no such sign-off role", "roles:"),
    ),
    "approve-bad-date": _option(
        *ARGS,
        "--approve",
        "Security=Pat@tomorrow",
        fragments=("is not a date", "ROLE=NAME@YYYY-MM-DD"),
    ),
    "attest-unknown-item": _option(
        *ARGS, "--attest", "nope=Pat", fragments=("--attest 'nope'", "no manual item")
    ),
    "checklist-unknown-section": _option(
        *ARGS, "--checklist", "smoky", fragments=("--checklist", "unknown section 'smoky'", "smoke")
    ),
    # --- environment variables ------------------------------------------------------------------
    "env-variable-empty": _option(
        "--env-dir",
        "envs",
        fragments=("DEPLOYVERIFY_ENV is set but empty", "unset it"),
        env={"DEPLOYVERIFY_ENV": ""},
    ),
    "env-variable-unknown": _option(
        "--env-dir",
        "envs",
        fragments=("unknown environment 'staging'", "prod"),
        env={"DEPLOYVERIFY_ENV": "staging"},
    ),
    "env-dir-variable-missing": _option(
        fragments=("missing-envs", "does not exist", "DEPLOYVERIFY_ENV_DIR"),
        env={"DEPLOYVERIFY_ENV": "prod", "DEPLOYVERIFY_ENV_DIR": "missing-envs"},
    ),
    "env-dir-variable-empty": _option(
        "--env",
        "prod",
        fragments=("DEPLOYVERIFY_ENV_DIR is set but empty",),
        env={"DEPLOYVERIFY_ENV_DIR": " "},
    ),
    "checklist-variable-bad": _option(
        *ARGS,
        fragments=("DEPLOYVERIFY_CHECKLIST", "unknown section 'everything'", "all, none"),
        env={"DEPLOYVERIFY_CHECKLIST": "everything"},
    ),
    # --- ini keys -------------------------------------------------------------------------------
    "ini-signoff-exit": _option(
        *ARGS,
        fragments=("ini key deployverify_signoff_exit", "'loose'", "use strict or verdict"),
        ini="[pytest]\ndeployverify_signoff_exit = loose\n",
    ),
    "ini-checklist": _option(
        *ARGS,
        fragments=("ini deployverify_checklist", "unknown section 'monitor'", "monitoring"),
        ini="[pytest]\ndeployverify_checklist = monitor\n",
        unset=("DEPLOYVERIFY_CHECKLIST",),  # so the ini key is the source
    ),
    "ini-env-unknown": _option(
        "--env-dir",
        "envs",
        fragments=("unknown environment 'production'", "environments in"),
        ini="[pytest]\ndeployverify_env = production\n",
    ),
    "ini-env-dir-missing": _option(
        "--env",
        "prod",
        fragments=("profiles", "does not exist", "deployverify_env_dir"),
        ini="[pytest]\ndeployverify_env_dir = profiles\n",
    ),
}


# The cases about the profile's content (not options, variables of the plugin or ini keys).
PROFILE_CASES = {name for name, case in CASES.items() if FILE in " ".join(case.fragments)}


def _run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, case: Case
) -> pytest.RunResult:
    for name in ("DEPLOYVERIFY_ENV", "DEPLOYVERIFY_ENV_DIR", "DEPLOYVERIFY_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**CANARY_ENV, **case.env}.items():
        monkeypatch.setenv(name, value)
    for name in case.unset:
        monkeypatch.delenv(name, raising=False)
    envs = pytester.mkdir("envs")
    if case.profile is not None:
        text = case.profile + (CANARY_TABLE if case.canary_table else "")
        (envs / "prod.toml").write_text(text, encoding="utf-8")
    if case.conftest:
        pytester.makeconftest(CONFTEST)
    if case.ini is not None:
        pytester.makeini(case.ini)
    if case.setup is not None:
        case.setup(pytester.path)
    pytester.makepyfile("def test_ok(): pass")
    return pytester.runpytest("-p", "no:cacheprovider", *case.args)


@pytest.fixture(scope="module", autouse=True)
def _components_imported_once() -> None:
    # pytester's runs forget the modules they import: import the built-in components here, once.
    all_components()


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_usage_error_naming_file_key_and_fix(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    case = CASES[name]
    result = _run(pytester, monkeypatch, case)
    out, err = result.stdout.str(), result.stderr.str()
    combined = out + err
    assert result.ret == pytest.ExitCode.USAGE_ERROR, combined
    assert "Traceback" not in combined, combined
    assert "INTERNALERROR" not in combined, combined
    errors = [line for line in err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, err
    if name in PROFILE_CASES:
        # A profile error starts with the file it is about.
        assert errors[0].startswith(f"ERROR: deployverify: {FILE}"), errors[0]
    for fragment in case.fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    for canary in (CANARY, CANARY_UNICODE):
        for form in (canary, quote(canary, safe=""), repr(canary)[1:-1], canary[5:14]):
            assert form not in combined, f"{form!r} leaked: {combined!r}"


# --- the loader itself ----------------------------------------------------------------------------


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


def test_error_starts_with_the_file(tmp_path: Path) -> None:
    error = error_for(tmp_path, '[redis]\nurl = "redis://h:1"\npasword = "x"\n')
    assert str(error).startswith(str(tmp_path / "envs" / "prod.toml")), str(error)


def test_error_never_shows_the_bad_value(tmp_path: Path) -> None:
    canary = "hunter2-canary-value"
    error = error_for(
        tmp_path, f'[redis]\nurl = "redis://h:1"\npassword = 42\ntimeout = "{canary}"\n'
    )
    assert canary not in str(error)


def test_every_message_is_redacted_with_what_interpolation_put_in(tmp_path: Path) -> None:
    # The message part only: the file, key and line are structure and stay as they are.
    error = error_for(
        tmp_path,
        '[logs]\nurl = "http://loki:3100"\nselector = "x"\nlookback = "${LOOKBACK}"\n',
        {"LOOKBACK": "a-secret-by-mistake"},
    )
    assert "a-secret-by-mistake" not in str(error)
    assert "not a duration: '***'" in str(error)
    assert "logs.lookback (line 4)" in str(error)


def test_interpolated_numbers_and_booleans_are_not_masked(tmp_path: Path) -> None:
    error = error_for(tmp_path, '[redis]\nurl = "redis://h:1"\ntimeout = "${T}"\n', {"T": "3600.5"})
    assert "less than or equal to 3600" in str(error)


def test_short_interpolated_values_such_as_host_names_are_not_masked(tmp_path: Path) -> None:
    error = error_for(tmp_path, '[redis]\nurl = "redis://${HOST}:port"\n', {"HOST": "redis"})
    assert "write redis://HOST:PORT/..." in str(error)


def test_profile_error_redacted_keeps_path_key_and_line() -> None:
    error = ProfileError("envs/p.toml", "value sekrit-123456 is bad", key="a.b", line=3)
    redacted = error.redacted(Redactor(["sekrit-123456"]))
    assert str(redacted) == "envs/p.toml:3: a.b: value *** is bad"
    assert error.redacted(Redactor(["other-value"])) is error


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
    folder = tmp_path / "nowhere"
    assert f"create it with a first profile: deployverify init prod --env-dir {folder}" in str(
        info.value
    )
    assert "\n" not in str(info.value)


def test_missing_profile_names_the_init_command(tmp_path: Path) -> None:
    write(tmp_path / "envs", "production", GOOD)
    with pytest.raises(ProfileError) as info:
        load_profile("staging", tmp_path / "envs", {})
    message = str(info.value)
    assert message.endswith(
        f"to create it: deployverify init staging --env-dir {tmp_path / 'envs'}"
    )
    assert "\n" not in message
    # A name that is not valid never makes it into the command (it is refused once the folder
    # exists).
    with pytest.raises(ProfileError, match="deployverify init NAME --env-dir") as bad:
        load_profile("../x", tmp_path / "missing", {})
    assert "../x" not in str(bad.value)


def test_a_missing_redis_ca_file_in_profile_check_is_one_line(pytester: pytest.Pytester) -> None:
    """``deployverify profile check`` refuses it as the run does (the run: exit 4, in the corpus
    above), with the command's own exit code for an invalid profile (1)."""
    envs = pytester.mkdir("envs")
    (envs / "prod.toml").write_text(
        '[redis]\nurl = "rediss://cache.internal:6380/0"\nca_file = "certs/redis-ca.pem"\n',
        encoding="utf-8",
    )
    result = pytester.run(
        sys.executable,
        "-m",
        "pytest_deployverify.cli",
        "profile",
        "check",
        "prod",
        "--env-dir",
        "envs",
    )
    assert result.ret == 1
    assert result.stdout.str() == ""
    assert "Traceback" not in result.stderr.str()
    [line] = result.stderr.lines
    assert line.startswith("deployverify: envs/prod.toml:3: redis.ca_file (line 3): "), line
    assert "file 'certs/redis-ca.pem' does not exist" in line
    assert line.endswith("fix the path, or leave the key out"), line


def test_profile_folder_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "envs").write_text("x")
    with pytest.raises(ProfileError, match="is not a folder"):
        load_profile("prod", tmp_path / "envs", {})


def test_bad_environment_name(tmp_path: Path) -> None:
    write(tmp_path / "envs", "prod", GOOD)
    with pytest.raises(ProfileError, match="not valid"):
        load_profile("../prod", tmp_path / "envs", {})


def test_profile_that_is_a_folder_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "envs" / "prod.toml").mkdir(parents=True)
    with pytest.raises(ProfileError) as info:
        load_profile("prod", tmp_path / "envs", {})
    assert "is a folder, not a file" in str(info.value)
    assert "unknown environment" not in str(info.value)


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
        "prod", tmp_path / "envs", {"REDIS_HOST": "cache", "REDIS_PASSWORD": "pw-123456"}
    )
    assert loaded.profile.version == "0.0.0"
    assert loaded.profile.redis is not None
    assert loaded.profile.redis.url.host == "cache"
    assert loaded.profile.redis.password is not None
    assert loaded.profile.redis.password.get() == "pw-123456"
    assert loaded.variables == ("RELEASE", "REDIS_HOST", "REDIS_PASSWORD")


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("${V:-fallback}", {"V": ""}, "fallback"),  # set but empty: the default, as in the shell
        ("${V:-fallback}", {}, "fallback"),
        ("${V:-fallback}", {"V": "given"}, "given"),
        ("${V}", {"V": ""}, ""),  # set but empty, no default: empty, as in the shell
        ("${V:-${W}}", {"W": "second"}, "second"),
        ("${V:-${W:-third}}", {}, "third"),
        ("a-${V}-b-${W}", {"V": "1", "W": "2"}, "a-1-b-2"),
        ("cost $5 and ${V}", {"V": "x"}, "cost $5 and x"),
        ("${V:-a:-b}", {}, "a:-b"),
    ],
)
def test_interpolation_follows_the_shell(
    tmp_path: Path, text: str, environ: dict[str, str], expected: str
) -> None:
    write(tmp_path / "envs", "prod", f'description = "{text}"\n')
    loaded = load_profile("prod", tmp_path / "envs", environ)
    assert loaded.profile.description == expected


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path / "envs", "prod", GOOD)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    loaded = load_profile("prod", tmp_path / "envs", {})
    assert loaded.profile.version == "1.4.2"


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


def test_missing_manifests_path_is_a_usage_error_before_the_run(pytester: pytest.Pytester) -> None:
    (pytester.path / "envs").mkdir()
    (pytester.path / "envs" / "prod.toml").write_text('version = "1"\n')
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--env", "prod", "--env-dir", "envs", "--manifests", "rendered/"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--manifests 'rendered/': no such file or folder*"])
    assert "test_one" not in result.stdout.str()
