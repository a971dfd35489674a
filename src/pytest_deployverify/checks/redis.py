"""Redis: what the checklist expects (``[redis.expect]``), the snapshots it judges, the checks.

Pure functions over plain snapshots; the reading (INFO, CONFIG GET, PING without credentials,
Sentinel commands) lives in ``components.redis``. Everything is judged from INFO where possible,
because managed services (ElastiCache, Memorystore, Azure Cache) disable CONFIG; what could only
come from CONFIG is listed in ``unreadable`` instead of being guessed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from pytest_deployverify.checks.declarations import declare, flag, lookup, needs, needs_any
from pytest_deployverify.checks.findings import Finding, Rule, Severity
from pytest_deployverify.profile.fields import (
    Count,
    Fraction,
    NoDataPolicy,
    PositiveFloat,
    Seconds,
)
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.schema import Range
from pytest_deployverify.profile.secrets import Secret

model = dataclasses.dataclass(frozen=True, kw_only=True)

Port = Annotated[int, Range(ge=1, le=65535)]

# Every policy but noeviction: a cache that refuses writes when full fails the service instead.
EVICTING_POLICIES = (
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
)
# Replies meaning "not without credentials": NOAUTH/WRONGPASS, and protected mode's DENIED.
REFUSAL_PREFIXES = ("-NOAUTH", "-WRONGPASS", "-DENIED", "-ERR AUTH", "-NOPERM")


# -- expectations --------------------------------------------------------------------------------


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

    # The Sentinels to ask, "host:port" each (port default 26379).
    addresses: tuple[str, ...]
    # The master's name in the Sentinels' configuration (`sentinel monitor NAME ...`).
    master: str = "mymaster"
    # The fewest Sentinels that must monitor the master (as the answering Sentinels count them).
    min_sentinels: Annotated[int, Range(ge=1)] = 3
    # The Sentinels' password (requirepass of sentinel.conf); unset: they are asked without one.
    password: Secret | None = None
    # Talk to the Sentinels over TLS, verified with [redis] ca_file.
    tls: bool = False


@model
class RedisExpectations:
    """``[redis.expect]``: TLS is asked for with ``[redis] expect_tls``; the hit-rate floor defaults
    to ``[slo] cache_hit_rate``."""

    # A PING without credentials must be refused (NOAUTH); false for a cache that is
    # deliberately open (SEC-REDIS-AUTH is then not applicable).
    require_auth: bool = True
    # Ports on the Redis host that must not answer plaintext RESP when TLS is expected, besides
    # the URL's port and the plaintext port the server itself reports (INFO tcp_port).
    plaintext_ports: tuple[Port, ...] = ()
    # The persistence required: "rdb" (snapshots), "aof" (append-only file), "both", "any" of
    # the two, or "none" for a pure cache; the last save and write must also have succeeded.
    persistence: Persistence = Persistence.ANY
    # Seconds unsaved changes may wait for the next RDB snapshot (rdb_last_save_time).
    max_save_age_s: PositiveFloat = 86400.0
    # maxmemory must be set (0 means unlimited: the cache grows until the node runs out).
    require_maxmemory: bool = True
    # The maxmemory-policy values accepted (default: every evicting policy, not noeviction);
    # empty: the policy is not judged.
    eviction_policies: tuple[str, ...] = EVICTING_POLICIES
    # The highest share of maxmemory used_memory may reach, 0 to 1.
    max_memory_fraction: Fraction = 0.9
    # The lowest keyspace hit rate allowed, 0 to 1 (unset: [slo] cache_hit_rate).
    min_hit_rate: Fraction | None = None
    # The fewest keyspace lookups (hits + misses since the stats were reset) the hit rate is
    # judged on; with fewer, hit_rate_no_data decides.
    min_hit_samples: Count = 1000
    # What too few lookups mean: "fail", "pass", or "inconclusive" (the item says why and does
    # not pass).
    hit_rate_no_data: NoDataPolicy = NoDataPolicy.FAIL
    # The replication role the server must have, "master" or "replica" (unset: either).
    role: ReplicationRole | None = None
    # Online replicas a master must have (0: not judged).
    min_replicas: Count = 0
    sentinel: RedisSentinelExpectations | None = None
    # A Prometheus scrape job whose targets (the Redis exporter) must all be up.
    exporter_job: str | None = None
    # Seconds for the reads and the extra probes (unauthenticated, TLS and plaintext PINGs,
    # Sentinels); unset: [redis] timeout.
    probe_timeout: Seconds | None = None
    # A key prefix the verifier may write to (SMOKE-REDIS-READ-WRITE): a random key under it is
    # SET with a 30 s TTL, read back and deleted (`probe_key_prefix = "deployverify:probe:"`).
    probe_key_prefix: str | None = None
    # Without probe_key_prefix, write the probe key under "deployverify:probe:" anyway
    # (SMOKE-REDIS-READ-WRITE-UNSCOPED, a destructive check: held back on protected
    # environments unless --allow-destructive).
    allow_write_probe: bool = False

    def __post_init__(self) -> None:
        prefix = self.probe_key_prefix
        if prefix is not None and (not prefix.strip() or any(c in prefix for c in "*?[] \t\n")):
            raise ValueError(
                f"probe_key_prefix {prefix!r}: give a literal key prefix the verifier may write "
                'to, without spaces or glob characters (e.g. "deployverify:probe:")'
            )


# -- snapshots -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedisSnapshot:
    """INFO (all sections), the CONFIG values that could be read, and what could not be read."""

    endpoint: str
    info: Mapping[str, Any]
    config: Mapping[str, str]
    unreadable: tuple[str, ...] = ()
    taken_at: float = 0.0
    login: str | None = None  # the ACL user that read it (None: the default user)
    # Why CONFIG GET could not be read ("not verified: needs +config|get (ACL)", "unknown
    # command 'CONFIG'"); None when it was read.
    config_refused: str | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.info.get(key, default)


@dataclass(frozen=True)
class RespReply:
    """What one connection answered to a bare ``PING`` sent without credentials."""

    address: str
    tls: bool
    reply: str | None  # first RESP line, or None when nothing RESP-like came back
    problem: str | None = None  # why there was no reply
    tls_version: str | None = None

    @property
    def answered(self) -> bool:
        return self.reply is not None

    @property
    def refused_auth(self) -> bool:
        return self.reply is not None and self.reply.upper().startswith(REFUSAL_PREFIXES)


@dataclass(frozen=True)
class TlsProbe:
    """The URL the profile uses, a verified TLS PING (for ``rediss://``), and plaintext PINGs on
    every port that might serve plaintext: the URL's, the server's own ``tcp_port``, the profile's."""

    url_display: str
    scheme: str
    address: str
    tls: RespReply | None
    plaintext: tuple[RespReply, ...]
    ports_from_server: tuple[int, ...] = ()


@dataclass(frozen=True)
class SentinelReading:
    """What one Sentinel said about the master (or why it could not be asked)."""

    address: str
    ckquorum: str | None = None
    quorum_ok: bool = False
    master: Mapping[str, Any] = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True)
