"""Downstream services: ``[[services]]``, each a health URL the service depends on."""

from __future__ import annotations

import dataclasses

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.profile.fields import HttpUrl, Seconds


@dataclasses.dataclass(frozen=True, kw_only=True)
class Service:
    """A downstream service whose health endpoint must answer."""

    name: str
    url: HttpUrl
    timeout: Seconds = 5.0


component = Component(
    name="services",
    title="Downstream services",
    sections=(
        SectionSpec(
            "services",
            tuple[Service, ...],
            "downstream services and their health URLs",
            unique="name",
        ),
    ),
    endpoint=lambda services: f"{len(services)} service(s)",
    extra="http",
)
