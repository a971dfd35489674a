"""The shipped checklist files of the data stores and the monitoring components run by
pytest with ``--env`` against real servers: a healthy profile passes, skipping loudly what it does
not configure; a broken one fails exactly the affected checks with their messages.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.certs import make_certs
from sandbox.observability_stubs import GrafanaStub, JaegerStub, LokiStub
from sandbox.servers.alertmanager import start_alertmanager
from sandbox.servers.postgres import SAMPLE_TABLE, start_postgres
from sandbox.servers.prometheus import start_prometheus
from sandbox.servers.redis import start_redis
from tests.clients.blackhole import refused_port

from .stack import (
    JOB,
    REDIS_PASSWORD,
    SCRAPE,
    MetricsTarget,
    gate_history,
    reload_alertmanager,
    wait_for,
)

REPO = Path(__file__).resolve().parents[2]
CHECKLISTS = (
    "test_redis.py",
    "test_postgres.py",
    "test_prometheus.py",
    "test_gates.py",
    "test_alertmanager.py",
    "test_grafana.py",
    "test_tracing.py",
    "test_logs.py",
)
GRAFANA_TOKEN = "glsa_dvPluginTestToken_9876543210"
RULES = """
groups:
  - name: api_gateway_alerts
    rules:
      - alert: ApiGatewayDown
        expr: up{job="api-gateway"} == 0
        for: 1m
        labels: {severity: critical, service: api-gateway}
"""


@dataclass
class Site:
    """Every server a healthy profile points at, and the secrets its profile reads from ${VARS}."""

    values: dict[str, Any]
    secrets: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("site")
    stops: list[Any] = []
    try:
        certs = make_certs(base / "certs")
        cache = start_redis(
            base / "redis", password=REDIS_PASSWORD, tls=True, plaintext=False, certs=certs
        )
        stops.append(cache.stop)
        admin = cache.client(tls=True)
        admin.set("dv:warm", "1")
        for _ in range(30):
            admin.get("dv:warm")
        admin.close()

        database = start_postgres(base / "postgres")
        stops.append(database.stop)

        manager = start_alertmanager(
            base / "alertmanager",
            receivers=[
                {"name": "pagerduty-oncall", "type": "pagerduty"},
                {"name": "slack-ops", "type": "slack"},
            ],
            route_receiver="pagerduty-oncall",
        )
        stops.append(manager.stop)
        config = yaml.safe_load(manager.config_file.read_text())
        routed = copy.deepcopy(config)
        routed["route"]["routes"] = [{"receiver": "slack-ops", "continue": True}]
        reload_alertmanager(manager, routed)

        targets = [MetricsTarget(), MetricsTarget()]
        stops.extend(t.stop for t in targets)
        history = gate_history()
        prometheus = start_prometheus(
            base / "prometheus",
            scrape_configs=[
                {
                    "job_name": JOB,
                    "static_configs": [{"targets": [t.address for t in targets]}],
                    **SCRAPE,
                }
            ],
            rule_files={"api_gateway.yml": RULES},
            alertmanager_urls=[manager.url],
            backfill_openmetrics=history.document,
        )
        stops.append(prometheus.stop)

        grafana = GrafanaStub(token=GRAFANA_TOKEN)
        grafana.add_dashboard("api-gateway", "API Gateway", ["prometheus"])
        grafana.set_datasource("prometheus")
        jaeger = JaegerStub()
        jaeger.add_trace("api-gateway", age_s=60)
        loki = LokiStub()
        loki.push({"app": "api-gateway"}, "GET /health 200 2ms")
        for stub in (grafana, jaeger, loki):
            stub.start()
            stops.append(stub.stop)

        wait_for(
            lambda: (
                prometheus.api("alertmanagers")["activeAlertmanagers"]
                and all(t["health"] == "up" for t in prometheus.api("targets")["activeTargets"])
            ),
            30,
            "Prometheus to scrape and find Alertmanager",
        )
        yield Site(
            values={
                "redis_url": f"rediss://127.0.0.1:{cache.tls_port}/0",
                "ca_file": str(certs.ca_cert),
                "pg_dsn": f"postgresql://app@127.0.0.1:{database.port}/{database.database}",
                "prometheus": prometheus.url,
                "alertmanager": manager.url,
                "grafana": grafana.url,
                "jaeger": jaeger.url,
                "loki": loki.url,
            },
            secrets={
                "DV_REDIS_PASSWORD": REDIS_PASSWORD,
                "DV_PG_PASSWORD": database.app_password,
                "DV_GRAFANA_TOKEN": GRAFANA_TOKEN,
            },
        )
    finally:
        for stop in reversed(stops):
            stop()


def profile_text(site: Site, **overrides: str) -> str:
    v = {**site.values, **overrides}
    return f"""
