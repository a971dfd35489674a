"""What the HTTP checks expect: ``[http.expect]`` and its sub-tables.

Paths are relative to ``[http].base_url``. Thresholds that the whole profile shares (P95/P99
latency, error rate, certificate days) live in ``[slo]``; the tables here only override them.
Opinionated rules have a key to relax them (``error_fields``, ``headers.framing``).

A feature the service does not have is declared absent, and its items are then not applicable with
a reason naming the key: a probe path set to ``""`` is unset (``openapi_path = ""``: no OpenAPI
document), ``[http.expect.auth] jwt = false`` (its tokens are not JWTs), no ``tenants`` table, no
``rate_limit.probe_path``, no ``login_path``.
"""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from typing import Annotated

from pytest_deployverify.profile.fields import (
    ExistingFile,
    Fraction,
    HeaderName,
    HeaderValue,
    HttpUrl,
    PositiveFloat,
    Seconds,
)
from pytest_deployverify.profile.schema import Range
from pytest_deployverify.profile.secrets import Secret

model = dataclasses.dataclass(frozen=True, kw_only=True)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HTTP_METHODS = SAFE_METHODS | {"POST", "PUT", "PATCH", "DELETE"}
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")


def unset_empty(table: object, *names: str) -> None:
    """A path written as ``""`` is unset: the feature it probes is declared absent (a frozen
    dataclass's ``__post_init__`` calls this)."""
    for name in names:
        if getattr(table, name) == "":
            object.__setattr__(table, name, None)


class TlsVersion(StrEnum):
    TLS1_0 = "1.0"
    TLS1_1 = "1.1"
    TLS1_2 = "1.2"
    TLS1_3 = "1.3"


class FramingPolicy(StrEnum):
    """Which answers must forbid framing (X-Frame-Options or CSP frame-ancestors)."""

    ALWAYS = "always"  # every probed answer
    HTML = "html"  # only answers a browser renders as a page (an API serving no HTML passes)
    NEVER = "never"


@model
class Credentials:
    """A login. The password is a secret; the username is not (it names an account, and hiding
    it would mask every word that happens to equal it in reports)."""

    username: str
    password: Secret


@model
class ApiKey:
    """``[http.expect.auth.api_key]``: a key the service expects in a request header."""

    header: HeaderName = "X-API-Key"
    key: HeaderValue  # a secret: write "${VAR}"


@model
class ClientCertificate:
    """``[http.expect.auth.client_cert]``: mutual TLS, the verifier presents this certificate."""

    cert_file: ExistingFile  # PEM certificate (and chain)
    key_file: ExistingFile | None = None  # PEM private key; unset: it is in cert_file


@model
class AuthExpectations:
    """``[http.expect.auth]``: how the verifier authenticates, and how credentials are probed.

    One or more of: a login (``login_path`` + ``[http.expect.auth.login]``) or an OAuth 2.0
    client-credentials grant (``token_url`` + ``client_id`` + ``client_secret``), both yielding
    a bearer token; an API key in a header (``[http.expect.auth.api_key]``); HTTP basic
    (``[http.expect.auth.basic]``); a client certificate (``[http.expect.auth.client_cert]``,
    mutual TLS). Authenticated probes send the token, else the API key, else basic
    credentials, and always present the client certificate when one is given; anonymous
    probes send none of them. ``jwt = false`` declares that the service's tokens are not JWTs
    (the forgery probes do not apply).
    """

    login_path: str | None = None
    login: Credentials | None = None
    username_field: str = "email"
    password_field: str = "password"
    token_field: str = "access_token"
    token_url: str | None = None  # a path under base_url, or an absolute URL
    client_id: str | None = None  # an identifier, like a username: not a secret
    client_secret: Secret | None = None
    # Protected GET routes a valid token must open; empty: the protected GET operations without
    # path parameters from the OpenAPI document.
    probe_paths: tuple[str, ...] = ()
    unauthenticated_status: tuple[int, ...] = (401,)
    # Only for the expired / wrong-audience / wrong-issuer probes: those need a token the
    # service would otherwise accept. Give a key for a test environment, never production's.
    jwt_signing_key: Secret | None = None
    jwt_algorithm: str = "HS256"
    # The tokens the flows yield are JWTs: the forgery probes apply. false: declared absent.
    jwt: bool = True
    api_key: ApiKey | None = None
    basic: Credentials | None = None
    client_cert: ClientCertificate | None = None

    def __post_init__(self) -> None:
        unset_empty(self, "login_path", "token_url")
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

    @property
    def has_token_flow(self) -> bool:
        return self.has_login or self.has_client_credentials

    @property
    def styles(self) -> tuple[str, ...]:
        """The configured credential styles, in the order authenticated probes prefer them."""
        configured = (
            ("bearer", self.has_token_flow),
            ("api-key", self.api_key is not None),
            ("basic", self.basic is not None),
            ("client-cert", self.client_cert is not None),
        )
        return tuple(name for name, present in configured if present)


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
    probe_path: str | None = "/"  # "": no CORS probe (a service no browser calls)
    foreign_origin: str = "https://deployverify-foreign.invalid"

    def __post_init__(self) -> None:
        unset_empty(self, "probe_path", "allowed_origin")


