"""The gateway's Prometheus metrics, kept in memory and rendered in the text exposition format.

Hand-written on purpose: the demo needs a handful of series, and writing them out keeps the
format visible (the verifier parses exactly this text).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

LabelValues = tuple[str, ...]


class _Histogram:
    def __init__(self) -> None:
        self.bucket_counts = [0] * len(DURATION_BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.total += value
        for index, bound in enumerate(DURATION_BUCKETS):
            if value <= bound:
                self.bucket_counts[index] += 1


class Metrics:
    def __init__(self, version: str, services: Iterable[str] = ()) -> None:
        self.version = version
        self.started_at = time.time()
        self.requests: defaultdict[LabelValues, int] = defaultdict(int)
        self.durations: defaultdict[LabelValues, _Histogram] = defaultdict(_Histogram)
        self.auth_failures: defaultdict[str, int] = defaultdict(int)
        self.rate_limited = 0
        # Every configured service has a series from the start: absent is not the same as closed.
        self.circuit_open: dict[str, int] = {name: 0 for name in services}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, str(status))] += 1
        self.durations[(method, route)].observe(seconds)

    def count_auth_failure(self, reason: str) -> None:
        self.auth_failures[reason] += 1

    def count_rate_limited(self) -> None:
        self.rate_limited += 1

    def set_circuit_open(self, service: str, is_open: bool) -> None:
        self.circuit_open[service] = 1 if is_open else 0

    def render(self) -> str:
        lines: list[str] = []
        _family(lines, "app_info", "gauge", "Build information of the running gateway.")
        lines.append(_sample("app_info", {"version": self.version}, 1))

        _family(lines, "process_start_time_seconds", "gauge", "Start time since the epoch.")
        lines.append(_sample("process_start_time_seconds", {}, self.started_at))

        _family(lines, "http_requests_total", "counter", "HTTP requests by route and status.")
        for (method, route, status), count in sorted(self.requests.items()):
            labels = {"method": method, "route": route, "status": status}
            lines.append(_sample("http_requests_total", labels, count))

        name = "http_request_duration_seconds"
        _family(lines, name, "histogram", "Time to answer an HTTP request.")
        for (method, route), histogram in sorted(self.durations.items()):
            labels = {"method": method, "route": route}
            for bound, count in zip(DURATION_BUCKETS, histogram.bucket_counts, strict=True):
                lines.append(_sample(f"{name}_bucket", {**labels, "le": _float(bound)}, count))
            lines.append(_sample(f"{name}_bucket", {**labels, "le": "+Inf"}, histogram.count))
            lines.append(_sample(f"{name}_sum", labels, histogram.total))
            lines.append(_sample(f"{name}_count", labels, histogram.count))

        _family(
            lines,
            "gateway_circuit_breaker_open",
            "gauge",
            "1 while the circuit breaker to a downstream service is open.",
        )
        for service, value in sorted(self.circuit_open.items()):
            lines.append(_sample("gateway_circuit_breaker_open", {"service": service}, value))

        _family(
            lines,
            "gateway_auth_failures_total",
            "counter",
            "Refused authentication attempts by reason.",
        )
        for reason, count in sorted(self.auth_failures.items()):
            lines.append(_sample("gateway_auth_failures_total", {"reason": reason}, count))

        _family(
            lines, "gateway_rate_limited_total", "counter", "Requests refused by the rate limit."
        )
        lines.append(_sample("gateway_rate_limited_total", {}, self.rate_limited))
        return "\n".join(lines) + "\n"


def _family(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    if not labels:
        return f"{name} {_float(value)}"
    rendered = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
    return f"{name}{{{rendered}}} {_float(value)}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _float(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
