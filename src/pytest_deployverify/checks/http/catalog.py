"""Every gateway check id in one place, with its default severity and title.

Ids are stable: reports, waivers and sign-offs refer to them, and the ``verify/`` tests carry the
same ids in ``@pytest.mark.check``. A parametrized check's id gets the variant in brackets
(``SEC-GW-JWT[alg-none]``), as the plugin names parametrized items.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_deployverify.checks.findings import Finding, Severity


@dataclass(frozen=True)
class GatewayCheck:
    check_id: str
    severity: Severity
    title: str

    def finding(self, subject: str, message: str) -> Finding:
        return Finding(self.check_id, self.severity, subject, message)

    def variant(self, name: str) -> GatewayCheck:
        """The same check for one parametrized variant (``SEC-GW-JWT[expired]``)."""
        return GatewayCheck(f"{self.check_id}[{name}]", self.severity, self.title)


C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

HEALTH = GatewayCheck("SMOKE-GW-HEALTH", C, "Liveness and readiness answer 200 in time")
METRICS = GatewayCheck("SMOKE-GW-METRICS", H, "Metrics exposed in Prometheus text format")
VERSION = GatewayCheck("SMOKE-GW-VERSION", C, "The service reports the expected release")
OPENAPI = GatewayCheck("SMOKE-GW-OPENAPI", M, "OpenAPI document published and valid")
ERROR_SHAPE = GatewayCheck("SMOKE-GW-ERROR-SHAPE", M, "Errors have the documented shape")
DOWNSTREAM = GatewayCheck("SMOKE-GW-DOWNSTREAM", C, "Every downstream service is healthy")
FLOWS = GatewayCheck("SMOKE-GW-FLOWS", C, "Critical user flows succeed (read-only)")
FLOWS_WRITE = GatewayCheck("SMOKE-GW-FLOWS-WRITE", H, "Critical state-changing flows succeed")
LATENCY = GatewayCheck("SMOKE-GW-LATENCY", H, "Latency percentiles and error rate within SLO")
LOAD = GatewayCheck("SMOKE-GW-LOAD", H, "Bounded concurrent load stays within SLO")

AUTH_REQUIRED = GatewayCheck(
    "SEC-GW-AUTH-REQUIRED", C, "Non-public routes refuse requests without a token"
)
JWT = GatewayCheck("SEC-GW-JWT", C, "Forged or invalid tokens are rejected")
TOKEN_FLOW = GatewayCheck(
    "SEC-GW-TOKEN-FLOW", C, "The token flow yields a token protected routes accept"
)
TENANT_ISOLATION = GatewayCheck(
    "SEC-GW-TENANT-ISOLATION", C, "A tenant cannot read another tenant's data"
)
TENANT_HEADER = GatewayCheck(
    "SEC-GW-TENANT-HEADER", C, "A spoofed tenant header does not switch tenants"
)
INTERNAL_HEADERS = GatewayCheck(
    "SEC-GW-HDR-INTERNAL", H, "Internal headers from clients are neither trusted nor echoed"
)
CORS = GatewayCheck("SEC-GW-CORS", H, "CORS allows only the production origin")
SECURITY_HEADERS = GatewayCheck("SEC-GW-HDR-SECURITY", M, "Security headers present")
VERSION_LEAK = GatewayCheck("SEC-GW-HDR-VERSION-LEAK", M, "No server or framework version leaked")
RATE_HEADERS = GatewayCheck("SEC-GW-RATE-HEADERS", M, "Rate-limit headers present")
RATE_BURST = GatewayCheck("SEC-GW-RATE-BURST", H, "A bounded burst is answered with 429")
TLS_VERSION = GatewayCheck("SEC-GW-TLS-VERSION", H, "Minimum TLS protocol version enforced")
TLS_TRUST = GatewayCheck("SEC-GW-TLS-TRUST", C, "Certificate chain trusted and hostname matches")
TLS_EXPIRY = GatewayCheck("SEC-GW-TLS-EXPIRY", H, "Certificate valid for long enough")
TLS_REDIRECT = GatewayCheck("SEC-GW-TLS-REDIRECT", M, "Plain HTTP redirects to HTTPS")

JWT_VARIANTS = ("tampered", "alg-none", "expired", "wrong-aud", "wrong-iss")
TOKEN_FLOWS = ("login", "client-credentials")

ALL: tuple[GatewayCheck, ...] = (
    HEALTH,
    METRICS,
    VERSION,
    OPENAPI,
    ERROR_SHAPE,
    DOWNSTREAM,
    FLOWS,
    FLOWS_WRITE,
    LATENCY,
    LOAD,
    AUTH_REQUIRED,
    *(JWT.variant(v) for v in JWT_VARIANTS),
    *(TOKEN_FLOW.variant(v) for v in TOKEN_FLOWS),
    TENANT_ISOLATION,
    TENANT_HEADER,
    INTERNAL_HEADERS,
    CORS,
    SECURITY_HEADERS,
    VERSION_LEAK,
    RATE_HEADERS,
    RATE_BURST,
    TLS_VERSION,
    TLS_TRUST,
    TLS_EXPIRY,
    TLS_REDIRECT,
)
