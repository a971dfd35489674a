"""Gateway security checklist: authentication, tenant isolation, HTTP headers, TLS.

All checks here are read-only. The destructive rate-limit burst lives at the end of
``test_smoke_gateway.py``, which runs after this file: a burst spends the verifier's request
allowance, and the anonymous probes here must not meet a 429 left over from it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from pytest_deployverify.checklist.gateway_fixtures import expect, http
from pytest_deployverify.checklist.support import conclude_outcome as conclude
from pytest_deployverify.checks.http import auth, catalog, headers, openapi, tenants, tls
from pytest_deployverify.components.http import HttpConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.expectations.gateway import HttpExpectations
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.applicability import not_applicable

pytestmark = pytest.mark.security


@pytest.fixture(scope="module")
def api_document(http_client: httpx.Client, expect: HttpExpectations) -> dict[str, Any] | None:
    """The published OpenAPI document (None when the profile names none or it is missing)."""
    if expect.openapi_path is None:
        return None
    return openapi.fetch(http_client, expect.openapi_path).document


@pytest.fixture(scope="module")
def token(http_client: httpx.Client, expect: HttpExpectations) -> str:
    """A valid token from the profile's login or client-credentials flow."""
    result = auth.obtain_token(http_client, expect.auth)
    if result is None:
        pytest.skip(
            "no token flow configured: set [http.expect.auth] login_path and login, "
            "or token_url, client_id and client_secret"
        )
    if result.token is None:
        pytest.fail(f"could not obtain a token: {result.problem}", pytrace=False)
    return result.token


@pytest.fixture(scope="module")
def probe_paths(expect: HttpExpectations, api_document: dict[str, Any] | None) -> list[str]:
    paths = auth.probe_paths(expect.auth, api_document)
    if not paths:
        pytest.skip("no protected GET route to probe: set [http.expect.auth] probe_paths")
    return paths


@pytest.fixture(scope="module")
def tenant_tokens(http_client: httpx.Client, expect: HttpExpectations) -> tuple[str, str]:
    """Tokens of tenant A and tenant B, by the login flow."""
    if expect.tenants is None:
        pytest.skip("no tenants configured: set [http.expect.tenants] with accounts a and b")
    if expect.auth.login_path is None:
        pytest.skip("tenant probes log in: set [http.expect.auth] login_path")
    tokens = []
    for account in (expect.tenants.a, expect.tenants.b):
        result = auth.login(
            http_client,
            expect.auth.login_path,
            account.login,
            username_field=expect.auth.username_field,
            password_field=expect.auth.password_field,
            token_field=expect.auth.token_field,
        )
        if result.token is None:
            pytest.fail(
                f"tenant {account.tenant} could not log in: {result.problem}", pytrace=False
            )
        tokens.append(result.token)
    return tokens[0], tokens[1]


@pytest.fixture(scope="module")
def tls_target(http: HttpConfig) -> tls.TlsTarget:
    base = http.base_url.get()
    if not base.lower().startswith("https://"):
        if http.expect.tls.required:
            pytest.fail(
                f"base_url {http.base_url} is not HTTPS; the checklist requires TLS "
                "(set [http.expect.tls] required = false only for a non-production target)",
                pytrace=False,
            )
        not_applicable(f"base_url {http.base_url} is plain HTTP and TLS is not required")
    return tls.TlsTarget.from_url(
        base, server_name=http.expect.tls.server_name, timeout=http.timeout
    )


# -- authentication -----------------------------------------------------------------------


