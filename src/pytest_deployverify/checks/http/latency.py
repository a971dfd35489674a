"""Latency and load probes: N requests with bounded concurrency over kept-alive connections.

One engine serves both: the read-only latency probe (tens of requests, a few at a time) and the
destructive load probe (hundreds of concurrent users). It is bounded in requests and in time,
counts its own requests in flight, and reports percentiles and the error rate as plain data;
``judge`` holds them against the thresholds.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from pytest_deployverify.checks.http.catalog import GatewayCheck
from pytest_deployverify.checks.http.common import Outcome


@dataclass(frozen=True)
class Plan:
    url: str
    requests: int
    concurrency: int
    time_limit: float  # seconds; no new request starts after it
    expected_status: int = 200
    timeout: float = 5.0


@dataclass
class Sample:
    """What a probe measured."""

    planned: int
    durations_ms: list[float] = field(default_factory=list)  # of every answered request
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0  # transport failures or an unexpected status
    max_in_flight: int = 0
    elapsed_s: float = 0.0
    timed_out: bool = False  # the time limit stopped it before every request was sent

    @property
    def completed(self) -> int:
        return sum(self.statuses.values())

    @property
    def error_rate(self) -> float:
        return self.errors / self.completed if self.completed else 1.0

    def percentile(self, q: float) -> float | None:
        return percentile(self.durations_ms, q)

    def summary(self) -> dict[str, object]:
        return {
            "planned": self.planned,
            "completed": self.completed,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 6),
            "p50_ms": _round(self.percentile(50)),
            "p95_ms": _round(self.percentile(95)),
            "p99_ms": _round(self.percentile(99)),
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


def measure(
    plan: Plan,
    *,
    verify: bool | ssl.SSLContext = True,
    headers: Mapping[str, str] | None = None,
) -> Sample:
    """Run ``plan`` on a private event loop (call it from synchronous code)."""
    return asyncio.run(_run(plan, verify, dict(headers or {})))


async def _run(plan: Plan, verify: bool | ssl.SSLContext, headers: dict[str, str]) -> Sample:
    sample = Sample(planned=plan.requests)
    issued = 0
    in_flight = 0
    limits = httpx.Limits(
        max_connections=plan.concurrency, max_keepalive_connections=plan.concurrency
    )
    started = time.perf_counter()
    deadline = started + plan.time_limit
    async with httpx.AsyncClient(
        verify=verify, headers=headers, limits=limits, timeout=plan.timeout
    ) as client:

        async def user() -> None:
            nonlocal issued, in_flight
            while issued < plan.requests:
                if time.perf_counter() >= deadline:
                    sample.timed_out = True
                    return
                issued += 1  # single-threaded loop: no lock needed between awaits
                in_flight += 1
                sample.max_in_flight = max(sample.max_in_flight, in_flight)
                begun = time.perf_counter()
                try:
                    response = await client.get(plan.url)
                    await response.aread()
                except httpx.HTTPError as exc:
                    sample.statuses[type(exc).__name__] += 1
                    sample.errors += 1
                else:
                    sample.durations_ms.append((time.perf_counter() - begun) * 1000)
                    sample.statuses[str(response.status_code)] += 1
                    if response.status_code != plan.expected_status:
                        sample.errors += 1
                finally:
                    in_flight -= 1

        await asyncio.gather(*(user() for _ in range(min(plan.concurrency, plan.requests))))
    sample.elapsed_s = time.perf_counter() - started
    return sample


@dataclass(frozen=True)
class Thresholds:
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_error_rate: float = 0.0

    def shown(self) -> dict[str, float]:
        """The thresholds in force, for evidence."""
        return {name: value for name, value in vars(self).items() if value is not None}


def judge(sample: Sample, thresholds: Thresholds, check: GatewayCheck, subject: str) -> Outcome:
    """Percentiles under their thresholds, error rate at most the maximum, every request done."""
    outcome = Outcome(observed=[sample.summary()])
    if sample.completed == 0:
        outcome.findings.append(check.finding(subject, "no request completed"))
        return outcome
    for q, limit in ((50, thresholds.p50_ms), (95, thresholds.p95_ms), (99, thresholds.p99_ms)):
        value = sample.percentile(q)
        if limit is not None and value is not None and value > limit:
            outcome.findings.append(
                check.finding(
                    subject,
                    f"P{q} latency {value:.1f} ms exceeds {limit:g} ms "
                    f"({len(sample.durations_ms)} answered requests)",
                )
            )
    if sample.error_rate > thresholds.max_error_rate:
        outcome.findings.append(
            check.finding(
                subject,
                f"error rate {sample.error_rate:.2%} ({sample.errors} of {sample.completed}; "
                f"statuses {dict(sample.statuses)}) exceeds {thresholds.max_error_rate:.2%}",
            )
        )
    if sample.timed_out:
        outcome.findings.append(
            check.finding(
                subject,
                f"only {sample.completed} of {sample.planned} requests finished within the "
                f"time limit of {sample.elapsed_s:.0f} s",
            )
        )
    return outcome
