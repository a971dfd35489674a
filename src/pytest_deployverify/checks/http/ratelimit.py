"""The destructive rate-limit probe: a bounded burst must be answered with 429.

It spends the probing client's allowance for the current window, so later requests from the
same client may be refused until the window resets: run it after the read-only checks.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.common import Exchange, Outcome, bearer, send


@dataclass
class BurstOutcome(Outcome):
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    first_limited_at: int | None = None  # 1-based number of the request that got the first 429


def burst(
    client: httpx.Client,
    path: str,
    *,
    count: int,
    concurrency: int = 8,
    token: str | None = None,
    require_retry_after: bool = True,
) -> BurstOutcome:
    """Up to ``count`` GETs, ``concurrency`` at a time; stops sending at the first 429."""
    outcome = BurstOutcome()
    lock = threading.Lock()
    stop = threading.Event()
    limited: list[Exchange] = []
    headers = bearer(token) if token else {}

    def worker() -> None:
        while not stop.is_set():
            with lock:
                if outcome.sent >= count:
                    return
                outcome.sent += 1
                number = outcome.sent
            exchange = send(client, "GET", path, headers=headers)
            with lock:
                outcome.statuses[str(exchange.status or "error")] += 1
                if exchange.status == 429:
                    if outcome.first_limited_at is None or number < outcome.first_limited_at:
                        outcome.first_limited_at = number
                    limited.append(exchange)
                    stop.set()

    workers = max(1, min(concurrency, count))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="burst") as pool:
        futures = [pool.submit(worker) for _ in range(workers)]
    for future in futures:
        future.result()  # a bug in a worker must surface, not vanish with its thread
    outcome.observed.append(
        {
            "path": path,
            "sent": outcome.sent,
            "limit": count,
            "statuses": dict(outcome.statuses),
            "first_429_at": outcome.first_limited_at,
        }
    )
    if not limited:
        outcome.findings.append(
            catalog.RATE_BURST.finding(
                path,
                f"{outcome.sent} requests ({concurrency} at a time) got no 429 (statuses: "
                f"{dict(outcome.statuses)}); expected the rate limit to refuse the burst",
            )
        )
    elif require_retry_after and limited[0].header("Retry-After") is None:
        outcome.findings.append(
            catalog.RATE_BURST.finding(path, "the 429 answer has no Retry-After header")
        )
    return outcome
