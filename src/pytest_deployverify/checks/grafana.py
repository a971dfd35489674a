"""Grafana: the snapshots of its health, dashboards and data sources, the checks, the declarations.

The reading (``/api/health``, ``/api/dashboards/uid/{uid}``, ``/api/datasources/uid/{uid}/health``)
lives in ``components.grafana``, which also owns the ``[grafana]`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_deployverify.checks.declarations import declare, needs_any
from pytest_deployverify.checks.findings import Finding, Rule, Severity

# -- snapshots -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrafanaHealth:
    status: int
    database: str | None
    version: str | None


@dataclass(frozen=True)
class Dashboard:
    uid: str
    status: int
    title: str | None = None
    datasources: tuple[str, ...] = ()  # uids referenced by panels and template variables
    message: str | None = None


@dataclass(frozen=True)
class DatasourceHealth:
    uid: str
    status: int
    state: str | None  # "OK" or "ERROR" as Grafana reports it
    message: str | None


# -- rules and declarations -----------------------------------------------------------------------

HEALTH = Rule("grafana-health", Severity.HIGH, "Grafana and its database healthy")
DASHBOARD = Rule("grafana-dashboard", Severity.HIGH, "the service's dashboards exist")
DATASOURCE = Rule("grafana-datasource", Severity.HIGH, "the dashboards' data sources answer")

_G = ("grafana",)
GRAFANA_HEALTH = declare(
    "MON-GRAFANA-HEALTH",
    title="Grafana is healthy",
    section="monitoring",
    severity="high",
    components=_G,
    keys=("grafana.url",),
    reads=("grafana.health",),
)
GRAFANA_DASHBOARDS = declare(
    "MON-GRAFANA-DASHBOARDS",
    title="Service dashboards exist and their data sources are healthy",
    section="monitoring",
    severity="high",
    components=_G,
    keys=("grafana.dashboards", "grafana.datasources"),
    reads=("grafana.dashboards", "grafana.datasources"),
    applies=needs_any("grafana.dashboards", "grafana.datasources"),
    description="Each dashboard uid in [grafana] dashboards exists; each data source (those listed "
    "in [grafana] datasources, else those the dashboards use) passes Grafana's health check.",
)

CHECKS = (GRAFANA_HEALTH, GRAFANA_DASHBOARDS)


# -- checks ----------------------------------------------------------------------------------------


def grafana_health_findings(health: GrafanaHealth) -> list[Finding]:
    if health.status == 200 and health.database == "ok":
        return []
    return [
        HEALTH(
            "grafana",
            f"/api/health answered {health.status} with database {health.database!r}; "
            "expected 200 and database 'ok'",
        )
    ]


_BUILTIN_DATASOURCES = {"grafana", "-- grafana --", "-- mixed --", "-- dashboard --", "__expr__"}


def dashboard_datasources(doc: Any) -> list[str]:
    """Datasource uids a dashboard JSON refers to (variables like ``${DS}`` and built-ins skipped)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            ref = node.get("datasource")
            if isinstance(ref, Mapping):
                uid = ref.get("uid")
                if (
                    isinstance(uid, str)
                    and uid
                    and not uid.startswith("$")
                    and uid.lower() not in _BUILTIN_DATASOURCES
                    and uid not in found
                ):
                    found.append(uid)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)
    return found


def dashboard_from_answer(uid: str, status: int, body: Any) -> Dashboard:
    """A ``Dashboard`` from what ``GET /api/dashboards/uid/{uid}`` answered."""
    body = body if isinstance(body, Mapping) else {}
    if status != 200:
        return Dashboard(uid, status, message=str(body.get("message") or "")[:200])
    dashboard = body.get("dashboard") or {}
    return Dashboard(uid, status, dashboard.get("title"), tuple(dashboard_datasources(dashboard)))


def dashboard_findings(dashboards: Sequence[Dashboard]) -> list[Finding]:
    return [
        DASHBOARD(
            f"grafana dashboard {d.uid}",
            f"GET /api/dashboards/uid/{d.uid} answered {d.status} ({d.message or 'no message'}); "
            "expected the dashboard to exist",
        )
        for d in dashboards
        if d.status != 200
    ]


def datasource_uids(listed: Sequence[str], dashboards: Sequence[Dashboard]) -> list[str]:
    """The data sources to check: those the profile lists, else those the dashboards use."""
    return list(listed) or list(dict.fromkeys(uid for d in dashboards for uid in d.datasources))


def datasource_findings(healths: Sequence[DatasourceHealth]) -> list[Finding]:
    return [
        DATASOURCE(
            f"grafana datasource {h.uid}",
            f"health check answered {h.status} status {h.state!r}: {h.message or 'no message'}; "
            "expected status OK",
        )
        for h in healths
        if h.status != 200 or str(h.state).upper() != "OK"
    ]
