"""The Logs component: ``[logs]``, an HTTP JSON client probed at build time."""

from __future__ import annotations

from typing import Any

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.expectations.monitoring import LogsConfig
from pytest_deployverify.profile.model import Profile


def _connect(section: LogsConfig, profile: Profile) -> Any:
    from pytest_deployverify.checks.observability import logs_api

    return logs_api(section)


component = Component(
    name="logs",
    title="Logs",
    sections=(SectionSpec("logs", LogsConfig, "Loki, where the service's logs land"),),
    connect=_connect,
    extra="http",
)
