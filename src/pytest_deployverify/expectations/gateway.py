"""Profile expectations for the gateway checks: ``[http.expect]`` and its sub-tables.

Paths are relative to ``[http].base_url``. Thresholds that the whole profile shares (P95/P99
latency, error rate, certificate days) live in ``[slo]``; the tables here only override them.
"""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from typing import Annotated

from pytest_deployverify.profile.fields import Fraction, HttpUrl, PositiveFloat, Seconds
from pytest_deployverify.profile.schema import Range
from pytest_deployverify.profile.secrets import Secret

model = dataclasses.dataclass(frozen=True, kw_only=True)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HTTP_METHODS = SAFE_METHODS | {"POST", "PUT", "PATCH", "DELETE"}
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")


class TlsVersion(StrEnum):
    TLS1_0 = "1.0"
    TLS1_1 = "1.1"
    TLS1_2 = "1.2"
    TLS1_3 = "1.3"


@model
class Credentials:
    """A login; both parts are secrets so neither shows in any output."""

    username: Secret
    password: Secret


@model
class AuthExpectations:
    """``[http.expect.auth]``: how a verifier obtains a token, and how tokens are probed.

    Either a login (``login_path`` + ``[http.expect.auth.login]``) or an OAuth 2.0
    client-credentials grant (``token_url`` + ``client_id`` + ``client_secret``), or both.
    """

    login_path: str | None = None
    login: Credentials | None = None
    username_field: str = "email"
    password_field: str = "password"
    token_field: str = "access_token"
    token_url: str | None = None  # a path under base_url, or an absolute URL
    client_id: Secret | None = None
    client_secret: Secret | None = None
    # Protected GET routes a valid token must open; empty: the protected GET operations without
    # path parameters from the OpenAPI document.
    probe_paths: tuple[str, ...] = ()
    unauthenticated_status: tuple[int, ...] = (401,)
    # Only for the expired / wrong-audience / wrong-issuer probes: those need a token the
    # service would otherwise accept. Give a key for a test environment, never production's.
    jwt_signing_key: Secret | None = None
    jwt_algorithm: str = "HS256"

    def __post_init__(self) -> None:
        if self.jwt_algorithm not in HMAC_ALGORITHMS:
            raise ValueError(
                f"jwt_algorithm must be one of {', '.join(HMAC_ALGORITHMS)} "
                "(test tokens are signed with a shared secret)"
            )
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("client_id and client_secret go together; set both or neither")

    @property
    def has_login(self) -> bool:
        return self.login_path is not None and self.login is not None

    @property
    def has_client_credentials(self) -> bool:
        return self.token_url is not None and self.client_id is not None


@model
class TenantAccount:
    """One tenant used by the isolation probes."""

    tenant: str  # the tenant id as the service spells it (also sent in the spoofed header)
    login: Credentials
    # Routes serving the caller's own data: asked with and without a spoofed tenant header.
    own_paths: tuple[str, ...] = ()
    # This tenant's resources, which the other tenant must not read.
    resources: tuple[str, ...] = ()
    # Strings only this tenant's data contains; default: the tenant id.
    markers: tuple[str, ...] = ()

    @property
    def data_markers(self) -> tuple[str, ...]:
        return self.markers or (self.tenant,)


@model
class TenantExpectations:
    """``[http.expect.tenants]``: tenant A probes tenant B's data (logins use ``auth.login_path``)."""

    header: str = "X-Tenant-ID"
    a: TenantAccount
    b: TenantAccount


@model
class CorsExpectations:
    """``[http.expect.cors]``."""

    allowed_origin: str | None = None  # the production origin; None: only refusals are checked
    probe_path: str = "/"
    foreign_origin: str = "https://deployverify-foreign.invalid"


@model
class HeaderExpectations:
    """``[http.expect.headers]``: security headers, version leaks, internal headers."""

    # Empty: the health paths and the error probe paths.
    probe_paths: tuple[str, ...] = ()
    hsts_min_age: Annotated[int, Range(ge=0)] = 15_552_000  # 180 days
    # Sent by the verifier with a random value that must never come back.
    internal_headers: tuple[str, ...] = ("X-Internal-User", "X-Internal-Tenant")
    # Routes (with a valid token) asked with those headers; empty: the auth probe paths.
    internal_probe_paths: tuple[str, ...] = ()


@model
class RateLimitExpectations:
    """``[http.expect.rate_limit]``."""

    probe_path: str | None = None  # a rate-limited route; None: the rate-limit checks are skipped
    headers: tuple[str, ...] = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
    # Destructive probe: at most this many requests; the limit must answer 429 before.
    burst: Annotated[int, Range(ge=1, le=10_000)] = 200
    concurrency: Annotated[int, Range(ge=1, le=64)] = 8
    require_retry_after: bool = True
    # A dedicated account for the burst (via auth.login_path or auth.token_url), so that it
    # spends that account's allowance and not the one the other checks share. Without one the
    # burst is anonymous: run it after the read-only checks.
    login: Credentials | None = None
    client_id: Secret | None = None
    client_secret: Secret | None = None

    def __post_init__(self) -> None:
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("client_id and client_secret go together; set both or neither")


