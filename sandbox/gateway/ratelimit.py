"""Fixed-window rate limiting, in Redis (shared by every replica) or in process (one replica).

Redis uses the classic INCR + PEXPIRE pair: the first request of a window creates the key and
starts its expiry, the key's remaining TTL is the time until the window resets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger("gateway.ratelimit")

KEY_PREFIX = "gateway:ratelimit:"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # whole seconds until the window resets (never 0 while limited)


class RateLimiter(Protocol):
    async def hit(self, identity: str) -> Decision | None:
        """Count one request; ``None`` when the limiter cannot decide (it then lets it pass)."""

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def _decision(limit: int, count: int, reset_ms: float) -> Decision:
    return Decision(
        allowed=count <= limit,
        limit=limit,
        remaining=max(0, limit - count),
        reset_seconds=max(1, math.ceil(reset_ms / 1000)),
    )


class MemoryRateLimiter:
    def __init__(self, limit: int, window_ms: int) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self._windows: dict[str, tuple[float, int]] = {}  # identity -> (window end ms, count)

    async def hit(self, identity: str) -> Decision:
        now_ms = time.monotonic() * 1000
        ends_at, count = self._windows.get(identity, (0.0, 0))
        if now_ms >= ends_at:
            ends_at, count = now_ms + self.window_ms, 0
            self._forget_expired(now_ms)
        count += 1
        self._windows[identity] = (ends_at, count)
        return _decision(self.limit, count, ends_at - now_ms)

    def _forget_expired(self, now_ms: float) -> None:
        for identity in [key for key, (ends, _) in self._windows.items() if ends <= now_ms]:
            del self._windows[identity]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._windows.clear()


class RedisRateLimiter:
    def __init__(self, url: str, limit: int, window_ms: int, timeout_s: float = 0.5) -> None:
        self.url = url
        self.limit = limit
        self.window_ms = window_ms
        self.timeout_s = timeout_s
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _redis(self) -> Redis:
        # A connection pool belongs to one event loop; test clients may start a new loop.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = Redis.from_url(
                self.url,
                socket_timeout=self.timeout_s,
                socket_connect_timeout=self.timeout_s,
                retry=Retry(NoBackoff(), 0),  # no hidden retries: one bounded attempt
            )
            self._loop = loop
        return self._client

    async def hit(self, identity: str) -> Decision | None:
        key = KEY_PREFIX + identity
        try:
            client = self._redis()
            async with client.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.pttl(key)
                count, ttl_ms = await pipe.execute()
            if count == 1 or ttl_ms < 0:
                # First hit of a window (or a key that lost its expiry): start the window.
                await client.pexpire(key, self.window_ms)
                ttl_ms = self.window_ms
        except (RedisError, OSError) as exc:
            # Fail open: an unreachable Redis must not take the whole API down; readiness
            # reports it instead.
            log.warning("rate limiter unavailable, request not counted: %s", type(exc).__name__)
            return None
        return _decision(self.limit, int(count), float(ttl_ms))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis().ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        if self._client is not None:
            # Its event loop may be gone already (test clients run one loop per session).
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await self._client.aclose()
            self._client = None
            self._loop = None