class WriteProbe:
    """A key written, read back and deleted in one round trip (SET NX PX, GET, PTTL, DEL): what
    each step answered. ``refused``: the server's error to the write (READONLY on a replica, OOM
    under noeviction, MISCONF when persistence fails); ``problem``: the other steps' errors."""

    endpoint: str
    key: str
    ttl_ms: int
    written: bool
    read_back: bool
    ttl_left_ms: int | None = None
    deleted: int | None = None
    refused: str | None = None
    problem: str | None = None
    elapsed_ms: float = 0.0
    login: str | None = None

    def steps(self) -> dict[str, Any]:
        """What each command answered, for the evidence (the random value is not shown)."""
        return {
            f"SET {self.key} NX PX {self.ttl_ms}": "OK" if self.written else self.refused,
            "GET": "the value written" if self.read_back else "not the value written",
            "PTTL": self.ttl_left_ms,
            "DEL": self.deleted,
        }


@dataclass(frozen=True)
class HitRate:
    """Keyspace hit rate since the last stats reset, and what it means against the floor."""

    status: str  # "pass", "fail" or "inconclusive"
    rate: float | None
    hits: int
    misses: int
    floor: float
    min_samples: int
    message: str

    @property
    def samples(self) -> int:
        return self.hits + self.misses


