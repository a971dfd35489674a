"""Probing the downstream services for readiness, behind one circuit breaker per service.

A breaker opens after ``circuit_failure_threshold`` consecutive failed probes; while open the
service is reported ``circuit_open`` without being called, and after ``circuit_reset_seconds``
one trial probe decides whether it closes again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from sandbox.gateway.metrics import Metrics
from sandbox.gateway.settings import DownstreamService, GatewaySettings

OK = "ok"


@dataclass
class CircuitBreaker:
    threshold: int
    reset_seconds: float
    consecutive_failures: int = 0
    opened_at: float | None = None

    def allows_call(self, now: float) -> bool:
        return self.opened_at is None or now - self.opened_at >= self.reset_seconds

    def record(self, healthy: bool, now: float) -> None:
        if healthy:
            self.consecutive_failures = 0
            self.opened_at = None
            return
        self.consecutive_failures += 1
        if self.consecutive_failures >= self.threshold:
            self.opened_at = now

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


class DownstreamMonitor:
    def __init__(self, settings: GatewaySettings, metrics: Metrics) -> None:
        self.services = settings.downstream_services
        self.timeout_s = settings.downstream_timeout_ms / 1000
        self.metrics = metrics
        self.breakers = {
            service.name: CircuitBreaker(
                settings.circuit_failure_threshold, settings.circuit_reset_seconds
            )
            for service in self.services
        }

    async def check_all(self) -> dict[str, str]:
        """Status per service: ok, unhealthy (non-200), timeout, unreachable or circuit_open."""
        if not self.services:
            return {}
        # trust_env=False: proxy variables must never reroute a loopback health probe.
        async with httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as client:
            statuses = await asyncio.gather(
                *(self._check(client, service) for service in self.services)
            )
        return dict(zip((service.name for service in self.services), statuses, strict=True))

    async def _check(self, client: httpx.AsyncClient, service: DownstreamService) -> str:
        breaker = self.breakers[service.name]
        if not breaker.allows_call(time.monotonic()):
            return "circuit_open"
        status = await _probe(client, service.url + "/health")
        breaker.record(status == OK, time.monotonic())
        self.metrics.set_circuit_open(service.name, breaker.is_open)
        return status


async def _probe(client: httpx.AsyncClient, url: str) -> str:
    try:
        response = await client.get(url)
    except httpx.TimeoutException:
        return "timeout"
    except httpx.TransportError:
        return "unreachable"
    return OK if response.status_code == 200 else "unhealthy"
