"""The ``deployverify`` commands the canary suite (``tests/secrets/test_canary.py``) does not run:
``scan``, ``init``, ``signoff keygen`` and ``signoff sign``, each run with the canary profile (a
distinct canary in every secret slot, the values in the environment) and its secrets in the
environment. No canary may appear in their output or in any file they write, in any encoding the
canary suite looks for (plain, repr, JSON, URL-encoded, base64, HTML, Markdown, ...).

The canary profile, the values and the search are the canary suite's own, imported unchanged.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.blackhole import refused_port
from tests.secrets.test_canary import (
    PROFILE,
    TEAM_CHECKS,
    canaries,
    environment,
    find_canaries,
)

# Secrets of these commands' own, beside the profile's: the sign-off's HMAC key, and the token
# of a kubeconfig that init reads (init reads a cluster, not the profile's tables).
EXTRA = {
    "DEPLOYVERIFY_SIGNING_KEY": "cnryHmacSigningKey-zz91-\u00e9t\u00e9",
    "KUBE_TOKEN": "cnryKubeToken-4242-abcdefgh",
}

MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:latest
          env:
            - name: DB_PASSWORD
              value: not-a-canary-but-a-plain-literal
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster:
      server: https://127.0.0.1:{port}
      insecure-skip-tls-verify: true
users:
  - name: verifier
    user:
      token: {token}
contexts:
  - name: prod
    context: {{cluster: prod, user: verifier, namespace: shop}}
current-context: prod
"""


def deployverify(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_deployverify.cli", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=300,
        check=False,
    )


def written_files(root: Path, skip: set[str]) -> dict[str, str]:
    """Every file under ``root`` (the profile holds only ``${VAR}`` placeholders, so it is read
    too), but the inputs that hold a secret on purpose and the test files."""
    found = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_file() and name not in skip and path.suffix not in (".py", ".pyc"):
            found[name] = path.read_bytes().decode("utf-8", "backslashreplace")
    return found


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, str]]:
    """The canary profile in envs/ (plus a [kubernetes] table), rendered manifests, a kubeconfig
    with a canary token."""
    (tmp_path / "envs").mkdir()
    port = refused_port()
    # scan needs a [kubernetes] table; its kubeconfig holds the kube canary.
    kube = '\n[kubernetes]\nkubeconfig = "kubeconfig"\nnamespace = "shop"\n'
    (tmp_path / "envs" / "canary.toml").write_text(
        PROFILE.format(port=port) + kube, encoding="utf-8"
    )
    (tmp_path / "manifests").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "keys").mkdir()
    (tmp_path / "manifests" / "api.yaml").write_text(MANIFESTS, encoding="utf-8")
    (tmp_path / "kubeconfig").write_text(
        KUBECONFIG.format(port=port, token=EXTRA["KUBE_TOKEN"]), encoding="utf-8"
    )
    (tmp_path / "test_team.py").write_text(TEAM_CHECKS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    secrets = {**canaries(), **EXTRA}
    env = {**environment(canaries()), **EXTRA}
    return tmp_path, secrets, env


def test_scan_init_keygen_and_sign_leak_no_canary(
    project: tuple[Path, dict[str, str], dict[str, str]],
) -> None:
    root, secrets, env = project
    outputs: dict[str, str] = {}

    def record(*args: str) -> subprocess.CompletedProcess[str]:
        done = deployverify(root, env, *args)
        outputs[f"{len(outputs)}: deployverify {' '.join(args)}"] = done.stdout + done.stderr
        return done

    # scan: the profile's [kubernetes] table (none here) and every output format.
    scan_args = ("scan", "manifests", "--env", "canary", "--env-dir", "envs")
    text = record(*scan_args)
    assert text.returncode == 1, text.stdout + text.stderr  # the manifest has high findings
    assert "api" in text.stdout
    for fmt in ("json", "sarif"):
        done = record(*scan_args, "--format", fmt, "-o", f"out/scan.{fmt}")
        assert done.returncode == 1, done.stderr
        assert (root / "out" / f"scan.{fmt}").is_file()
    missing = record("scan", "nowhere", "--env", "canary", "--env-dir", "envs")
    assert missing.returncode == 2

    # init: a new profile and the schema beside the canary profile; never over an existing one;
    # and a cluster read with a kubeconfig whose token is a canary (the cluster refuses).
    made = record("init", "second", "--env-dir", "envs")
    assert made.returncode == 0, made.stderr
    assert (root / "envs" / "second.toml").is_file()
    assert (root / "envs" / "profile.schema.json").is_file()
    exists = record("init", "canary", "--env-dir", "envs")
    assert exists.returncode == 1
    assert "already exists" in exists.stderr
    cluster = record("init", "third", "--env-dir", "envs", "--kubeconfig", "kubeconfig")
    assert cluster.returncode != 0
    assert "Traceback" not in cluster.stderr
    assert not (root / "envs" / "third.toml").exists()

    # A sign-off of a run with the canary profile, whose team checks misuse every secret.
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
            "--env", "canary", "--env-dir", "envs", "--checklist", "none", "test_team.py",
            "--signoff", "s.json",
        ],
        cwd=root, env=env, capture_output=True, text=True, errors="backslashreplace",
        timeout=300, check=False,
    )  # fmt: skip
    assert (root / "s.json").is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    assert "TEAM-FAIL" in run.stdout  # the checks did misuse the secrets

    # signoff keygen and sign: the key pair, the envelope; refusing a tampered sign-off.
    keygen = record("signoff", "keygen", "--out", "keys/signing.pem")
    assert keygen.returncode == 0, keygen.stderr
    signed = record("signoff", "sign", "s.json", "--key", "keys/signing.pem")
    assert signed.returncode == 0, signed.stderr
    assert (root / "s.intoto.json").is_file()
    doc = json.loads((root / "s.json").read_text(encoding="utf-8"))
    doc["run"]["run_by"] = "someone else"  # changed after it was written
    (root / "t.json").write_text(json.dumps(doc), encoding="utf-8")
    refused = record("signoff", "sign", "t.json", "--key", "keys/signing.pem")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "refusing to sign" in refused.stderr
    again = record("signoff", "keygen", "--out", "keys/signing.pem")
    assert again.returncode == 2

    files = written_files(root, skip={"kubeconfig"})
    for name in ("out/scan.json", "out/scan.sarif", "envs/second.toml", "s.intoto.json"):
        assert name in files, f"{name} was not written"
    assert find_canaries({**outputs, **files}, secrets) == []

    # The private key itself is a secret: only its own file holds it.
    pem = (root / "keys" / "signing.pem").read_text(encoding="utf-8")
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    raw = base64.b64decode(body)
    for form in (body, body[:24], raw[-32:].hex(), base64.b64encode(raw[-32:]).decode()):
        for where, text in {**outputs, **files}.items():
            if where != "keys/signing.pem":
                assert form not in text, f"the private key leaked into {where}"


def test_the_search_would_find_a_canary_these_commands_wrote(tmp_path: Path) -> None:
    """The check above can fail: a canary written plain, URL-encoded or base64 is found."""
    from urllib.parse import quote

    secret = canaries()["CLIENT_SECRET"]
    for text in (
        secret,
        quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
    ):
        assert find_canaries({"file": f"x {text} y"}, {"CLIENT_SECRET": secret}) != []
