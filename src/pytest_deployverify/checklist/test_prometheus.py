"""Prometheus checklist: ready, the service's scrape job and its targets, rules, the link to the
profile's Alertmanager, no blocking alert firing. Each item takes its snapshot (read once per run,
concurrently with the other components), calls a pure function from ``checks.prometheus``, records
what it judged, and concludes. The metric gates are in ``test_gates.py``.
"""

from __future__ import annotations

from pytest_deployverify.checklist import conclude, item
from pytest_deployverify.checks import prometheus as pc
from pytest_deployverify.components.prometheus import PrometheusConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots


@item(pc.PROM_READY)
def test_prometheus_ready(snapshot: Snapshots, evidence: Evidence) -> None:
    probe: pc.ReadyProbe = snapshot("prometheus.ready")
    findings = pc.ready_findings(probe)
    evidence.record(
        "/-/ready",
        f"{probe.status} {probe.body}",
        expected="200",
        source=probe.endpoint,
        ok=not findings,
    )
    conclude(findings)


@item(pc.PROM_TARGETS)
def test_prometheus_targets(snapshot: Snapshots, profile: Profile, evidence: Evidence) -> None:
    section: PrometheusConfig = snapshot.section("prometheus")
    job, expect = section.job, section.expect
    assert job is not None  # the declaration needs it
    targets = snapshot("prometheus.targets")
    expected_count = None
    kubernetes = profile.sections.get("kubernetes")
    if expect.pod_selector and kubernetes is not None:
        # One target per ready pod: the pods as the cluster reports them (the reader caches lists).
        pods = snapshot.client("kubernetes").list(
            "pods", namespace=kubernetes.namespace, label_selector=expect.pod_selector
        )
        ready = pc.ready_pods(pods)
        expected_count = len(ready)
        evidence.record(
            "ready pods", ready, source=f"{kubernetes.namespace}: {expect.pod_selector}"
        )
    findings = pc.target_findings(
        targets, job, min_targets=expect.min_targets, expected_count=expected_count
    )
    evidence.record(
        f"job {job}",
        pc.target_summary(pc.job_targets(targets, job)),
        expected=f"at least {expect.min_targets} target(s), every target up"
        + (f", {expected_count} target(s)" if expected_count is not None else ""),
        ok=not findings,
    )
    conclude(findings)


@item(pc.PROM_RULES)
def test_prometheus_rules(snapshot: Snapshots, evidence: Evidence) -> None:
    section: PrometheusConfig = snapshot.section("prometheus")
    groups = snapshot("prometheus.rules")
    patterns = section.expect.rule_groups
    findings = pc.rule_findings(groups, patterns)
    evidence.record(
        "rule groups",
        pc.rule_summary(pc.matching_groups(groups, patterns)),
        expected=f"groups matching {list(patterns) or 'any'}, no evaluation error",
        ok=not findings,
    )
    conclude(findings)


@item(pc.PROM_ALERTMANAGER)
def test_prometheus_alertmanager_link(snapshot: Snapshots, evidence: Evidence) -> None:
    link: pc.AlertmanagerLink = snapshot("prometheus.alertmanager_link")
    findings = pc.alertmanager_link_findings(link)
    recognised = pc.identify_alertmanager(link) if link.expected_url else None
    evidence.record(
        "active alertmanagers",
        {"active": link.active, "dropped": link.dropped},
        expected=link.expected_display or "at least one",
        ok=not findings,
        note=f"recognised by: {recognised[1]}" if recognised else None,
    )
    if link.peers is not None or link.firing is not None or link.problem:
        evidence.record(
            "what the profile's Alertmanager reports",
            {
                "cluster peers": list(link.peers or ()),
                "alerts held": sorted({a.get("alertname", "?") for a in link.held or ()}),
                "alerts Prometheus fires": sorted(
                    {a.get("alertname", "?") for a in link.firing or ()}
                ),
                "problem": link.problem,
            },
            source=link.expected_display,
        )
    conclude(findings)


@item(pc.ALERTS_FIRING)
def test_no_critical_alert_firing(snapshot: Snapshots, evidence: Evidence) -> None:
    section: PrometheusConfig = snapshot.section("prometheus")
    alerts = snapshot("prometheus.alerts")
    labels, severities = section.expect.alert_labels, section.expect.blocking_alert_severities
    findings = pc.firing_alert_findings(alerts, labels, severities)
    evidence.record(
        "firing alerts",
        [
            {
                "alert": (a.get("labels") or {}).get("alertname"),
                "severity": (a.get("labels") or {}).get("severity"),
                "since": a.get("activeAt"),
            }
            for a in pc.firing_alerts(alerts, labels, severities)
        ],
        expected=f"none with severity {'/'.join(severities)} and labels {dict(labels) or 'any'}",
        ok=not findings,
    )
    conclude(findings)
