"""Monitoring and post-deployment checklist: Prometheus scraping and rules, Alertmanager and its
receivers, no critical alert firing, metric gates over the past window (error rate, latency,
saturation, circuit breakers, HPA, cache, rollback triggers), Grafana, traces, logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_deployverify.checks import observability as obs
from pytest_deployverify.checks.alertmanager_checks import (
    cluster_summary,
    receiver_findings,
    receiver_integrations,
)
from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.checks.gates import GateConfigError, Outcome, resolve_gate, run_gate
from pytest_deployverify.checks.prometheus import (
    alertmanager_link_findings,
    firing_alert_findings,
    firing_alerts,
    job_targets,
    ready_pods,
    rule_findings,
    rule_summary,
    target_findings,
    target_summary,
)
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.components.prometheus import ApiError, PrometheusConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.expectations.monitoring import (
    GrafanaConfig,
    LogsConfig,
    MetricGate,
    PrometheusExpectations,
    TracingConfig,
)
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.applicability import not_applicable
from pytest_deployverify.pytest_plugin.context import get_context


def conclude(findings: list[Finding]) -> None:
    assert not findings, summarize(findings)


def api_call(fn: Any, *args: Any) -> Any:
    """An API read; a backend failing mid-run fails the check with its one-line message."""
    try:
        return fn(*args)
    except ApiError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


# -- Prometheus ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prom_section(profile: Profile) -> PrometheusConfig:
    section = profile.table("prometheus", PrometheusConfig)
    if section is None:
        not_applicable(f"prometheus is not configured for environment {profile.name}")
    return section


@pytest.fixture(scope="module")
def prom_expect(prom_section: PrometheusConfig) -> PrometheusExpectations:
    return prom_section.expect


@pytest.mark.monitoring
@pytest.mark.check("MON-PROM-READY", title="Prometheus is ready", severity="critical")
def test_prometheus_ready(prom_api: Any, evidence: Evidence) -> None:
    body = api_call(prom_api.ready)
    evidence.record("/-/ready", body, expected="200", source=prom_api.display, ok=True)


@pytest.mark.monitoring
@pytest.mark.check(
    "MON-PROM-TARGETS",
    title="Scrape job present, every target up, one target per ready pod",
    severity="critical",
)
def test_prometheus_targets(
    prom_api: Any,
    prom_section: PrometheusConfig,
    prom_expect: PrometheusExpectations,
    profile: Profile,
    request: pytest.FixtureRequest,
    evidence: Evidence,
) -> None:
    if prom_section.job is None:
        pytest.skip("[prometheus] job is not set: which scrape job is the service's?")
    expected_count = None
    if prom_expect.pod_selector and profile.kubernetes is not None:
        kube = request.getfixturevalue("kube")
        pods = kube.list(
            "pods", namespace=profile.kubernetes.namespace, label_selector=prom_expect.pod_selector
        )
        expected_count = len(ready_pods(pods))
        evidence.record("ready pods", expected_count, source=prom_expect.pod_selector)
    targets = api_call(prom_api.targets)
    findings = target_findings(
        targets,
        prom_section.job,
        min_targets=prom_expect.min_targets,
        expected_count=expected_count,
    )
    evidence.record(
        f"job {prom_section.job}",
        target_summary(job_targets(targets, prom_section.job)),
        expected="every target up"
        + (f", {expected_count} target(s)" if expected_count is not None else ""),
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.monitoring
@pytest.mark.check("MON-PROM-RULES", title="Alert rules loaded and evaluating", severity="high")
def test_prometheus_rules(
    prom_api: Any, prom_expect: PrometheusExpectations, evidence: Evidence
) -> None:
    groups = api_call(prom_api.rules)
    findings = rule_findings(groups, prom_expect.rule_groups)
    evidence.record(
        "rule groups",
        rule_summary(groups),
        expected=f"groups matching {list(prom_expect.rule_groups) or 'any'}, no evaluation error",
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.monitoring
@pytest.mark.check(
    "MON-PROM-ALERTMANAGER", title="Prometheus sends alerts to Alertmanager", severity="high"
)
def test_prometheus_alertmanager_link(
    prom_api: Any, prom_expect: PrometheusExpectations, profile: Profile, evidence: Evidence
) -> None:
    if not prom_expect.require_alertmanager:
        not_applicable("[prometheus.expect] require_alertmanager = false")
    expected = profile.alertmanager.url.get() if profile.alertmanager is not None else None
    data = api_call(prom_api.alertmanagers)
    findings = alertmanager_link_findings(data, expected)
    evidence.record(
        "active alertmanagers",
        [a.get("url") for a in data.get("activeAlertmanagers") or []],
        expected=profile.alertmanager.url.display if profile.alertmanager else "at least one",
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.monitoring
@pytest.mark.check(
    "MON-ALERTS-FIRING", title="No critical alert firing for the service", severity="critical"
)
def test_no_critical_alert_firing(
    prom_api: Any, prom_expect: PrometheusExpectations, evidence: Evidence
) -> None:
    alerts = api_call(prom_api.alerts)
    labels, severities = prom_expect.alert_labels, prom_expect.blocking_alert_severities
    findings = firing_alert_findings(alerts, labels, severities)
    evidence.record(
        "firing alerts",
        [a.get("labels", {}).get("alertname") for a in firing_alerts(alerts, labels, severities)],
        expected=f"none with severity {'/'.join(severities)} and labels {dict(labels) or 'any'}",
        ok=not findings,
    )
    conclude(findings)


# -- Alertmanager ----------------------------------------------------------------------------------


@pytest.mark.monitoring
@pytest.mark.check("MON-AM-READY", title="Alertmanager is ready", severity="high")
def test_alertmanager_ready(alertmanager: Any, evidence: Evidence) -> None:
    api_call(alertmanager.ready)
    status = api_call(alertmanager.status)
    evidence.record("status", cluster_summary(status), source=alertmanager.display, ok=True)


@pytest.mark.monitoring
@pytest.mark.check(
    "MON-AM-RECEIVERS",
    title="Alertmanager routes to the expected receivers (PagerDuty, Slack)",
    severity="high",
)
def test_alertmanager_receivers(alertmanager: Any, profile: Profile, evidence: Evidence) -> None:
    assert profile.alertmanager is not None
    names = profile.alertmanager.receivers
    expect = profile.prometheus.expect if profile.prometheus else PrometheusExpectations()
    kinds = expect.alertmanager_integrations
    if not names and not kinds:
        pytest.skip(
            "[alertmanager] receivers and [prometheus.expect] alertmanager_integrations are empty"
        )
    config = api_call(alertmanager.config)
    findings = receiver_findings(
        config, names, kinds, require_routes=expect.require_routed_receivers
    )
    evidence.record(
        "receivers",
        receiver_integrations(config),
        expected={"receivers": list(names), "integrations": list(kinds)},
        ok=not findings,
    )
    conclude(findings)


# -- metric gates ------------------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gate" not in metafunc.fixturenames:
        return
    context = get_context(metafunc.config)
    gates: list[MetricGate | None] = (
        list(context.profile.gates) if context and context.profile else []
    )
    if not gates:
        metafunc.parametrize("gate", [None], ids=["no-gates"])
    else:
        metafunc.parametrize("gate", gates, ids=[g.name if g else "none" for g in gates])


@pytest.mark.monitoring
@pytest.mark.check("MON-GATE", title="Metric gate holds over its window", severity="high")
def test_metric_gate(
    gate: MetricGate | None, profile: Profile, request: pytest.FixtureRequest, evidence: Evidence
) -> None:
    if gate is None:
        not_applicable(f"no [[gates]] configured for environment {profile.name}")
    if not gate.enabled:
        not_applicable(f"gate {gate.name} is disabled in the profile (enabled = false)")
    try:
        spec = resolve_gate(gate, profile.slo)
    except GateConfigError as exc:
        problem = str(exc)
        pytest.fail(problem, pytrace=False)
    prom_api = request.getfixturevalue("prom_api")
    result = run_gate(prom_api, spec)
    evidence.record(
        gate.name,
        result.evidence(),
        expected=spec.expectation,
        source=spec.query,
        ok=result.outcome is Outcome.PASS,
        note=spec.description or None,
    )
    if result.outcome is Outcome.INCONCLUSIVE:
        pytest.skip(f"inconclusive: {result.message}")
    assert result.outcome is Outcome.PASS, result.message


# -- Grafana, traces, logs -----------------------------------------------------------------------------


def _connected(build: Any, section: Any) -> Any:
    try:
        return build(section)
    except ComponentUnavailable as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="module")
def grafana(profile: Profile) -> Iterator[tuple[obs.ObservabilityApi, GrafanaConfig]]:
    if profile.grafana is None:
        not_applicable(f"grafana is not configured for environment {profile.name}")
    api = _connected(obs.grafana_api, profile.grafana)
    yield api, profile.grafana
    api.close()


@pytest.fixture(scope="module")
def tracing(profile: Profile) -> Iterator[tuple[obs.ObservabilityApi, TracingConfig]]:
    if profile.tracing is None:
        not_applicable(f"tracing is not configured for environment {profile.name}")
    api = _connected(obs.tracing_api, profile.tracing)
    yield api, profile.tracing
    api.close()


@pytest.fixture(scope="module")
def logs(profile: Profile) -> Iterator[tuple[obs.ObservabilityApi, LogsConfig]]:
    if profile.logs is None:
        not_applicable(f"logs is not configured for environment {profile.name}")
    api = _connected(obs.logs_api, profile.logs)
    yield api, profile.logs
    api.close()


@pytest.mark.monitoring
@pytest.mark.check("MON-GRAFANA-HEALTH", title="Grafana is healthy", severity="high")
def test_grafana_health(
    grafana: tuple[obs.ObservabilityApi, GrafanaConfig], evidence: Evidence
) -> None:
    api, _ = grafana
    health = api_call(obs.read_grafana_health, api)
    findings = obs.grafana_health_findings(health)
    evidence.record(
        "/api/health",
        {"status": health.status, "database": health.database, "version": health.version},
        expected="200, database ok",
        source=api.display,
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.monitoring
@pytest.mark.check(
    "MON-GRAFANA-DASHBOARDS",
    title="Service dashboards exist and their data sources are healthy",
    severity="high",
)
def test_grafana_dashboards(
    grafana: tuple[obs.ObservabilityApi, GrafanaConfig], evidence: Evidence
) -> None:
    api, config = grafana
    if not config.dashboards and not config.datasources:
        pytest.skip("[grafana] lists no dashboards and no datasources")
    dashboards = [api_call(obs.read_dashboard, api, uid) for uid in config.dashboards]
    uids = list(config.datasources) or list(
        dict.fromkeys(uid for d in dashboards for uid in d.datasources)
    )
    healths = [api_call(obs.read_datasource_health, api, uid) for uid in uids]
    findings = [*obs.dashboard_findings(dashboards), *obs.datasource_findings(healths)]
    evidence.record(
        "dashboards",
        {d.uid: d.title or f"HTTP {d.status}" for d in dashboards},
        expected=list(config.dashboards),
        ok=not obs.dashboard_findings(dashboards),
    )
    evidence.record(
        "datasources",
        {h.uid: h.state or f"HTTP {h.status}" for h in healths},
        expected="OK",
        ok=not obs.datasource_findings(healths),
    )
    conclude(findings)


@pytest.mark.monitoring
@pytest.mark.check(
    "MON-TRACES-RECENT", title="Recent traces of the service visible", severity="medium"
)
def test_recent_traces(
    tracing: tuple[obs.ObservabilityApi, TracingConfig], evidence: Evidence
) -> None:
    api, config = tracing
    search = api_call(obs.read_recent_traces, api, config)
    findings = obs.trace_findings(search, config.min_traces)
    evidence.record(
        f"{config.backend.value} traces of {config.service}",
        search.count,
        expected=f">= {config.min_traces} in the last {config.lookback}",
        source=api.display,
        ok=not findings,
    )
    conclude(findings)


@pytest.fixture(scope="module")
def recent_logs(logs: tuple[obs.ObservabilityApi, LogsConfig]) -> obs.LogQuery:
    api, config = logs
    return api_call(obs.read_recent_logs, api, config)  # type: ignore[no-any-return]


@pytest.mark.monitoring
@pytest.mark.check(
    "MON-LOGS-RECENT", title="Recent logs of the service aggregated", severity="medium"
)
def test_recent_logs(
    logs: tuple[obs.ObservabilityApi, LogsConfig], recent_logs: obs.LogQuery, evidence: Evidence
) -> None:
    _, config = logs
    findings = obs.log_findings(recent_logs, config.min_lines)
    evidence.record(
        f"lines of {config.selector}",
        len(recent_logs.lines),
        expected=f">= {config.min_lines} in the last {config.lookback}",
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.security
@pytest.mark.check(
    "SEC-LOGS-SECRETS", title="Recent logs contain no secrets or tokens", severity="critical"
)
def test_logs_free_of_secrets(
    logs: tuple[obs.ObservabilityApi, LogsConfig], recent_logs: obs.LogQuery, evidence: Evidence
) -> None:
    _, config = logs
    if not config.scan_secrets:
        not_applicable("[logs] scan_secrets = false")
    matches = obs.scan_for_secrets(obs.log_lines_for_scan(recent_logs))
    evidence.record(
        "secret-looking values",
        [f"{m.where}: {m.kind} {m.redacted}" for m in matches],
        expected=f"none in the last {len(recent_logs.lines)} line(s)",
        ok=not matches,
    )
    conclude(obs.secret_findings(matches, "loki"))
