"""The API gateway's monitoring past and present: an hour of history to backfill Prometheus with, the
same series continued live for as long as the sandbox runs, and the gateway's alert rules.

Metric gates look back over windows ("error rate < 0.1 % over the last 15 minutes"), so the sandbox's
Prometheus starts with a known history written here instead of waiting for one to accumulate. A
backfill alone decays, though: its series end when the sandbox starts, go stale five minutes later,
and every gate that reads them (HPA, CPU, memory; the error rate once its 5xx series is gone) turns
into "no data" some minutes after ``sandbox up``. So the series that describe the other two replicas
of the deployment, cAdvisor and kube-state-metrics, none of which the sandbox runs, are continued by
recording rules evaluated by the sandbox's Prometheus itself (group ``sandbox_stand_ins``): the same
names, labels and rates, with counters counting from one fixed instant (``ANCHOR``) in the backfill
and in the rules alike, so ``rate()`` runs across the seam without a step. The live demo gateway is
scraped beside them under its own instance, so live traffic adds to the stand-ins and never writes
to the same series.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sandbox.servers.openmetrics import openmetrics_document, openmetrics_series, past_timestamps

JOB = "api-gateway"
NAMESPACE = "api-gateway"
PODS = ("api-gateway-7d9c6b5f4-abcde", "api-gateway-7d9c6b5f4-fghij", "api-gateway-7d9c6b5f4-klmno")
WINDOW_S = 3600
STEP_S = 15
# Counters of the backfill and of the live stand-ins count from this instant (2023-11-14), so a
# counter's value at any time is rate * (time - ANCHOR) on both sides of the seam.
ANCHOR = 1_700_000_000
# Per pod: requests per second, of which this fraction are 5xx (healthy: 0.02 %).
RPS = 20.0
ERROR_FRACTION = 0.0002
CPU_FRACTION = 0.35  # of the 500m limit
MEMORY_BYTES = 180e6  # of the 512 MiB limit
# Latency distribution in seconds: cumulative share of requests under each bucket bound.
BUCKETS = {0.05: 0.62, 0.1: 0.85, 0.25: 0.97, 0.5: 0.995, 1.0: 0.999, 2.5: 1.0, math.inf: 1.0}
SERVICES = ("auth-service", "venue-service", "event-service", "ticket-service", "payment-service")
# What the cluster's HPA reports (sandbox/kube/fixtures: 3 replicas, at most 10).
HPA_CURRENT = 3
HPA_MAX = 10
STAND_IN_GROUP = "sandbox_stand_ins"


@dataclass(frozen=True)
class Series:
    """One series of the stand-ins: a counter rising by ``value`` per second, or a gauge at ``value``."""

    family: str  # the OpenMetrics family (counters: the sample name without ``_total``)
    sample: str  # the sample (and recorded) name
    kind: str  # "counter" or "gauge"
    labels: Mapping[str, str]
    value: float

    def at(self, ts: float) -> float:
        return self.value * (ts - ANCHOR) if self.kind == "counter" else self.value


def _labels(pod: str, **extra: str) -> dict[str, str]:
    return {"job": JOB, "namespace": NAMESPACE, "pod": pod, "instance": f"{pod}:8080", **extra}


def stand_in_series(
    *,
    error_fraction: float = ERROR_FRACTION,
    rps: float = RPS,
    cpu_fraction: float = CPU_FRACTION,
) -> list[Series]:
    """Every series the history holds and the recording rules continue."""
    out: list[Series] = []
    for pod in PODS:
        route = {"method": "GET", "route": "/api/v1/venues"}
        for status, share in (("200", 1 - error_fraction), ("503", error_fraction)):
            out.append(
                Series(
                    "http_requests",
                    "http_requests_total",
                    "counter",
                    _labels(pod, **route, status=status),
                    rps * share,
                )
            )
        for bound, share in BUCKETS.items():
            le = "+Inf" if math.isinf(bound) else f"{bound:g}"
            # Histogram parts are written as gauge-typed samples: rate() reads them the same.
            out.append(
                Series(
                    "http_request_duration_seconds_bucket",
                    "http_request_duration_seconds_bucket",
                    "counter",
                    _labels(pod, le=le),
                    rps * share,
                )
            )
        out.append(
            Series(
                "http_request_duration_seconds_count",
                "http_request_duration_seconds_count",
                "counter",
                _labels(pod),
                rps,
            )
        )
        out.append(
            Series(
                "container_cpu_usage_seconds",
                "container_cpu_usage_seconds_total",
                "counter",
                _labels(pod, container="gateway"),
                cpu_fraction * 0.5,  # the limit is 500m
            )
        )
        out.append(
            Series(
                "container_memory_working_set_bytes",
                "container_memory_working_set_bytes",
                "gauge",
                _labels(pod, container="gateway"),
                MEMORY_BYTES,
            )
        )
        for resource, unit, limit in (("memory", "byte", 512 * 2**20), ("cpu", "core", 0.5)):
            out.append(
                Series(
                    "kube_pod_container_resource_limits",
                    "kube_pod_container_resource_limits",
                    "gauge",
                    _labels(pod, container="gateway", resource=resource, unit=unit),
                    limit,
                )
            )
        for service in SERVICES:
            out.append(
                Series(
                    "gateway_circuit_breaker_open",
                    "gateway_circuit_breaker_open",
                    "gauge",
                    _labels(pod, service=service),
                    0.0,
                )
            )
    hpa = {"job": "kube-state-metrics", "namespace": NAMESPACE, "horizontalpodautoscaler": JOB}
    for name, value in (
        ("kube_horizontalpodautoscaler_status_current_replicas", HPA_CURRENT),
        ("kube_horizontalpodautoscaler_spec_max_replicas", HPA_MAX),
    ):
        out.append(Series(name, name, "gauge", hpa, value))
    return out


def gateway_history(
    *,
    error_fraction: float = ERROR_FRACTION,
    rps: float = RPS,
    cpu_fraction: float = CPU_FRACTION,
    end: int | None = None,
) -> str:
    """An OpenMetrics document of the last hour (ending before ``end``, default now) of every
    stand-in series; ``gateway_rules`` continues them from there."""
    stamps = past_timestamps(WINDOW_S, STEP_S, end=end)
    families: dict[str, tuple[str, list[str]]] = {}
    for series in stand_in_series(
        error_fraction=error_fraction, rps=rps, cpu_fraction=cpu_fraction
    ):
        # Only true counters are typed counter (their samples end in _total); histogram parts are
        # gauge-typed, as promtool reads OpenMetrics histograms only whole.
        kind = "counter" if series.sample.endswith("_total") else "gauge"
        block = openmetrics_series(
            series.sample, series.labels, [(ts, series.at(ts)) for ts in stamps]
        )
        families.setdefault(series.family, (kind, []))[1].append(block)
    return openmetrics_document(
        *((name, kind, blocks) for name, (kind, blocks) in families.items())
    )


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stand_in_rules(
    *,
    error_fraction: float = ERROR_FRACTION,
    rps: float = RPS,
    cpu_fraction: float = CPU_FRACTION,
) -> str:
    """The recording rule group that continues every stand-in series live (every 15 s)."""
    lines = [
        "groups:",
        f"  - name: {STAND_IN_GROUP}",
        f"    interval: {STEP_S}s",
        "    rules:",
    ]
    for series in stand_in_series(
        error_fraction=error_fraction, rps=rps, cpu_fraction=cpu_fraction
    ):
        expr = (
            f"vector((time() - {ANCHOR}) * {series.value!r})"
            if series.kind == "counter"
            else f"vector({series.value!r})"
        )
        labels = ", ".join(f"{key}: {_quoted(value)}" for key, value in series.labels.items())
        lines += [
            f"      - record: {series.sample}",
            f"        expr: {_quoted(expr)}",
            f"        labels: {{{labels}}}",
        ]
    return "\n".join(lines) + "\n"


def gateway_rules() -> dict[str, str]:
    """Alert rules of the gateway, as the service's monitoring would ship them, the Watchdog, and
    the recording rules that keep the stand-in series going."""
    rules = f"""
