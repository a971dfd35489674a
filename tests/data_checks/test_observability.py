"""Dashboards, traces and logs against the documented-API stubs, and the log secret scan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.checks.observability import (
    dashboard_datasources,
    dashboard_findings,
    datasource_findings,
    grafana_api,
    grafana_health_findings,
    log_findings,
    log_lines_for_scan,
    logs_api,
    read_dashboard,
    read_datasource_health,
    read_grafana_health,
    read_recent_logs,
    read_recent_traces,
    redact,
    scan_for_secrets,
    scan_line,
    secret_findings,
    trace_findings,
    tracing_api,
)
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.expectations.monitoring import GrafanaConfig, LogsConfig, TracingConfig
from pytest_deployverify.profile.schema import build
from sandbox.observability_stubs import (
    GrafanaStub,
    JaegerStub,
    LokiStub,
    TempoStub,
    parse_stream_selector,
)

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
        health = read_grafana_health(api)
        dashboard = read_dashboard(api, "api-gateway")
        healths = [read_datasource_health(api, uid) for uid in dashboard.datasources]
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


def test_missing_dashboard_and_broken_datasource(grafana: GrafanaStub) -> None:
    grafana.set_datasource("loki", healthy=False)
    api = grafana_api(grafana_config(grafana.url))
    try:
        missing = read_dashboard(api, "checkout")
        broken = read_datasource_health(api, "loki")
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
        [finding] = only(grafana_health_findings(read_grafana_health(api)), "grafana-health")
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
    assert scan_for_secrets(log_lines_for_scan(query)) == []


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
        secret_findings(scan_for_secrets(log_lines_for_scan(query)), "loki"), "logs-no-secrets"
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