# -- rules and declarations -----------------------------------------------------------------------

AUTH = Rule("redis-auth-required", Severity.CRITICAL, "clients without credentials are refused")
TLS = Rule("redis-tls", Severity.HIGH, "TLS in use, plaintext refused")
PERSISTENCE = Rule("redis-persistence", Severity.HIGH, "persistence configured and saving")
MEMORY = Rule("redis-memory", Severity.HIGH, "memory limit and eviction policy")
REPLICATION = Rule("redis-replication", Severity.HIGH, "replication as expected")
SENTINEL = Rule("redis-sentinel", Severity.HIGH, "Sentinel quorum reachable")
REACH = Rule("redis-reachable", Severity.CRITICAL, "INFO answers with a version")
READ_WRITE = Rule(
    "redis-read-write", Severity.HIGH, "a key written with a TTL is read back and deleted"
)
# Where SMOKE-REDIS-READ-WRITE-UNSCOPED writes when the profile dedicates no prefix.
DEFAULT_PROBE_PREFIX = "deployverify:probe:"
PROBE_TTL_MS = 30_000


def _unscoped_probe(profile: Profile) -> str | None:
    """SMOKE-REDIS-READ-WRITE-UNSCOPED applies when no prefix is dedicated and writing anyway is
    allowed."""
    if lookup(profile, "redis.expect.probe_key_prefix") not in (None, ""):
        return "[redis.expect] probe_key_prefix is set: SMOKE-REDIS-READ-WRITE probes under it"
    if lookup(profile, "redis.expect.allow_write_probe") is not True:
        return (
            "[redis.expect] probe_key_prefix is not set (a key prefix the verifier may write "
            "to); set it, or allow_write_probe = true to probe as a destructive check"
        )
    return None


