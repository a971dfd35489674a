"""Issuing and verifying the gateway's access tokens (JWT, HS256)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from sandbox.gateway.settings import GatewaySettings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "tenant", "iss", "aud")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and the tenant the token (and only it) names."""

    sub: str
    tenant: str


class TokenError(Exception):
    """The request carries no usable token. ``reason`` is a short label for metrics and logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue_token(
    settings: GatewaySettings,
    *,
    sub: str,
    tenant: str,
    now: float | None = None,
    **extra_claims: Any,
) -> str:
    issued_at = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": sub,
        "tenant": tenant,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued_at,
        "exp": issued_at + settings.jwt_ttl_seconds,
        **extra_claims,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise TokenError("missing_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("malformed_authorization")
    return token.strip()


def verify_token(settings: GatewaySettings, token: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
        if str(header.get("alg", "")).lower() == "none" and settings.has_defect("alg_none"):
            claims = _decode_unsigned(settings, token)
        else:
            # Pinning the algorithm list is what rejects alg "none" and algorithm confusion.
            claims = jwt.decode(
                token,
                settings.jwt_secret,
                algorithms=[ALGORITHM],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
    except jwt.ExpiredSignatureError:
        raise TokenError("expired") from None
    except jwt.InvalidAudienceError:
        raise TokenError("wrong_audience") from None
    except jwt.InvalidIssuerError:
        raise TokenError("wrong_issuer") from None
    except jwt.InvalidSignatureError:
        raise TokenError("bad_signature") from None
    except jwt.InvalidAlgorithmError:
        raise TokenError("algorithm_not_allowed") from None
    except jwt.MissingRequiredClaimError:
        raise TokenError("missing_claim") from None
    except jwt.InvalidTokenError:
        raise TokenError("malformed_token") from None
    sub, tenant = claims.get("sub"), claims.get("tenant")
    if not isinstance(sub, str) or not isinstance(tenant, str) or not sub or not tenant:
        raise TokenError("missing_claim")
    return Principal(sub=sub, tenant=tenant)


def _decode_unsigned(settings: GatewaySettings, token: str) -> dict[str, Any]:
    # The "alg_none" defect: every claim is still checked, only the signature is skipped.
    return jwt.decode(
        token,
        algorithms=["none"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={
            "verify_signature": False,
            "verify_exp": True,
            "verify_aud": True,
            "verify_iss": True,
            "require": list(REQUIRED_CLAIMS),
        },
    )
