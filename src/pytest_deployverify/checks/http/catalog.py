"""Every HTTP check declared once: the rules its findings come from and the checklist items.

Ids, titles and severities are stable: waivers and sign-offs refer to them. A rule's id is its
item's check id, so a finding names the item that reported it; the parametrized items get one
rule per variant (``SEC-GW-JWT[alg-none]``), as the plugin names parametrized items.

The gateway is the ``http`` component (``[http]``); the downstream services are a component of
their own (``[[services]]``).
"""

from __future__ import annotations

from pytest_deployverify.checks.declarations import (
    Applies,
    CheckSpec,
    declare,
    flag,
    lookup,
    needs,
    needs_any,
)
from pytest_deployverify.checks.findings import Rule, Severity
from pytest_deployverify.profile.model import Profile

C, H, M = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM

JWT_VARIANTS = ("tampered", "alg-none", "expired", "wrong-aud", "wrong-iss")
TOKEN_FLOWS = ("login", "client-credentials")

# -- rules: what each finding is about ----------------------------------------------------------

HEALTH = Rule("SMOKE-GW-HEALTH", C, "Liveness and readiness answer 200 in time")
METRICS = Rule("SMOKE-GW-METRICS", H, "Metrics exposed in Prometheus text format")
VERSION = Rule("SMOKE-GW-VERSION", C, "The service reports the expected release")
OPENAPI = Rule("SMOKE-GW-OPENAPI", M, "OpenAPI document published and valid")
ERROR_SHAPE = Rule("SMOKE-GW-ERROR-SHAPE", M, "Errors have the documented shape")
DOWNSTREAM = Rule("SMOKE-GW-DOWNSTREAM", C, "Every downstream service is healthy")
FLOWS = Rule("SMOKE-GW-FLOWS", C, "Critical user flows succeed (read-only)")
FLOWS_WRITE = Rule("SMOKE-GW-FLOWS-WRITE", H, "Critical state-changing flows succeed")
LATENCY = Rule("SMOKE-GW-LATENCY", H, "Latency percentiles and error rate within SLO")
LOAD = Rule("SMOKE-GW-LOAD", H, "Bounded concurrent load stays within SLO")
AUTH_REQUIRED = Rule("SEC-GW-AUTH-REQUIRED", C, "Non-public routes refuse requests without a token")
JWT = Rule("SEC-GW-JWT", C, "Forged or invalid tokens are rejected")
WRONG_CREDENTIAL = Rule(
    "SEC-GW-CREDENTIAL", C, "A wrong credential of each configured style is refused"
)
TOKEN_FLOW = Rule("SEC-GW-TOKEN-FLOW", C, "The token flow yields a token protected routes accept")
TENANT_ISOLATION = Rule("SEC-GW-TENANT-ISOLATION", C, "A tenant cannot read another tenant's data")
TENANT_HEADER = Rule("SEC-GW-TENANT-HEADER", C, "A spoofed tenant header does not switch tenants")
INTERNAL_HEADERS = Rule(
    "SEC-GW-HDR-INTERNAL", H, "Internal headers from clients are neither trusted nor echoed"
)
CORS = Rule("SEC-GW-CORS", H, "CORS allows only the production origin")
SECURITY_HEADERS = Rule("SEC-GW-HDR-SECURITY", M, "Security headers present")
VERSION_LEAK = Rule("SEC-GW-HDR-VERSION-LEAK", M, "No server or framework version leaked")
RATE_HEADERS = Rule("SEC-GW-RATE-HEADERS", M, "Rate-limit headers present")
RATE_BURST = Rule("SEC-GW-RATE-BURST", H, "A bounded burst is answered with 429")
TLS_VERSION = Rule("SEC-GW-TLS-VERSION", H, "Minimum TLS protocol version enforced")
TLS_TRUST = Rule("SEC-GW-TLS-TRUST", C, "Certificate chain trusted and hostname matches")
TLS_EXPIRY = Rule("SEC-GW-TLS-EXPIRY", H, "Certificate valid for long enough")
TLS_REDIRECT = Rule("SEC-GW-TLS-REDIRECT", M, "Plain HTTP redirects to HTTPS")


