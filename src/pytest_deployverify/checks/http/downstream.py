"""Downstream services: every health endpoint answered 200.

The ``services`` component probes them side by side (``components.services``) and counts its
own requests in flight, which shows the concurrency as data instead of as a wall-clock claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.http import catalog


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

    def observed(self) -> list[dict[str, object]]:
        return [
            {"service": r.name, "status": r.status, "error": r.error, "ms": round(r.elapsed_ms)}
            for r in self.results
        ]


def downstream_findings(report: DownstreamReport) -> list[Finding]:
    """Each service's health endpoint answered 200."""
    return [
        catalog.DOWNSTREAM(
            f"service {r.name} ({r.url})",
            (
                f"health endpoint answered {r.status}; expected 200"
                if r.status is not None
                else f"health endpoint did not answer: {r.error}"
            ),
        )
        for r in report.results
        if not r.healthy
    ]
