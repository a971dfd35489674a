"""Latency and load: what a probe of N requests with bounded concurrency measured, and the
thresholds it is judged against.

The component runs the probes (``components.http.load``): the read-only latency probe (tens of
requests, a few at a time) and the destructive load probe (many concurrent users). Both report
a ``Sample``; ``latency_findings`` holds it against the thresholds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pytest_deployverify.checks.findings import Finding, Rule
from pytest_deployverify.checks.http.expectations import LatencyExpectations, LoadExpectations
from pytest_deployverify.profile.model import Slo


@dataclass
class Sample:
    """What a probe measured."""

    planned: int
    # Every answered request but each connection's first, which also waits for the TCP and TLS
    # handshakes (connect_ms): with 10 connections in 100 requests those would be the slowest
    # tenth and make the p95, so a verifier far from the service would judge its own handshakes.
    durations_ms: list[float] = field(default_factory=list)
    connect_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0  # transport failures or an unexpected status
    max_in_flight: int = 0
    elapsed_s: float = 0.0
    timed_out: bool = False  # the time limit stopped it before every request was sent
    target: str = ""  # "GET /health/live"
    concurrency: int = 0

    @property
    def completed(self) -> int:
        return sum(self.statuses.values())

    @property
    def error_rate(self) -> float:
        return self.errors / self.completed if self.completed else 1.0

    def percentile(self, q: float) -> float | None:
        # A probe of no more requests than connections has only first requests to go by.
        return percentile(self.durations_ms or self.connect_ms, q)

    def summary(self) -> dict[str, object]:
        return {
            "planned": self.planned,
            "completed": self.completed,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 6),
            "p50_ms": _round(self.percentile(50)),
            "p95_ms": _round(self.percentile(95)),
            "p99_ms": _round(self.percentile(99)),
            "first_request_max_ms": _round(max(self.connect_ms, default=None)),
            "max_in_flight": self.max_in_flight,
            "elapsed_s": round(self.elapsed_s, 3),
            "statuses": dict(self.statuses),
            "timed_out": self.timed_out,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least q % of values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Thresholds:
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_error_rate: float = 0.0

    def shown(self) -> dict[str, float]:
        """The thresholds in force, for evidence."""
        return {name: value for name, value in vars(self).items() if value is not None}


def latency_thresholds(cfg: LatencyExpectations, slo: Slo) -> Thresholds:
    """``[http.expect.latency]``, falling back to ``[slo]``."""
    return Thresholds(
        p50_ms=cfg.p50_ms,
        p95_ms=cfg.p95_ms or slo.p95_latency_ms,
        p99_ms=cfg.p99_ms or slo.p99_latency_ms,
        max_error_rate=slo.error_rate if cfg.max_error_rate is None else cfg.max_error_rate,
    )


def load_thresholds(cfg: LoadExpectations, slo: Slo) -> Thresholds:
    """``[http.expect.load]``, falling back to ``[slo]``."""
    return Thresholds(
        p95_ms=cfg.p95_ms or slo.p95_latency_ms,
        max_error_rate=slo.error_rate if cfg.max_error_rate is None else cfg.max_error_rate,
    )


def _measured(sample: Sample) -> str:
    if sample.durations_ms:
        return (
            f"{len(sample.durations_ms)} answered requests, each connection's first "
            "(with its handshakes) apart"
        )
    return f"{len(sample.connect_ms)} answered requests, each on a new connection"


def latency_findings(
    sample: Sample, thresholds: Thresholds, rule: Rule, subject: str
) -> list[Finding]:
    """Percentiles under their thresholds, error rate at most the maximum, every request done."""
    if sample.completed == 0:
        return [rule(subject, "no request completed")]
    found: list[Finding] = []
    for q, limit in ((50, thresholds.p50_ms), (95, thresholds.p95_ms), (99, thresholds.p99_ms)):
        value = sample.percentile(q)
        if limit is not None and value is not None and value > limit:
            found.append(
                rule(
                    subject,
                    f"P{q} latency {value:.1f} ms exceeds {limit:g} ms ({_measured(sample)})",
                )
            )
    if sample.error_rate > thresholds.max_error_rate:
        found.append(
            rule(
                subject,
                f"error rate {sample.error_rate:.2%} ({sample.errors} of {sample.completed}; "
                f"statuses {dict(sample.statuses)}) exceeds {thresholds.max_error_rate:.2%}",
            )
        )
    if sample.timed_out:
        found.append(
            rule(
                subject,
                f"only {sample.completed} of {sample.planned} requests finished within the "
                f"time limit of {sample.elapsed_s:.0f} s",
            )
        )
    return found