def variant(rule: Rule, name: str) -> Rule:
    """The same rule for one parametrized variant (``SEC-GW-JWT[expired]``)."""
    return Rule(f"{rule.id}[{name}]", rule.severity, rule.title)


JWT_RULES = {name: variant(JWT, name) for name in JWT_VARIANTS}
TOKEN_FLOW_RULES = {name: variant(TOKEN_FLOW, name) for name in TOKEN_FLOWS}

# -- declarations: the checklist items ---------------------------------------------------------


def all_of(*conditions: Applies) -> Applies:
    """Applies when every condition does; else the first reason."""

    def applies(profile: Profile) -> str | None:
        for condition in conditions:
            reason = condition(profile)
            if reason is not None:
                return reason
        return None

    return applies


def unless_false(key: str) -> Applies:
    """Applies unless the boolean ``key`` (true by default) is set to false: the feature it
    names is declared absent."""

    def applies(profile: Profile) -> str | None:
        if lookup(profile, key) is False:
            table, _, leaf = key.rpartition(".")
            return f"[{table}] {leaf} = false in profile {profile.name!r}"
        return None

    return applies


def _flows(destructive: bool) -> Applies:
    """Applies when ``[[http.expect.flows]]`` holds a flow of that kind."""
    kind = "destructive" if destructive else "read-only"

    def applies(profile: Profile) -> str | None:
        flows = lookup(profile, "http.expect.flows")
        if isinstance(flows, tuple) and any(f.destructive == destructive for f in flows):
            return None
        return f"no {kind} [[http.expect.flows]] configured in profile {profile.name!r}"

    return applies


_TOKEN = needs_any("http.expect.auth.login", "http.expect.auth.client_id")
_CREDENTIAL = needs_any(
    "http.expect.auth.login",
    "http.expect.auth.client_id",
    "http.expect.auth.api_key",
    "http.expect.auth.basic",
    "http.expect.auth.client_cert",
)
_TOKEN_KEYS = (
    "http.expect.auth.login_path",
    "http.expect.auth.login",
    "http.expect.auth.token_url",
    "http.expect.auth.client_id",
    "http.expect.auth.client_secret",
)
_CREDENTIAL_KEYS = (
    *_TOKEN_KEYS,
    "http.expect.auth.api_key",
    "http.expect.auth.basic",
    "http.expect.auth.client_cert",
)


def _declare(
    rule: Rule,
    section: str,
    *,
    components: tuple[str, ...] = ("http",),
    keys: tuple[str, ...] = (),
    reads: tuple[str, ...] = (),
    applies: Applies | None = None,
    destructive: bool = False,
    description: str = "",
) -> CheckSpec:
    """The item whose findings come from ``rule``: same id, title and severity."""
    return declare(
        rule.id,
        title=rule.title,
        section=section,
        severity=rule.severity,
        components=components,
        keys=keys,
        reads=reads,
        applies=applies,
        destructive=destructive,
        description=description,
    )


