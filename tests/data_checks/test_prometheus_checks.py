"""Prometheus and Alertmanager checks against real servers scraping targets the test controls.

The healthy set-up: job ``api-gateway`` with two targets up, a ``redis-exporter`` job, the
``api_gateway_*`` rule groups evaluating cleanly, Alertmanager connected with PagerDuty and Slack
receivers routed, no critical alert of the service firing. Each test breaks one thing and puts it
back: a target answering 500, a rule failing to evaluate, an alert firing, a receiver removed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_deployverify.checks.alertmanager import (
    cluster_summary,
    receiver_findings,
    receiver_integrations,
    status_findings,
)
from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.checks.prometheus import (
    AlertmanagerLink,
    alertmanager_link_findings,
    firing_alert_findings,
    identify_alertmanager,
    job_targets,
    ready_findings,
    ready_pods,
    rule_findings,
    target_findings,
)
from pytest_deployverify.components.alertmanager import AlertmanagerApi
from pytest_deployverify.components.alertmanager import component as alertmanager_component
from pytest_deployverify.components.prometheus import PromApi
from pytest_deployverify.components.prometheus import component as prometheus_component
from pytest_deployverify.components.registry import ComponentRegistry
from pytest_deployverify.profile.model import Profile
from sandbox.servers.alertmanager import AlertmanagerServer, start_alertmanager
from sandbox.servers.prometheus import PrometheusServer, start_prometheus

from .stack import JOB, SCRAPE, MetricsTarget, TcpProxy, reload_alertmanager, wait_for

SERVICE = {"service": "api-gateway"}
RULES = """
groups:
  - name: api_gateway_alerts
    rules:
      - alert: ApiGatewayTestTrigger
        expr: max(dv_alert_trigger) > 0
        labels: {severity: critical, service: api-gateway}
        annotations: {summary: "the test set dv_alert_trigger"}
      - alert: ApiGatewayInfoAlwaysOn
        expr: vector(1)
        labels: {severity: warning, service: api-gateway}
  - name: api_gateway_recording
    rules:
      - record: api_gateway:dup_match
        expr: vector(1) * on() dv_dup
  - name: billing_alerts
    rules:
      - alert: BillingAlwaysCritical
        expr: vector(1)
        labels: {severity: critical, service: billing}
