"""Timed probes of the gateway: the read-only latency probe, and the destructive load probe and
rate-limit burst (run inside their checklist items, after the read-only checks).

One engine serves latency and load: N requests with bounded concurrency over kept-alive
connections, bounded in requests and in time, counting its own requests in flight. Every probe
asks for the component's client first, so a gateway that does not answer costs its one timeout
there and none of these probes fires a request.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.http.latency import Sample
from pytest_deployverify.checks.http.ratelimit import BurstResult
from pytest_deployverify.components.base import ReadContext
from pytest_deployverify.components.http.client import bearer, send, tls_context
from pytest_deployverify.components.http.config import HttpConfig
from pytest_deployverify.profile.secrets import Secret

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class Plan:
    url: str
    requests: int
    concurrency: int
    time_limit: float  # seconds; no new request starts after it
    expected_status: int = 200
    timeout: float = 5.0
    target: str = ""  # as evidence names it ("GET /health/live")


def plan_for(
    section: HttpConfig, path: str, requests: int, users: int, limit: float, status: int
) -> Plan:
    return Plan(
        url=urljoin(section.base_url.get().rstrip("/") + "/", path.lstrip("/")),
        requests=requests,
        concurrency=users,
        time_limit=limit,
        expected_status=status,
        timeout=section.timeout,
        target=f"GET {path}",
    )


def measure(
    plan: Plan,
    *,
    verify: bool | ssl.SSLContext = True,
    headers: Mapping[str, str] | None = None,
) -> Sample:
    """Run ``plan`` on a private event loop (call it from synchronous code)."""
    return asyncio.run(_run(plan, verify, dict(headers or {})))


async def _run(plan: Plan, verify: bool | ssl.SSLContext, headers: dict[str, str]) -> Sample:
    import httpx

    sample = Sample(planned=plan.requests, target=plan.target, concurrency=plan.concurrency)
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
            first = True  # this user's first request opens its connection
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
                    taken = (time.perf_counter() - begun) * 1000
                    (sample.connect_ms if first else sample.durations_ms).append(taken)
                    first = False
                    sample.statuses[str(response.status_code)] += 1
                    if response.status_code != plan.expected_status:
                        sample.errors += 1
                finally:
                    in_flight -= 1

        await asyncio.gather(*(user() for _ in range(min(plan.concurrency, plan.requests))))
    sample.elapsed_s = time.perf_counter() - started
    return sample


def measure_for(section: HttpConfig, plan: Plan) -> Sample:
    """``measure`` with the gateway's trust settings, headers and client certificate."""
    return measure(plan, verify=tls_context(section), headers=section.static_headers())


def read_latency(ctx: ReadContext) -> Sample:
    """``[http.expect.latency]``: a read-only probe, a few requests at a time."""
    ctx.client  # noqa: B018 - an unreachable gateway fails here, once, with its own message
    section: HttpConfig = ctx.section
    cfg = section.expect.latency
    if cfg.path is None:
        raise NotApplicable("[http.expect.latency] path is not set")
    plan = plan_for(
        section, cfg.path, cfg.requests, cfg.concurrency, cfg.time_limit, cfg.expected_status
    )
    return measure_for(section, plan)


def run_load(client: httpx.Client, section: HttpConfig) -> Sample:
    """``[http.expect.load]``: the bounded concurrent-users probe (destructive). ``client`` is the
    component's probed client: asking for it is what proves the gateway answers."""
    del client  # the probe opens its own connections, one per user
    cfg = section.expect.load
    if cfg.path is None:
        raise NotApplicable("[http.expect.load] path is not set")
    plan = plan_for(section, cfg.path, cfg.requests, cfg.users, cfg.time_limit, cfg.expected_status)
    return measure_for(section, plan)


def burst(
    client: httpx.Client,
    path: str,
    *,
    count: int,
    concurrency: int = 8,
    token: Secret | None = None,
) -> BurstResult:
    """Up to ``count`` GETs, ``concurrency`` at a time; stops sending at the first 429."""
    result = BurstResult(path=path, limit=count, concurrency=concurrency)
    lock = threading.Lock()
    stop = threading.Event()
    headers = bearer(token) if token else {}

    def worker() -> None:
        while not stop.is_set():
            with lock:
                if result.sent >= count:
                    return
                result.sent += 1
                number = result.sent
            exchange = send(client, "GET", path, headers=headers)
            with lock:
                result.statuses[str(exchange.status or "error")] += 1
                if exchange.status == 429:
                    if result.first_limited_at is None or number < result.first_limited_at:
                        result.first_limited_at = number
                        result.retry_after = exchange.header("Retry-After")
                    stop.set()

    workers = max(1, min(concurrency, count))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="burst") as pool:
        futures = [pool.submit(worker) for _ in range(workers)]
    for future in futures:
        future.result()  # a bug in a worker must surface, not vanish with its thread
    return result