SMOKE_HEALTH = _declare(
    HEALTH,
    "smoke",
    keys=("http.expect.health_paths", "http.timeout"),
    reads=("http.health",),
    applies=needs("http.expect.health_paths"),
)
SMOKE_METRICS = _declare(
    METRICS,
    "smoke",
    keys=("http.expect.metrics_path", "http.expect.metrics_public", "http.expect.metrics_url"),
    reads=("http.metrics",),
    applies=needs("http.expect.metrics_path"),
)
SMOKE_VERSION = _declare(
    VERSION,
    "smoke",
    keys=("version", "http.expect.version_path", "http.expect.version_field"),
    reads=("http.version",),
    applies=needs("version", "http.expect.version_path"),
    description="Compared as releases: a leading v and +build metadata do not make a mismatch.",
)
SMOKE_OPENAPI = _declare(
    OPENAPI,
    "smoke",
    keys=("http.expect.openapi_path",),
    reads=("http.openapi", "http.openapi_validation"),
    applies=needs("http.expect.openapi_path"),
)
SMOKE_ERROR_SHAPE = _declare(
    ERROR_SHAPE,
    "smoke",
    keys=("http.expect.error_fields", "http.expect.error_probe_paths"),
    reads=("http.errors",),
    applies=needs("http.expect.error_fields", "http.expect.error_probe_paths"),
    description="Judged only against the shape the profile declares in error_fields.",
)
SMOKE_DOWNSTREAM = _declare(
    DOWNSTREAM,
    "smoke",
    components=("services",),
    keys=("services",),
    reads=("services.health",),
)
SMOKE_FLOWS = _declare(
    FLOWS,
    "smoke",
    keys=("http.expect.flows", *_CREDENTIAL_KEYS),
    reads=("http.flows", "http.token"),
    applies=_flows(destructive=False),
)
SMOKE_LATENCY = _declare(
    LATENCY,
    "smoke",
    keys=(
        "http.expect.latency",
        "http.expect.latency.path",
        "slo.p95_latency_ms",
        "slo.p99_latency_ms",
        "slo.error_rate",
    ),
    reads=("http.latency",),
    applies=needs("http.expect.latency.path"),
)
SMOKE_FLOWS_WRITE = _declare(
    FLOWS_WRITE,
    "smoke",
    keys=("http.expect.flows", *_CREDENTIAL_KEYS),
    reads=("http.endpoint", "http.credential"),
    applies=_flows(destructive=True),
    destructive=True,
)
SMOKE_LOAD = _declare(
    LOAD,
    "smoke",
    keys=("http.expect.load", "http.expect.load.path", "slo.p95_latency_ms", "slo.error_rate"),
    reads=("http.endpoint",),
    applies=needs("http.expect.load.path"),
    destructive=True,
)

SEC_AUTH_REQUIRED = _declare(
    AUTH_REQUIRED,
    "security",
    keys=(
        "http.expect.openapi_path",
        "http.expect.protected_routes",
        "http.expect.public_routes",
        "http.expect.path_param_value",
        "http.expect.auth.unauthenticated_status",
        "http.headers",
        "http.expect.auth.api_key",
        "http.expect.auth.client_cert",
    ),
    reads=("http.anonymous",),
    applies=needs_any("http.expect.openapi_path", "http.expect.protected_routes"),
    description="Sent without any credential: no Authorization, no API key header, none of "
    "[http] headers, no client certificate.",
)
SEC_JWT = _declare(
    JWT,
    "security",
    keys=(
        *_TOKEN_KEYS,
        "http.expect.auth.jwt",
        "http.expect.auth.jwt_signing_key",
        "http.expect.auth.probe_paths",
    ),
    reads=("http.forgeries", "http.token"),
    applies=all_of(_TOKEN, unless_false("http.expect.auth.jwt")),
)
SEC_WRONG_CREDENTIAL = _declare(
    WRONG_CREDENTIAL,
    "security",
    keys=(*_CREDENTIAL_KEYS, "http.expect.auth.probe_paths"),
    reads=("http.wrong_credentials", "http.token"),
    applies=_CREDENTIAL,
    description="Each configured style sent wrong on a protected route: a random API key, the "
    "right username with a wrong password, a client certificate no CA of the service signed, "
    "a random bearer token. Each must be refused (401/403, or the TLS handshake).",
)
SEC_TOKEN_FLOW = _declare(
    TOKEN_FLOW,
    "security",
    keys=(*_TOKEN_KEYS, "http.expect.auth.probe_paths"),
    reads=("http.token_flows",),
    applies=_TOKEN,
)
SEC_TENANT_ISOLATION = _declare(
    TENANT_ISOLATION,
    "security",
    keys=("http.expect.tenants", "http.expect.auth.login_path"),
    reads=("http.tenants",),
    applies=needs("http.expect.tenants", "http.expect.auth.login_path"),
)
SEC_TENANT_HEADER = _declare(
    TENANT_HEADER,
    "security",
    keys=("http.expect.tenants", "http.expect.auth.login_path"),
    reads=("http.tenants",),
    applies=needs("http.expect.tenants", "http.expect.auth.login_path"),
)
SEC_INTERNAL_HEADERS = _declare(
    INTERNAL_HEADERS,
    "security",
    keys=(
        "http.expect.headers.internal_headers",
        "http.expect.headers.internal_probe_paths",
        *_CREDENTIAL_KEYS,
    ),
    reads=("http.internal_headers", "http.token"),
    applies=_CREDENTIAL,
)
SEC_CORS = _declare(
    CORS,
    "security",
    keys=("http.expect.cors", "http.expect.cors.probe_path"),
    reads=("http.cors",),
    applies=needs("http.expect.cors.probe_path"),
)
SEC_SECURITY_HEADERS = _declare(
    SECURITY_HEADERS,
    "security",
    keys=(
        "http.expect.headers.probe_paths",
        "http.expect.headers.hsts_min_age",
        "http.expect.headers.framing",
    ),
    reads=("http.headers",),
)
SEC_VERSION_LEAK = _declare(
    VERSION_LEAK,
    "security",
    keys=(
        "http.expect.headers.probe_paths",
        "http.expect.headers.edge_probes",
        "http.expect.headers.edge_paths",
    ),
    reads=("http.headers", "http.edge"),
    description="Answers proxied from the application and answers the edge proxy makes itself "
    "(a request it refuses, its health endpoints, the plain-HTTP redirect).",
)
SEC_RATE_HEADERS = _declare(
    RATE_HEADERS,
    "security",
    keys=("http.expect.rate_limit.probe_path", "http.expect.rate_limit.headers"),
    reads=("http.rate_headers",),
    applies=needs("http.expect.rate_limit.probe_path"),
)
SEC_RATE_BURST = _declare(
    RATE_BURST,
    "security",
    keys=("http.expect.rate_limit",),
    reads=("http.endpoint",),
    applies=needs("http.expect.rate_limit.probe_path"),
    destructive=True,
)
SEC_TLS_VERSION = _declare(
    TLS_VERSION,
    "security",
    keys=("http.expect.tls.min_version", "http.expect.tls.required"),
    reads=("http.tls_versions",),
)
SEC_TLS_TRUST = _declare(
    TLS_TRUST,
    "security",
    keys=("http.ca_file", "http.expect.tls.server_name", "http.expect.tls.required"),
    reads=("http.tls_trust",),
)
SEC_TLS_EXPIRY = _declare(
    TLS_EXPIRY,
    "security",
    keys=("slo.cert_min_days", "http.expect.tls.required"),
    reads=("http.certificate",),
)
SEC_TLS_REDIRECT = _declare(
    TLS_REDIRECT,
    "security",
    keys=("http.expect.tls.http_url", "http.expect.tls.check_redirect"),
    reads=("http.redirect",),
    applies=flag("http.expect.tls.check_redirect"),
)

