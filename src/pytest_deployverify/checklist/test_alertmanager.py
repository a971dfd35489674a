"""Alertmanager checklist: ready and reporting itself, routing to the expected receivers."""

from __future__ import annotations

from pytest_deployverify.checklist import conclude, item
from pytest_deployverify.checks import alertmanager as ac
from pytest_deployverify.checks.prometheus import PrometheusExpectations
from pytest_deployverify.components.alertmanager import AlertmanagerConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots


@item(ac.AM_READY)
def test_alertmanager_ready(snapshot: Snapshots, evidence: Evidence) -> None:
    section: AlertmanagerConfig = snapshot.section("alertmanager")
    status = snapshot("alertmanager.status")
    findings = ac.status_findings(status, section.url.display)
    evidence.record(
        "status",
        ac.cluster_summary(status),
        expected="ready, reporting its version and config",
        source=section.url.display,
        ok=not findings,
    )
    conclude(findings)


@item(ac.AM_RECEIVERS)
def test_alertmanager_receivers(snapshot: Snapshots, profile: Profile, evidence: Evidence) -> None:
    section: AlertmanagerConfig = snapshot.section("alertmanager")
    prometheus = profile.sections.get("prometheus")
    expect = prometheus.expect if prometheus is not None else PrometheusExpectations()
    names, kinds = section.receivers, expect.alertmanager_integrations
    config = snapshot("alertmanager.config")
    findings = ac.receiver_findings(
        config, names, kinds, require_routes=expect.require_routed_receivers
    )
    evidence.record(
        "receivers",
        {
            name: {"integrations": kinds_of, "routed": name in ac.routed_receivers(config)}
            for name, kinds_of in ac.receiver_integrations(config).items()
        },
        expected={"receivers": list(names), "integrations": list(kinds)},
        ok=not findings,
    )
    conclude(findings)
