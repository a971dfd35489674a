"""Profile expectations for the monitoring checks (filled in with the checks)."""

from __future__ import annotations

import dataclasses

from pytest_deployverify.fieldtypes import HttpUrl

model = dataclasses.dataclass(frozen=True, kw_only=True)


@model
class PrometheusExpectations:
    """``[prometheus.expect]``."""


@model
class MetricGate:
    """``[[gates]]``: a PromQL query held to a threshold over a past window."""

    name: str
    query: str


@model
class GrafanaConfig:
    """``[grafana]``: dashboards (component connection settings and expectations)."""

    url: HttpUrl


@model
class TracingConfig:
    """``[tracing]``: Jaeger or Tempo."""

    url: HttpUrl


@model
class LogsConfig:
    """``[logs]``: Loki."""

    url: HttpUrl
