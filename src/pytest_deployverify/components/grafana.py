"""The Grafana component: ``[grafana]``, an HTTP JSON client probed at build time."""

from __future__ import annotations

from typing import Any

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.expectations.monitoring import GrafanaConfig
from pytest_deployverify.profile.model import Profile


def _connect(section: GrafanaConfig, profile: Profile) -> Any:
    from pytest_deployverify.checks.observability import grafana_api

    return grafana_api(section)


component = Component(
    name="grafana",
    title="Grafana",
    sections=(SectionSpec("grafana", GrafanaConfig, "dashboards and their data sources"),),
    connect=_connect,
    extra="http",
)
