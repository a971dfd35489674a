"""The Grafana component: ``[grafana]``, its HTTP API client, and its readers.

Readers: ``health`` (what ``GET /api/health`` answered when the client was built: no second
request), ``dashboards`` (each dashboard of ``[grafana] dashboards``, fetched concurrently) and
``datasources`` (the health check of each data source listed, else of those the dashboards use).
A Grafana whose database is down still answers ``/api/health`` (503, ``database: failing``): that
is judged by the health check, not taken for an unreachable Grafana.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.grafana import (
    CHECKS,
    Dashboard,
    DatasourceHealth,
    GrafanaHealth,
    dashboard_from_answer,
    datasource_uids,
)
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.components.httpapi import ApiError, JsonApi, concurrently
from pytest_deployverify.profile.fields import ExistingFile, HeaderValue, HttpUrl, Seconds
from pytest_deployverify.profile.model import Profile

if TYPE_CHECKING:
    import httpx

COMPONENT = "grafana"
HEALTH_PATH = "/api/health"


@dataclasses.dataclass(frozen=True, kw_only=True)
class GrafanaConfig:
    """``[grafana]``: the dashboards the ops team relies on, and their data sources."""

    # Grafana's base URL as the verifier reaches it; its /api/health must answer
    # (`url = "https://grafana.example.com"`).
    url: HttpUrl
    # A service-account token (or API key) sent as "Authorization: Bearer" (unset: anonymous).
    api_token: HeaderValue | None = None
    # A PEM file of the CA certificates to trust for an https:// url (unset: the system store).
    ca_file: ExistingFile | None = None
    # Seconds each request may take.
    timeout: Seconds = 5.0
    # The organisation to read in, sent as X-Grafana-Org-Id (unset: the token's own).
    org_id: int | None = None
    # Uids of the dashboards that must exist (`dashboards = ["api-gateway-overview"]`).
    dashboards: tuple[str, ...] = ()
    # Uids of the data sources that must be healthy (empty: the ones the dashboards use); with
    # neither list set, the Grafana dashboards item is not applicable.
    datasources: tuple[str, ...] = ()


class GrafanaApi(JsonApi):
    """Grafana's HTTP API as plain snapshots; ``health`` is the probe's answer."""

    component = COMPONENT
    health: GrafanaHealth | None = None

    def read_health(self) -> GrafanaHealth:
        status, body = self.get_json(HEALTH_PATH)
        return _health(status, body)

    def dashboard(self, uid: str) -> Dashboard:
        status, body = self.get_json(f"/api/dashboards/uid/{uid}")
        return dashboard_from_answer(uid, status, body)

    def datasource_health(self, uid: str) -> DatasourceHealth:
        status, body = self.get_json(f"/api/datasources/uid/{uid}/health")
        body = body if isinstance(body, Mapping) else {}
        return DatasourceHealth(
            uid, status, body.get("status"), str(body.get("message") or "")[:200]
        )


def _health(status: int, body: object) -> GrafanaHealth:
    doc = body if isinstance(body, Mapping) else {}
    return GrafanaHealth(status, doc.get("database"), doc.get("version"))


def _answers_health(response: httpx.Response) -> bool:
    """A 503 from /api/health with Grafana's JSON is a Grafana whose database is down."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, Mapping) and "database" in body


def grafana_api(config: GrafanaConfig) -> GrafanaApi:
    """A probed Grafana client (``GET /api/health``); ``ComponentUnavailable`` when Grafana does
    not answer it as Grafana."""
    headers = {"X-Grafana-Org-Id": str(config.org_id)} if config.org_id is not None else {}
    api = GrafanaApi.from_section(config, token=config.api_token, headers=headers)
    response = api.probe(HEALTH_PATH, accept=_answers_health)
    try:
        api.health = _health(response.status_code, response.json())
    except ValueError:
        api.health = GrafanaHealth(response.status_code, None, None)
    return api


# -- readers -----------------------------------------------------------------------------------


def _health_read(ctx: ReadContext) -> GrafanaHealth:
    api: GrafanaApi = ctx.client
    if api.health is not None:
        return api.health
    try:
        return api.read_health()
    except ApiError as exc:
        raise api.read_error(exc) from exc


def _dashboards(ctx: ReadContext) -> list[Dashboard]:
    section: GrafanaConfig = ctx.section
    if not section.dashboards:
        return []
    api: GrafanaApi = ctx.client
    try:
        return concurrently(api.dashboard, section.dashboards)
    except ApiError as exc:
        raise api.read_error(exc) from exc


def _datasources(ctx: ReadContext) -> list[DatasourceHealth]:
    section: GrafanaConfig = ctx.section
    if not section.dashboards and not section.datasources:
        raise NotApplicable("[grafana] lists no dashboards and no datasources")
    api: GrafanaApi = ctx.client
    dashboards = [] if section.datasources else ctx.read("grafana.dashboards")
    try:
        return concurrently(api.datasource_health, datasource_uids(section.datasources, dashboards))
    except ApiError as exc:
        raise api.read_error(exc) from exc


def _connect(section: GrafanaConfig, profile: Profile) -> GrafanaApi:
    return grafana_api(section)


component = Component(
    name=COMPONENT,
    title="Grafana",
    sections=(SectionSpec("grafana", GrafanaConfig, "dashboards and their data sources"),),
    connect=_connect,
    reads={"health": _health_read, "dashboards": _dashboards, "datasources": _datasources},
    checks=CHECKS,
    checklist=("pytest_deployverify.checklist.test_grafana",),
    extra="http",
    description="Health, the service's dashboards and the health of their data sources.",
)
