"""Gateway security checklist: authentication, tenant isolation, HTTP headers, TLS, and the
destructive rate-limit burst (the plugin runs destructive items last: the burst spends an
allowance the read-only probes must not meet exhausted).

Each item takes its snapshot, calls a pure function from ``checks.http``, records what it judged,
and concludes. Tokens the gateway component obtained are registered with the run's redaction.
"""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.http_fixtures import HideTokens, hide_tokens, http_section
from pytest_deployverify.checklist.support import conclude
from pytest_deployverify.checks.http import auth, headers, ratelimit, tenants, tls
from pytest_deployverify.checks.http import catalog as hc
from pytest_deployverify.checks.http.exchange import Exchange
from pytest_deployverify.components import http as gateway
from pytest_deployverify.components.http import HttpConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots

__all__ = ["hide_tokens", "http_section"]  # fixtures shared with the other HTTP module


# -- authentication -----------------------------------------------------------------------


@item(hc.SEC_AUTH_REQUIRED)
def test_protected_routes_require_a_token(
    snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence
) -> None:
    probe: auth.AnonymousProbe = snapshot("http.anonymous")
    expected = http_section.expect.auth.unauthenticated_status
    findings = auth.unauthenticated_findings(probe, expected)
    evidence.record(
        "anonymous_requests",
        probe.summary(),
        expected=" or ".join(map(str, expected)) + " on every protected route",
        source=probe.source,
        ok=not findings,
        note="sent without "
        + ", ".join([*probe.dropped, *(["a client certificate"] if probe.client_cert else [])]),
    )
    conclude(findings)


@item(hc.SEC_JWT)
@pytest.mark.parametrize("variant", hc.JWT_VARIANTS)
def test_forged_tokens_are_rejected(
    snapshot: Snapshots, variant: str, evidence: Evidence, hide_tokens: HideTokens
) -> None:
    hide_tokens(snapshot("http.token"))
    probe = snapshot("http.forgeries").probe(variant)
    findings = auth.forgery_findings(probe)
    evidence.record(
        f"{variant}_token",
        probe.summary(),
        expected="401 or 403 for every forged token",
        source=probe.path or ", ".join(probe.paths),
        ok=not findings,
    )
    conclude(findings)


@item(hc.SEC_WRONG_CREDENTIAL)
def test_wrong_credentials_are_refused(
    snapshot: Snapshots, evidence: Evidence, hide_tokens: HideTokens
) -> None:
    hide_tokens(snapshot("http.token"))
    seen: auth.WrongCredentials = snapshot("http.wrong_credentials")
    findings = auth.wrong_credential_findings(seen)
    evidence.record(
        "wrong_credentials",
        seen.summary(),
        expected="each configured style accepted when right, 401/403 when wrong",
        source=seen.path or ", ".join(seen.paths),
        ok=not findings,
        note="; ".join(f"{probe.style}: {probe.change}" for probe in seen.probes),
    )
    conclude(findings)


@item(hc.SEC_TOKEN_FLOW)
@pytest.mark.parametrize("flow", hc.TOKEN_FLOWS)
def test_token_flow(
    snapshot: Snapshots, flow: str, evidence: Evidence, hide_tokens: HideTokens
) -> None:
    probe = snapshot("http.token_flows").probe(flow)
    hide_tokens(probe.result)
    findings = auth.token_flow_findings(probe, hc.TOKEN_FLOW_RULES[flow])
    evidence.record("token_flow", probe.summary(), expected="token, then 2xx", ok=not findings)
    conclude(findings)


# -- tenant isolation ---------------------------------------------------------------------


@item(hc.SEC_TENANT_ISOLATION)
def test_tenant_cannot_read_other_tenant(
    snapshot: Snapshots, evidence: Evidence, hide_tokens: HideTokens
) -> None:
    probe: tenants.TenantProbe = snapshot("http.tenants")
    hide_tokens(*(login.result for login in probe.logins))
    findings = tenants.cross_tenant_findings(probe)
    evidence.record(
        "cross_tenant_reads",
        probe.cross_summary(),
        expected=f"403 or 404 for tenant {probe.a}, never tenant {probe.b}'s data",
        ok=not findings,
    )
    conclude(findings)


@item(hc.SEC_TENANT_HEADER)
def test_spoofed_tenant_header_is_ignored(
    snapshot: Snapshots, evidence: Evidence, hide_tokens: HideTokens
) -> None:
    probe: tenants.TenantProbe = snapshot("http.tenants")
    hide_tokens(*(login.result for login in probe.logins))
    findings = tenants.spoofed_header_findings(probe)
    evidence.record(
        "spoofed_tenant_header",
        probe.spoof_summary(),
        expected=f"same answer with {probe.header}: {probe.b}, none of its data",
        ok=not findings,
    )
    conclude(findings)


# -- headers ------------------------------------------------------------------------------


@item(hc.SEC_INTERNAL_HEADERS)
def test_internal_headers_not_trusted(
    snapshot: Snapshots, evidence: Evidence, hide_tokens: HideTokens
) -> None:
    hide_tokens(snapshot("http.token"))
    seen: headers.InternalHeaders = snapshot("http.internal_headers")
    findings = headers.internal_header_findings(seen)
    evidence.record(
        "internal_headers", seen.summary(), expected="not echoed, not trusted", ok=not findings
    )
    conclude(findings)


