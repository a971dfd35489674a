"""Ed25519 signatures of the JSON sign-off: an in-toto Statement in a DSSE envelope.

Round trips through the ``deployverify signoff keygen|sign|verify`` commands and a real run with
``--signoff-key``; tampering of every kind rejected with its reason; the envelopes checked a second
time by the libraries' own verification (securesystemslib's DSSE ``Envelope.verify`` and
in-toto-attestation's Statement types), independent of the project's verify code; and no private
key material in any output.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.cli import main
from pytest_deployverify.signoff import integrity, render_json
from pytest_deployverify.signoff.merge import load_verified, merge, merged_document
from pytest_deployverify.signoff.model import Outcome

from .helpers import ENV_ARGS, item, load, project, run_info, signoff

PREDICATE_TYPE = "urn:pytest-deployverify:verification-summary:v1"

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``deployverify ARGS`` in this process: (exit code, stdout, stderr)."""

    def run(*args: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def keygen(cli: Cli, path: Path) -> tuple[Path, Path, str]:
    code, out, err = cli("signoff", "keygen", "--out", path)
    assert code == 0, err
    keyid = out.split("key id ")[1].split()[0]
    return path, path.with_name(path.name + ".pub"), keyid


def write_signoff(path: Path, outcome: Outcome = Outcome.PASSED, env: str = "prod") -> Path:
    result = signoff([item("INFRA-A", outcome), item("SEC-B")])
    result.run = run_info(environment=env, observed_version="1.2.3", expected_version="1.2.3")
    path.write_text(render_json.render(result, None), encoding="utf-8")
    return path


@pytest.fixture
def signed(tmp_path: Path, cli: Cli) -> dict[str, Any]:
    """A GO sign-off ``s.json`` signed into ``s.intoto.json`` with a fresh key."""
    key, pub, keyid = keygen(cli, tmp_path / "team.key")
    path = write_signoff(tmp_path / "s.json")
    code, out, err = cli("signoff", "sign", path, "--key", key)
    assert code == 0, err
    assert (
        out
        == f"signed {path} (verdict GO) with key id {keyid}: wrote {tmp_path / 's.intoto.json'}\n"
    )
    return {
        "key": key,
        "pub": pub,
        "keyid": keyid,
        "signoff": path,
        "envelope": tmp_path / "s.intoto.json",
    }


def envelope_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def payload_of(envelope: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return data


def canonical_sha256(path: Path) -> str:
    """Written out here (not taken from the project): SCHEMA.md's canonical form."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("integrity", None)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Round trip -----------------------------------------------------------------------------------


def test_keygen_writes_a_0600_private_key_and_a_public_key_and_never_overwrites(
    tmp_path: Path, cli: Cli
) -> None:
    key = tmp_path / "team.key"
    code, out, err = cli("signoff", "keygen", "--out", key)
    assert (code, err) == (0, "")
    pub = tmp_path / "team.key.pub"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert out.splitlines()[:2] == [
        f"wrote {key}: Ed25519 private key (mode 0600): keep it secret, in your CI's secret store",
        f"wrote {pub}: public key, for deployverify signoff verify --key",
    ]
    before = key.read_bytes(), pub.read_bytes()
    again = cli("signoff", "keygen", "--out", key)
    assert again[0] == 2
    assert f"--out {key}: {key} exists; keygen never overwrites a key" in again[2]
    pub_only = tmp_path / "other.key"
    (tmp_path / "other.key.pub").write_text("someone's public key", encoding="utf-8")
    refused = cli("signoff", "keygen", "--out", pub_only)
    assert refused[0] == 2
    assert f"{tmp_path / 'other.key.pub'} exists" in refused[2]
    assert not pub_only.exists()
    assert (key.read_bytes(), pub.read_bytes()) == before


def test_sign_then_verify_the_envelope_and_the_signoff(signed: dict[str, Any], cli: Cli) -> None:
    keyid, envelope, path = signed["keyid"], signed["envelope"], signed["signoff"]
    code, out, _ = cli("signoff", "verify", envelope, "--key", signed["pub"])
    assert code == 0
    assert out == (
        f"OK: {envelope}: Ed25519 signature valid, signed by key id {keyid}; subject digest "
        f"matches {path}; verdict GO (environment prod, release 1.2.3)\n"
    )
    code, out, _ = cli("signoff", "verify", path, "--key", signed["pub"])
    assert code == 0
    assert out == (
        f"OK: {path}: SHA-256 digest matches; no HMAC; attestation s.intoto.json: Ed25519 "
        f"signature valid (key id {keyid}), subject digest matches; verdict GO\n"
    )
    # Without --key the sign-off is checked as before.
    assert cli("signoff", "verify", path)[1] == (
        f"OK: {path}: SHA-256 digest matches; not signed; verdict GO\n"
    )


def test_the_statement_names_the_signoff_and_summarises_the_verification(
    signed: dict[str, Any],
) -> None:
    envelope = envelope_of(signed["envelope"])
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert [s["keyid"] for s in envelope["signatures"]] == [signed["keyid"]]
    statement = payload_of(envelope)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    [subject] = statement["subject"]
    assert subject["name"] == "s.json"
    assert subject["digest"] == {"sha256": canonical_sha256(signed["signoff"])}
    document = load(signed["signoff"])
    assert subject["digest"]["sha256"] == document["integrity"]["digest"]
    predicate = statement["predicate"]
    assert predicate["verifier"] == {"id": "pytest-deployverify", "version": "test"}
    assert predicate["timeVerified"] == "2026-03-01T10:05:00+00:00"
    assert predicate["timeSigned"]
    assert predicate["environment"]["name"] == "prod"
    assert predicate["release"] == {"expected": "1.2.3", "observed": "1.2.3"}
    assert predicate["runBy"] == "alice"
    assert predicate["policy"]["go"].startswith("every blocking check")
    assert {"conditional", "noGo", "scope"} <= set(predicate["policy"])
    result = predicate["result"]
    assert (result["decision"], result["label"]) == ("GO", "GO")
    assert result["counts"]["total"] == 2
    assert result["counts"]["byOutcome"]["passed"] == 2
    assert result["reasons"] == document["verdict"]["reasons"]


def test_a_merged_signoff_is_signed_with_each_environment(tmp_path: Path, cli: Cli) -> None:
    key, pub, _ = keygen(cli, tmp_path / "k")
    eu = write_signoff(tmp_path / "eu.json", env="prod-eu")
    us = write_signoff(tmp_path / "us.json", Outcome.FAILED, env="prod-us")
    merged = merge(
        load_verified(eu, None) + load_verified(us, None), generated_at="2026-03-01", generator="x"
    )
    path = tmp_path / "m.json"
    path.write_text(render_json.dumps(integrity.seal(merged_document(merged), None)))
    assert cli("signoff", "sign", path, "--key", key)[0] == 0
    predicate = payload_of(envelope_of(tmp_path / "m.intoto.json"))["predicate"]
    assert [(e["name"], e["decision"]) for e in predicate["environment"]["merged"]] == [
        ("prod-eu", "GO"),
        ("prod-us", "NO-GO"),
    ]
    code, out, _ = cli("signoff", "verify", tmp_path / "m.intoto.json", "--key", pub)
    assert code == 0
    assert out.endswith("verdict NO-GO (environment prod-eu, prod-us, release 1.2.3)\n")


def test_a_promotion_gate_checks_environment_release_and_decision(
    signed: dict[str, Any], cli: Cli
) -> None:
    args = ("signoff", "verify", signed["envelope"], "--key", signed["pub"])
    good = ("--expect-env", "prod", "--expect-release", "1.2.3", "--expect-decision", "GO")
    assert cli(*args, *good)[0] == 0
    either = ("--expect-decision", "CONDITIONAL", "--expect-decision", "GO")
    assert cli(*args, *either)[0] == 0
    code, out, _ = cli(*args, "--expect-env", "staging", "--expect-release", "1.2.4")
    assert code == 1
    assert out == (
        f"REJECTED: {signed['envelope']}: attested environment is 'prod', expected 'staging'; "
        "attested release is '1.2.3', expected '1.2.4'\n"
    )
    code, out, _ = cli(*args, "--expect-decision", "CONDITIONAL")
    assert code == 1
    assert "attested decision is 'GO', required CONDITIONAL" in out
    # The same demands through the sign-off file.
    code, out, _ = cli(
        "signoff", "verify", signed["signoff"], "--key", signed["pub"], "--expect-env", "qa"
    )
    assert code == 1
    assert "attested environment is 'prod', expected 'qa'" in out
    # They concern the attestation, so they need its key.
    usage = cli("signoff", "verify", signed["signoff"], "--expect-env", "prod")
    assert usage[0] == 2
    assert "--expect-env apply to the attestation: pass --key PUBLIC.pem" in usage[2]


# Tampering ------------------------------------------------------------------------------------


def _change_payload_byte(signed: dict[str, Any], cli: Cli) -> str:
    envelope = envelope_of(signed["envelope"])
    payload = bytearray(base64.b64decode(envelope["payload"]))
    at = payload.index(b'"decision":"GO"') + len(b'"decision":"')
    payload[at] = ord("N")  # one byte: "GO" becomes "NO"
    envelope["payload"] = base64.b64encode(bytes(payload)).decode()
    signed["envelope"].write_text(json.dumps(envelope), encoding="utf-8")
    return f"bad signature by key id {signed['keyid']}: the payload or the signature was changed"


def _swap_signature(signed: dict[str, Any], cli: Cli) -> str:
    """The signature of another sign-off (a NO-GO) by the same key, put on this envelope."""
    other = write_signoff(signed["signoff"].with_name("other.json"), Outcome.FAILED)
    assert cli("signoff", "sign", other, "--key", signed["key"])[0] == 0
    donor = envelope_of(other.with_name("other.intoto.json"))
    envelope = envelope_of(signed["envelope"])
    envelope["signatures"] = donor["signatures"]
    signed["envelope"].write_text(json.dumps(envelope), encoding="utf-8")
    return f"bad signature by key id {signed['keyid']}: the payload or the signature was changed"


def _wrong_key(signed: dict[str, Any], cli: Cli) -> str:
    _, pub, keyid = keygen(cli, signed["key"].with_name("mallory.key"))
    signed["pub"] = pub
    return (
        f"not signed by the given key (key id {keyid}): the envelope's signature is by key id "
        f"{signed['keyid']}"
    )


def _change_signoff_after_signing(signed: dict[str, Any], cli: Cli) -> str:
    """A NO-GO turned GO (say) and resealed: its own digest matches again, the signed one not."""
    document = load(signed["signoff"])
    document["checks"][0]["reason"] = "edited after signing"
    signed["signoff"].write_text(render_json.dumps(integrity.seal(document, None)))
    assert cli("signoff", "verify", signed["signoff"])[0] == 0  # the digest alone cannot tell
    return (
        f"subject digest mismatch: the sign-off {signed['signoff']} was changed after signing, "
        "or is another sign-off"
    )


TAMPERING = {
    "a changed payload byte": _change_payload_byte,
    "a swapped signature": _swap_signature,
    "the wrong key": _wrong_key,
    "the sign-off changed after signing": _change_signoff_after_signing,
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=list(TAMPERING))
def test_tampering_is_rejected_with_the_reason(
    tamper: Callable[[dict[str, Any], Cli], str], signed: dict[str, Any], cli: Cli
) -> None:
    reason = tamper(signed, cli)
    code, out, err = cli("signoff", "verify", signed["envelope"], "--key", signed["pub"])
    assert (code, err) == (1, "")
    assert out.startswith(f"REJECTED: {signed['envelope']}: {reason}"), out
    # Checking the sign-off file with the key finds the same.
    code, out, _ = cli("signoff", "verify", signed["signoff"], "--key", signed["pub"])
    assert code == 1
    assert out.startswith(f"TAMPERED: {signed['signoff']}: "), out
    assert reason.replace(str(signed["signoff"]), signed["signoff"].name) in out


def test_a_missing_or_foreign_attestation_is_rejected(signed: dict[str, Any], cli: Cli) -> None:
    signed["envelope"].unlink()
    code, out, _ = cli("signoff", "verify", signed["signoff"], "--key", signed["pub"])
    assert code == 1
    assert "no attestation s.intoto.json beside it" in out
    # The attestation of another sign-off, checked against this one.
    other = write_signoff(signed["signoff"].with_name("other.json"), Outcome.FAILED)
    assert cli("signoff", "sign", other, "--key", signed["key"])[0] == 0
    args = ("--key", signed["pub"], "--signoff", signed["signoff"])
    code, out, _ = cli("signoff", "verify", other.with_name("other.intoto.json"), *args)
    assert code == 1
    assert "subject digest mismatch" in out
    # Another payload type, or a payload that is not a Statement, is refused even when signed.
    envelope = envelope_of(other.with_name("other.intoto.json"))
    envelope["payloadType"] = "text/plain"
    signed["envelope"].write_text(json.dumps(envelope))
    code, out, _ = cli("signoff", "verify", signed["envelope"], "--key", signed["pub"])
    assert code == 1
    assert "payloadType 'text/plain' is not 'application/vnd.in-toto+json'" in out


def test_an_envelope_alone_is_checked_and_says_the_subject_was_not(
    signed: dict[str, Any], cli: Cli
) -> None:
    moved = signed["envelope"].rename(signed["envelope"].with_name("elsewhere.intoto.json"))
    signed["signoff"].unlink()
    code, out, _ = cli("signoff", "verify", moved, "--key", signed["pub"])
    assert code == 0
    assert "Ed25519 signature valid" in out
    assert "subject digest not checked" in out
    assert "note: the sign-off s.json is not beside the attestation: pass --signoff FILE" in out


# A second implementation ----------------------------------------------------------------------


def _library_check(envelope_path: Path, pub: Path) -> list[str]:
    """securesystemslib's DSSE verification: the key ids that verified (raises if none)."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

    key = SSlibKey.from_crypto(load_pem_public_key(pub.read_bytes()))
    envelope = Envelope.from_dict(envelope_of(envelope_path))
    return list(envelope.verify([key], 1))


def test_the_envelope_verifies_with_securesystemslib_and_parses_with_in_toto_attestation(
    signed: dict[str, Any],
) -> None:
    from google.protobuf import json_format  # type: ignore[import-untyped]
    from in_toto_attestation.v1 import statement_pb2  # type: ignore[import-untyped]
    from in_toto_attestation.v1.resource_descriptor import (  # type: ignore[import-untyped]
        ResourceDescriptor,
    )
    from in_toto_attestation.v1.statement import Statement  # type: ignore[import-untyped]
    from securesystemslib.dsse import Envelope

    assert _library_check(signed["envelope"], signed["pub"]) == [signed["keyid"]]
    envelope = Envelope.from_dict(envelope_of(signed["envelope"]))
    assert envelope.payload_type == "application/vnd.in-toto+json"
    message = json_format.Parse(envelope.payload.decode("utf-8"), statement_pb2.Statement())
    statement = Statement.copy_from_pb(message)
    statement.validate()
    assert statement.pb.predicate_type == PREDICATE_TYPE
    [subject] = statement.pb.subject
    ResourceDescriptor.copy_from_pb(subject).validate()
    assert subject.name == "s.json"
    assert dict(subject.digest) == {"sha256": canonical_sha256(signed["signoff"])}
    predicate = json_format.MessageToDict(statement.pb.predicate)
    assert predicate["result"]["decision"] == "GO"
    assert predicate["environment"]["name"] == "prod"


SIGNING_MD = Path(__file__).parents[2] / "src/pytest_deployverify/signoff/SIGNING.md"


def test_the_documented_python_check_accepts_a_good_envelope_and_rejects_a_wrong_one(
    signed: dict[str, Any], cli: Cli
) -> None:
    text = SIGNING_MD.read_text(encoding="utf-8")
    section = text[text.index("### With securesystemslib") :]
    snippet = section[section.index("```python\n") + 10 : section.index("```\n", 10)]
    script = signed["signoff"].with_name("check.py")
    script.write_text(snippet, encoding="utf-8")

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(script), *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    ok = run(signed["envelope"], signed["pub"], "prod", "1.2.3")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == f"promote: GO key id {signed['keyid']}\n"
    assert run(signed["envelope"], signed["pub"], "prod", "1.2.4").returncode == 1
    _wrong_key(signed, cli)
    wrong = run(signed["envelope"], signed["pub"], "prod", "1.2.3")
    assert wrong.returncode == 1
    assert "VerificationError" in wrong.stderr


@pytest.mark.parametrize(
    "tamper",
    [_change_payload_byte, _swap_signature, _wrong_key],
    ids=["a changed payload byte", "a swapped signature", "the wrong key"],
)
def test_securesystemslib_rejects_the_tampered_envelopes_too(
    tamper: Callable[[dict[str, Any], Cli], str], signed: dict[str, Any], cli: Cli
) -> None:
    from securesystemslib.exceptions import VerificationError

    tamper(signed, cli)
    with pytest.raises(VerificationError, match="Accepted signatures do not match threshold"):
        _library_check(signed["envelope"], signed["pub"])


# Usage errors ---------------------------------------------------------------------------------


def test_usage_errors_name_the_file_and_the_fix(signed: dict[str, Any], cli: Cli) -> None:
    envelope, path, key, pub = signed["envelope"], signed["signoff"], signed["key"], signed["pub"]
    assert cli("signoff", "verify", envelope)[::2] == (
        2,
        f"deployverify: {envelope} is a DSSE envelope: pass --key PUBLIC.pem to check its "
        "signature\n",
    )
    code, _, err = cli("signoff", "verify", envelope, "--key", key)
    assert code == 2
    assert err.startswith(f"deployverify: --key {key}: is a private key; verify with the public")
    code, _, err = cli("signoff", "sign", path, "--key", pub)
    assert code == 2
    assert err == (
        f"deployverify: --key {pub}: not a PEM private key (it is a public key: sign with the "
        "private one)\n"
    )
    code, _, err = cli("signoff", "sign", path, "--key", path.with_name("nope.key"))
    assert (code, err) == (2, f"deployverify: --key {path.with_name('nope.key')}: no such file\n")
    code, _, err = cli("signoff", "verify", envelope, "--key", path)
    assert code == 2
    assert err == f"deployverify: --key {path}: not a PEM public key file (no '-----BEGIN' line)\n"
    code, _, err = cli("signoff", "verify", path, "--key", pub, "--signoff", path)
    assert code == 2
    assert "--signoff names the sign-off of an attestation" in err
    # A sign-off whose own digest no longer matches is not signed.
    path.write_text(path.read_text().replace('"GO"', '"NO-GO"', 1))
    code, _, err = cli("signoff", "sign", path, "--key", key)
    assert code == 1
    assert err.startswith(f"deployverify: {path}: refusing to sign: digest mismatch")


def test_an_rsa_key_is_refused(tmp_path: Path, cli: Cli) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    rsa_key = tmp_path / "rsa.pem"
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_key.write_bytes(private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    code, _, err = cli("signoff", "sign", write_signoff(tmp_path / "s.json"), "--key", rsa_key)
    assert code == 2
    assert "holds a RSAPrivateKey key; deployverify signs with Ed25519 keys" in err


def test_the_hmac_mode_keeps_working_beside_the_signature(
    signed: dict[str, Any], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = signed["signoff"]
    document = integrity.seal(load(path), b"team hmac key")
    path.write_text(render_json.dumps(document))  # same content: the attestation still matches
    monkeypatch.setenv("DEPLOYVERIFY_SIGNING_KEY", "team hmac key")
    code, out, _ = cli("signoff", "verify", path, "--key", signed["pub"])
    assert code == 0
    assert out.startswith(f"OK: {path}: SHA-256 digest matches; HMAC signature valid; attestation")
    monkeypatch.setenv("DEPLOYVERIFY_SIGNING_KEY", "another key")
    code, out, _ = cli("signoff", "verify", signed["envelope"], "--key", signed["pub"])
    assert code == 1
    assert f"{path}: bad signature: the file was changed, or signed with another key" in out


# The run signs directly -------------------------------------------------------------------------

GO_CHECKS = """
import pytest

@pytest.mark.infra
@pytest.mark.check("INFRA-REPLICAS", title="Replicas ready", severity="high")
def test_replicas(evidence):
    evidence.record("ready_replicas", 3, expected=3)
"""


def _run_key(pytester: pytest.Pytester) -> tuple[Path, Path, str]:
    code = main(["signoff", "keygen", "--out", str(pytester.path / "keys" / "run.key")])
    assert code == 0
    key = pytester.path / "keys" / "run.key"
    from pytest_deployverify.signoff.attestation import load_signing_key

    return key, key.with_name("run.key.pub"), load_signing_key(key).keyid


def test_the_run_signs_each_json_signoff(
    pytester: pytest.Pytester, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, GO_CHECKS)
    (pytester.path / "keys").mkdir()
    key, pub, keyid = _run_key(pytester)
    result = pytester.runpytest(
        *ENV_ARGS,
        "--signoff",
        "out/s.json",
        "--signoff",
        "out/s.md",
        "--signoff-key",
        "keys/run.key",
    )
    assert result.ret == 0, result.stdout.str()
    out = pytester.path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["s.intoto.json", "s.json", "s.md"]
    result.stdout.fnmatch_lines([f"sign-off written: {out / 's.intoto.json'}"])
    code, text, _ = cli("signoff", "verify", out / "s.intoto.json", "--key", pub)
    assert code == 0
    assert f"signed by key id {keyid}; subject digest matches {out / 's.json'}" in text
    assert _library_check(out / "s.intoto.json", pub) == [keyid]
    predicate = payload_of(envelope_of(out / "s.intoto.json"))["predicate"]
    assert predicate["environment"]["name"] == "demo"
    assert predicate["result"]["decision"] == load(out / "s.json")["verdict"]["decision"]
    # The same from the variable.
    monkeypatch.setenv("DEPLOYVERIFY_SIGNING_KEY_FILE", str(key))
    pytester.runpytest(*ENV_ARGS, "--signoff", "v.json")
    assert cli("signoff", "verify", "v.json", "--key", pub)[0] == 0
    # Without a JSON sign-off the variable has nothing to sign, and is no error.
    assert pytester.runpytest(*ENV_ARGS, "--signoff", "only.md").ret == 0
    assert not (pytester.path / "only.intoto.json").exists()


@pytest.mark.parametrize(
    ("args", "variable", "message"),
    [
        (("--signoff-key", "missing.key"), None, "--signoff-key: */missing.key: no such file"),
        ((), "missing.key", "DEPLOYVERIFY_SIGNING_KEY_FILE: */missing.key: no such file"),
        (("--signoff-key", "keys"), None, "--signoff-key: */keys: is a folder, not a private*"),
        (("--signoff-key", "junk.key"), None, "--signoff-key: */junk.key: not a PEM private*"),
    ],
    ids=["missing file", "missing file from the variable", "a folder", "not a key"],
)
def test_a_key_that_cannot_be_used_is_a_usage_error_at_the_start(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    variable: str | None,
    message: str,
) -> None:
    project(pytester, GO_CHECKS)
    (pytester.path / "keys").mkdir()
    (pytester.path / "junk.key").write_text("not a key\n")
    if variable:
        monkeypatch.setenv("DEPLOYVERIFY_SIGNING_KEY_FILE", variable)
    result = pytester.runpytest(*ENV_ARGS, "--signoff", "s.json", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: deployverify: {message}"])
    assert "test_replicas" not in result.stdout.str()
    assert not (pytester.path / "s.json").exists()


def test_signoff_key_without_a_json_signoff_is_a_usage_error(pytester: pytest.Pytester) -> None:
    project(pytester, GO_CHECKS)
    (pytester.path / "keys").mkdir()
    _run_key(pytester)
    result = pytester.runpytest(*ENV_ARGS, "--signoff", "s.md", "--signoff-key", "keys/run.key")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: deployverify: --signoff-key signs the JSON sign-off: add --signoff NAME.json"]
    )
    clash = pytester.runpytest(
        *ENV_ARGS,
        "--signoff",
        "a.json",
        "--signoff",
        "a.intoto.json",
        "--signoff-key",
        "keys/run.key",
    )
    assert clash.ret == pytest.ExitCode.USAGE_ERROR
    clash.stderr.fnmatch_lines(["*the attestation of a.json is written there*"])


# Secrets --------------------------------------------------------------------------------------


def _secret_forms(key: Path) -> list[str]:
    """Every way the private key could show: its PEM body lines, its raw bytes in hex and base64."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        load_pem_private_key,
    )

    pem = key.read_text()
    private = load_pem_private_key(pem.encode(), password=None)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return [*body, raw.hex(), base64.b64encode(raw).decode(), base64.b64encode(raw[:24]).decode()]


def test_no_private_key_material_in_any_output(
    pytester: pytest.Pytester, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, GO_CHECKS)
    (pytester.path / "keys").mkdir()
    monkeypatch.chdir(pytester.path)
    outputs: list[str] = []
    outputs += list(cli("signoff", "keygen", "--out", "keys/run.key")[1:])
    key = pytester.path / "keys" / "run.key"
    run = pytester.runpytest(
        *ENV_ARGS,
        "-vv",
        "-rA",
        "--signoff",
        "s.json",
        "--signoff",
        "s.md",
        "--signoff-key",
        str(key),
    )
    outputs += [run.stdout.str(), run.stderr.str()]
    for args in (
        ("signoff", "sign", "s.json", "--key", "keys/run.key", "-o", "again.intoto.json"),
        ("signoff", "verify", "s.intoto.json", "--key", "keys/run.key.pub"),
        ("signoff", "verify", "s.json", "--key", "keys/run.key.pub"),
        ("signoff", "verify", "s.json", "--key", "keys/run.key"),  # the wrong (private) file
        ("signoff", "sign", "s.json", "--key", "keys/run.key.pub"),
        ("signoff", "keygen", "--out", "keys/run.key"),
    ):
        outputs += list(cli(*args)[1:])
    outputs += [
        (pytester.path / name).read_text(encoding="utf-8")
        for name in ("s.json", "s.md", "s.intoto.json", "again.intoto.json")
    ]
    envelope = envelope_of(pytester.path / "s.intoto.json")
    outputs.append(base64.b64decode(envelope["payload"]).decode("utf-8"))
    for secret in _secret_forms(key):
        leaks = [text for text in outputs if secret in text]
        assert not leaks, f"private key material found in {len(leaks)} outputs"


# Lazy imports -----------------------------------------------------------------------------------


def test_the_crypto_libraries_load_only_when_a_key_is_used() -> None:
    code = """
import sys
from pytest_deployverify.cli import build_parser
from pytest_deployverify.signoff import attestation, formats, integrity, render_json
from pytest_deployverify.pytest_plugin import recorder, options
build_parser().parse_args(["signoff", "verify", "x.json"])
heavy = ("securesystemslib", "in_toto_attestation", "google.protobuf", "cryptography")
print(sorted(m for m in sys.modules if m.startswith(heavy)))
"""
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_a_run_without_a_key_does_not_import_them(pytester: pytest.Pytester) -> None:
    project(pytester, GO_CHECKS)
    pytester.makeconftest(
        """
import sys

def pytest_unconfigure(config):
    heavy = ("securesystemslib", "in_toto_attestation")
    with open("modules.txt", "w") as handle:
        handle.write(" ".join(sorted(m for m in sys.modules if m.startswith(heavy))))
"""
    )
    pytester.runpytest_subprocess(*ENV_ARGS, "--signoff", "s.json")
    assert (pytester.path / "s.json").exists()
    assert (pytester.path / "modules.txt").read_text() == ""
