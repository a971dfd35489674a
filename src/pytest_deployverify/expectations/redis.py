"""Profile expectations for the Redis checks: ``[redis.expect]`` (and ``[redis.expect.sentinel]``).

TLS is asked for with ``[redis] expect_tls``; the hit-rate floor defaults to ``[slo] cache_hit_rate``.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Annotated

from pytest_deployverify.expectations.monitoring import NoDataPolicy
from pytest_deployverify.profile.fields import Count, Fraction, PositiveFloat, Seconds
from pytest_deployverify.profile.schema import Range
from pytest_deployverify.profile.secrets import Secret

model = dataclasses.dataclass(frozen=True, kw_only=True)

Port = Annotated[int, Range(ge=1, le=65535)]

# Every policy but noeviction: a cache that refuses writes when full fails the gateway instead.
EVICTING_POLICIES = (
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
)


class Persistence(StrEnum):
    """Which persistence the checklist asks for. ``none``: a pure cache; nothing is required."""

    RDB = "rdb"
    AOF = "aof"
    BOTH = "both"
    ANY = "any"
    NONE = "none"


class ReplicationRole(StrEnum):
    MASTER = "master"
    REPLICA = "replica"


@model
class RedisSentinelExpectations:
    """``[redis.expect.sentinel]``: Sentinels watching the cache's master."""

    addresses: tuple[str, ...]  # "host:port" of each Sentinel
    master: str = "mymaster"
    min_sentinels: Annotated[int, Range(ge=1)] = 3
    password: Secret | None = None
    tls: bool = False


@model
class RedisExpectations:
    """``[redis.expect]``."""

    require_auth: bool = True
    # Ports on the Redis host that must not answer plaintext RESP when TLS is expected
    # (the TLS port itself is always tried too).
    plaintext_ports: tuple[Port, ...] = ()
    persistence: Persistence = Persistence.ANY
    max_save_age_s: PositiveFloat = 86400.0
    require_maxmemory: bool = True
    eviction_policies: tuple[str, ...] = EVICTING_POLICIES
    max_memory_fraction: Fraction = 0.9
    min_hit_rate: Fraction | None = None  # None: [slo] cache_hit_rate
    min_hit_samples: Count = 1000
    hit_rate_no_data: NoDataPolicy = NoDataPolicy.FAIL
    role: ReplicationRole | None = None
    min_replicas: Count = 0
    sentinel: RedisSentinelExpectations | None = None
    # A Prometheus scrape job whose targets (the Redis exporter) must all be up.
    exporter_job: str | None = None
    probe_timeout: Seconds | None = None  # for the extra probes; None: [redis] timeout