@pytest.mark.check(
    "SEC-GW-AUTH-REQUIRED",
    title="Non-public routes refuse requests without a token",
    severity="critical",
)
def test_protected_routes_require_a_token(
    http_client: httpx.Client,
    expect: HttpExpectations,
    api_document: dict[str, Any] | None,
    evidence: Evidence,
) -> None:
    plan = openapi.route_plan(api_document, expect.protected_routes, expect.public_routes)
    outcome = auth.unauthenticated(
        http_client,
        plan,
        param_value=expect.path_param_value,
        expected=expect.auth.unauthenticated_status,
    )
    evidence.record(
        "anonymous_requests",
        outcome.observed,
        expected=" or ".join(map(str, expect.auth.unauthenticated_status))
        + " on every protected route",
        source=expect.openapi_path or "profile protected_routes",
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.check("SEC-GW-JWT", title="Forged or invalid tokens are rejected", severity="critical")
@pytest.mark.parametrize("variant", catalog.JWT_VARIANTS)
def test_forged_tokens_are_rejected(
    http_client: httpx.Client,
    expect: HttpExpectations,
    token: str,
    probe_paths: list[str],
    variant: str,
    evidence: Evidence,
) -> None:
    key = expect.auth.jwt_signing_key
    outcome = auth.forgery(
        http_client,
        variant,
        token,
        probe_paths,
        signing_key=key.get() if key else None,
        algorithm=expect.auth.jwt_algorithm,
    )
    evidence.record(
        f"{variant}_token",
        outcome.observed,
        expected="401",
        source=", ".join(probe_paths),
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.check(
    "SEC-GW-TOKEN-FLOW",
    title="The token flow yields a token protected routes accept",
    severity="critical",
)
@pytest.mark.parametrize("flow", catalog.TOKEN_FLOWS)
def test_token_flow(
    http_client: httpx.Client,
    expect: HttpExpectations,
    probe_paths: list[str],
    flow: str,
    evidence: Evidence,
) -> None:
    cfg = expect.auth
    if flow == "login":
        if not cfg.has_login:
            not_applicable("no login flow configured: set [http.expect.auth] login_path and login")
        assert cfg.login_path is not None
        assert cfg.login is not None
        result = auth.login(
            http_client,
            cfg.login_path,
            cfg.login,
            username_field=cfg.username_field,
            password_field=cfg.password_field,
            token_field=cfg.token_field,
        )
    else:
        if not cfg.has_client_credentials:
            not_applicable(
                "no OAuth client configured: set [http.expect.auth] token_url, client_id, client_secret"
            )
        assert cfg.token_url is not None
        assert cfg.client_id is not None
        assert cfg.client_secret is not None
        result = auth.client_credentials(
            http_client,
            cfg.token_url,
            cfg.client_id.get(),
            cfg.client_secret.get(),
            token_field=cfg.token_field,
        )
    outcome = auth.token_flow(http_client, result, probe_paths, catalog.TOKEN_FLOW.variant(flow))
    evidence.record("token_flow", outcome.observed, expected="token, then 2xx", ok=outcome.passed)
    conclude(outcome)


# -- tenant isolation ---------------------------------------------------------------------


@pytest.mark.check(
    "SEC-GW-TENANT-ISOLATION",
    title="A tenant cannot read another tenant's data",
    severity="critical",
)
def test_tenant_cannot_read_other_tenant(
    http_client: httpx.Client,
    expect: HttpExpectations,
    tenant_tokens: tuple[str, str],
    evidence: Evidence,
) -> None:
    assert expect.tenants is not None
    outcome = tenants.cross_tenant_reads(http_client, expect.tenants, *tenant_tokens)
    evidence.record(
        "cross_tenant_reads",
        outcome.observed,
        expected="403 or 404, never B's data",
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.check(
    "SEC-GW-TENANT-HEADER",
    title="A spoofed tenant header does not switch tenants",
    severity="critical",
)
def test_spoofed_tenant_header_is_ignored(
    http_client: httpx.Client,
    expect: HttpExpectations,
    tenant_tokens: tuple[str, str],
    evidence: Evidence,
) -> None:
    assert expect.tenants is not None
    outcome = tenants.spoofed_tenant_header(http_client, expect.tenants, tenant_tokens[0])
    evidence.record(
        "spoofed_tenant_header",
        outcome.observed,
        expected="same answer, none of B's data",
        ok=outcome.passed,
    )
    conclude(outcome)


# -- headers ------------------------------------------------------------------------------


@pytest.mark.check(
    "SEC-GW-HDR-INTERNAL",
    title="Internal headers from clients are neither trusted nor echoed",
    severity="high",
)
def test_internal_headers_not_trusted(
    http_client: httpx.Client,
    expect: HttpExpectations,
    token: str,
    probe_paths: list[str],
    evidence: Evidence,
) -> None:
    paths = list(expect.headers.internal_probe_paths) or probe_paths
    outcome = headers.internal_headers(http_client, token, paths, expect.headers.internal_headers)
    evidence.record("internal_headers", outcome.observed, expected="not echoed", ok=outcome.passed)
    conclude(outcome)


@pytest.mark.check("SEC-GW-CORS", title="CORS allows only the production origin", severity="high")
def test_cors_allows_only_production_origin(
    http_client: httpx.Client, expect: HttpExpectations, evidence: Evidence
) -> None:
    cors = expect.cors
    outcome = headers.cors(
        http_client,
        cors.probe_path,
        allowed_origin=cors.allowed_origin,
        foreign_origin=cors.foreign_origin,
    )
    evidence.record(
        "cors",
        outcome.observed,
        expected=f"only {cors.allowed_origin or 'no foreign origin'}",
        ok=outcome.passed,
    )
    conclude(outcome)


def _header_paths(expect: HttpExpectations) -> list[str]:
    return list(expect.headers.probe_paths) or [*expect.health_paths, *expect.error_probe_paths]


@pytest.mark.check("SEC-GW-HDR-SECURITY", title="Security headers present", severity="medium")
def test_security_headers(
    http_client: httpx.Client, http: HttpConfig, expect: HttpExpectations, evidence: Evidence
) -> None:
    outcome = headers.security_headers(
        http_client,
        _header_paths(expect),
        https=http.base_url.scheme == "https",
        hsts_min_age=expect.headers.hsts_min_age,
    )
    evidence.record(
        "security_headers",
        outcome.observed,
        expected="HSTS, nosniff, framing denied",
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.check(
    "SEC-GW-HDR-VERSION-LEAK", title="No server or framework version leaked", severity="medium"
)
def test_no_version_leak(
    http_client: httpx.Client, expect: HttpExpectations, evidence: Evidence
) -> None:
    outcome = headers.version_leak(http_client, _header_paths(expect))
    evidence.record(
        "identifying_headers",
        outcome.observed,
        expected="no versions or framework names",
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.check("SEC-GW-RATE-HEADERS", title="Rate-limit headers present", severity="medium")
def test_rate_limit_headers(
    http_client: httpx.Client, expect: HttpExpectations, evidence: Evidence
) -> None:
    limit = expect.rate_limit
    if limit.probe_path is None:
        pytest.skip("no rate-limited route configured: set [http.expect.rate_limit] probe_path")
    outcome = headers.rate_limit_headers(http_client, limit.probe_path, limit.headers)
    evidence.record(
        "rate_limit_headers", outcome.observed, expected=list(limit.headers), ok=outcome.passed
    )
    conclude(outcome)


# -- TLS ----------------------------------------------------------------------------------


@pytest.mark.check(
    "SEC-GW-TLS-VERSION", title="Minimum TLS protocol version enforced", severity="high"
)
def test_minimum_tls_version(
    tls_target: tls.TlsTarget, expect: HttpExpectations, evidence: Evidence
) -> None:
    outcome = tls.min_version(tls_target, expect.tls.min_version)
    evidence.record(
        "tls_versions",
        outcome.observed,
        expected=f">= TLS {expect.tls.min_version.value}",
        source=str(tls_target),
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.check(
    "SEC-GW-TLS-TRUST", title="Certificate chain trusted and hostname matches", severity="critical"
)
def test_certificate_trusted(
    tls_target: tls.TlsTarget, http: HttpConfig, evidence: Evidence
) -> None:
    outcome = tls.trust(tls_target, http.ca_file)
    evidence.record("tls_verification", outcome.observed, source=str(tls_target), ok=outcome.passed)
    conclude(outcome)


@pytest.mark.check("SEC-GW-TLS-EXPIRY", title="Certificate valid for long enough", severity="high")
def test_certificate_not_expiring(
    tls_target: tls.TlsTarget, profile: Profile, evidence: Evidence
) -> None:
    outcome = tls.certificate_expiry(tls_target, profile.slo.cert_min_days, dt.datetime.now(dt.UTC))
    evidence.record(
        "certificate",
        outcome.observed,
        expected=f"> {profile.slo.cert_min_days} days left",
        source=str(tls_target),
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.check("SEC-GW-TLS-REDIRECT", title="Plain HTTP redirects to HTTPS", severity="medium")
def test_plain_http_redirects(
    tls_target: tls.TlsTarget, http: HttpConfig, evidence: Evidence
) -> None:
    cfg = http.expect.tls
    if not cfg.check_redirect:
        not_applicable("[http.expect.tls] check_redirect = false")
    url = cfg.http_url.get() if cfg.http_url else tls.default_http_url(http.base_url.get())
    outcome = tls.http_redirect(url, timeout=http.timeout)
    evidence.record(
        "http_redirect", outcome.observed, expected="301/308 to https://", ok=outcome.passed
    )
    conclude(outcome)


__all__ = ["expect", "http"]  # fixtures shared with the other gateway module