CHECKS: tuple[CheckSpec, ...] = (
    SMOKE_HEALTH,
    SMOKE_METRICS,
    SMOKE_VERSION,
    SMOKE_OPENAPI,
    SMOKE_ERROR_SHAPE,
    SMOKE_FLOWS,
    SMOKE_LATENCY,
    SMOKE_FLOWS_WRITE,
    SMOKE_LOAD,
    SEC_AUTH_REQUIRED,
    SEC_JWT,
    SEC_WRONG_CREDENTIAL,
    SEC_TOKEN_FLOW,
    SEC_TENANT_ISOLATION,
    SEC_TENANT_HEADER,
    SEC_INTERNAL_HEADERS,
    SEC_CORS,
    SEC_SECURITY_HEADERS,
    SEC_VERSION_LEAK,
    SEC_RATE_HEADERS,
    SEC_RATE_BURST,
    SEC_TLS_VERSION,
    SEC_TLS_TRUST,
    SEC_TLS_EXPIRY,
    SEC_TLS_REDIRECT,
)
SERVICE_CHECKS: tuple[CheckSpec, ...] = (SMOKE_DOWNSTREAM,)

VARIANTS = {SEC_JWT.id: JWT_VARIANTS, SEC_TOKEN_FLOW.id: TOKEN_FLOWS}


def item_ids(specs: tuple[CheckSpec, ...] = CHECKS + SERVICE_CHECKS) -> tuple[str, ...]:
    """The check id of every checklist item, the parametrized ones once per variant."""
    return tuple(
        f"{spec.id}[{name}]" if spec.id in VARIANTS else spec.id
        for spec in specs
        for name in VARIANTS.get(spec.id, ("",))
    )
