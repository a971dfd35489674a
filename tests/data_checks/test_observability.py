"""Dashboards, traces and logs against the documented-API stubs, and the log secret scan; the
three components through the registry (readers, one timeout for a dead backend)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.checks.grafana import (
    dashboard_datasources,
    dashboard_findings,
    datasource_findings,
    grafana_health_findings,
)
from pytest_deployverify.checks.logs import log_findings, log_lines_for_scan, secret_findings
from pytest_deployverify.checks.secret_scan import redact, scan_line, scan_lines
from pytest_deployverify.checks.tracing import trace_findings
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.components.grafana import GrafanaConfig, grafana_api
from pytest_deployverify.components.grafana import component as grafana_component
from pytest_deployverify.components.logs import LogsConfig, logs_api, read_recent_logs
from pytest_deployverify.components.logs import component as logs_component
from pytest_deployverify.components.registry import ComponentRegistry
from pytest_deployverify.components.tracing import (
    TracingConfig,
    read_recent_traces,
    tracing_api,
)
from pytest_deployverify.components.tracing import component as tracing_component
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.schema import build
from sandbox.observability_stubs import (
    GrafanaStub,
    JaegerStub,
    LokiStub,
    TempoStub,
    parse_stream_selector,
)
from tests.clients.blackhole import BlackHole

TOKEN = "glsa_dvTestServiceAccountToken_0123456789"
SERVICE = "api-gateway"
# Fake credentials of the shapes the scan must catch (none of them is real).
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwidGVuYW50IjoidC0xIn0"
    ".c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1mb3ItdGVzdHM"
)
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "hunter2-is-not-a-good-password"


@pytest.fixture(scope="module")
def grafana() -> Iterator[GrafanaStub]:
    stub = GrafanaStub(token=TOKEN)
    stub.add_dashboard("api-gateway", "API Gateway", ["prometheus", "loki"])
    stub.set_datasource("prometheus")
    stub.set_datasource("loki")
    stub.start()
    yield stub
    stub.stop()


def grafana_config(url: str, **values: Any) -> GrafanaConfig:
    return build(GrafanaConfig, {"url": url, "api_token": TOKEN, "timeout": 1.0, **values})


def only(findings: list[Finding], check_id: str) -> list[Finding]:
    assert findings, "expected a finding"
    assert {f.check_id for f in findings} == {check_id}, summarize(findings)
    return findings


def test_healthy_grafana(grafana: GrafanaStub) -> None:
    api = grafana_api(grafana_config(grafana.url, dashboards=["api-gateway"]))
    try:
        health = api.read_health()
        dashboard = api.dashboard("api-gateway")
        healths = [api.datasource_health(uid) for uid in dashboard.datasources]
    finally:
        api.close()
    findings = [
        *grafana_health_findings(health),
        *dashboard_findings([dashboard]),
        *datasource_findings(healths),
    ]
    assert findings == [], summarize(findings)
    assert dashboard.title == "API Gateway"
    assert dashboard.datasources == ("prometheus", "loki")
    assert health.version == "10.4.2"
    assert api.health == health  # the probe's answer, read once when the client was built


def test_missing_dashboard_and_broken_datasource(grafana: GrafanaStub) -> None:
    grafana.set_datasource("loki", healthy=False)
    api = grafana_api(grafana_config(grafana.url))
    try:
        missing = api.dashboard("checkout")
        broken = api.datasource_health("loki")
    finally:
        grafana.set_datasource("loki")
        api.close()
    [dashboard] = only(dashboard_findings([missing]), "grafana-dashboard")
    assert dashboard.message == (
        "GET /api/dashboards/uid/checkout answered 404 (Dashboard not found); "
        "expected the dashboard to exist"
    )
    [datasource] = only(datasource_findings([broken]), "grafana-datasource")
    assert datasource.message.startswith("health check answered 400 status 'ERROR': Post ")
    assert datasource.message.endswith("expected status OK")


def test_grafana_database_down(grafana: GrafanaStub) -> None:
    api = grafana_api(grafana_config(grafana.url))
    grafana.database = "failing"
    try:
        [finding] = only(grafana_health_findings(api.read_health()), "grafana-health")
    finally:
        grafana.database = "ok"
        api.close()
    assert finding.message == (
        "/api/health answered 503 with database 'failing'; expected 200 and database 'ok'"
    )


def test_grafana_wrong_token_is_refused_without_leaking_it(grafana: GrafanaStub) -> None:
    wrong = "glsa_wrongWrongWrong_000000000000"
    with pytest.raises(ComponentUnavailable) as excinfo:
        grafana_api(grafana_config(grafana.url, api_token=wrong))
    message = str(excinfo.value)
    assert message == (
        f"grafana at {grafana.url} rejected the credentials (401): check the profile's token"
    )
    assert wrong not in message


def test_dashboard_datasources_skip_variables_and_builtins() -> None:
    doc = {
        "panels": [
            {"datasource": {"uid": "prom"}},
            {"datasource": {"uid": "${DS_PROMETHEUS}"}},
            {"datasource": {"uid": "-- Grafana --"}},
            {"type": "row", "panels": [{"datasource": {"uid": "tempo"}}]},
            {"datasource": "legacy-name"},
        ],
        "annotations": {"list": [{"datasource": {"uid": "grafana"}}]},
    }
    assert dashboard_datasources(doc) == ["prom", "tempo"]


# -- traces -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stub_class", [JaegerStub, TempoStub])
def test_recent_traces(stub_class: type[JaegerStub] | type[TempoStub]) -> None:
    backend = "jaeger" if stub_class is JaegerStub else "tempo"
    with stub_class(tenant="team-a" if backend == "tempo" else None) as stub:
        stub.add_trace(SERVICE, age_s=120)
        stub.add_trace(SERVICE, age_s=7200)  # outside the lookback
        stub.add_trace("billing", age_s=60)
        values = {"url": stub.url, "backend": backend, "service": SERVICE, "lookback": "1h"}
        if backend == "tempo":
            values["tenant"] = "team-a"
        config = build(TracingConfig, values)
        api = tracing_api(config)
        try:
            found = read_recent_traces(api, config)
            quiet = build(TracingConfig, {**values, "service": "checkout", "min_traces": 1})
            missing = read_recent_traces(api, quiet)
        finally:
            api.close()
    assert found.count == 1
    assert trace_findings(found, 1) == []
    [finding] = only(trace_findings(missing, 1), "tracing-recent")
    assert finding.subject == f"{backend} service checkout"
    assert finding.message.startswith("0 trace(s) in the last 1h; expected at least 1")


def test_tempo_without_tenant_header_is_refused() -> None:
    with TempoStub(tenant="team-a") as stub:
        config = build(TracingConfig, {"url": stub.url, "backend": "tempo", "service": SERVICE})
        with pytest.raises(
            ComponentUnavailable, match=r"tracing \(tempo\) at http://127\.0\.0\.1:\d+ rejected"
        ):
            tracing_api(config)


# -- logs ---------------------------------------------------------------------------------------------


@pytest.fixture
def loki() -> Iterator[LokiStub]:
    with LokiStub(tenant="ops") as stub:
        yield stub


def logs_config(url: str, **values: Any) -> LogsConfig:
    base = {"url": url, "selector": '{app="api-gateway"}', "tenant": "ops", "timeout": 1.0}
    return build(LogsConfig, {**base, **values})


def test_recent_logs_are_clean(loki: LokiStub) -> None:
    labels = {"app": SERVICE, "pod": "api-gateway-abc"}
    loki.push(labels, "GET /api/v1/venues 200 12ms")
    loki.push(labels, "login ok for user-42 password=*** token=[REDACTED]")
    loki.push({"app": "billing"}, f"password={PASSWORD}")  # another service's stream
    api = logs_api(logs_config(loki.url))
    try:
        query = read_recent_logs(api, logs_config(loki.url))
    finally:
        api.close()
    assert len(query.lines) == 2
    assert log_findings(query, 1) == []
    assert scan_lines(log_lines_for_scan(query)) == []


def test_no_recent_logs(loki: LokiStub) -> None:
    loki.push({"app": SERVICE}, "old line", age_s=3600)
    config = logs_config(loki.url, lookback="15m")
    api = logs_api(config)
    try:
        query = read_recent_logs(api, config)
    finally:
        api.close()
    [finding] = only(log_findings(query, 1), "logs-recent")
    assert finding.subject == 'loki stream {app="api-gateway"}'
    assert finding.message.startswith("0 log line(s) in the last 15m; expected at least 1")


def test_secrets_in_logs_are_found_and_reported_redacted(loki: LokiStub) -> None:
    labels = {"app": SERVICE, "pod": "api-gateway-abc"}
    loki.push(labels, f"auth header: Authorization: Bearer {JWT}", age_s=5)
    loki.push(labels, f"connecting with password={PASSWORD} to db", age_s=4)
    loki.push(labels, f"aws key {AWS_KEY} loaded", age_s=3)
    loki.push(labels, "-----BEGIN RSA PRIVATE KEY-----", age_s=2)
    config = logs_config(loki.url)
    api = logs_api(config)
    try:
        query = read_recent_logs(api, config)
    finally:
        api.close()
    findings = only(
        secret_findings(scan_lines(log_lines_for_scan(query)), "loki"), "logs-no-secrets"
    )
    text = "\n".join(str(f) for f in findings)
    for secret in (JWT, PASSWORD, AWS_KEY, JWT[:20]):
        assert secret not in text
    assert [f.message.split(";")[0] for f in findings] == [
        "contains a private key: RSA PRIVATE KEY",
        f"contains a AWS access key id: AKIA…(redacted, {len(AWS_KEY)} chars)",
        f"contains a password: password=…(redacted, {len(PASSWORD)} chars)",
        f"contains a JWT: eyJh…(redacted, {len(JWT)} chars)",
    ]
    assert findings[0].subject == "loki line 1 {app=api-gateway, pod=api-gateway-abc}"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Authorization: Bearer abcdefghijklmnop1234",
            [("bearer token", "Bearer …(redacted, 20 chars)")],
        ),
        (
            '{"client_secret": "s3cr3t-value"}',
            [("password", "client_secret:…(redacted, 12 chars)")],
        ),
        (
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            [("AWS secret access key", "aws_secret_access_key=…(redacted, 40 chars)")],
        ),
        ("password=*** api_key=<redacted> secret: ${VAULT_SECRET}", []),
        ("password_reset requested for user-42", []),
        ("-----BEGIN CERTIFICATE-----", []),
    ],
)
def test_scan_line(line: str, expected: list[tuple[str, str]]) -> None:
    assert scan_line(line) == expected


def test_redact_keeps_only_a_public_prefix() -> None:
    assert redact("eyJhbGciOi", 4) == "eyJh…(redacted, 10 chars)"
    assert redact("abc", 0) == "…(redacted, 3 chars)"


def test_loki_stub_parses_selectors_like_loki() -> None:
    assert parse_stream_selector('{app="a", pod=~"api-.*", env!="dev"} |= "error"') == [
        ("app", "=", "a"),
        ("pod", "=~", "api-.*"),
        ("env", "!=", "dev"),
    ]
    with pytest.raises(ValueError, match="parse error"):
        parse_stream_selector("app=a")


def test_bad_logql_is_an_error_naming_loki(loki: LokiStub) -> None:
    config = logs_config(loki.url, selector="app=api-gateway")
    api = logs_api(config)
    try:
        with pytest.raises(
            Exception, match=r"logs \(loki\) at http://127\.0\.0\.1:\d+ answered 400"
        ):
            read_recent_logs(api, config)
    finally:
        api.close()


# -- the components through the registry: clients built once, readers, one timeout when dead ---------


def registry_for(**sections: Any) -> ComponentRegistry:
    """A registry of the three components alone, for a profile with ``sections``."""
    components = [grafana_component, tracing_component, logs_component]
    specs = [spec for component in components for spec in component.sections]
    return ComponentRegistry(Profile.from_dict({"name": "obs", **sections}, specs), components)


def test_readers_through_the_registry(grafana: GrafanaStub) -> None:
    with JaegerStub() as jaeger, LokiStub() as loki:
        jaeger.add_trace(SERVICE, age_s=30)
        loki.push({"app": SERVICE}, "GET /health 200 2ms")
        registry = registry_for(
            grafana={"url": grafana.url, "api_token": TOKEN, "dashboards": ["api-gateway"]},
            tracing={"url": jaeger.url, "service": SERVICE},
            logs={"url": loki.url, "selector": '{app="api-gateway"}'},
        )
        try:
            before = len(grafana.requests)
            health = registry.read("grafana.health")
            [dashboard] = registry.read("grafana.dashboards")
            datasources = registry.read("grafana.datasources")
            traces = registry.read("tracing.recent")
            logs = registry.read("logs.recent")
        finally:
            registry.close()
    assert grafana_health_findings(health) == []
    assert dashboard.datasources == ("prometheus", "loki")
    assert [(h.uid, h.state) for h in datasources] == [("prometheus", "OK"), ("loki", "OK")]
    assert datasource_findings(datasources) == []
    assert trace_findings(traces) == []
    assert traces.count == 1
    assert len(traces.trace_ids) == 1
    assert log_findings(logs, 1) == []
    # The probe's /api/health answer is the health snapshot: no second request for it.
    assert grafana.requests[before:].count("/api/health") == 1


def test_grafana_whose_database_is_down_is_judged_not_unreachable(grafana: GrafanaStub) -> None:
    grafana.database = "failing"
    registry = registry_for(grafana={"url": grafana.url, "api_token": TOKEN})
    try:
        health = registry.read("grafana.health")
    finally:
        grafana.database = "ok"
        registry.close()
    [finding] = only(grafana_health_findings(health), "grafana-health")
    assert finding.message == (
        "/api/health answered 503 with database 'failing'; expected 200 and database 'ok'"
    )


def test_listed_datasources_are_checked_without_reading_dashboards(grafana: GrafanaStub) -> None:
    grafana.set_datasource("loki", healthy=False)
    registry = registry_for(
        grafana={"url": grafana.url, "api_token": TOKEN, "datasources": ["loki", "tempo"]}
    )
    try:
        healths = registry.read("grafana.datasources")
    finally:
        grafana.set_datasource("loki")
        registry.close()
    findings = only(datasource_findings(healths), "grafana-datasource")
    assert [f.subject for f in findings] == [
        "grafana datasource loki",
        "grafana datasource tempo",
    ]
    assert findings[1].message.startswith("health check answered 404 status None")


@pytest.mark.parametrize(
    ("name", "section", "label"),
    [
        ("grafana", {"dashboards": ["api-gateway"]}, "grafana"),
        ("tracing", {"service": SERVICE}, "tracing (jaeger)"),
        ("logs", {"selector": '{app="x"}'}, "logs (loki)"),
    ],
)
def test_a_black_holed_backend_costs_one_timeout(
    name: str, section: dict[str, Any], label: str
) -> None:
    hole = BlackHole().start()
    url = f"http://127.0.0.1:{hole.port}"
    registry = registry_for(**{name: {"url": url, "timeout": 0.5, **section}})
    reads = [f"{name}.{read}" for read in registry.component(name).reads]
    try:
        messages = []
        for ref in reads * 2:
            with pytest.raises(ComponentUnavailable) as excinfo:
                registry.read(ref)
            messages.append(str(excinfo.value))
    finally:
        registry.close()
        hole.stop()
    assert set(messages) == {f"{label} at {url} is unreachable: timed out after 0.5 s (read)"}
    assert hole.accepted == 1


# -- the stubs kept live, as a long-running sandbox needs them ---------------------------------------


@pytest.mark.parametrize("stub_class", [JaegerStub, TempoStub])
def test_a_steady_service_keeps_recent_traces_coming(
    stub_class: type[JaegerStub] | type[TempoStub],
) -> None:
    backend = "jaeger" if stub_class is JaegerStub else "tempo"
    with stub_class() as stub:
        stub.keep_recent(SERVICE, every_s=0.2)
        time.sleep(1.1)
        config = build(TracingConfig, {"url": stub.url, "backend": backend, "service": SERVICE})
        api = tracing_api(config)
        try:
            search = read_recent_traces(api, config)
            later = read_recent_traces(api, config, clock=lambda: time.time() + 3600)
        finally:
            api.close()
    assert trace_findings(search) == []
    assert len(set(search.trace_ids)) == search.count
    # An hour on, the service is still sampled: the last hour holds traces again.
    assert trace_findings(later) == []
    assert later.count > search.count


def test_loki_ships_what_a_followed_log_file_gains(loki: LokiStub, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    log.write_text("before the stub followed it\n")
    loki.follow(log, {"app": SERVICE})
    config = logs_config(loki.url)
    api = logs_api(config)
    try:
        with log.open("a") as handle:
            handle.write('{"route": "/health", "status": 200}\n{"route": "/me", ')
        first = read_recent_logs(api, config)
        with log.open("a") as handle:
            handle.write('"status": 401}\n')
        second = read_recent_logs(api, config)
    finally:
        api.close()
    assert [line.text for line in first.lines] == ['{"route": "/health", "status": 200}']
    assert sorted(line.text for line in second.lines) == [
        '{"route": "/health", "status": 200}',
        '{"route": "/me", "status": 401}',
    ]
    assert all(line.labels == {"app": SERVICE} for line in second.lines)
