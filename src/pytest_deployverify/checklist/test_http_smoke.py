"""Gateway smoke checklist: health, metrics, version, OpenAPI, errors, flows, latency, and the
destructive state-changing flows and load probe (the plugin runs destructive items last).

Each read-only item takes its snapshot (read once per run, concurrently with the rest), calls a
pure function from ``checks.http``, records what it judged, and concludes. The destructive ones
run their probe through the component here, with its probed client.
"""

from __future__ import annotations

import pytest

from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.http_fixtures import HideTokens, hide_tokens, http_section
from pytest_deployverify.checklist.support import conclude
from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.http import catalog as hc
from pytest_deployverify.checks.http import flows, latency, openapi, smoke
from pytest_deployverify.checks.http.auth import Credential
from pytest_deployverify.checks.http.exchange import Exchange
from pytest_deployverify.components import http as gateway
from pytest_deployverify.components.http import HttpConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots

__all__ = ["hide_tokens", "http_section"]  # fixtures shared with the other HTTP module


@item(hc.SMOKE_HEALTH)
def test_health_endpoints(
    snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence
) -> None:
    answers: tuple[Exchange, ...] = snapshot("http.health")
    findings = smoke.health_findings(answers)
    evidence.record(
        "health",
        [answer.summary() for answer in answers],
        expected=f"200 within {http_section.timeout:g} s",
        ok=not findings,
    )
    conclude(findings)


@item(hc.SMOKE_METRICS)
def test_metrics_exposed(snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence) -> None:
    probe: smoke.MetricsProbe = snapshot("http.metrics")
    public = http_section.expect.metrics_public
    findings = smoke.metrics_findings(probe, public=public)
    evidence.record(
        "metrics",
        [smoke.exposition_summary(answer) for answer in probe.exchanges],
        expected="Prometheus text" + ("" if public else ", not public"),
        ok=not findings,
    )
    conclude(findings)


@item(hc.SMOKE_VERSION)
def test_reported_version(
    snapshot: Snapshots, http_section: HttpConfig, profile: Profile, evidence: Evidence
) -> None:
    answer: Exchange = snapshot("http.version")
    expect = http_section.expect
    assert profile.version is not None  # the declaration needs it
    findings = smoke.version_findings(answer, expect.version_field, profile.version)
    comparison = smoke.version_comparison(answer, expect.version_field, profile.version)
    evidence.record(
        "observed_version",
        smoke.reported_version(answer, expect.version_field),
        expected=profile.version,
        source=f"GET {expect.version_path} .{expect.version_field}",
        ok=not findings,
    )
    evidence.record(
        "compared",
        comparison.describe() if comparison else answer.summary(),
        note="a leading v and +build metadata are not part of the release",
    )
    conclude(findings)


@item(hc.SMOKE_OPENAPI)
def test_openapi_published(
    snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence
) -> None:
    fetched: openapi.OpenApiSnapshot = snapshot("http.openapi")
    findings = openapi.published_findings(fetched)
    evidence.record(
        "openapi",
        fetched.summary(),
        expected="a valid OpenAPI document",
        source=http_section.expect.openapi_path,
        ok=not findings,
    )
    if fetched.document is not None:
        problems: tuple[str, ...] | None = snapshot("http.openapi_validation")
        try:
            findings = openapi.validation_findings(fetched, problems)
        except openapi.ValidatorMissing as exc:
            pytest.skip(str(exc))
        evidence.record("validation", list(problems or ()), expected=[], ok=not findings)
    conclude(findings)


@item(hc.SMOKE_ERROR_SHAPE)
def test_error_shape(snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence) -> None:
    answers: tuple[Exchange, ...] = snapshot("http.errors")
    fields = http_section.expect.error_fields
    findings = smoke.error_shape_findings(answers, fields)
    evidence.record(
        "error_answers",
        [smoke.error_summary(answer, fields) for answer in answers],
        expected=list(fields),
        source="[http.expect] error_fields",
        ok=not findings,
    )
    conclude(findings)


@item(hc.SMOKE_FLOWS)
def test_critical_flows(snapshot: Snapshots, evidence: Evidence, hide_tokens: HideTokens) -> None:
    runs: tuple[flows.FlowRun, ...] = snapshot("http.flows")
    hide_tokens(snapshot("http.token"))
    findings = flows.flow_findings(runs, hc.FLOWS)
    evidence.record("flows", [run.summary() for run in runs], ok=not findings)
    conclude(findings)


@item(hc.SMOKE_LATENCY)
def test_latency_within_slo(
    snapshot: Snapshots, http_section: HttpConfig, profile: Profile, evidence: Evidence
) -> None:
    sample: latency.Sample = snapshot("http.latency")
    thresholds = latency.latency_thresholds(http_section.expect.latency, profile.slo)
    findings = latency.latency_findings(sample, thresholds, hc.LATENCY, sample.target)
    evidence.record(
        "latency",
        sample.summary(),
        expected=thresholds.shown(),
        source=f"{sample.target}, {sample.concurrency} at a time",
        ok=not findings,
    )
    conclude(findings)


# -- destructive: the plugin runs these after every read-only item ----------------------------


@item(hc.SMOKE_FLOWS_WRITE)
def test_critical_flows_that_change_state(
    snapshot: Snapshots, http_section: HttpConfig, evidence: Evidence, hide_tokens: HideTokens
) -> None:
    if not any(flow.destructive for flow in http_section.expect.flows):
        raise NotApplicable("no destructive [[http.expect.flows]] configured")
    credential: Credential | None = snapshot("http.credential")
    hide_tokens(credential.token if credential is not None else None)
    runs = gateway.write_flows(snapshot.client("http"), http_section, credential)
    findings = flows.flow_findings(runs, hc.FLOWS_WRITE)
    evidence.record("flows", [run.summary() for run in runs], ok=not findings)
    conclude(findings)


@item(hc.SMOKE_LOAD)
def test_bounded_load(
    snapshot: Snapshots, http_section: HttpConfig, profile: Profile, evidence: Evidence
) -> None:
    cfg = http_section.expect.load
    sample = gateway.load(snapshot.client("http"), http_section)
    thresholds = latency.load_thresholds(cfg, profile.slo)
    findings = latency.latency_findings(sample, thresholds, hc.LOAD, sample.target)
    evidence.record(
        "load",
        sample.summary(),
        expected=thresholds.shown(),
        source=f"{cfg.users} users, {cfg.requests} requests, {sample.target}",
        ok=not findings,
    )
    conclude(findings)