_R = ("redis",)
REDIS_REACH = declare(
    "INFRA-REDIS-REACH",
    title="Redis answers PING and INFO",
    section="infra",
    severity="critical",
    components=_R,
    keys=("redis.url", "redis.monitor_username"),
    reads=("redis.info",),
    description="The cache the service depends on is reachable with the profile's credentials "
    "(the monitoring login when [redis] monitor_username is set). A command that login may not "
    "run makes the items that need it 'not verified: needs +<command> (ACL)'.",
)
REDIS_AUTH = declare(
    "SEC-REDIS-AUTH",
    title="Redis refuses clients without credentials",
    section="security",
    severity="critical",
    components=_R,
    keys=("redis.expect.require_auth",),
    reads=("redis.auth_probe",),
    applies=flag("redis.expect.require_auth"),
    description="A PING sent without credentials must be refused (NOAUTH); "
    "set [redis.expect] require_auth = false for a cache that is deliberately open.",
)
REDIS_TLS = declare(
    "SEC-REDIS-TLS",
    title="Redis uses TLS and refuses plaintext",
    section="security",
    severity="high",
    components=_R,
    keys=("redis.expect_tls", "redis.expect.plaintext_ports"),
    reads=("redis.tls_probe",),
    applies=flag("redis.expect_tls"),
    description="With [redis] expect_tls, the URL is rediss://, the handshake verifies against "
    "ca_file, and no port of the host (the server's own tcp_port included) answers plaintext.",
)
REDIS_PERSISTENCE = declare(
    "INFRA-REDIS-PERSIST",
    title="Redis persistence configured and saving",
    section="infra",
    severity="high",
    components=_R,
    keys=("redis.expect.persistence", "redis.expect.max_save_age_s"),
    reads=("redis.info",),
)
REDIS_MEMORY = declare(
    "INFRA-REDIS-MEMORY",
    title="Redis memory limit and eviction policy set",
    section="infra",
    severity="high",
    components=_R,
    keys=(
        "redis.expect.require_maxmemory",
        "redis.expect.eviction_policies",
        "redis.expect.max_memory_fraction",
    ),
    reads=("redis.info",),
)
REDIS_HIT_RATE = declare(
    "MON-REDIS-HITRATE",
    title="Cache hit rate above the floor",
    section="monitoring",
    severity="medium",
    components=_R,
    keys=("slo.cache_hit_rate", "redis.expect.min_hit_rate", "redis.expect.min_hit_samples"),
    reads=("redis.info",),
)
REDIS_REPLICATION = declare(
    "INFRA-REDIS-REPLICATION",
    title="Redis replication as expected",
    section="infra",
    severity="high",
    components=_R,
    keys=("redis.expect.role", "redis.expect.min_replicas"),
    reads=("redis.info",),
    applies=needs_any("redis.expect.role", "redis.expect.min_replicas"),
)
REDIS_SENTINEL = declare(
    "INFRA-REDIS-SENTINEL",
    title="Redis Sentinel quorum reachable",
    section="infra",
    severity="high",
    components=_R,
    keys=("redis.expect.sentinel",),
    reads=("redis.sentinels",),
    applies=needs("redis.expect.sentinel"),
)
REDIS_EXPORTER = declare(
    "MON-REDIS-EXPORTER",
    title="Redis exporter scraped by Prometheus",
    section="monitoring",
    severity="medium",
    components=("redis", "prometheus"),
    keys=("redis.expect.exporter_job",),
    reads=("prometheus.targets",),
    applies=needs("redis.expect.exporter_job", "prometheus"),
)
REDIS_READ_WRITE = declare(
    "SMOKE-REDIS-READ-WRITE",
    title="Redis accepts a write and reads it back",
    section="smoke",
    severity="high",
    components=_R,
    keys=("redis.expect.probe_key_prefix",),
    reads=("redis.write_probe",),
    applies=needs("redis.expect.probe_key_prefix"),
    description="A random key under [redis.expect] probe_key_prefix (a prefix the profile "
    "dedicates to the verifier) is SET with a 30 s TTL, read back, and deleted, in one round "
    "trip: the cache serves writes (not a read-only replica, not full under noeviction, not "
    "refusing writes after a failed save). Nothing else is touched.",
)
REDIS_READ_WRITE_UNSCOPED = declare(
    "SMOKE-REDIS-READ-WRITE-UNSCOPED",
    title="Redis accepts a write and reads it back (no dedicated key prefix)",
    section="smoke",
    severity="high",
    components=_R,
    keys=("redis.expect.allow_write_probe", "redis.expect.probe_key_prefix"),
    destructive=True,
    applies=_unscoped_probe,
    description="The same probe when the profile dedicates no key prefix but sets "
    "allow_write_probe: the key is written under deployverify:probe:, so the item is "
    "destructive (held back on protected environments unless --allow-destructive).",
)
CHECKS = (
    REDIS_REACH,
    REDIS_AUTH,
    REDIS_TLS,
    REDIS_PERSISTENCE,
    REDIS_MEMORY,
    REDIS_HIT_RATE,
    REDIS_REPLICATION,
    REDIS_SENTINEL,
    REDIS_EXPORTER,
    REDIS_READ_WRITE,
    REDIS_READ_WRITE_UNSCOPED,
)


# -- judging -------------------------------------------------------------------------------------


def snapshot_summary(snap: RedisSnapshot) -> dict[str, Any]:
    """The INFO fields the checks use, as small plain data for evidence."""
    keys = (
        "redis_version",
        "role",
        "connected_slaves",
        "uptime_in_seconds",
        "aof_enabled",
        "aof_last_write_status",
        "rdb_last_bgsave_status",
        "rdb_last_save_time",
        "rdb_changes_since_last_save",
        "maxmemory",
        "maxmemory_policy",
        "used_memory",
        "keyspace_hits",
        "keyspace_misses",
    )
    summary: dict[str, Any] = {key: snap.info[key] for key in keys if key in snap.info}
    if snap.config:
        summary["config"] = dict(snap.config)
    if snap.unreadable:
        summary["unreadable"] = list(snap.unreadable)
    if snap.login:
        summary["login"] = snap.login
    return summary