@model
class HeaderExpectations:
    """``[http.expect.headers]``: security headers, version leaks, internal headers."""

    # Empty: the health paths and the error probe paths.
    probe_paths: tuple[str, ...] = ()
    hsts_min_age: Annotated[int, Range(ge=0)] = 15_552_000  # 180 days
    # "html" relaxes the framing headers for an API that serves no HTML (HTML answers, such as
    # an edge proxy's own error pages, are still judged); "never" drops the rule.
    framing: FramingPolicy = FramingPolicy.ALWAYS
    # Version leaks in answers the edge proxy makes itself: a request it refuses before the
    # application sees it (an oversized header, TRACE), and its own health endpoints.
    edge_probes: bool = True
    edge_paths: tuple[str, ...] = ()
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
    client_id: str | None = None
    client_secret: Secret | None = None

    def __post_init__(self) -> None:
        unset_empty(self, "probe_path")
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

    path: str | None = "/health/live"  # "": no latency probe
    expected_status: int = 200
    requests: Annotated[int, Range(ge=1, le=100_000)] = 200
    concurrency: Annotated[int, Range(ge=1, le=256)] = 10
    time_limit: Seconds = 60.0
    p50_ms: PositiveFloat | None = None
    p95_ms: PositiveFloat | None = None  # default slo.p95_latency_ms
    p99_ms: PositiveFloat | None = None  # default slo.p99_latency_ms
    max_error_rate: Fraction | None = None  # default slo.error_rate

    def __post_init__(self) -> None:
        unset_empty(self, "path")


@model
class LoadExpectations:
    """``[http.expect.load]``: the bounded concurrent-users probe (a destructive check)."""

    path: str | None = "/health/live"  # "": no load probe
    expected_status: int = 200
    users: Annotated[int, Range(ge=1, le=5_000)] = 500
    requests: Annotated[int, Range(ge=1, le=1_000_000)] = 2_000
    time_limit: Seconds = 60.0
    p95_ms: PositiveFloat | None = None  # default slo.p95_latency_ms
    max_error_rate: Fraction | None = None  # default slo.error_rate

    def __post_init__(self) -> None:
        unset_empty(self, "path")


@model
class Flow:
    """``[[http.expect.flows]]``: one critical user flow, checked by status and JSON fields."""

    name: str
    path: str
    method: str = "GET"
    status: int = 200
    json_fields: tuple[str, ...] = ()  # dotted paths that must exist (``items.0.id``)
    authenticated: bool = True  # send the verifier's credential (token, API key, basic, cert)
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

    # Each probe path may be unset with "" (or [] for a list): its item is then not applicable.
    health_paths: tuple[str, ...] = ("/health/live", "/health/ready")
    metrics_path: str | None = "/metrics"
    metrics_public: bool = True  # false: must NOT answer through base_url
    metrics_url: HttpUrl | None = None  # where metrics must answer when not public
    version_path: str | None = "/version"
    version_field: str = "version"  # dotted path in the JSON answer
    openapi_path: str | None = "/openapi.json"  # "": the service publishes no OpenAPI document
    error_probe_paths: tuple[str, ...] = ("/deployverify-no-such-route",)
    # The documented error shape (dotted JSON paths every 4xx body holds); empty: error bodies
    # are not judged (a framework's default plain-text 404 is not a defect by itself).
    error_fields: tuple[str, ...] = ()
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
        unset_empty(self, "metrics_path", "version_path", "openapi_path")
        for name in ("health_paths", "error_probe_paths", "public_routes", "protected_routes"):
            object.__setattr__(self, name, tuple(p for p in getattr(self, name) if p))
        names = [flow.name for flow in self.flows]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"flows: {name!r} appears twice")
