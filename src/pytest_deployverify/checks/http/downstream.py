"""Downstream services: every health endpoint answers 200, probed side by side.

The probes run concurrently (one thread each, bounded), so the check costs about the slowest
service rather than the sum of all of them. The probe counts its own requests in flight, which
shows the concurrency as data instead of as a wall-clock claim.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.common import describe_error
from pytest_deployverify.components.services import Service

MAX_WORKERS = 32


@dataclass(frozen=True)
class ServiceTarget:
    name: str
    url: str  # the health endpoint, as is
    shown_url: str  # the same with any password masked
    timeout: float

    @classmethod
    def of(cls, service: Service) -> ServiceTarget:
        return cls(service.name, service.url.get(), str(service.url), service.timeout)


def targets(services: Iterable[Service]) -> list[ServiceTarget]:
    """The profile's ``[[services]]`` as probe targets (``url`` is the health endpoint)."""
    return [ServiceTarget.of(service) for service in services]


@dataclass(frozen=True)
class ServiceResult:
    name: str
    url: str  # masked
    status: int | None
    error: str | None
    elapsed_ms: float

    @property
    def healthy(self) -> bool:
        return self.status == 200


@dataclass
class DownstreamReport:
    results: list[ServiceResult] = field(default_factory=list)
    elapsed_ms: float = 0.0
    max_in_flight: int = 0  # the most probes that were waiting for an answer at the same time

    @property
    def findings(self) -> list[Finding]:
        return [
            catalog.DOWNSTREAM.finding(
                f"service {r.name} ({r.url})",
                (
                    f"health endpoint answered {r.status}; expected 200"
                    if r.status is not None
                    else f"health endpoint did not answer: {r.error}"
                ),
            )
            for r in self.results
            if not r.healthy
        ]

    def observed(self) -> list[dict[str, object]]:
        return [
            {"service": r.name, "status": r.status, "error": r.error, "ms": round(r.elapsed_ms)}
            for r in self.results
        ]


class _InFlight:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.current -= 1


def probe_services(
    services: Sequence[ServiceTarget],
    *,
    verify: bool | ssl.SSLContext = True,
    max_workers: int = MAX_WORKERS,
) -> DownstreamReport:
    """GET every service's health URL concurrently; results keep the services' order."""
    report = DownstreamReport()
    if not services:
        return report
    in_flight = _InFlight()
    workers = max(1, min(max_workers, len(services)))
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=0)
    started = time.perf_counter()
    # A client of its own: the gateway's headers (API keys) must not travel to other services.
    with httpx.Client(verify=verify, limits=limits, follow_redirects=False) as client:

        def one(target: ServiceTarget) -> ServiceResult:
            begun = time.perf_counter()
            status, error = None, None
            with in_flight:
                try:
                    status = client.get(target.url, timeout=target.timeout).status_code
                except httpx.HTTPError as exc:
                    error = describe_error(exc)
            elapsed = (time.perf_counter() - begun) * 1000
            return ServiceResult(target.name, target.shown_url, status, error, elapsed)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="downstream") as pool:
            report.results = list(pool.map(one, services))
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    report.max_in_flight = in_flight.peak
    return report