@item(hc.SEC_CORS)
def test_cors_allows_only_production_origin(snapshot: Snapshots, evidence: Evidence) -> None:
    probe: headers.CorsProbe = snapshot("http.cors")
    findings = headers.cors_findings(probe)
    evidence.record(
        "cors",
        [seen.summary() for seen in probe.exchanges],
        expected=f"only {probe.allowed_origin or 'no foreign origin'}",
        ok=not findings,
    )
    conclude(findings)


@item(hc.SEC_SECURITY_HEADERS)
def test_security_headers(
    snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence
) -> None:
    answers: tuple[Exchange, ...] = snapshot("http.headers")
    cfg = http_section.expect.headers
    findings = headers.security_header_findings(
        answers, https=http_section.https, hsts_min_age=cfg.hsts_min_age, framing=cfg.framing
    )
    evidence.record(
        "security_headers",
        [headers.headers_seen(answer) for answer in answers],
        expected=f"HSTS, nosniff, framing denied ({cfg.framing.value})",
        ok=not findings,
    )
    conclude(findings)


@item(hc.SEC_VERSION_LEAK)
def test_no_version_leak(snapshot: Snapshots, evidence: Evidence) -> None:
    proxied: tuple[Exchange, ...] = snapshot("http.headers")
    edge: tuple[Exchange, ...] = snapshot("http.edge")
    findings = headers.version_leak_findings([*proxied, *edge])
    evidence.record(
        "identifying_headers",
        [headers.version_leak_summary(answer) for answer in proxied],
        expected="no versions or framework names",
        ok=not headers.version_leak_findings(proxied),
    )
    evidence.record(
        "edge_answers",
        [headers.version_leak_summary(answer) for answer in edge],
        expected="no versions or framework names",
        source="answers the edge proxy makes itself",
        ok=not headers.version_leak_findings(edge),
    )
    conclude(findings)


@item(hc.SEC_RATE_HEADERS)
def test_rate_limit_headers(
    snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence
) -> None:
    answer: Exchange = snapshot("http.rate_headers")
    names = http_section.expect.rate_limit.headers
    findings = headers.rate_limit_header_findings(answer, names)
    evidence.record(
        "rate_limit_headers",
        headers.rate_limit_summary(answer, names),
        expected=list(names),
        ok=not findings,
    )
    conclude(findings)


# -- TLS ----------------------------------------------------------------------------------


@item(hc.SEC_TLS_VERSION)
def test_minimum_tls_version(
    snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence
) -> None:
    seen: tls.TlsVersions = snapshot("http.tls_versions")
    minimum = http_section.expect.tls.min_version
    findings = tls.min_version_findings(seen, minimum)
    evidence.record(
        "tls_versions",
        seen.summary(),
        expected=f">= TLS {minimum.value}",
        source=seen.target,
        ok=not findings,
    )
    conclude(findings)


@item(hc.SEC_TLS_TRUST)
def test_certificate_trusted(snapshot: Snapshots, evidence: Evidence) -> None:
    probe: tls.TrustProbe = snapshot("http.tls_trust")
    findings = tls.trust_findings(probe)
    evidence.record(
        "tls_verification",
        probe.summary(),
        expected=f"verified as {probe.server_name}",
        source=probe.target,
        ok=not findings,
    )
    conclude(findings)


@item(hc.SEC_TLS_EXPIRY)
def test_certificate_not_expiring(
    snapshot: Snapshots, profile: Profile, evidence: Evidence
) -> None:
    probe: tls.CertificateProbe = snapshot("http.certificate")
    now = dt.datetime.now(dt.UTC)
    min_days = profile.slo.cert_min_days
    findings = tls.certificate_findings(probe, min_days, now)
    evidence.record(
        "certificate",
        probe.info.summary(now) if probe.info else probe.problem or probe.plain_http,
        expected=f"> {min_days} days left",
        source=probe.target,
        ok=not findings,
    )
    conclude(findings)


@item(hc.SEC_TLS_REDIRECT)
def test_plain_http_redirects(snapshot: Snapshots, evidence: Evidence) -> None:
    probe: tls.RedirectProbe = snapshot("http.redirect")
    findings = tls.redirect_findings(probe)
    evidence.record(
        "http_redirect", probe.summary(), expected="301/308 to https://", ok=not findings
    )
    conclude(findings)


# -- destructive: the plugin runs this after every read-only item ----------------------------


@item(hc.SEC_RATE_BURST)
def test_rate_limit_refuses_a_burst(
    snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence
) -> None:
    result: ratelimit.BurstResult = gateway.rate_limit_burst(snapshot.client("http"), http_section)
    cfg = http_section.expect.rate_limit
    findings = ratelimit.burst_findings(result, require_retry_after=cfg.require_retry_after)
    evidence.record(
        "burst",
        result.summary(),
        expected=f"429 within {cfg.burst} requests"
        + (", with Retry-After" if cfg.require_retry_after else ""),
        source=result.account,
        ok=not findings,
    )
    conclude(findings)
