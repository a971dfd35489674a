"""Public-key signatures for JSON sign-offs: an in-toto Statement in a DSSE envelope, Ed25519.

The HMAC of ``integrity`` proves little to a third party: whoever can check it can also forge it.
Here the team signs with a private key that never leaves the signer; anyone with the public key
checks the signature offline, and nobody can sign with it.

* The **envelope** is DSSE (``payloadType`` ``application/vnd.in-toto+json``, base64 ``payload``,
  ``signatures`` of ``{keyid, sig}``): the format in-toto and cosign-style verifiers read.
* The **payload** is an in-toto Statement v1. Its ``subject`` is the sign-off document: its file
  name and the SHA-256 of its canonical bytes (``integrity.canonical_bytes``, the same value as
  the document's own ``integrity.digest``), so re-indenting the file does not break it but
  changing one value does. Its ``predicate`` (``PREDICATE_TYPE``) summarises the verification:
  verifier, time, environment and release, policy, result; enough for an admission policy to
  decide without reading the sign-off.
* The **key id** is securesystemslib's default: SHA-256 of the canonical JSON of
  ``{"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": HEX}}``, so
  ``securesystemslib``'s ``Envelope.verify`` accepts these envelopes as they are.

Signing uses securesystemslib (``CryptoSigner``, ``dsse.Envelope``) and checks the Statement with
in-toto-attestation's own types; verifying here uses ``cryptography`` directly, so the two sides
are separate implementations. All of them are imported only when a key is used (the ``sign``
extra). See SIGNING.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deployverify import __version__
from pytest_deployverify.signoff import integrity

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
# An identifier, not a web page: the in-toto spec only asks a type URI to be collision-resistant.
PREDICATE_TYPE = "urn:pytest-deployverify:verification-summary:v1"
VERIFIER_ID = "pytest-deployverify"
ENVELOPE_SUFFIX = ".intoto.json"
KEY_FILE_VARIABLE = "DEPLOYVERIFY_SIGNING_KEY_FILE"
KEY_TYPE = SCHEME = "ed25519"
INSTALL_HINT = "install the 'sign' extra: pip install 'pytest-deployverify[sign]'"

# What the decisions mean (signoff/verdict.py), carried in the predicate so a policy reader knows
# what it is accepting without the project's documentation at hand.
POLICY = {
    "go": "every blocking check (critical, high or undeclared severity) passed or carries an "
    "active waiver, every manual item is attested, and every configured component in scope was "
    "verified by a passing blocking check; a run narrowed to part of the checklist gets a "
    "qualified GO ('GO for smoke')",
    "conditional": "nothing blocking is broken but something is unproven: an advisory check "
    "broke, a blocking check was skipped, a manual item is pending, the observed version differs "
    "from the expected release, the run was interrupted or left a configured component unverified",
    "noGo": "a blocking check failed, errored, crashed or never ran, or a test file could not be "
    "collected",
}


class SigningKeyError(ValueError):
    """A key file that cannot be used (or the libraries are missing); the message names the file
    and what to do, never the key material."""


class AttestationError(ValueError):
    """A file that is not a DSSE envelope of this kind; the message names the file."""


# Keys ----------------------------------------------------------------------------------------


def key_id(public_raw: bytes) -> str:
    """securesystemslib's default key id of an Ed25519 public key (32 raw bytes)."""
    description = {"keytype": KEY_TYPE, "scheme": SCHEME, "keyval": {"public": public_raw.hex()}}
    text = json.dumps(description, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyKey:
    """An Ed25519 public key: ``raw`` (32 bytes) and its key id."""

    raw: bytes
    keyid: str

    def verifies(self, signature: bytes, data: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
        except InvalidSignature:
            return False
        return True


class SigningKey:
    """An Ed25519 private key loaded for signing. Its repr shows the key id only."""

    def __init__(self, private: Ed25519PrivateKey, source: str) -> None:
        self._private = private
        self.source = source
        self.public = _verify_key(private.public_key())

    @property
    def keyid(self) -> str:
        return self.public.keyid

    def __repr__(self) -> str:
        return f"SigningKey(keyid={self.keyid!r}, source={self.source!r})"

    def sign_pae(self, envelope: Any) -> None:
        """Add this key's signature to a securesystemslib ``Envelope``."""
        # securesystemslib.signer re-exports these without __all__.
        from securesystemslib.signer import (  # type: ignore[attr-defined]
            CryptoSigner,
            SSlibKey,
        )

        public = SSlibKey.from_crypto(self._private.public_key())
        if public.keyid != self.keyid:  # the two key id computations must never drift apart
            raise RuntimeError(f"key id mismatch: securesystemslib {public.keyid}, {self.keyid}")
        envelope.sign(CryptoSigner(self._private, public))


def _verify_key(public: Ed25519PublicKey) -> VerifyKey:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return VerifyKey(raw, key_id(raw))


def _crypto() -> None:
    try:
        import cryptography  # noqa: F401
        import in_toto_attestation  # type: ignore[import-untyped]  # noqa: F401
        import securesystemslib  # noqa: F401
    except ImportError as exc:
        raise SigningKeyError(f"public-key signing needs {exc.name}: {INSTALL_HINT}") from None


def _read_pem(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SigningKeyError(f"{path}: is a folder, not a {what} file") from None
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if b"-----BEGIN " not in data:
        raise SigningKeyError(f"{path}: not a PEM {what} file (no '-----BEGIN' line)")
    return data


def load_signing_key(path: Path, source: str | None = None) -> SigningKey:
    """The Ed25519 private key in the PEM file ``path`` (unencrypted PKCS#8, as ``keygen`` writes).

    ``source`` names where the path came from in messages (``--signoff-key``, a variable)."""
    _crypto()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = _read_pem(path, "private key")
    if b"PRIVATE KEY-----" not in data:
        hint = " (it is a public key: sign with the private one)" if b"PUBLIC KEY" in data else ""
        raise SigningKeyError(f"{path}: not a PEM private key{hint}")
    try:
        private = load_pem_private_key(data, password=None)
    except TypeError:
        raise SigningKeyError(
            f"{path}: the private key is encrypted with a passphrase; deployverify signs with an "
            "unencrypted key kept in a secret store (deployverify signoff keygen)"
        ) from None
    except (ValueError, binascii.Error) as exc:
        raise SigningKeyError(f"{path}: not a readable PEM private key ({_first(exc)})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(
            f"{path}: holds a {type(private).__name__.removeprefix('_')} key; deployverify signs "
            "with Ed25519 keys (deployverify signoff keygen)"
        )
    return SigningKey(private, source or str(path))


def load_verify_key(path: Path) -> VerifyKey:
    """The Ed25519 public key in the PEM file ``path`` (SubjectPublicKeyInfo, as ``KEY.pub``)."""
    _crypto()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = _read_pem(path, "public key")
    if b"PRIVATE KEY-----" in data:
        raise SigningKeyError(
            f"{path}: is a private key; verify with the public key (the .pub file written beside "
            "it by keygen): the private key stays with the signer"
        )
    try:
        public = load_pem_public_key(data)
    except (ValueError, binascii.Error) as exc:
        raise SigningKeyError(f"{path}: not a readable PEM public key ({_first(exc)})") from None
    if not isinstance(public, Ed25519PublicKey):
        raise SigningKeyError(
            f"{path}: holds a {type(public).__name__.removeprefix('_')} key; deployverify "
            "signatures are Ed25519"
        )
    return _verify_key(public)


def _first(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def public_key_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def generate_key_pair(private_path: Path) -> str:
    """Write a new Ed25519 private key (PEM, mode 0600) and ``PATH.pub``; return the key id.

    Never overwrites: an existing file of either name raises ``FileExistsError``."""
    _crypto()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    public_path = public_key_path(private_path)
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise FileExistsError(path)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public_pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    _write_new(private_path, pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return _verify_key(private.public_key()).keyid


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits a public key should have
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
    except BaseException:
        if fd != -1:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise


# The Statement ---------------------------------------------------------------------------------


def envelope_path(signoff_path: Path) -> Path:
    """Where the envelope of a sign-off goes: ``signoff.json`` → ``signoff.intoto.json``."""
    return signoff_path.with_name(signoff_path.stem + ENVELOPE_SUFFIX)


def subject_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical bytes (the ``integrity.digest`` of the document)."""
    return integrity.digest(document)


def statement(document: Mapping[str, Any], name: str, signed_at: str) -> dict[str, Any]:
    """The in-toto Statement v1 about the sign-off ``document`` written as file ``name``."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {
                "name": name,
                "digest": {"sha256": subject_digest(document)},
                "mediaType": "application/json",
                "annotations": {"canonicalization": integrity.CANONICALIZATION},
            }
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate(document, signed_at),
    }


def predicate(document: Mapping[str, Any], signed_at: str) -> dict[str, Any]:
    """The verification summary: who verified what, when, under which policy, with what result."""
    verdict = _mapping(document.get("verdict"))
    decision = verdict.get("decision")
    result: dict[str, Any] = {
        "decision": decision,
        "label": verdict.get("label", decision),
        "qualifier": verdict.get("qualifier"),
        "reasons": list(verdict.get("reasons") or []),
    }
    run: Mapping[str, Any] = {}
    if document.get("kind") == "merged":
        parts = [_mapping(p) for p in document.get("environments") or []]
        runs = [_mapping(_mapping(p.get("document")).get("run")) for p in parts]
        releases = {r.get("expected_version") for r in runs}
        environment: dict[str, Any] = {
            "name": None,
            "merged": [
                {
                    "name": p.get("label"),
                    "decision": p.get("decision"),
                    "release": r.get("expected_version"),
                    "observedRelease": r.get("observed_version"),
                }
                for p, r in zip(parts, runs, strict=True)
            ],
        }
        release = {"expected": releases.pop() if len(releases) == 1 else None, "observed": None}
        generator, verified_at = document.get("generator"), document.get("generated_at")
        scope = None
        result["counts"] = {"environments": len(parts)}
    else:
        run = _mapping(document.get("run"))
        environment = {
            "name": run.get("environment"),
            "protected": run.get("protected"),
            "profile": run.get("profile_path"),
        }
        release = {"expected": run.get("expected_version"), "observed": run.get("observed_version")}
        rollback = _mapping(run.get("rollback"))
        if rollback:  # a rollback verification: the expected release is the one rolled back to
            release["rollbackOf"] = rollback.get("failed_version")
            release["rolledBackAt"] = rollback.get("at")
        generator, verified_at = run.get("generator"), run.get("finished_at")
        scope = run.get("scope")
        counts = _mapping(document.get("counts"))
        manual = [_mapping(m) for m in document.get("manual") or []]
        result["counts"] = {
            "total": counts.get("total"),
            "byOutcome": counts.get("by_outcome"),
            "manualAttested": sum(1 for m in manual if m.get("status") == "attested"),
            "manualPending": sum(1 for m in manual if m.get("status") != "attested"),
            "waiversApplied": sum(
                1 for w in document.get("waivers") or [] if _mapping(w).get("status") == "applied"
            ),
        }
    return {
        "verifier": {"id": VERIFIER_ID, "version": _version(generator)},
        "timeVerified": verified_at,
        "timeSigned": signed_at,
        "environment": environment,
        "release": release,
        "runBy": run.get("run_by"),
        "gitCommit": run.get("git_commit"),
        "policy": {**POLICY, "scope": scope},
        "result": result,
        "signoff": {"kind": document.get("kind"), "schemaVersion": document.get("schema_version")},
    }


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _version(generator: Any) -> str:
    prefix = f"{VERIFIER_ID} "
    if isinstance(generator, str) and generator.startswith(prefix):
        return generator[len(prefix) :]
    return __version__


def _validate_statement(data: Mapping[str, Any]) -> None:
    """Check the Statement with in-toto-attestation's own types (raises ValueError)."""
    from google.protobuf import json_format  # type: ignore[import-untyped]
    from in_toto_attestation.v1 import statement_pb2  # type: ignore[import-untyped]
    from in_toto_attestation.v1.statement import Statement  # type: ignore[import-untyped]

    message = json_format.ParseDict(dict(data), statement_pb2.Statement())
    Statement.copy_from_pb(message).validate()


# Signing ---------------------------------------------------------------------------------------


def sign_document(
    document: Mapping[str, Any], name: str, key: SigningKey, signed_at: str
) -> dict[str, Any]:
    """The DSSE envelope (as JSON data) of the Statement about ``document``, signed by ``key``."""
    from securesystemslib.dsse import Envelope

    data = statement(document, name, signed_at)
    _validate_statement(data)
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    envelope = Envelope(payload.encode("utf-8"), PAYLOAD_TYPE, {})
    key.sign_pae(envelope)
    result: dict[str, Any] = envelope.to_dict()
    return result


def dumps(envelope: Mapping[str, Any]) -> str:
    return json.dumps(envelope, indent=2, ensure_ascii=False) + "\n"


def write_envelope(
    signoff_path: Path, text: str, key: SigningKey, signed_at: str
) -> tuple[Path, str]:
    """Sign the sign-off just written to ``signoff_path`` (its text ``text``); return where the
    envelope went and its text."""
    from pytest_deployverify.signoff.files import write_atomic

    out = envelope_path(signoff_path)
    envelope = dumps(sign_document(json.loads(text), signoff_path.name, key, signed_at))
    write_atomic(out, envelope)
    return out, envelope


# Verifying -------------------------------------------------------------------------------------


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def is_envelope(data: Any) -> bool:
    return isinstance(data, Mapping) and "payloadType" in data and "signatures" in data


def read_envelope(path: Path) -> dict[str, Any] | None:
    """The envelope in ``path``, or None when the file is not one (unreadable, not JSON, another
    kind of document): the caller reports those with its own reader."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if is_envelope(data) else None


@dataclass
class EnvelopeCheck:
    """The outcome of checking an envelope with one public key."""

    ok: bool
    keyid: str  # the given key's id
    signed_by: list[str] = field(default_factory=list)  # key ids the envelope names
    statement: dict[str, Any] | None = None  # only when the signature verified
    problems: list[str] = field(default_factory=list)


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not a string")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return base64.urlsafe_b64decode(text)  # DSSE accepts either alphabet


def verify_envelope(envelope: Mapping[str, Any], key: VerifyKey) -> EnvelopeCheck:
    """Check the signature with ``key``, then the Statement's shape; the statement is parsed only
    after its signature verified."""
    check = EnvelopeCheck(False, key.keyid)
    signatures = envelope.get("signatures")
    payload_type = envelope.get("payloadType")
    if payload_type != PAYLOAD_TYPE:
        check.problems.append(f"payloadType {payload_type!r} is not {PAYLOAD_TYPE!r}")
        return check
    try:
        payload = _b64(envelope.get("payload"))
    except (ValueError, binascii.Error):
        check.problems.append("the payload is not base64: the envelope was changed")
        return check
    if not isinstance(signatures, list) or not signatures:
        check.problems.append("the envelope holds no signature")
        return check
    signed = pae(payload_type, payload)
    verified = False
    for entry in signatures:
        entry = _mapping(entry)
        keyid = entry.get("keyid")
        check.signed_by.append(str(keyid) if keyid else "(none)")
        try:
            raw = _b64(entry.get("sig"))
        except (ValueError, binascii.Error):
            continue
        verified = verified or key.verifies(raw, signed)
    if not verified:
        if key.keyid in check.signed_by:
            check.problems.append(
                f"bad signature by key id {key.keyid}: the payload or the signature was changed "
                "after signing"
            )
        else:
            check.problems.append(
                f"not signed by the given key (key id {key.keyid}): the envelope's signature is by "
                f"key id {', '.join(check.signed_by)}, or the envelope was changed"
            )
        return check
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        check.problems.append("the signed payload is not JSON")
        return check
    if not isinstance(data, dict) or data.get("_type") != STATEMENT_TYPE:
        check.problems.append(f"the signed payload is not an in-toto Statement ({STATEMENT_TYPE})")
        return check
    if data.get("predicateType") != PREDICATE_TYPE:
        check.problems.append(
            f"predicateType {data.get('predicateType')!r} is not a deployverify verification "
            f"summary ({PREDICATE_TYPE})"
        )
    if subject_sha256(data) is None:
        check.problems.append("the Statement names no subject with a sha256 digest")
    check.statement = data
    check.ok = not check.problems
    return check


def subject_sha256(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """(name, sha256) of the Statement's first subject with a SHA-256 digest."""
    for subject in data.get("subject") or []:
        digest = _mapping(_mapping(subject).get("digest")).get("sha256")
        if isinstance(digest, str):
            return str(_mapping(subject).get("name", "")), digest
    return None


def subject_problems(data: Mapping[str, Any], document: Mapping[str, Any], shown: str) -> list[str]:
    """Whether the sign-off ``document`` (file ``shown``) is the Statement's subject."""
    found = subject_sha256(data)
    if found is None:
        return ["the Statement names no subject with a sha256 digest"]
    try:
        actual = subject_digest(document)
    except ValueError:  # NaN or Infinity: never written by us
        return [f"the sign-off {shown} holds NaN or Infinity: not as signed"]
    if actual != found[1].lower():
        return [
            f"subject digest mismatch: the sign-off {shown} was changed after signing, or is "
            f"another sign-off (its sha256 {actual[:16]}…, the attestation names "
            f"{found[1][:16]}…)"
        ]
    return []


def expectation_problems(
    data: Mapping[str, Any],
    *,
    environment: str | None = None,
    release: str | None = None,
    decisions: Sequence[str] = (),
) -> list[str]:
    """What a promotion gate demands of the signed predicate: environment, release, decision."""
    pred = _mapping(data.get("predicate"))
    problems: list[str] = []
    env = _mapping(pred.get("environment")).get("name")
    if environment is not None and env != environment:
        problems.append(f"attested environment is {env!r}, expected {environment!r}")
    rel = _mapping(pred.get("release")).get("expected")
    if release is not None and rel != release:
        problems.append(f"attested release is {rel!r}, expected {release!r}")
    decision = _mapping(pred.get("result")).get("decision")
    if decisions and decision not in decisions:
        problems.append(f"attested decision is {decision!r}, required {' or '.join(decisions)}")
    return problems


def summary(data: Mapping[str, Any]) -> str:
    """``verdict GO (environment prod, release 1.2.3)`` from a verified Statement."""
    pred = _mapping(data.get("predicate"))
    result = _mapping(pred.get("result"))
    env = _mapping(pred.get("environment"))
    name = env.get("name") or ", ".join(
        str(_mapping(m).get("name")) for m in env.get("merged") or []
    )
    release = _mapping(pred.get("release")).get("expected")
    return (
        f"verdict {result.get('label') or result.get('decision') or '?'} "
        f"(environment {name or '?'}, release {release or '?'})"
    )
