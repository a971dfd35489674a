"""The rate-limit burst: a bounded burst must be answered with 429 (with Retry-After).

The component sends the burst (``components.http.load``), a destructive probe: it spends the
probing client's allowance for the current window, so it runs after the read-only checks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.http import catalog


@dataclass
class BurstResult:
    """What a burst of at most ``limit`` requests got back; sending stops at the first 429."""

    path: str
    limit: int
    concurrency: int
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    first_limited_at: int | None = None  # 1-based number of the request that got the first 429
    retry_after: str | None = None  # the first 429's Retry-After header
    account: str = "anonymous"  # or "dedicated account" ([http.expect.rate_limit] login/client)
    problem: str | None = None  # why the burst was not sent (its account got no token)

    @property
    def limited(self) -> bool:
        return self.first_limited_at is not None

    def summary(self) -> dict[str, object]:
        return {
            "path": self.path,
            "sent": self.sent,
            "limit": self.limit,
            "statuses": dict(self.statuses),
            "first_429_at": self.first_limited_at,
            "retry_after": self.retry_after,
        }


def burst_findings(result: BurstResult, *, require_retry_after: bool = True) -> list[Finding]:
    """The burst met a 429 before its end, and the 429 said when to retry."""
    if result.problem is not None:
        return [catalog.RATE_BURST(result.path, result.problem)]
    if not result.limited:
        return [
            catalog.RATE_BURST(
                result.path,
                f"{result.sent} requests ({result.concurrency} at a time) got no 429 (statuses: "
                f"{dict(result.statuses)}); expected the rate limit to refuse the burst",
            )
        ]
    if require_retry_after and result.retry_after is None:
        return [catalog.RATE_BURST(result.path, "the 429 answer has no Retry-After header")]
    return []