"""


@dataclass
class Monitoring:
    prometheus: PrometheusServer
    alertmanager: AlertmanagerServer
    gateway: list[MetricsTarget]
    exporter: MetricsTarget
    prom: PromApi
    am: AlertmanagerApi
    routed_config: dict[str, Any]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:
    gateway = [MetricsTarget(), MetricsTarget()]
    gateway[0].set("dv_alert_trigger", 0)
    gateway[0].set('dv_dup{variant="a"}', 1)
    exporter = MetricsTarget()
    exporter.set("redis_up", 1)
    alertmanager = start_alertmanager(
        tmp_path_factory.mktemp("alertmanager"),
        receivers=[
            {"name": "pagerduty-oncall", "type": "pagerduty"},
            {"name": "slack-ops", "type": "slack"},
        ],
        route_receiver="pagerduty-oncall",
    )
    config = yaml.safe_load(alertmanager.config_file.read_text())
    config["route"]["routes"] = [
        {"receiver": "slack-ops", "matchers": ['severity="critical"'], "continue": True}
    ]
    reload_alertmanager(alertmanager, config)
    prometheus = start_prometheus(
        tmp_path_factory.mktemp("prometheus"),
        scrape_configs=[
            {
                "job_name": JOB,
                "static_configs": [{"targets": [t.address for t in gateway]}],
                **SCRAPE,
            },
            {
                "job_name": "redis-exporter",
                "static_configs": [{"targets": [exporter.address]}],
                **SCRAPE,
            },
        ],
        rule_files={"api_gateway.yml": RULES},
        alertmanager_urls=[alertmanager.url],
    )
    prom = PromApi(prometheus.url, display=prometheus.url, timeout=5.0)
    am = AlertmanagerApi(alertmanager.url, display=alertmanager.url, timeout=5.0)
    monitoring = Monitoring(prometheus, alertmanager, gateway, exporter, prom, am, config)
    try:
        wait_for(
            lambda: (
                all(t["health"] == "up" for t in prom.targets()["activeTargets"])
                and len(prom.targets()["activeTargets"]) == 3
            ),
            20,
            "every target to be scraped",
        )
        wait_for(
            lambda: all(r.get("health") == "ok" for g in prom.rules() for r in g["rules"]),
            20,
            "every rule to be evaluated",
        )
        wait_for(lambda: prom.alertmanagers()["activeAlertmanagers"], 20, "Alertmanager discovery")
        yield monitoring
    finally:
        prom.close()
        am.close()
        prometheus.stop()
        alertmanager.stop()
        for target in [*gateway, exporter]:
            target.stop()


def only(findings: list[Finding], check_id: str) -> list[Finding]:
    assert findings, "expected a finding"
    assert {f.check_id for f in findings} == {check_id}, summarize(findings)
    return findings


def test_healthy_monitoring_passes_every_check(stack: Monitoring) -> None:
    prom, am = stack.prom, stack.am
    assert prom.ready()
    assert am.ready()
    targets = prom.targets()
    findings = [
        *target_findings(targets, JOB, min_targets=2, expected_count=2),
        *target_findings(targets, "redis-exporter", check_id="redis-exporter"),
        *rule_findings(prom.rules(), ["api_gateway_*"]),
        *alertmanager_link_findings(AlertmanagerLink(prom.alertmanagers(), stack.alertmanager.url)),
        *status_findings(am.status()),
        *receiver_findings(am.config(), ["pagerduty-oncall", "slack-ops"], ["pagerduty", "slack"]),
        *firing_alert_findings(prom.alerts(), SERVICE, ["critical"]),
        *firing_alert_findings(am.alerts(), SERVICE, ["critical"], source="alertmanager"),
    ]
    assert findings == [], summarize(findings)
    # Scoping is what keeps these quiet: other services' and lower severities' alerts do fire.
    assert firing_alert_findings(prom.alerts(), {}, ["critical"])
    assert firing_alert_findings(prom.alerts(), SERVICE, ["warning"])
    assert receiver_integrations(am.config()) == {
        "pagerduty-oncall": ["pagerduty"],
        "slack-ops": ["slack"],
    }
    assert cluster_summary(am.status())["version"]


def test_target_down(stack: Monitoring) -> None:
    stack.gateway[1].failing = True
    try:
        wait_for(
            lambda: any(t["health"] == "down" for t in job_targets(stack.prom.targets(), JOB)),
            20,
            "the target to be down",
        )
        [finding] = only(target_findings(stack.prom.targets(), JOB), "prometheus-targets")
    finally:
        stack.gateway[1].failing = False
        wait_for(
            lambda: all(t["health"] == "up" for t in job_targets(stack.prom.targets(), JOB)),
            20,
            "the target to be up again",
        )
    assert finding.subject == f"prometheus scrape job {JOB} target {stack.gateway[1].address}"
    assert "is down (server returned HTTP status 500" in finding.message
    assert finding.message.endswith("expected up")


def test_targets_fewer_than_ready_pods(stack: Monitoring) -> None:
    pods = [
        {
            "metadata": {"name": f"api-gateway-{i}"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
        for i in range(3)
    ]
    pods.append(
        {
            "metadata": {"name": "starting"},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]},
        }
    )
    expected = len(ready_pods(pods))
    [finding] = only(
        target_findings(stack.prom.targets(), JOB, expected_count=expected), "prometheus-targets"
    )
    assert expected == 3
    assert "has 2 target(s) but 3 pod(s) are ready" in finding.message


def test_missing_scrape_job(stack: Monitoring) -> None:
    [finding] = only(target_findings(stack.prom.targets(), "checkout"), "prometheus-targets")
    assert finding.message == (
        "has no active targets (jobs scraped: api-gateway, redis-exporter); expected at least "
        "1 target(s) for job 'checkout'"
    )


def test_rule_fails_to_evaluate(stack: Monitoring) -> None:
    source = stack.gateway[0]
    source.set('dv_dup{variant="b"}', 1)

    def broken() -> list[Any]:
        return [r for g in stack.prom.rules() for r in g["rules"] if r.get("health") == "err"]

    try:
        wait_for(broken, 20, "the recording rule to fail")
        [finding] = only(rule_findings(stack.prom.rules(), ["api_gateway_*"]), "prometheus-rules")
    finally:
        source.remove('dv_dup{variant="b"}')
        wait_for(lambda: not broken(), 20, "the rule to recover")
    assert finding.subject == "prometheus rule api_gateway_recording/api_gateway:dup_match"
    assert finding.message.startswith("fails to evaluate: ")
    assert "many-to-many matching not allowed" in finding.message


def test_rule_group_not_loaded(stack: Monitoring) -> None:
    [finding] = only(rule_findings(stack.prom.rules(), ["checkout_*"]), "prometheus-rules")
    assert "no loaded rule group matches (loaded: api_gateway_alerts" in finding.message


def test_alertmanager_not_connected(tmp_path: Path, stack: Monitoring) -> None:
    lonely = start_prometheus(tmp_path)
    try:
        api = PromApi(lonely.url, display=lonely.url, timeout=5.0)
        [finding] = only(
            alertmanager_link_findings(AlertmanagerLink(api.alertmanagers())),
            "prometheus-alertmanager",
        )
        api.close()
    finally:
        lonely.stop()
    assert finding.message == (
        "no active Alertmanager (0 dropped); expected alerts to be sent to one"
    )
    [other] = only(
        alertmanager_link_findings(
            AlertmanagerLink(stack.prom.alertmanagers(), "http://alertmanager.prod:9093")
        ),
        "prometheus-alertmanager",
    )
    assert "expected the profile's Alertmanager at alertmanager.prod:9093" in other.message


def test_critical_alert_firing(stack: Monitoring) -> None:
    stack.gateway[0].set("dv_alert_trigger", 1)

    def firing(source: str) -> list[Finding]:
        alerts = stack.prom.alerts() if source == "prometheus" else stack.am.alerts()
        return firing_alert_findings(alerts, SERVICE, ["critical"], source=source)

    try:
        [in_prometheus] = wait_for(lambda: firing("prometheus"), 20, "the alert to fire")
        [in_alertmanager] = wait_for(lambda: firing("alertmanager"), 20, "the alert to arrive")
    finally:
        stack.gateway[0].set("dv_alert_trigger", 0)
        wait_for(lambda: not firing("prometheus"), 20, "the alert to resolve")
    assert in_prometheus.subject == "prometheus alert ApiGatewayTestTrigger"
    assert "is firing with severity critical since " in in_prometheus.message
    assert "(service=api-gateway): the test set dv_alert_trigger" in in_prometheus.message
    assert in_prometheus.message.endswith("expected no critical alert firing")
    assert in_alertmanager.subject == "alertmanager alert ApiGatewayTestTrigger"


def test_receiver_missing(stack: Monitoring) -> None:
    config = copy.deepcopy(stack.routed_config)
    config["receivers"] = [r for r in config["receivers"] if r["name"] != "slack-ops"]
    config["route"]["routes"] = []
    reload_alertmanager(stack.alertmanager, config)
    try:
        findings = only(
            receiver_findings(
                stack.am.config(), ["pagerduty-oncall", "slack-ops"], ["pagerduty", "slack"]
            ),
            "alertmanager-receivers",
        )
    finally:
        reload_alertmanager(stack.alertmanager, stack.routed_config)
    assert [(f.subject, f.message) for f in findings] == [
        (
            "alertmanager receiver slack-ops",
            "is not configured (receivers: pagerduty-oncall (pagerduty)); expected it present",
        ),
        (
            "alertmanager integration slack",
            "no routed receiver uses slack (receivers: pagerduty-oncall (pagerduty)); "
            "expected a slack integration",
        ),
    ]


def test_receiver_configured_but_never_routed(stack: Monitoring) -> None:
    config = copy.deepcopy(stack.routed_config)
    config["route"]["routes"] = []
    [finding] = only(receiver_findings(config, ["slack-ops"]), "alertmanager-receivers")
    assert finding.message == (
        "is configured but no route sends to it; expected the route tree to use it"
    )
    assert receiver_findings(config, ["slack-ops"], ["slack"], require_routes=False) == []


# -- the components through the registry; Alertmanager behind a proxy ---------------------------------


def registry_for(stack: Monitoring, alertmanager: dict[str, Any] | None) -> ComponentRegistry:
    data: dict[str, Any] = {
        "name": "monitoring",
        "prometheus": {"url": stack.prometheus.url, "job": JOB},
    }
    if alertmanager is not None:
        data["alertmanager"] = alertmanager
    components = [prometheus_component, alertmanager_component]
    specs = [spec for component in components for spec in component.sections]
    return ComponentRegistry(Profile.from_dict(data, specs), components)


def link_through(stack: Monitoring, alertmanager: dict[str, Any] | None) -> AlertmanagerLink:
    registry = registry_for(stack, alertmanager)
    try:
        assert ready_findings(registry.read("prometheus.ready")) == []
        link: AlertmanagerLink = registry.read("prometheus.alertmanager_link")
        return link
    finally:
        registry.close()


def held_by(server: AlertmanagerServer) -> list[Any]:
    return [a for a in server.api("alerts") if a["labels"].get("alertname")]


def test_the_alertmanager_prometheus_reaches_directly_is_recognised_by_address(
    stack: Monitoring,
) -> None:
    link = link_through(stack, {"url": stack.alertmanager.url})
    assert alertmanager_link_findings(link) == []
    assert identify_alertmanager(link) == (
        f"{stack.alertmanager.url}/api/v2/alerts",
        "the profile's [alertmanager] url",
    )
    assert link.held is None  # recognised by address: nothing more was asked
    assert alertmanager_link_findings(link_through(stack, None)) == []


def test_an_alertmanager_behind_a_proxy_is_recognised_by_what_it_reports(
    stack: Monitoring,
) -> None:
    # The verifier reaches Alertmanager through a proxy; Prometheus reaches it directly.
    proxy = TcpProxy(stack.alertmanager.port)
    try:
        wait_for(lambda: held_by(stack.alertmanager), 20, "Prometheus to deliver its alerts")
        # Healthy: the Alertmanager behind the proxy holds the alerts Prometheus fires.
        by_alerts = link_through(stack, {"url": proxy.url})
        # Healthy: the profile says which address Prometheus uses.
        by_profile = link_through(
            stack, {"url": proxy.url, "internal_urls": [f"127.0.0.1:{stack.alertmanager.port}"]}
        )
    finally:
        proxy.stop()
    assert alertmanager_link_findings(by_alerts) == [], summarize(
        alertmanager_link_findings(by_alerts)
    )
    recognised = identify_alertmanager(by_alerts)
    assert recognised is not None
    assert recognised[1].startswith("the profile's Alertmanager holds alert ")
    assert recognised[1].endswith(" that Prometheus fires")
    assert by_alerts.peers == ()  # clustering is off in the test's Alertmanager
    assert alertmanager_link_findings(by_profile) == []
    assert identify_alertmanager(by_profile) == (
        f"{stack.alertmanager.url}/api/v2/alerts",
        f"[alertmanager] internal_urls '127.0.0.1:{stack.alertmanager.port}'",
    )
    assert by_profile.held is None


def test_another_alertmanager_behind_the_proxy_is_not_taken_for_it(
    tmp_path: Path, stack: Monitoring
) -> None:
    # The defect: the profile's Alertmanager (behind the proxy) is not the one Prometheus uses.
    other = start_alertmanager(
        tmp_path, receivers=[{"name": "ops", "type": "webhook"}], route_receiver="ops"
    )
    proxy = TcpProxy(other.port)
    try:
        wait_for(lambda: held_by(stack.alertmanager), 20, "Prometheus to deliver its alerts")
        link = link_through(stack, {"url": proxy.url})
    finally:
        proxy.stop()
        other.stop()
    [finding] = only(alertmanager_link_findings(link), "prometheus-alertmanager")
    assert link.held == ()
    assert finding.message.startswith(f"sends alerts to {stack.alertmanager.url}/api/v2/alerts")
    assert f"the profile's Alertmanager at 127.0.0.1:{proxy.port}" in finding.message


def test_alertmanager_readers(stack: Monitoring) -> None:
    registry = registry_for(stack, {"url": stack.alertmanager.url})
    try:
        status = registry.read("alertmanager.status")
        config = registry.read("alertmanager.config")
        alerts = registry.read("alertmanager.alerts")
        rules = registry.read("prometheus.rules")
        targets = registry.read("prometheus.targets")
    finally:
        registry.close()
    assert status_findings(status) == []
    assert config == stack.am.config()
    assert receiver_findings(config, ["pagerduty-oncall", "slack-ops"], ["pagerduty"]) == []
    assert isinstance(alerts, list)
    assert rule_findings(rules, ["api_gateway_*"]) == []
    assert target_findings(targets, JOB, min_targets=2) == []


# -- targets Prometheus has discovered but not scraped yet (new pods right after a rollout) ------


class _ScrapingSoon(PromApi):
    """The real targets answer, with the job's targets "unknown" for the first ``unknown_reads``
    reads, as Prometheus reports a target it has not scraped yet."""

    def __init__(self, real: PromApi, unknown_reads: int, interval: str) -> None:
        super().__init__(real.url, display=real.display, timeout=5.0)
        self.real, self.unknown_reads, self.interval, self.reads = real, unknown_reads, interval, 0

    def targets(self) -> dict[str, Any]:
        answer = copy.deepcopy(self.real.targets())
        self.reads += 1
        for target in answer["activeTargets"]:
            target["scrapeInterval"] = self.interval
            if self.reads <= self.unknown_reads and target["labels"]["job"] == JOB:
                target.update(health="unknown", lastError="", lastScrape="0001-01-01T00:00:00Z")
        return answer


def _read_targets(api: PromApi) -> dict[str, Any]:
    from pytest_deployverify.components.prometheus import _targets

    class Context:
        client = api

    return _targets(Context())  # type: ignore[arg-type]


def test_targets_not_scraped_yet_are_read_again_until_their_first_scrape(
    stack: Monitoring,
) -> None:
    api = _ScrapingSoon(stack.prom, unknown_reads=2, interval="5s")
    try:
        targets = _read_targets(api)
    finally:
        api.close()
    assert api.reads == 3
    assert target_findings(targets, JOB, min_targets=2) == []


def test_a_target_never_scraped_within_its_interval_fails_naming_it(stack: Monitoring) -> None:
    api = _ScrapingSoon(stack.prom, unknown_reads=10_000, interval="1s")
    try:
        targets = _read_targets(api)
    finally:
        api.close()
    assert 2 <= api.reads <= 5  # one interval plus the grace period, read about once a second
    findings = only(target_findings(targets, JOB, min_targets=2), "prometheus-targets")
    assert {f.subject for f in findings} == {
        f"prometheus scrape job {JOB} target {t.address}" for t in stack.gateway
    }
    assert all(
        f.message == "has not been scraped yet (health unknown; waited one scrape interval, "
        "1s); expected up"
        for f in findings
    )


@pytest.mark.parametrize(
    ("intervals", "wait"),
    [((), 0.0), (("15s",), 17.0), (("15s", "1m"), 62.0), ((None,), 62.0), (("2h",), 120.0)],
)
def test_the_wait_for_unscraped_targets_is_their_longest_interval_capped(
    intervals: tuple[str | None, ...], wait: float
) -> None:
    from pytest_deployverify.checks.prometheus import unscraped_wait

    targets = {
        "activeTargets": [
            {"health": "unknown", **({"scrapeInterval": i} if i else {})} for i in intervals
        ]
        + [{"health": "up", "scrapeInterval": "5m"}]
    }
    assert unscraped_wait(targets) == wait
