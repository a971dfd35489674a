"""Tamper evidence for JSON sign-offs: a SHA-256 digest and an optional HMAC-SHA256 signature.

Both are computed over the canonical form of the document without its ``integrity`` block: keys
sorted, compact separators, UTF-8, no ASCII escaping. The digest catches accidental edits and
corruption; only the signature (key from ``DEPLOYVERIFY_SIGNING_KEY``, never stored) shows that
whoever changed the file also held the key. An HMAC key checks and forges alike, so it only suits
a team that trusts every verifier; a public-key signature (``attestation``: an Ed25519-signed
in-toto Statement whose subject digest is ``digest`` below) can be checked by anyone and forged
by no one without the private key. See SIGNING.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SIGNING_KEY_VARIABLE = "DEPLOYVERIFY_SIGNING_KEY"
INTEGRITY_KEY = "integrity"
DIGEST_ALGORITHM = "sha256"
SIGNATURE_ALGORITHM = "hmac-sha256"
CANONICALIZATION = "json: sorted keys, separators (',', ':'), UTF-8, integrity block excluded"


def signing_key(environ: Mapping[str, str]) -> bytes | None:
    value = environ.get(SIGNING_KEY_VARIABLE, "")
    return value.encode("utf-8") if value else None


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    body = {key: value for key, value in document.items() if key != INTEGRITY_KEY}
    text = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def digest(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def signature(document: Mapping[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical_bytes(document), hashlib.sha256).hexdigest()


def seal(document: Mapping[str, Any], key: bytes | None) -> dict[str, Any]:
    """A copy of the document with its ``integrity`` block (digest, and signature with a key)."""
    sealed = {k: v for k, v in document.items() if k != INTEGRITY_KEY}
    block: dict[str, Any] = {
        "algorithm": DIGEST_ALGORITHM,
        "canonicalization": CANONICALIZATION,
        "digest": digest(sealed),
    }
    if key:
        block["signature"] = {"algorithm": SIGNATURE_ALGORITHM, "value": signature(sealed, key)}
    sealed[INTEGRITY_KEY] = block
    return sealed


@dataclass
class Verification:
    ok: bool
    # "valid", "invalid", "absent" (document unsigned), "not checked" (no key to check with)
    signature: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify(document: Mapping[str, Any], key: bytes | None) -> Verification:
    """Check the digest, and the signature when a key is given.

    With a key, an unsigned document fails: someone may have removed the signature and
    recomputed the digest after editing.
    """
    problems: list[str] = []
    notes: list[str] = []
    block = document.get(INTEGRITY_KEY)
    if not isinstance(block, Mapping):
        return Verification(False, "absent", ["no integrity block: the file was not sealed"])
    if block.get("algorithm") != DIGEST_ALGORITHM:
        problems.append(f"unsupported digest algorithm {block.get('algorithm')!r}")
    recorded = block.get("digest")
    try:
        actual = digest(document)
    except ValueError:  # NaN or Infinity: never written by us, so the content was edited
        return Verification(False, "invalid", ["the content holds NaN or Infinity: not as written"])
    if not isinstance(recorded, str) or not hmac.compare_digest(recorded, actual):
        problems.append(
            f"digest mismatch: the content was changed after it was written "
            f"(recorded {str(recorded)[:16]}…, computed {actual[:16]}…)"
        )
    sig = block.get("signature")
    status: str
    if sig is None:
        status = "absent"
        if key:
            problems.append(
                f"the file is not signed, but {SIGNING_KEY_VARIABLE} is set: "
                "a signature may have been stripped"
            )
    elif not isinstance(sig, Mapping) or sig.get("algorithm") != SIGNATURE_ALGORITHM:
        status = "invalid"
        problems.append("the signature block is malformed or uses an unknown algorithm")
    elif key is None:
        status = "not checked"
        notes.append(f"signature present but not checked: set {SIGNING_KEY_VARIABLE} to check it")
    else:
        value = sig.get("value")
        if isinstance(value, str) and hmac.compare_digest(value, signature(document, key)):
            status = "valid"
        else:
            status = "invalid"
            problems.append("bad signature: the file was changed, or signed with another key")
    return Verification(not problems, status, problems, notes)
