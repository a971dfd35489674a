"""Gateway smoke checklist: health, metrics, version, OpenAPI, errors, downstream, flows, latency.

The destructive checks (state-changing flows, the load probe, the rate-limit burst) come last,
so that they run after every read-only gateway check of this file and of
``test_security_gateway.py`` (which sorts first): the burst spends the verifier's allowance.
"""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest

from pytest_deployverify.checklist.gateway_fixtures import expect, http
from pytest_deployverify.checklist.support import conclude_outcome as conclude
from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.checks.http import (
    auth,
    catalog,
    downstream,
    flows,
    latency,
    openapi,
    ratelimit,
    smoke,
)
from pytest_deployverify.checks.http.common import Outcome
from pytest_deployverify.components.http import HttpConfig
from pytest_deployverify.components.httpcommon import tls_verify
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.expectations.gateway import HttpExpectations
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.applicability import not_applicable


@pytest.fixture(scope="module")
def token(http_client: httpx.Client, expect: HttpExpectations) -> str | None:
    """A token for flows that need one; None when no token flow is configured."""
    result = auth.obtain_token(http_client, expect.auth)
    if result is not None and result.token is None:
        pytest.fail(f"could not obtain a token: {result.problem}", pytrace=False)
    return result.token if result else None


def _probe_plan(
    http: HttpConfig, path: str, requests: int, users: int, limit: float, status: int
) -> latency.Plan:
    return latency.Plan(
        url=urljoin(http.base_url.get().rstrip("/") + "/", path.lstrip("/")),
        requests=requests,
        concurrency=users,
        time_limit=limit,
        expected_status=status,
        timeout=http.timeout,
    )


def _measure(http: HttpConfig, plan: latency.Plan) -> latency.Sample:
    return latency.measure(
        plan,
        verify=tls_verify(http.ca_file, http.verify_tls),
        headers={name: value.get() for name, value in http.headers.items()},
    )


# -- read-only ----------------------------------------------------------------------------


@pytest.mark.smoke
@pytest.mark.check(
    "SMOKE-GW-HEALTH", title="Liveness and readiness answer 200 in time", severity="critical"
)
def test_health_endpoints(
    http_client: httpx.Client, http: HttpConfig, expect: HttpExpectations, evidence: Evidence
) -> None:
    outcome = smoke.health(http_client, expect.health_paths, timeout=http.timeout)
    evidence.record(
        "health", outcome.observed, expected=f"200 within {http.timeout:g} s", ok=outcome.passed
    )
    conclude(outcome)


