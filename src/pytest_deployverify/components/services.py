"""Downstream services: ``[[services]]``, each a health URL the service depends on.

A component of its own (it is not the gateway): its one reader, ``health``, GETs every service's
health URL side by side (one thread each, bounded), so it costs about the slowest service rather
than the sum of all of them, and counts its own requests in flight. It uses a client of its own:
the gateway's headers (API keys) must not travel to other services. httpx is imported inside
the reader.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from pytest_deployverify.checks.http.catalog import SERVICE_CHECKS
from pytest_deployverify.checks.http.downstream import DownstreamReport, ServiceResult
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.profile.fields import HttpUrl, Seconds

MAX_WORKERS = 32


@dataclasses.dataclass(frozen=True, kw_only=True)
class Service:
    """A downstream service whose health endpoint must answer."""

    # The service's name, unique among [[services]] and shown in the reports.
    name: str
    # Its health endpoint, which must answer 200; redirects are not followed
    # (`url = "http://orders.internal:8080/health"`).
    url: HttpUrl
    # Seconds the health endpoint may take to answer.
    timeout: Seconds = 5.0


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
    services: Sequence[Service], *, max_workers: int = MAX_WORKERS
) -> DownstreamReport:
    """GET every service's health URL concurrently; results keep the services' order."""
    import httpx

    from pytest_deployverify.components.http.client import describe_error

    report = DownstreamReport()
    if not services:
        return report
    in_flight = _InFlight()
    workers = max(1, min(max_workers, len(services)))
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=0)
    started = time.perf_counter()
    with httpx.Client(limits=limits, follow_redirects=False) as client:

        def one(service: Service) -> ServiceResult:
            begun = time.perf_counter()
            status, error = None, None
            with in_flight:
                try:
                    status = client.get(service.url.get(), timeout=service.timeout).status_code
                except httpx.HTTPError as exc:
                    error = describe_error(exc)
            elapsed = (time.perf_counter() - begun) * 1000
            return ServiceResult(service.name, service.url.display, status, error, elapsed)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="downstream") as pool:
            report.results = list(pool.map(one, services))
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    report.max_in_flight = in_flight.peak
    return report


def _health(ctx: ReadContext) -> DownstreamReport:
    services: tuple[Service, ...] = ctx.section
    return probe_services(services)


component = Component(
    name="services",
    title="Downstream services",
    sections=(
        SectionSpec(
            "services",
            tuple[Service, ...],
            "downstream services and their health URLs",
            unique="name",
        ),
    ),
    reads={"health": _health},
    checks=SERVICE_CHECKS,
    checklist=("pytest_deployverify.checklist.test_services",),
    endpoint=lambda services: f"{len(services)} service(s)",
    extra="http",
)