description = "data stores and monitoring, for the plugin test"

[redis]
url = "{v["redis_url"]}"
password = "${{DV_REDIS_PASSWORD}}"
ca_file = "{v["ca_file"]}"
expect_tls = true
timeout = 2

[redis.expect]
persistence = "both"
min_hit_samples = 20

[postgres]
dsn = "{v["pg_dsn"]}"
password = "${{DV_PG_PASSWORD}}"
timeout = 3

[postgres.expect]
major_version = 15
wal_archiving = true
privileges = {{ "public.{SAMPLE_TABLE}" = ["SELECT", "INSERT"], "schema:public" = ["USAGE"] }}
settings = {{ wal_level = "replica", archive_mode = "on" }}

[prometheus]
url = "{v["prometheus"]}"
job = "{JOB}"

[prometheus.expect]
min_targets = 2
rule_groups = ["api_gateway*"]
alert_labels = {{ service = "api-gateway" }}
alertmanager_integrations = ["pagerduty", "slack"]

[alertmanager]
url = "{v["alertmanager"]}"
receivers = ["pagerduty-oncall", "slack-ops"]

[grafana]
url = "{v["grafana"]}"
api_token = "${{DV_GRAFANA_TOKEN}}"
dashboards = ["api-gateway"]

[tracing]
url = "{v["jaeger"]}"
backend = "jaeger"
service = "api-gateway"

[logs]
url = "{v["loki"]}"
selector = '{{app="api-gateway"}}'

[[gates]]
name = "error_rate"
params = {{ selector = '{v.get("gate_selector", f'job="{JOB}"')}' }}

[[gates]]
name = "p95_latency"
params = {{ selector = 'job="{JOB}"' }}

[[gates]]
name = "rollback_error_rate"
params = {{ selector = 'job="{JOB}"' }}

[[gates]]
name = "cache_hit_rate"
params = {{ cache_selector = 'cache="main"' }}
"""


@pytest.fixture
def project(
    pytester: pytest.Pytester, site: Site, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    for key, value in site.secrets.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "250")  # short summary lines whole, despite long node ids
    (pytester.path / "envs").mkdir()
    return pytester


def run(project: pytest.Pytester, env: str) -> pytest.RunResult:
    args = ["--env", env, "--env-dir", "envs", "-rsfE", "-p", "no:cacheprovider"]
    args += [
        "--checklist",
        "all",
        "-k",
        " or ".join(name.removesuffix(".py") for name in CHECKLISTS),
    ]
    return project.runpytest_subprocess(*args)


def test_healthy_environment_passes(project: pytest.Pytester, site: Site) -> None:
    (project.path / "envs" / "healthy.toml").write_text(profile_text(site))
    result = run(project, "healthy")
    result.assert_outcomes(passed=29, skipped=6)
    result.stdout.fnmatch_lines_random(
        [
            "SKIPPED*none of [[]redis.expect[]] role, [[]redis.expect[]] min_replicas is set*",
            "SKIPPED*[[]redis.expect[]] sentinel is not set*",
            "SKIPPED*[[]redis.expect[]] exporter_job is not set*",
            "SKIPPED*[[]postgres.expect[]] min_replicas is not set*",
        ]
    )
    output = result.stdout.str()
    for secret in site.secrets.values():
        assert secret not in output


def test_broken_environment_fails_the_affected_checks(project: pytest.Pytester, site: Site) -> None:
    dead = f"rediss://127.0.0.1:{refused_port()}/0"
    (project.path / "envs" / "broken.toml").write_text(
        profile_text(site, redis_url=dead, gate_selector='job="checkout"')
    )
    result = run(project, "broken")
    # The six Redis checks that need the client error in its fixture, all with the same message
    # (one connection attempt, cached); the gate fails; everything else still passes.
    result.assert_outcomes(passed=22, failed=1, errors=6, skipped=6)
    result.stdout.fnmatch_lines_random(
        [
            "ERROR deployverify/checklist/test_redis.py::test_redis_reachable - Failed: redis at *",
            "ERROR deployverify/checklist/test_redis.py::test_redis_hit_rate - Failed: redis at *",
            "FAILED deployverify/checklist/test_gates.py::test_metric_gate[[]error_rate[]] - AssertionError: gat*",
            "E * gate error_rate: max was 0.0740741 for the series over the last 15m*expected "
            "max < 0.001 over the last 15m for *",
        ]
    )
    assert result.stdout.str().count(f"redis at {dead} is unreachable: connection refused") >= 6