@pytest.mark.smoke
@pytest.mark.check(
    "SMOKE-GW-METRICS", title="Metrics exposed in Prometheus text format", severity="high"
)
def test_metrics_exposed(
    http_client: httpx.Client, expect: HttpExpectations, evidence: Evidence
) -> None:
    if expect.metrics_path is None:
        not_applicable("[http.expect] metrics_path is not set")
    outcome = smoke.metrics(
        http_client,
        expect.metrics_path,
        public=expect.metrics_public,
        internal_url=expect.metrics_url.get() if expect.metrics_url else None,
    )
    evidence.record(
        "metrics",
        outcome.observed,
        expected="Prometheus text" + ("" if expect.metrics_public else ", not public"),
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.smoke
@pytest.mark.check(
    "SMOKE-GW-VERSION", title="The service reports the expected release", severity="critical"
)
def test_reported_version(
    http_client: httpx.Client, profile: Profile, expect: HttpExpectations, evidence: Evidence
) -> None:
    if profile.version is None:
        pytest.skip(f"profile {profile.name!r} sets no expected version")
    if expect.version_path is None:
        pytest.skip("[http.expect] version_path is not set")
    outcome = smoke.version(http_client, expect.version_path, expect.version_field, profile.version)
    evidence.record(
        "observed_version",
        outcome.observed_version,
        expected=profile.version,
        source=f"GET {expect.version_path} .{expect.version_field}",
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.smoke
@pytest.mark.check(
    "SMOKE-GW-OPENAPI", title="OpenAPI document published and valid", severity="medium"
)
def test_openapi_published(
    http_client: httpx.Client, expect: HttpExpectations, evidence: Evidence
) -> None:
    if expect.openapi_path is None:
        pytest.skip("[http.expect] openapi_path is not set")
    fetched = openapi.fetch(http_client, expect.openapi_path)
    outcome: Outcome = fetched
    if fetched.document is not None:
        outcome = openapi.validate(fetched.document, expect.openapi_path)
    evidence.record(
        "openapi",
        outcome.observed,
        expected="a valid OpenAPI document",
        source=expect.openapi_path,
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.smoke
@pytest.mark.check(
    "SMOKE-GW-ERROR-SHAPE", title="Errors have the documented shape", severity="medium"
)
def test_error_shape(
    http_client: httpx.Client, expect: HttpExpectations, evidence: Evidence
) -> None:
    outcome = smoke.error_shape(http_client, expect.error_probe_paths, expect.error_fields)
    evidence.record(
        "error_answers", outcome.observed, expected=list(expect.error_fields), ok=outcome.passed
    )
    conclude(outcome)


@pytest.mark.smoke
@pytest.mark.check(
    "SMOKE-GW-DOWNSTREAM", title="Every downstream service is healthy", severity="critical"
)
def test_downstream_services(profile: Profile, evidence: Evidence) -> None:
    if not profile.services:
        not_applicable(f"profile {profile.name!r} lists no [[services]]")
    report = downstream.probe_services(downstream.targets(profile.services))
    evidence.record("services", report.observed(), expected="200 from each", ok=not report.findings)
    evidence.record("probe_elapsed_ms", round(report.elapsed_ms), unit="ms")
    evidence.record("probe_max_in_flight", report.max_in_flight, note="probes run concurrently")
    assert not report.findings, summarize(report.findings)


@pytest.mark.smoke
@pytest.mark.check(
    "SMOKE-GW-FLOWS", title="Critical user flows succeed (read-only)", severity="critical"
)
def test_critical_flows(
    http_client: httpx.Client, expect: HttpExpectations, token: str | None, evidence: Evidence
) -> None:
    selected = [flow for flow in expect.flows if not flow.destructive]
    if not selected:
        not_applicable("no read-only [[http.expect.flows]] configured")
    outcome = flows.run_flows(http_client, selected, token, catalog.FLOWS)
    evidence.record("flows", outcome.observed, ok=outcome.passed)
    conclude(outcome)


@pytest.mark.smoke
@pytest.mark.check(
    "SMOKE-GW-LATENCY", title="Latency percentiles and error rate within SLO", severity="high"
)
def test_latency_within_slo(http: HttpConfig, profile: Profile, evidence: Evidence) -> None:
    cfg = http.expect.latency
    plan = _probe_plan(
        http, cfg.path, cfg.requests, cfg.concurrency, cfg.time_limit, cfg.expected_status
    )
    thresholds = latency.Thresholds(
        p50_ms=cfg.p50_ms,
        p95_ms=cfg.p95_ms or profile.slo.p95_latency_ms,
        p99_ms=cfg.p99_ms or profile.slo.p99_latency_ms,
        max_error_rate=profile.slo.error_rate if cfg.max_error_rate is None else cfg.max_error_rate,
    )
    outcome = latency.judge(_measure(http, plan), thresholds, catalog.LATENCY, f"GET {cfg.path}")
    evidence.record(
        "latency",
        outcome.observed[0],
        expected=thresholds.shown(),
        source=f"GET {cfg.path}",
        ok=outcome.passed,
    )
    conclude(outcome)


# -- destructive: keep these last --------------------------------------------------------


@pytest.mark.smoke
@pytest.mark.destructive
@pytest.mark.check(
    "SMOKE-GW-FLOWS-WRITE", title="Critical state-changing flows succeed", severity="high"
)
def test_critical_flows_that_change_state(
    http_client: httpx.Client, expect: HttpExpectations, token: str | None, evidence: Evidence
) -> None:
    selected = [flow for flow in expect.flows if flow.destructive]
    if not selected:
        not_applicable("no destructive [[http.expect.flows]] configured")
    outcome = flows.run_flows(http_client, selected, token, catalog.FLOWS_WRITE)
    evidence.record("flows", outcome.observed, ok=outcome.passed)
    conclude(outcome)


@pytest.mark.smoke
@pytest.mark.destructive
@pytest.mark.check(
    "SMOKE-GW-LOAD", title="Bounded concurrent load stays within SLO", severity="high"
)
def test_bounded_load(http: HttpConfig, profile: Profile, evidence: Evidence) -> None:
    cfg = http.expect.load
    plan = _probe_plan(http, cfg.path, cfg.requests, cfg.users, cfg.time_limit, cfg.expected_status)
    thresholds = latency.Thresholds(
        p95_ms=cfg.p95_ms or profile.slo.p95_latency_ms,
        max_error_rate=profile.slo.error_rate if cfg.max_error_rate is None else cfg.max_error_rate,
    )
    outcome = latency.judge(_measure(http, plan), thresholds, catalog.LOAD, f"GET {cfg.path}")
    evidence.record(
        "load",
        outcome.observed[0],
        expected=thresholds.shown(),
        source=f"{cfg.users} users, {cfg.requests} requests, GET {cfg.path}",
        ok=outcome.passed,
    )
    conclude(outcome)


@pytest.mark.security
@pytest.mark.destructive
@pytest.mark.check(
    "SEC-GW-RATE-BURST", title="A bounded burst is answered with 429", severity="high"
)
def test_rate_limit_refuses_a_burst(
    http_client: httpx.Client, expect: HttpExpectations, evidence: Evidence
) -> None:
    cfg = expect.rate_limit
    if cfg.probe_path is None:
        pytest.skip("no rate-limited route configured: set [http.expect.rate_limit] probe_path")
    token = None
    if cfg.login is not None or cfg.client_id is not None:
        issued = auth.token_for(
            http_client,
            expect.auth,
            account=cfg.login,
            client_id=cfg.client_id,
            client_secret=cfg.client_secret,
        )
        if issued is None:
            pytest.fail(
                "[http.expect.rate_limit] names a burst account, but [http.expect.auth] has "
                "no login_path / token_url to use it with",
                pytrace=False,
            )
        if issued.token is None:
            pytest.fail(f"the burst account could not get a token: {issued.problem}", pytrace=False)
        token = issued.token
    outcome = ratelimit.burst(
        http_client,
        cfg.probe_path,
        count=cfg.burst,
        concurrency=cfg.concurrency,
        token=token,
        require_retry_after=cfg.require_retry_after,
    )
    evidence.record(
        "burst",
        outcome.observed[0],
        expected=f"429 within {cfg.burst} requests",
        source="dedicated account" if token else "anonymous",
        ok=outcome.passed,
    )
    conclude(outcome)


__all__ = ["expect", "http"]  # fixtures shared with the other gateway module
