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

    # The account's user name (or email), as the login form or HTTP basic expects it.
    username: str
    # The account's password.
    password: Secret


@model
class ApiKey:
    """``[http.expect.auth.api_key]``: a key the service expects in a request header."""

    # The request header that carries the key (anonymous probes leave it out).
    header: HeaderName = "X-API-Key"
    key: HeaderValue  # the API key itself, a secret: write "${VAR}"


@model
class ClientCertificate:
    """``[http.expect.auth.client_cert]``: mutual TLS, the verifier presents this certificate."""

    # The certificate the verifier presents, a PEM file (its chain may follow it).
    cert_file: ExistingFile
    # The certificate's private key, a PEM file (unset: it is in cert_file).
    key_file: ExistingFile | None = None


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

    # The path the verifier POSTs the login to, as JSON with username_field and password_field
    # (`login_path = "/auth/login"`); unset or "": no login flow.
    login_path: str | None = None
    # The verifier's own account for the login flow.
    login: Credentials | None = None
    # The JSON field of the login body that holds the username.
    username_field: str = "email"
    # The JSON field of the login body that holds the password.
    password_field: str = "password"
    # The JSON field of the login or token answer that holds the token.
    token_field: str = "access_token"
    # The OAuth 2.0 token endpoint for the client-credentials grant: a path under base_url,
    # or an absolute URL (unset or "": no client-credentials flow).
    token_url: str | None = None
    # The OAuth client's id (an identifier, like a username: not a secret).
    client_id: str | None = None
    # The OAuth client's secret, sent with client_id as HTTP basic to token_url.
    client_secret: Secret | None = None
    # Protected GET routes a valid token must open; empty: the protected GET operations without
    # path parameters from the OpenAPI document.
    probe_paths: tuple[str, ...] = ()
    # The statuses a protected route may answer to a request without credentials
    # (`unauthenticated_status = [401, 403]`).
    unauthenticated_status: tuple[int, ...] = (401,)
    # Only for the expired / wrong-audience / wrong-issuer probes: those need a token the
    # service would otherwise accept. Give a key for a test environment, never production's.
    jwt_signing_key: Secret | None = None
    # The HMAC algorithm jwt_signing_key signs the forged tokens with: HS256, HS384 or HS512.
    jwt_algorithm: str = "HS256"
    # The tokens the flows yield are JWTs: the forgery probes apply. false: declared absent.
    jwt: bool = True
    api_key: ApiKey | None = None
    # HTTP basic credentials, sent as "Authorization: Basic".
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

    tenant: str  # the tenant's id as the service spells it (also sent in the spoofed header)
    # The tenant's account, logged in through [http.expect.auth] login_path.
    login: Credentials
    # Routes serving the caller's own data: tenant a's are asked with and without b's tenant
    # in the spoofed header (b's are not used).
    own_paths: tuple[str, ...] = ()
    # This tenant's resources, which the other tenant must not read: tenant b's are asked for
    # as b and as a (a's are not used).
    resources: tuple[str, ...] = ()
    # Strings only this tenant's data contains (default: the tenant id): b's are looked for
    # in the answers tenant a gets (a's are not used).
    markers: tuple[str, ...] = ()

    @property
    def data_markers(self) -> tuple[str, ...]:
        return self.markers or (self.tenant,)


@model
class TenantExpectations:
    """``[http.expect.tenants]``: tenant A probes tenant B's data (logins use ``auth.login_path``)."""

    # The request header a client could spoof to switch tenants; tenant A's routes are asked
    # with it set to tenant B.
    header: str = "X-Tenant-ID"
    # The probing tenant: its own_paths are asked with b's tenant in the header, and it asks
    # for b's resources.
    a: TenantAccount
    # The tenant whose data a must not reach (its resources and markers).
    b: TenantAccount


@model
class CorsExpectations:
    """``[http.expect.cors]``."""

    # The production origin, which must be allowed; unset: only the refusal of foreign_origin
    # is checked (`allowed_origin = "https://app.example.com"`).
    allowed_origin: str | None = None
    # The path the CORS preflight and GET are sent to ("": no CORS probe, for a service no
    # browser calls).
    probe_path: str | None = "/"
    # An origin the service must not allow, sent in the probes' Origin header.
    foreign_origin: str = "https://deployverify-foreign.invalid"

    def __post_init__(self) -> None:
        unset_empty(self, "probe_path", "allowed_origin")