@model
class TlsExpectations:
    """``[http.expect.tls]`` (the certificate's minimum remaining days is ``slo.cert_min_days``)."""

    required: bool = True  # base_url must be https
    min_version: TlsVersion = TlsVersion.TLS1_3
    server_name: str | None = None  # SNI and hostname to verify; default: base_url's host
    # Plain-HTTP address that must redirect to HTTPS; default: base_url's host on port 80.
    http_url: HttpUrl | None = None
    check_redirect: bool = True


@model
class LatencyExpectations:
    """``[http.expect.latency]``: a read-only probe over kept-alive connections."""

    path: str = "/health/live"
    expected_status: int = 200
    requests: Annotated[int, Range(ge=1, le=100_000)] = 200
    concurrency: Annotated[int, Range(ge=1, le=256)] = 10
    time_limit: Seconds = 60.0
    p50_ms: PositiveFloat | None = None
    p95_ms: PositiveFloat | None = None  # default slo.p95_latency_ms
    p99_ms: PositiveFloat | None = None  # default slo.p99_latency_ms
    max_error_rate: Fraction | None = None  # default slo.error_rate


@model
class LoadExpectations:
    """``[http.expect.load]``: the bounded concurrent-users probe (a destructive check)."""

    path: str = "/health/live"
    expected_status: int = 200
    users: Annotated[int, Range(ge=1, le=5_000)] = 500
    requests: Annotated[int, Range(ge=1, le=1_000_000)] = 2_000
    time_limit: Seconds = 60.0
    p95_ms: PositiveFloat | None = None  # default slo.p95_latency_ms
    max_error_rate: Fraction | None = None  # default slo.error_rate


@model
class Flow:
    """``[[http.expect.flows]]``: one critical user flow, checked by status and JSON fields."""

    name: str
    path: str
    method: str = "GET"
    status: int = 200
    json_fields: tuple[str, ...] = ()  # dotted paths that must exist (``items.0.id``)
    authenticated: bool = True  # send the verifier's token
    destructive: bool = False  # changes state: only runs as a destructive check
    json_body: str | None = None  # JSON text sent as the request body

    def __post_init__(self) -> None:
        method = self.method.upper()
        if method not in HTTP_METHODS:
            raise ValueError(f"flow {self.name!r}: unknown method {self.method!r}")
        if method not in SAFE_METHODS and not self.destructive:
            raise ValueError(
                f"flow {self.name!r}: {method} may change state; set destructive = true "
                "(it then runs only as a destructive check)"
            )
        if self.json_body is not None:
            try:
                json.loads(self.json_body)
            except ValueError:
                raise ValueError(f"flow {self.name!r}: json_body is not valid JSON") from None


@model
class HttpExpectations:
    """``[http.expect]``."""

    health_paths: tuple[str, ...] = ("/health/live", "/health/ready")
    metrics_path: str | None = "/metrics"
    metrics_public: bool = True  # false: must NOT answer through base_url
    metrics_url: HttpUrl | None = None  # where metrics must answer when not public
    version_path: str | None = "/version"
    version_field: str = "version"  # dotted path in the JSON answer
    openapi_path: str | None = "/openapi.json"
    error_probe_paths: tuple[str, ...] = ("/deployverify-no-such-route",)
    error_fields: tuple[str, ...] = ("error.code", "error.message")
    # Routes as "METHOD /path/{param}" (or "/path" for GET). Protected = operations with
    # security in the OpenAPI document + protected_routes - public_routes. When public_routes
    # is set, an operation without security that is not listed there is reported.
    public_routes: tuple[str, ...] = ()
    protected_routes: tuple[str, ...] = ()
    path_param_value: str = "deployverify-probe"
    auth: AuthExpectations = dataclasses.field(default_factory=AuthExpectations)
    tenants: TenantExpectations | None = None
    cors: CorsExpectations = dataclasses.field(default_factory=CorsExpectations)
    headers: HeaderExpectations = dataclasses.field(default_factory=HeaderExpectations)
    rate_limit: RateLimitExpectations = dataclasses.field(default_factory=RateLimitExpectations)
    tls: TlsExpectations = dataclasses.field(default_factory=TlsExpectations)
    latency: LatencyExpectations = dataclasses.field(default_factory=LatencyExpectations)
    load: LoadExpectations = dataclasses.field(default_factory=LoadExpectations)
    flows: tuple[Flow, ...] = ()

    def __post_init__(self) -> None:
        names = [flow.name for flow in self.flows]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"flows: {name!r} appears twice")
