"""Gateway settings, read once from environment variables into a frozen dataclass.

Credentials (JWT secret, demo passwords, OAuth client secrets) are kept out of ``repr`` so a
settings object can be logged or shown in a traceback without leaking them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

# Each switch breaks exactly one behaviour, so a verification run can prove it catches it.
DEFECTS: frozenset[str] = frozenset(
    {
        "unauthenticated_route",  # GET /api/v1/events answers without a token
        "alg_none",  # unsigned tokens (alg "none") are accepted
        "cross_tenant",  # GET /api/v1/venues/{id} serves another tenant's venue
        "cors_wildcard",  # ACAO "*" with credentials for any origin
        "version_leak",  # Server / X-Powered-By headers name the software and version
        "no_rate_limit",  # no limit and no rate-limit headers
        "trust_internal_headers",  # client X-Tenant-ID switches tenant; X-Internal-* echoed
    }
)

MIN_SECRET_LENGTH = 32
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
DEFAULT_VERSION = "1.4.2"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class DemoUser:
    """A login for ``POST /api/v1/auth/login``; one per tenant in the demo."""

    email: str
    password: str = field(repr=False)
    tenant: str


@dataclass(frozen=True)
class OAuthClient:
    """A machine client for the OAuth 2.0 client-credentials grant at ``POST /oauth/token``."""

    client_id: str
    client_secret: str = field(repr=False)
    tenant: str


@dataclass(frozen=True)
class DownstreamService:
    name: str
    url: str


@dataclass(frozen=True)
class GatewaySettings:
    jwt_secret: str = field(repr=False)
    jwt_issuer: str = "https://auth.gateway.test"
    jwt_audience: str = "api-gateway"
    jwt_ttl_seconds: int = 900
    redis_url: str | None = field(default=None, repr=False)  # a URL may carry a password
    cors_origin: str = "https://app.gateway.test"
    rate_limit_max: int = 100
    rate_limit_window_ms: int = 60_000
    app_version: str = DEFAULT_VERSION
    log_level: str = "info"
    defects: frozenset[str] = frozenset()
    downstream_services: tuple[DownstreamService, ...] = ()
    downstream_timeout_ms: int = 2_000
    circuit_failure_threshold: int = 3
    circuit_reset_seconds: float = 30.0
    demo_users: tuple[DemoUser, ...] = ()
    oauth_clients: tuple[OAuthClient, ...] = ()

    def __post_init__(self) -> None:
        if len(self.jwt_secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters; "
                "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        unknown = self.defects - DEFECTS
        if unknown:
            raise SettingsError(
                f"GATEWAY_DEFECTS has unknown switch(es) {sorted(unknown)}; "
                f"valid: {', '.join(sorted(DEFECTS))}"
            )
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if self.rate_limit_max < 1 or self.rate_limit_window_ms < 1:
            raise SettingsError("RATE_LIMIT_MAX and RATE_LIMIT_WINDOW_MS must be positive")

    def has_defect(self, name: str) -> bool:
        if name not in DEFECTS:
            raise KeyError(f"no such defect switch: {name}")
        return name in self.defects

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if environ is None else environ
        secret = env.get("JWT_SECRET", "")
        if not secret:
            raise SettingsError("JWT_SECRET is not set; the gateway cannot sign or verify tokens")
        defaults = cls(jwt_secret=secret)
        return cls(
            jwt_secret=secret,
            jwt_issuer=env.get("JWT_ISSUER", defaults.jwt_issuer),
            jwt_audience=env.get("JWT_AUDIENCE", defaults.jwt_audience),
            jwt_ttl_seconds=_int(env, "JWT_TTL_SECONDS", defaults.jwt_ttl_seconds),
            redis_url=env.get("REDIS_URL") or None,
            cors_origin=env.get("CORS_ORIGIN", defaults.cors_origin),
            rate_limit_max=_int(env, "RATE_LIMIT_MAX", defaults.rate_limit_max),
            rate_limit_window_ms=_int(env, "RATE_LIMIT_WINDOW_MS", defaults.rate_limit_window_ms),
            app_version=env.get("APP_VERSION", defaults.app_version),
            log_level=_log_level(env.get("LOG_LEVEL", defaults.log_level)),
            defects=frozenset(_items(env.get("GATEWAY_DEFECTS", ""))),
            downstream_services=_downstream(env.get("DOWNSTREAM_SERVICES", "")),
            downstream_timeout_ms=_int(
                env, "DOWNSTREAM_TIMEOUT_MS", defaults.downstream_timeout_ms
            ),
            circuit_failure_threshold=_int(
                env, "CIRCUIT_FAILURE_THRESHOLD", defaults.circuit_failure_threshold
            ),
            circuit_reset_seconds=float(
                env.get("CIRCUIT_RESET_SECONDS", defaults.circuit_reset_seconds)
            ),
            demo_users=tuple(
                DemoUser(email, password, tenant)
                for email, password, tenant in _triples(env.get("DEMO_USERS", ""), "DEMO_USERS")
            ),
            oauth_clients=tuple(
                OAuthClient(client_id, client_secret, tenant)
                for client_id, client_secret, tenant in _triples(
                    env.get("OAUTH_CLIENTS", ""), "OAUTH_CLIENTS"
                )
            ),
        )


def demo_env(**overrides: str) -> dict[str, str]:
    """A complete environment for the demo gateway with freshly generated credentials.

    One login and one OAuth client per tenant (``acme``, ``globex``). Read the credentials back
    from the returned mapping (``DEMO_USERS``, ``OAUTH_CLIENTS``) instead of printing them.
    """
    env = {
        "JWT_SECRET": secrets.token_urlsafe(48),
        "JWT_ISSUER": "https://auth.gateway.test",
        "JWT_AUDIENCE": "api-gateway",
        "CORS_ORIGIN": "https://app.gateway.test",
        "RATE_LIMIT_MAX": "100",
        "RATE_LIMIT_WINDOW_MS": "60000",
        "APP_VERSION": DEFAULT_VERSION,
        "LOG_LEVEL": "info",
        "DEMO_USERS": ",".join(
            f"{email}:{secrets.token_urlsafe(12)}:{tenant}"
            for email, tenant in (("alice@acme.test", "acme"), ("bob@globex.test", "globex"))
        ),
        "OAUTH_CLIENTS": ",".join(
            f"{client_id}:{secrets.token_urlsafe(24)}:{tenant}"
            for client_id, tenant in (("acme-reporting", "acme"), ("globex-reporting", "globex"))
        ),
    }
    env.update(overrides)
    return env


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _log_level(raw: str) -> str:
    level = raw.strip().lower()
    return "warning" if level == "warn" else level


def _items(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _downstream(raw: str) -> tuple[DownstreamService, ...]:
    services = []
    for item in _items(raw):
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise SettingsError(f"DOWNSTREAM_SERVICES entries must be name=url, got {item!r}")
        services.append(DownstreamService(name.strip(), url.strip().rstrip("/")))
    return tuple(services)


def _triples(raw: str, name: str) -> list[tuple[str, str, str]]:
    # The value itself is never put in the message: it holds passwords.
    triples = []
    for position, item in enumerate(_items(raw), start=1):
        parts = item.split(":")
        if len(parts) != 3 or not all(parts):
            raise SettingsError(f"{name} entry #{position} must be id:secret:tenant")
        triples.append((parts[0], parts[1], parts[2]))
    return triples