@model
class HeaderExpectations:
    """``[http.expect.headers]``: security headers, version leaks, internal headers."""

    # Paths whose answers must carry the security headers and leak no version (empty: the
    # answers to health_paths and error_probe_paths).
    probe_paths: tuple[str, ...] = ()
    # The lowest Strict-Transport-Security max-age accepted on HTTPS, in seconds (180 days).
    hsts_min_age: Annotated[int, Range(ge=0)] = 15_552_000
    # "html" relaxes the framing headers for an API that serves no HTML (HTML answers, such as
    # an edge proxy's own error pages, are still judged); "never" drops the rule.
    framing: FramingPolicy = FramingPolicy.ALWAYS
    # Version leaks in answers the edge proxy makes itself: a request it refuses before the
    # application sees it (an oversized header, TRACE), and its own health endpoints.
    edge_probes: bool = True
    # The edge proxy's own health endpoints, under base_url (`edge_paths = ["/healthz"]`).
    edge_paths: tuple[str, ...] = ()
    # Sent by the verifier with a random value that must never come back.
    internal_headers: tuple[str, ...] = ("X-Internal-User", "X-Internal-Tenant")
    # Routes (with a valid token) asked with those headers; empty: the auth probe paths.
    internal_probe_paths: tuple[str, ...] = ()


@model
class RateLimitExpectations:
    """``[http.expect.rate_limit]``."""

    # A rate-limited route, asked once for the rate-limit headers and hit by the burst (unset:
    # the rate-limit items are not applicable).
    probe_path: str | None = None
    # Headers the answer of probe_path must carry, each an integer, telling the client its limit.
    headers: tuple[str, ...] = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
    # Destructive probe: at most this many requests; the limit must answer 429 before.
    burst: Annotated[int, Range(ge=1, le=10_000)] = 200
    # Burst requests in flight at once.
    concurrency: Annotated[int, Range(ge=1, le=64)] = 8
    # The 429 answer must carry Retry-After.
    require_retry_after: bool = True
    # A dedicated account for the burst (via auth.login_path or auth.token_url), so that it
    # spends that account's allowance and not the one the other checks share. Without one the
    # burst is anonymous: run it after the read-only checks.
    login: Credentials | None = None
    # The burst's own OAuth client (with client_secret), through [http.expect.auth] token_url.
    client_id: str | None = None
    # The secret of that OAuth client.
    client_secret: Secret | None = None

    def __post_init__(self) -> None:
        unset_empty(self, "probe_path")
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("client_id and client_secret go together; set both or neither")


@model
class TlsExpectations:
    """``[http.expect.tls]`` (the certificate's minimum remaining days is ``slo.cert_min_days``)."""

    # base_url must be https://; false: a plain-HTTP base_url makes the TLS items not
    # applicable.
    required: bool = True
    # The oldest TLS version the service may accept: handshakes limited to an older one must
    # be refused, and one at this version or later must succeed.
    min_version: TlsVersion = TlsVersion.TLS1_3
    # The name sent as SNI and verified in the certificate (default: base_url's host).
    server_name: str | None = None
    # Plain-HTTP address that must redirect to HTTPS; default: base_url's host on port 80.
    http_url: HttpUrl | None = None
    # Plain HTTP must redirect to https:// (301, 302, 307 or 308); false makes
    # SEC-GW-TLS-REDIRECT not applicable (port 80 closed on purpose).
    check_redirect: bool = True


@model
class LatencyExpectations:
    """``[http.expect.latency]``: a read-only probe over kept-alive connections."""

    path: str | None = "/health/live"  # the path the probe GETs ("": no latency probe)
    # The status a GET of path must answer; any other counts as an error.
    expected_status: int = 200
    # GET requests sent in all.
    requests: Annotated[int, Range(ge=1, le=100_000)] = 200
    # Requests in flight at once.
    concurrency: Annotated[int, Range(ge=1, le=256)] = 10
    # Seconds after which no new request starts; requests left unsent fail the check.
    time_limit: Seconds = 60.0
    # The median latency allowed, in milliseconds (unset: not judged).
    p50_ms: PositiveFloat | None = None
    # The P95 latency allowed, in milliseconds (unset: [slo] p95_latency_ms). Percentiles are of
    # requests on open connections: each connection's first request, which also waits for the
    # TCP and TLS handshakes, is reported apart (first_request_max_ms).
    p95_ms: PositiveFloat | None = None
    # The P99 latency allowed, in milliseconds (unset: [slo] p99_latency_ms).
    p99_ms: PositiveFloat | None = None
    # The highest share of requests that may fail, 0 to 1 (unset: [slo] error_rate).
    max_error_rate: Fraction | None = None

    def __post_init__(self) -> None:
        unset_empty(self, "path")


