"""The Tracing component: ``[tracing]``, an HTTP JSON client probed at build time."""

from __future__ import annotations

from typing import Any

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.expectations.monitoring import TracingConfig
from pytest_deployverify.profile.model import Profile


def _connect(section: TracingConfig, profile: Profile) -> Any:
    from pytest_deployverify.checks.observability import tracing_api

    return tracing_api(section)


component = Component(
    name="tracing",
    title="Tracing",
    sections=(
        SectionSpec("tracing", TracingConfig, "Jaeger or Tempo, where the service's traces land"),
    ),
    connect=_connect,
    extra="http",
)
