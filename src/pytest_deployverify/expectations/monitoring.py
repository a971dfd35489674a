"""Profile expectations for Prometheus, Alertmanager, metric gates, dashboards, traces and logs.

``[prometheus.expect]``, ``[[gates]]``, ``[grafana]``, ``[tracing]`` and ``[logs]``. Durations are
written like Prometheus writes them (``"15m"``, ``"1h30m"``, ``"30s"``) or as a number of seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pytest_deployverify.profile.fields import (
    Count,
    Duration,
    HttpUrl,
    NoDataPolicy,
    Seconds,
    format_duration,
    parse_duration,
)
from pytest_deployverify.profile.schema import Range
from pytest_deployverify.profile.secrets import Secret

model = dataclasses.dataclass(frozen=True, kw_only=True)


class Condition(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="


class Aggregation(StrEnum):
    """How the points of the window are reduced before the comparison.

    ``all``: every point must satisfy the condition; ``any``: at least one point must.
    """

    MAX = "max"
    MIN = "min"
    AVG = "avg"
    LAST = "last"
    ALL = "all"
    ANY = "any"


class FailureCount(StrEnum):
    """How a soak counts failed evaluations against ``failure_limit``."""

    TOTAL = "total"
    CONSECUTIVE = "consecutive"


@model
class PrometheusExpectations:
    """``[prometheus.expect]``; the scrape job itself is ``[prometheus] job``."""

    # At least this many targets in the job (and, with pod_selector and Kubernetes configured,
    # exactly as many as there are ready pods).
    min_targets: Count = 1
    pod_selector: str | None = None
    # fnmatch patterns of the service's rule groups, e.g. ["api_gateway*"]; each must match a group.
    rule_groups: tuple[str, ...] = ()
    require_alertmanager: bool = True
    # Labels that select the service's alerts, e.g. {service = "api-gateway"}.
    alert_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    blocking_alert_severities: tuple[str, ...] = ("critical",)
    # Integration types each of which some Alertmanager receiver must use, e.g. ["pagerduty", "slack"].
    alertmanager_integrations: tuple[str, ...] = ()
    # A receiver no route sends to never gets a notification: by default that fails the check.
    require_routed_receivers: bool = True


@model
class MetricGate:
    """``[[gates]]``: a PromQL query held to a threshold over a past window.

    ``name`` alone enables a ready-made gate (``pytest_deployverify.checks.gates.READY_MADE``);
    any other key overrides it. A gate with a ``query`` of its own needs ``condition`` and
    ``threshold``. Unset keys fall back to the ready-made gate, then to the defaults in gates.py.
    """

    name: str
    query: str | None = None
    description: str = ""
    enabled: bool = True
    window: Duration | None = None
    step: Duration | None = None
    condition: Condition | None = None
    threshold: float | None = None
    aggregation: Aggregation | None = None
    no_data: NoDataPolicy | None = None
    min_points: Annotated[int, Range(ge=1)] | None = None
    # Values for the ``$placeholders`` of a ready-made query (selector, metric names, rate window).
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Soak: evaluate again every ``interval`` for ``watch``; fail after more than failure_limit
    # failed evaluations (in total, or in a row).
    watch: Duration | None = None
    interval: Duration | None = None
    failure_limit: Count | None = None
    count_failures: FailureCount | None = None


@model
class GrafanaConfig:
    """``[grafana]``: the dashboards the ops team relies on, and their data sources."""

    url: HttpUrl
    api_token: Secret | None = None
    ca_file: str | None = None
    timeout: Seconds = 5.0
    org_id: int | None = None
    # Dashboard uids that must exist; data source uids that must be healthy (empty: the ones
    # the dashboards use).
    dashboards: tuple[str, ...] = ()
    datasources: tuple[str, ...] = ()


class TracingBackend(StrEnum):
    JAEGER = "jaeger"
    TEMPO = "tempo"


@model
class TracingConfig:
    """``[tracing]``: Jaeger (query API) or Tempo (search API)."""

    url: HttpUrl
    backend: TracingBackend = TracingBackend.JAEGER
    service: str
    lookback: Duration = "1h"
    min_traces: Annotated[int, Range(ge=1)] = 1
    bearer_token: Secret | None = None
    ca_file: str | None = None
    timeout: Seconds = 5.0
    tenant: str | None = None  # X-Scope-OrgID for a multi-tenant Tempo


@model
class LogsConfig:
    """``[logs]``: Loki. ``selector`` is a LogQL stream selector, e.g. ``{app="api-gateway"}``."""

    url: HttpUrl
    selector: str
    lookback: Duration = "15m"
    min_lines: Annotated[int, Range(ge=1)] = 1
    limit: Annotated[int, Range(ge=1, le=5000)] = 1000
    scan_secrets: bool = True
    bearer_token: Secret | None = None
    ca_file: str | None = None
    timeout: Seconds = 5.0
    tenant: str | None = None  # X-Scope-OrgID for a multi-tenant Loki


__all__ = [
    "Aggregation",
    "Condition",
    "Duration",
    "FailureCount",
    "GrafanaConfig",
    "LogsConfig",
    "MetricGate",
    "NoDataPolicy",
    "PrometheusExpectations",
    "TracingBackend",
    "TracingConfig",
    "format_duration",
    "parse_duration",
]
