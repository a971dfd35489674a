"""The Alertmanager component: ``[alertmanager]``, the JSON API client, its readiness probe."""

from __future__ import annotations

from typing import Any

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.profile.model import AlertmanagerConfig, Profile


def _connect(section: AlertmanagerConfig, profile: Profile) -> Any:
    from pytest_deployverify.components.prometheus import build_alertmanager

    return build_alertmanager(section)


component = Component(
    name="alertmanager",
    title="Alertmanager",
    sections=(SectionSpec("alertmanager", AlertmanagerConfig, "where alerts are routed"),),
    connect=_connect,
    extra="prometheus",
)