groups:
  - name: api_gateway
    rules:
      - alert: ApiGatewayDown
        expr: up{{job="{JOB}"}} == 0
        for: 1m
        labels: {{severity: critical, service: api-gateway}}
        annotations: {{summary: "API gateway target down"}}
      - alert: ApiGatewayHighErrorRate
        expr: >
          sum(rate(http_requests_total{{job="{JOB}",status=~"5.."}}[5m]))
          / sum(rate(http_requests_total{{job="{JOB}"}}[5m])) > 0.05
        for: 5m
        labels: {{severity: critical, service: api-gateway}}
        annotations: {{summary: "API gateway error rate above 5 %"}}
      - alert: ApiGatewayHighLatency
        expr: >
          histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{job="{JOB}"}}[5m]))) > 2
        for: 10m
        labels: {{severity: warning, service: api-gateway}}
        annotations: {{summary: "API gateway P95 latency above 2 s"}}
"""
    # Always firing, as kube-prometheus ships it: proof that alerts travel from Prometheus to
    # Alertmanager, and how the checklist recognises the Alertmanager behind an external URL.
    watchdog = """
groups:
  - name: general
    rules:
      - alert: Watchdog
        expr: vector(1)
        labels: {severity: none}
        annotations: {summary: "always firing: the alerting pipeline delivers"}
"""
    return {
        "api_gateway.yml": rules,
        "general.yml": watchdog,
        "sandbox_stand_ins.yml": stand_in_rules(),
    }