@model
class LoadExpectations:
    """``[http.expect.load]``: the bounded concurrent-users probe (a destructive check)."""

    path: str | None = "/health/live"  # the path every user GETs ("": no load probe)
    # The status a GET of path must answer; any other counts as an error.
    expected_status: int = 200
    # Concurrent users: requests in flight at once, each on its own connection.
    users: Annotated[int, Range(ge=1, le=5_000)] = 500
    # GET requests sent in all.
    requests: Annotated[int, Range(ge=1, le=1_000_000)] = 2_000
    # Seconds after which no new request starts; requests left unsent fail the check.
    time_limit: Seconds = 60.0
    # The P95 latency allowed, in milliseconds (unset: [slo] p95_latency_ms).
    p95_ms: PositiveFloat | None = None
    # The highest share of requests that may fail, 0 to 1 (unset: [slo] error_rate).
    max_error_rate: Fraction | None = None

    def __post_init__(self) -> None:
        unset_empty(self, "path")


@model
class Flow:
    """``[[http.expect.flows]]``: one critical user flow, checked by status and JSON fields."""

    # The flow's name, unique among the flows and shown in the reports.
    name: str
    # The path asked, under base_url (`path = "/v1/orders?limit=1"`).
    path: str
    # The HTTP method; one other than GET, HEAD or OPTIONS needs destructive = true.
    method: str = "GET"
    # The status the answer must have.
    status: int = 200
    # Dotted paths the JSON answer must hold (`json_fields = ["items.0.id"]`).
    json_fields: tuple[str, ...] = ()
    # Send the verifier's credential (token, API key, basic or client certificate); false:
    # the flow is asked anonymously.
    authenticated: bool = True
    # The flow changes state: it runs only in SMOKE-GW-FLOWS-WRITE, a destructive check.
    destructive: bool = False
    # JSON text sent as the request body (`json_body = '{"sku": "A-1", "quantity": 1}'`).
    json_body: str | None = None

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

    # -- Probe paths ("" or [] unsets one: its item is then not applicable) --
    # Liveness and readiness paths that must answer 200 within [http] timeout.
    health_paths: tuple[str, ...] = ("/health/live", "/health/ready")
    # The path of the service's Prometheus metrics, in text format ("": not probed).
    metrics_path: str | None = "/metrics"
    # The metrics answer through base_url; false: they must NOT (an internal-only endpoint).
    metrics_public: bool = True
    # Where the metrics must answer when metrics_public = false, e.g. the pod's internal
    # address (unset: only their absence from base_url is checked).
    metrics_url: HttpUrl | None = None
    # The path that answers the running release as JSON, compared with the profile's version
    # ("": not probed).
    version_path: str | None = "/version"
    version_field: str = "version"  # the version's dotted path in the JSON answer
    # The path of the OpenAPI document, which must be valid; its secured operations are the
    # routes probed without credentials ("": the service publishes none).
    openapi_path: str | None = "/openapi.json"
    # Paths no route serves, asked to see the service's error answers (judged against
    # error_fields; the header checks read them too); empty: not probed.
    error_probe_paths: tuple[str, ...] = ("/deployverify-no-such-route",)
    # The documented error shape (dotted JSON paths every 4xx body holds); empty: error bodies
    # are not judged (a framework's default plain-text 404 is not a defect by itself).
    error_fields: tuple[str, ...] = ()
    # Routes as "METHOD /path/{param}" (or "/path" for GET). Protected = operations with
    # security in the OpenAPI document + protected_routes - public_routes. When public_routes
    # is set, an operation without security that is not listed there is reported.
    public_routes: tuple[str, ...] = ()
    # Routes that must refuse requests without credentials, besides those the OpenAPI
    # document secures (`protected_routes = ["GET /v1/orders/{id}", "/v1/me"]`).
    protected_routes: tuple[str, ...] = ()
    # The value put in a route's {param} placeholders when the route is probed.
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
