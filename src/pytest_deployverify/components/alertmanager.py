"""The Alertmanager component: ``[alertmanager]``, the JSON API client, its readiness probe."""

from __future__ import annotations

import dataclasses
from typing import Any

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.profile.fields import HttpUrl, Seconds
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Secret


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlertmanagerConfig:
    url: HttpUrl
    bearer_token: Secret | None = None
    ca_file: str | None = None
    timeout: Seconds = 5.0
    receivers: tuple[str, ...] = ()


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