def reach_findings(snap: RedisSnapshot) -> list[Finding]:
    if snap.get("redis_version"):
        return []
    return [REACH(f"redis {snap.endpoint}", "INFO answered without redis_version")]


def auth_findings(reply: RespReply) -> list[Finding]:
    """An unauthenticated PING must be refused (NOAUTH/WRONGPASS)."""
    subject = f"redis {reply.address}"
    if reply.refused_auth:
        return []
    if reply.reply is None:
        return [
            AUTH(
                subject,
                f"could not test authentication: {reply.problem}; expected a reply refusing "
                "an unauthenticated PING (NOAUTH)",
                Severity.HIGH,
            )
        ]
    if reply.reply.upper().startswith("+PONG"):
        message = (
            f"answered {reply.reply!r} to a PING without credentials; expected NOAUTH "
            "(set requirepass or ACL users with passwords)"
        )
    else:
        message = f"answered {reply.reply!r} to a PING without credentials; expected NOAUTH"
    return [AUTH(subject, message)]


def tls_findings(probe: TlsProbe) -> list[Finding]:
    """TLS in use (``rediss://``, verified handshake) and no port answering plaintext RESP."""
    findings: list[Finding] = []
    subject = f"redis {probe.address}"
    if probe.scheme != "rediss":
        findings.append(
            TLS(
                subject,
                f"the profile expects TLS but the URL is {probe.url_display} (plaintext); "
                "expected rediss://",
            )
        )
    elif probe.tls is not None and probe.tls.reply is None:
        findings.append(
            TLS(
                subject,
                f"no verified TLS session: {probe.tls.problem}; expected a TLS handshake "
                "trusted by the profile's ca_file",
            )
        )
    for reply in probe.plaintext:
        if reply.answered:
            port = reply.address.rpartition(":")[2]
            told = (
                " (the server reports it as its tcp_port)"
                if port.isdigit() and int(port) in probe.ports_from_server
                else ""
            )
            findings.append(
                TLS(
                    f"redis {reply.address}",
                    f"answers plaintext RESP ({reply.reply!r}){told}; expected plaintext "
                    "connections to be refused when TLS is required",
                )
            )
    return findings


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def rdb_schedule(snap: RedisSnapshot) -> bool | None:
    """True/False when the RDB save schedule is known (CONFIG, or INFO shows snapshots), else None."""
    if "save" in snap.config:
        return bool(snap.config["save"].strip())
    if int(snap.get("rdb_saves", 0) or 0) > 0 or int(snap.get("rdb_last_bgsave_time_sec", -1)) >= 0:
        return True
    return None


