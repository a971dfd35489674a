"""Crafting invalid variants of a valid JWT, to prove the service rejects them.

Without the signing key: the payload is changed while the original signature is kept
(``tampered``), and the token is re-issued unsigned with ``alg: none`` in several spellings.
With a key the profile gives for testing (HMAC only): tokens that would otherwise be accepted,
but are expired, for another audience or from another issuer. Stdlib only (no PyJWT needed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
NONE_SPELLINGS = ("none", "None", "NONE")
WRONG_AUDIENCE = "https://deployverify.invalid/wrong-audience"
WRONG_ISSUER = "https://deployverify.invalid/wrong-issuer"
KEYLESS = ("tampered", "alg-none")
KEYED = ("expired", "wrong-aud", "wrong-iss")


class NotAJwt(ValueError):
    """The token is not a compact JWS with JSON header and payload (an opaque token)."""


@dataclass(frozen=True)
class Jwt:
    header: dict[str, Any]
    payload: dict[str, Any]
    signature: str  # base64url, as received


@dataclass(frozen=True)
class Forged:
    """One forged token and what was done to it (for evidence; never the token itself)."""

    variant: str
    token: str
    change: str


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _segment(data: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(data, separators=(",", ":")).encode())


def parse(token: str) -> Jwt:
    parts = token.split(".")
    if len(parts) != 3:
        raise NotAJwt("not a compact JWS: expected three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise NotAJwt("the header or payload is not base64url-encoded JSON") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise NotAJwt("the header or payload is not a JSON object")
    return Jwt(header, payload, parts[2])


def sign(header: dict[str, Any], payload: dict[str, Any], key: str, algorithm: str) -> str:
    """A compact JWS signed with HMAC (HS256/384/512)."""
    digest = _HASHES.get(algorithm)
    if digest is None:
        raise ValueError(f"unsupported algorithm {algorithm!r}; use one of {', '.join(_HASHES)}")
    signing_input = f"{_segment({**header, 'alg': algorithm})}.{_segment(payload)}"
    mac = hmac.new(key.encode(), signing_input.encode("ascii"), digest).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


def tampered(token: str) -> Forged:
    """The payload changed (a claim added, ``sub`` altered), the original signature kept."""
    jwt = parse(token)
    payload = dict(jwt.payload)
    if isinstance(payload.get("sub"), str):
        payload["sub"] = payload["sub"] + ".tampered"
    payload["deployverify_tampered"] = True
    header_segment = token.split(".")[0]
    forged = f"{header_segment}.{_segment(payload)}.{jwt.signature}"
    return Forged("tampered", forged, "payload changed, original signature kept")


def alg_none(token: str) -> list[Forged]:
    """The same claims, unsigned, with ``alg`` spelled ``none`` / ``None`` / ``NONE``."""
    jwt = parse(token)
    forged = []
    for spelling in NONE_SPELLINGS:
        header = {**jwt.header, "alg": spelling}
        forged.append(
            Forged(
                "alg-none",
                f"{_segment(header)}.{_segment(jwt.payload)}.",
                f"alg {spelling!r}, empty signature",
            )
        )
    return forged


def resigned(token: str, key: str, algorithm: str, **changes: Any) -> str:
    """The token's claims with ``changes`` applied, signed again with ``key``."""
    jwt = parse(token)
    return sign(dict(jwt.header), {**jwt.payload, **changes}, key, algorithm)


def keyed_variant(
    variant: str, token: str, key: str, algorithm: str, now: float | None = None
) -> Forged:
    """A token the service would accept but for one claim: expired, wrong aud, wrong iss."""
    moment = int(time.time() if now is None else now)
    if variant == "expired":
        changes: dict[str, Any] = {"iat": moment - 7200, "exp": moment - 3600}
        change = "exp one hour in the past"
    elif variant == "wrong-aud":
        changes, change = {"aud": WRONG_AUDIENCE}, f"aud {WRONG_AUDIENCE!r}"
    elif variant == "wrong-iss":
        changes, change = {"iss": WRONG_ISSUER}, f"iss {WRONG_ISSUER!r}"
    else:
        raise ValueError(f"unknown keyed variant {variant!r}; choose one of {', '.join(KEYED)}")
    if variant != "expired":
        jwt = parse(token)
        if isinstance(jwt.payload.get("exp"), int | float) and jwt.payload["exp"] <= moment + 60:
            # Keep it fresh, so the only thing wrong with it is the claim under test.
            changes["exp"] = moment + 300
    return Forged(variant, resigned(token, key, algorithm, **changes), change)


def control(token: str, key: str, algorithm: str, now: float | None = None) -> str:
    """The same claims re-signed with the test key, still valid: must be accepted, or the
    key is not the service's and a rejection of the keyed variants proves nothing."""
    moment = int(time.time() if now is None else now)
    jwt = parse(token)
    changes: dict[str, Any] = {}
    if isinstance(jwt.payload.get("exp"), int | float) and jwt.payload["exp"] <= moment + 60:
        changes["exp"] = moment + 300
    return resigned(token, key, algorithm, **changes)
