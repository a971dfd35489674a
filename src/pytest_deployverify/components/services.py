"""Downstream services: ``[[services]]``, each a health URL the service depends on."""

from __future__ import annotations

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.profile.model import Service

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