def persistence_findings(
    snap: RedisSnapshot, expect: RedisExpectations, now: float | None = None
) -> list[Finding]:
    """RDB and/or AOF as expected, the last save and write successful, the last save recent."""
    now = snap.taken_at if now is None else now
    subject = f"redis {snap.endpoint}"
    found: list[Finding] = []

    def fail(message: str, severity: Severity = Severity.HIGH) -> None:
        found.append(PERSISTENCE(subject, message, severity))

    aof = int(snap.get("aof_enabled", 0) or 0) == 1
    rdb = rdb_schedule(snap)
    want = expect.persistence
    save_text = snap.config.get("save")
    rdb_seen = (
        f"save {save_text!r}"
        if save_text is not None
        else f"rdb_saves:{snap.get('rdb_saves', '?')} since start"
    )
    why = f": {snap.config_refused}" if snap.config_refused else ""
    unknown_rdb = (
        f"the save schedule could not be read (CONFIG refused{why}) and no RDB snapshot was "
        f"taken in {_age(float(snap.get('uptime_in_seconds', 0)))} of uptime"
    )
    if want in (Persistence.AOF, Persistence.BOTH) and not aof:
        fail(f"AOF is off (aof_enabled:0); expected appendonly yes (persistence = {want.value})")
    if want in (Persistence.RDB, Persistence.BOTH):
        if rdb is False:
            fail(f"RDB snapshots are off ({rdb_seen}); expected a save schedule")
        elif rdb is None:
            fail(f"RDB snapshots could not be confirmed: {unknown_rdb}", Severity.MEDIUM)
    if want is Persistence.ANY and not aof:
        if rdb is False:
            fail(
                f"persistence is off: AOF off (aof_enabled:0) and no RDB schedule ({rdb_seen}); "
                "expected AOF or an RDB save schedule"
            )
        elif rdb is None:
            fail(
                f"persistence could not be confirmed: AOF is off and {unknown_rdb}", Severity.MEDIUM
            )

    uses_rdb = rdb is True or want in (Persistence.RDB, Persistence.BOTH)
    bgsave = snap.get("rdb_last_bgsave_status")
    if uses_rdb and bgsave not in (None, "ok"):
        fail(f"the last RDB save failed (rdb_last_bgsave_status:{bgsave}); expected ok")
    if aof:
        for key in ("aof_last_write_status", "aof_last_bgrewrite_status"):
            status = snap.get(key)
            if status not in (None, "ok"):
                fail(f"the last AOF write failed ({key}:{status}); expected ok")
    last_save = snap.get("rdb_last_save_time")
    pending = int(snap.get("rdb_changes_since_last_save", 0) or 0)
    if uses_rdb and last_save is not None and pending > 0:
        age = now - float(last_save)
        if age > expect.max_save_age_s:
            fail(
                f"{pending} change(s) not saved for {_age(age)} (rdb_last_save_time "
                f"{int(last_save)}); expected a save within {_age(expect.max_save_age_s)}"
            )
    return found


def memory_findings(snap: RedisSnapshot, expect: RedisExpectations) -> list[Finding]:
    """maxmemory set, an evicting policy, and used memory under a fraction of maxmemory."""
    subject = f"redis {snap.endpoint}"
    found: list[Finding] = []
    maxmemory = int(snap.get("maxmemory", 0) or 0)
    policy = str(snap.get("maxmemory_policy", "?"))
    used = int(snap.get("used_memory", 0) or 0)
    if expect.require_maxmemory and maxmemory == 0:
        found.append(
            MEMORY(
                subject,
                "maxmemory is 0 (unlimited): the cache can grow until the node runs out of "
                "memory; expected a maxmemory limit",
            )
        )
    if expect.eviction_policies and policy not in expect.eviction_policies:
        found.append(
            MEMORY(
                subject,
                f"maxmemory-policy is {policy}; expected one of {', '.join(expect.eviction_policies)}",
            )
        )
    if maxmemory > 0 and used / maxmemory > expect.max_memory_fraction:
        found.append(
            MEMORY(
                subject,
                f"used_memory {used} B is {used / maxmemory:.0%} of maxmemory {maxmemory} B; "
                f"expected under {expect.max_memory_fraction:.0%}",
            )
        )
    return found


def hit_rate(snap: RedisSnapshot, floor: float, min_samples: int, no_data: NoDataPolicy) -> HitRate:
    """``keyspace_hits / (hits + misses)`` against ``floor``; too few lookups → ``no_data``."""
    hits = int(snap.get("keyspace_hits", 0) or 0)
    misses = int(snap.get("keyspace_misses", 0) or 0)
    total = hits + misses
    rate = hits / total if total else None
    shown = f"{rate:.1%}" if rate is not None else "n/a"
    if total < max(min_samples, 1):
        message = (
            f"only {total} keyspace lookup(s) since the stats were reset (hit rate {shown}); "
            f"at least {max(min_samples, 1)} are needed to judge the {floor:.0%} floor "
            f"(no-data policy: {no_data.value})"
        )
        return HitRate(no_data.value, rate, hits, misses, floor, min_samples, message)
    assert rate is not None
    if rate < floor:
        message = f"hit rate {shown} ({hits} hits, {misses} misses); expected at least {floor:.0%}"
        return HitRate("fail", rate, hits, misses, floor, min_samples, message)
    message = f"hit rate {shown} over {total} lookups (floor {floor:.0%})"
    return HitRate("pass", rate, hits, misses, floor, min_samples, message)


