"""Grafana checklist: healthy, the service's dashboards present with healthy data sources."""

from __future__ import annotations

from pytest_deployverify.checklist import conclude, item
from pytest_deployverify.checks import grafana as gf
from pytest_deployverify.components.grafana import GrafanaConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots


@item(gf.GRAFANA_HEALTH)
def test_grafana_health(snapshot: Snapshots, evidence: Evidence) -> None:
    section: GrafanaConfig = snapshot.section("grafana")
    health: gf.GrafanaHealth = snapshot("grafana.health")
    findings = gf.grafana_health_findings(health)
    evidence.record(
        "/api/health",
        {"status": health.status, "database": health.database, "version": health.version},
        expected="200, database ok",
        source=section.url.display,
        ok=not findings,
    )
    conclude(findings)


@item(gf.GRAFANA_DASHBOARDS)
def test_grafana_dashboards(snapshot: Snapshots, evidence: Evidence) -> None:
    section: GrafanaConfig = snapshot.section("grafana")
    dashboards: list[gf.Dashboard] = snapshot("grafana.dashboards")
    healths: list[gf.DatasourceHealth] = snapshot("grafana.datasources")
    missing = gf.dashboard_findings(dashboards)
    broken = gf.datasource_findings(healths)
    evidence.record(
        "dashboards",
        {
            d.uid: {"title": d.title, "datasources": list(d.datasources)}
            if d.status == 200
            else f"HTTP {d.status}: {d.message}"
            for d in dashboards
        },
        expected=list(section.dashboards),
        ok=not missing,
    )
    evidence.record(
        "datasources",
        {h.uid: h.state or f"HTTP {h.status}" for h in healths},
        expected="OK",
        source="[grafana] datasources" if section.datasources else "used by the dashboards",
        ok=not broken,
    )
    conclude([*missing, *broken])
