"""The past hour of a healthy API gateway, for Prometheus to be backfilled with, and its alert rules.

Metric gates look back over windows ("error rate < 0.1 % over the last 15 minutes"), so the sandbox's
Prometheus starts with a known history written here instead of waiting for one to accumulate. Series
carry the labels a Kubernetes scrape would give them (job, namespace, pod), on pod instances distinct
from the live target so live scrapes and history never write to the same series.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sandbox.servers.openmetrics import (
    counter_series,
    openmetrics_document,
    openmetrics_series,
    past_timestamps,
)

JOB = "api-gateway"
NAMESPACE = "api-gateway"
PODS = ("api-gateway-7d9c6b5f4-abcde", "api-gateway-7d9c6b5f4-fghij", "api-gateway-7d9c6b5f4-klmno")
WINDOW_S = 3600
STEP_S = 15
# Per pod: requests per second, of which this fraction are 5xx (healthy: 0.02 %).
RPS = 20.0
ERROR_FRACTION = 0.0002
# Latency distribution in seconds: cumulative share of requests under each bucket bound.
BUCKETS = {0.05: 0.62, 0.1: 0.85, 0.25: 0.97, 0.5: 0.995, 1.0: 0.999, 2.5: 1.0, math.inf: 1.0}
SERVICES = ("auth-service", "venue-service", "event-service", "ticket-service", "payment-service")


def _labels(pod: str, **extra: str) -> dict[str, str]:
    return {"job": JOB, "namespace": NAMESPACE, "pod": pod, "instance": f"{pod}:8080", **extra}


def _gauge(name: str, labels: Mapping[str, str], value: float) -> str:
    return openmetrics_series(
        name, labels, [(ts, value) for ts in past_timestamps(WINDOW_S, STEP_S)]
    )


def _rising(name: str, labels: Mapping[str, str], per_second: float) -> str:
    stamps = past_timestamps(WINDOW_S, STEP_S)
    return openmetrics_series(name, labels, [(ts, per_second * (ts - stamps[0])) for ts in stamps])


def gateway_history(
    *, error_fraction: float = ERROR_FRACTION, rps: float = RPS, cpu_fraction: float = 0.35
) -> str:
    """An OpenMetrics document of the last hour for three gateway pods."""
    requests, buckets, counts, cpu, memory, limits, breakers = [], [], [], [], [], [], []
    for pod in PODS:
        ok, errors = rps * (1 - error_fraction), rps * error_fraction
        requests.append(
            counter_series(
                "http_requests_total",
                _labels(pod, method="GET", route="/api/v1/venues", status="200"),
                per_second=ok,
                window_s=WINDOW_S,
                step_s=STEP_S,
            )
        )
        requests.append(
            counter_series(
                "http_requests_total",
                _labels(pod, method="GET", route="/api/v1/venues", status="503"),
                per_second=errors,
                window_s=WINDOW_S,
                step_s=STEP_S,
            )
        )
        for bound, share in BUCKETS.items():
            le = "+Inf" if math.isinf(bound) else f"{bound:g}"
            buckets.append(
                _rising("http_request_duration_seconds_bucket", _labels(pod, le=le), rps * share)
            )
        counts.append(_rising("http_request_duration_seconds_count", _labels(pod), rps))
        cpu.append(
            counter_series(
                "container_cpu_usage_seconds_total",
                _labels(pod, container="gateway"),
                per_second=cpu_fraction * 0.5,  # limit is 500m
                window_s=WINDOW_S,
                step_s=STEP_S,
            )
        )
        memory.append(
            _gauge("container_memory_working_set_bytes", _labels(pod, container="gateway"), 180e6)
        )
        limits.append(
            _gauge(
                "kube_pod_container_resource_limits",
                _labels(pod, container="gateway", resource="memory", unit="byte"),
                512 * 2**20,
            )
        )
        limits.append(
            _gauge(
                "kube_pod_container_resource_limits",
                _labels(pod, container="gateway", resource="cpu", unit="core"),
                0.5,
            )
        )
        for service in SERVICES:
            breakers.append(
                _gauge("gateway_circuit_breaker_open", _labels(pod, service=service), 0.0)
            )
    hpa_labels = {
        "job": "kube-state-metrics",
        "namespace": NAMESPACE,
        "horizontalpodautoscaler": JOB,
    }
    hpa = [
        _gauge("kube_horizontalpodautoscaler_status_current_replicas", hpa_labels, 3),
        _gauge("kube_horizontalpodautoscaler_spec_max_replicas", hpa_labels, 10),
    ]
    return openmetrics_document(
        ("http_requests", "counter", requests),
        # Histogram parts are backfilled as gauge-typed series: rate() reads them the same.
        ("http_request_duration_seconds_bucket", "gauge", buckets),
        ("http_request_duration_seconds_count", "gauge", counts),
        ("container_cpu_usage_seconds", "counter", cpu),
        ("container_memory_working_set_bytes", "gauge", memory),
        ("kube_pod_container_resource_limits", "gauge", limits),
        ("gateway_circuit_breaker_open", "gauge", breakers),
        ("kube_horizontalpodautoscaler_status_current_replicas", "gauge", hpa[:1]),
        ("kube_horizontalpodautoscaler_spec_max_replicas", "gauge", hpa[1:]),
    )


def gateway_rules() -> dict[str, str]:
    """Alert rules of the gateway, as the service's monitoring would ship them."""
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
    return {"api_gateway.yml": rules}