def replication_findings(snap: RedisSnapshot, expect: RedisExpectations) -> list[Finding]:
    """The expected role; enough online replicas on a master; an up link on a replica."""
    subject = f"redis {snap.endpoint}"
    found: list[Finding] = []
    role = str(snap.get("role", "?"))
    actual = ReplicationRole.REPLICA if role == "slave" else role
    if expect.role is not None and actual != expect.role:
        found.append(REPLICATION(subject, f"role is {role}; expected {expect.role.value}"))
    if role == "master" and expect.min_replicas:
        online = [
            value
            for key, value in snap.info.items()
            if key.startswith("slave")
            and key[5:].isdigit()
            and isinstance(value, Mapping)
            and value.get("state") == "online"
        ]
        if len(online) < expect.min_replicas:
            found.append(
                REPLICATION(
                    subject,
                    f"{len(online)} online replica(s) (connected_slaves:"
                    f"{snap.get('connected_slaves', 0)}); expected at least {expect.min_replicas}",
                )
            )
    if role == "slave" and snap.get("master_link_status") != "up":
        found.append(
            REPLICATION(
                subject, f"master_link_status is {snap.get('master_link_status')}; expected up"
            )
        )
    return found


def sentinel_findings(
    readings: Sequence[SentinelReading], expect: RedisSentinelExpectations
) -> list[Finding]:
    """Every Sentinel answers, quorum and failover authorisation reachable, enough Sentinels."""
    found: list[Finding] = []
    for reading in readings:
        where = f"redis sentinel {reading.address}"
        if reading.problem is not None:
            found.append(SENTINEL(where, f"could not be asked: {reading.problem}"))
        elif not reading.quorum_ok:
            found.append(
                SENTINEL(
                    where,
                    f"CKQUORUM answered {reading.ckquorum!r}; expected OK (quorum and failover "
                    "authorisation reachable)",
                )
            )
        elif reading.master.get("is_odown") or reading.master.get("is_sdown"):
            found.append(
                SENTINEL(
                    where,
                    f"sees master {expect.master} as down (flags {reading.master.get('flags')})",
                    Severity.CRITICAL,
                )
            )
    answered = [r for r in readings if r.problem is None and r.master]
    known = max((int(r.master.get("num-other-sentinels", 0)) + 1 for r in answered), default=0)
    if known < expect.min_sentinels:
        found.append(
            SENTINEL(
                f"redis sentinel master {expect.master}",
                f"{known} Sentinel(s) monitor the master ({len(answered)} of "
                f"{len(readings)} configured answered); expected at least {expect.min_sentinels}",
            )
        )
    return found


def read_write_findings(probe: WriteProbe) -> list[Finding]:
    """The key was written, read back with the value written, carried its TTL, and was deleted."""
    subject = f"redis {probe.endpoint} key {probe.key}"
    if probe.refused is not None:
        return [
            READ_WRITE(
                subject,
                f"the write was refused: {probe.refused}; the service cannot write to its cache "
                "(a read-only replica, memory full under noeviction, or writes stopped after a "
                "failed save)",
            )
        ]
    found: list[Finding] = []
    if probe.problem is not None:
        found.append(READ_WRITE(subject, f"the probe failed: {probe.problem}"))
    if not probe.written:
        found.append(
            READ_WRITE(subject, "SET NX did not write the key (it existed already); run again")
        )
    elif not probe.read_back:
        found.append(
            READ_WRITE(subject, "GET did not return the value just written; expected it back")
        )
    if probe.written and not (
        probe.ttl_left_ms is not None and 0 < probe.ttl_left_ms <= probe.ttl_ms
    ):
        found.append(
            READ_WRITE(
                subject,
                f"PTTL answered {probe.ttl_left_ms}; expected the {probe.ttl_ms} ms expiry the "
                "write set",
                Severity.MEDIUM,
            )
        )
    if probe.written and probe.deleted != 1:
        found.append(
            READ_WRITE(
                subject,
                f"DEL answered {probe.deleted}; expected 1 (the key expires by itself within "
                f"{probe.ttl_ms // 1000} s)",
                Severity.MEDIUM,
            )
        )
    return found
