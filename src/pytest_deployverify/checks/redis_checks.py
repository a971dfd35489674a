"""Redis checks: readers that return plain snapshots, and evaluators that turn them into findings.

Everything is read with INFO where possible, because managed services (ElastiCache, Memorystore,
Azure Cache) disable CONFIG; what could only come from CONFIG is listed in ``unreadable`` instead of
being guessed. Nothing here writes to Redis: the probes send PING and SENTINEL read commands only.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from pytest_deployverify.checks.findings import Finding, Severity
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.components.redis import explain_redis_error, no_retry
from pytest_deployverify.expectations.monitoring import NoDataPolicy
from pytest_deployverify.expectations.redis import (
    Persistence,
    RedisExpectations,
    RedisSentinelExpectations,
    ReplicationRole,
)
from pytest_deployverify.profile.model import RedisConfig

COMPONENT = "redis"
CONFIG_KEYS = ("save", "appendonly", "maxmemory", "maxmemory-policy")
_PING = b"*1\r\n$4\r\nPING\r\n"
# Replies meaning "not without credentials": NOAUTH/WRONGPASS, and protected mode's DENIED.
_REFUSAL_PREFIXES = ("-NOAUTH", "-WRONGPASS", "-DENIED", "-ERR AUTH", "-NOPERM")


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedisSnapshot:
    """INFO (all sections), the CONFIG values that could be read, and what could not be read."""

    endpoint: str
    info: Mapping[str, Any]
    config: Mapping[str, str]
    unreadable: tuple[str, ...] = ()
    taken_at: float = field(default_factory=time.time)

    def get(self, key: str, default: Any = None) -> Any:
        return self.info.get(key, default)


def client_endpoint(client: redis.Redis) -> str:
    """``host:port`` of a redis-py client (no credentials), for messages."""
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


def redis_problem(exc: BaseException, timeout: float) -> str:
    """Why a Redis command failed, in one phrase (adds the "not Redis at all" case)."""
    if isinstance(exc, redis.exceptions.InvalidResponse) or "protocol error" in str(exc).lower():
        return "answered something that is not the Redis protocol (is this port really Redis?)"
    return explain_redis_error(exc, timeout)


def read_snapshot(
    client: redis.Redis, *, timeout: float = 2.0, clock: Callable[[], float] = time.time
) -> RedisSnapshot:
    """INFO all, plus CONFIG GET of the persistence and memory keys when CONFIG is allowed.

    Raises ``ComponentUnavailable`` (naming Redis and its address) when INFO itself fails.
    """
    endpoint = client_endpoint(client)
    try:
        info = client.info("all")
    except redis.RedisError as exc:
        raise ComponentUnavailable(COMPONENT, endpoint, redis_problem(exc, timeout)) from exc
    config: dict[str, str] = {}
    unreadable: list[str] = []
    try:
        raw = client.config_get(*CONFIG_KEYS)
        config = {str(k): str(v) for k, v in raw.items()}
    except (redis.ResponseError, redis.exceptions.NoPermissionError) as exc:
        unreadable.append(
            f"CONFIG GET refused ({str(exc).split(',')[0]}): the RDB save schedule was judged "
            "from INFO only (managed services disable CONFIG)"
        )
    except redis.RedisError as exc:
        raise ComponentUnavailable(COMPONENT, endpoint, redis_problem(exc, timeout)) from exc
    return RedisSnapshot(
        endpoint=endpoint, info=info, config=config, unreadable=tuple(unreadable), taken_at=clock()
    )


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
    return summary


# -- raw probes (auth, plaintext) -----------------------------------------------------------------


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
        return self.reply is not None and self.reply.upper().startswith(_REFUSAL_PREFIXES)


def resp_ping(
    host: str,
    port: int,
    *,
    timeout: float,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> RespReply:
    """Connect (optionally over TLS), send PING without AUTH, and read the first reply line."""
    address = f"{host}:{port}"
    version = None
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            sock: socket.socket = raw
            if tls is not None:
                sock = tls.wrap_socket(raw, server_hostname=server_hostname or host)
                version = sock.version()  # type: ignore[attr-defined,unused-ignore]
            sock.sendall(_PING)
            data = b""
            while b"\r\n" not in data and len(data) < 512:
                chunk = sock.recv(512)
                if not chunk:
                    break
                data += chunk
    except ssl.SSLError as exc:
        return RespReply(
            address, tls is not None, None, f"TLS handshake failed: {exc.reason or exc}"
        )
    except TimeoutError:
        return RespReply(address, tls is not None, None, f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        return RespReply(address, tls is not None, None, "connection refused")
    except OSError as exc:
        return RespReply(address, tls is not None, None, f"connection failed: {exc}")
    line = data.split(b"\r\n", 1)[0].decode("utf-8", errors="replace")
    if not data:
        return RespReply(address, tls is not None, None, "closed the connection without a reply")
    if line[:1] not in ("+", "-") or b"\r\n" not in data:
        return RespReply(
            address, tls is not None, None, f"answered bytes that are not RESP: {data[:40]!r}"
        )
    return RespReply(address, tls is not None, line[:200], None, version)


def _tls_context(config: RedisConfig) -> ssl.SSLContext:
    return (
        ssl.create_default_context(cafile=config.ca_file)
        if config.ca_file
        else (ssl.create_default_context())
    )


def probe_unauthenticated(config: RedisConfig, timeout: float | None = None) -> RespReply:
    """PING the profile's Redis without credentials (over TLS for ``rediss://``)."""
    tls = _tls_context(config) if config.url.scheme == "rediss" else None
    return resp_ping(
        config.url.host, config.url.port or 6379, timeout=timeout or config.timeout, tls=tls
    )


def probe_plaintext(
    config: RedisConfig, extra_ports: Sequence[int] = (), timeout: float | None = None
) -> list[RespReply]:
    """PING in plaintext on the profile's port and on ``extra_ports`` of the same host."""
    port = config.url.port or 6379
    ports = [port, *(p for p in extra_ports if p != port)]
    return [
        resp_ping(config.url.host, p, timeout=timeout or config.timeout, tls=None) for p in ports
    ]


def probe_tls(config: RedisConfig, timeout: float | None = None) -> RespReply:
    """PING over verified TLS (the profile's CA) to learn the negotiated TLS version."""
    return resp_ping(
        config.url.host,
        config.url.port or 6379,
        timeout=timeout or config.timeout,
        tls=_tls_context(config),
    )


# -- evaluators ------------------------------------------------------------------------------------


def _finding(check_id: str, severity: Severity, subject: str, message: str) -> Finding:
    return Finding(check_id=check_id, severity=severity, subject=subject, message=message)


def auth_findings(reply: RespReply) -> list[Finding]:
    """An unauthenticated PING must be refused (NOAUTH/WRONGPASS)."""
    subject = f"redis {reply.address}"
    if reply.refused_auth:
        return []
    if reply.reply is None:
        return [
            _finding(
                "redis-auth-required",
                Severity.HIGH,
                subject,
                f"could not test authentication: {reply.problem}; expected a reply refusing "
                "an unauthenticated PING (NOAUTH)",
            )
        ]
    if reply.reply.upper().startswith("+PONG"):
        message = (
            f"answered {reply.reply!r} to a PING without credentials; expected NOAUTH "
            "(set requirepass or ACL users with passwords)"
        )
    else:
        message = f"answered {reply.reply!r} to a PING without credentials; expected NOAUTH"
    return [_finding("redis-auth-required", Severity.CRITICAL, subject, message)]


def tls_findings(
    config: RedisConfig, tls_reply: RespReply | None, plaintext: Sequence[RespReply]
) -> list[Finding]:
    """TLS in use (``rediss://``, verified handshake) and no port answering plaintext RESP."""
    findings: list[Finding] = []
    subject = f"redis {config.url.host}:{config.url.port or 6379}"
    if config.url.scheme != "rediss":
        findings.append(
            _finding(
                "redis-tls",
                Severity.HIGH,
                subject,
                f"the profile expects TLS but the URL is {config.url.display} (plaintext); "
                "expected rediss://",
            )
        )
    elif tls_reply is not None and tls_reply.reply is None:
        findings.append(
            _finding(
                "redis-tls",
                Severity.HIGH,
                subject,
                f"no verified TLS session: {tls_reply.problem}; expected a TLS handshake "
                "trusted by the profile's ca_file",
            )
        )
    for reply in plaintext:
        if reply.answered:
            findings.append(
                _finding(
                    "redis-tls",
                    Severity.HIGH,
                    f"redis {reply.address}",
                    f"answers plaintext RESP ({reply.reply!r}); expected plaintext connections "
                    "to be refused when TLS is required",
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
        found.append(_finding("redis-persistence", severity, subject, message))

    aof = int(snap.get("aof_enabled", 0) or 0) == 1
    rdb = rdb_schedule(snap)
    want = expect.persistence
    save_text = snap.config.get("save")
    rdb_seen = (
        f"save {save_text!r}"
        if save_text is not None
        else f"rdb_saves:{snap.get('rdb_saves', '?')} since start"
    )
    unknown_rdb = (
        "the save schedule could not be read (CONFIG refused) and no RDB snapshot was taken "
        f"in {_age(float(snap.get('uptime_in_seconds', 0)))} of uptime"
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
            _finding(
                "redis-memory",
                Severity.HIGH,
                subject,
                "maxmemory is 0 (unlimited): the cache can grow until the node runs out of "
                "memory; expected a maxmemory limit",
            )
        )
    if expect.eviction_policies and policy not in expect.eviction_policies:
        found.append(
            _finding(
                "redis-memory",
                Severity.HIGH,
                subject,
                f"maxmemory-policy is {policy}; expected one of {', '.join(expect.eviction_policies)}",
            )
        )
    if maxmemory > 0 and used / maxmemory > expect.max_memory_fraction:
        found.append(
            _finding(
                "redis-memory",
                Severity.HIGH,
                subject,
                f"used_memory {used} B is {used / maxmemory:.0%} of maxmemory {maxmemory} B; "
                f"expected under {expect.max_memory_fraction:.0%}",
            )
        )
    return found


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
        found.append(
            _finding(
                "redis-replication",
                Severity.HIGH,
                subject,
                f"role is {role}; expected {expect.role.value}",
            )
        )
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
                _finding(
                    "redis-replication",
                    Severity.HIGH,
                    subject,
                    f"{len(online)} online replica(s) (connected_slaves:"
                    f"{snap.get('connected_slaves', 0)}); expected at least {expect.min_replicas}",
                )
            )
    if role == "slave" and snap.get("master_link_status") != "up":
        found.append(
            _finding(
                "redis-replication",
                Severity.HIGH,
                subject,
                f"master_link_status is {snap.get('master_link_status')}; expected up",
            )
        )
    return found


# -- Sentinel --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentinelReading:
    """What one Sentinel said about the master (or why it could not be asked)."""

    address: str
    ckquorum: str | None = None
    quorum_ok: bool = False
    master: Mapping[str, Any] = field(default_factory=dict)
    problem: str | None = None


def read_sentinels(
    expect: RedisSentinelExpectations, timeout: float, ca_file: str | None = None
) -> list[SentinelReading]:
    """Ask every Sentinel ``SENTINEL CKQUORUM`` and ``SENTINEL MASTER`` (read-only commands)."""
    readings = []
    for address in expect.addresses:
        host, _, port_text = address.rpartition(":")
        client = redis.Redis(
            host=host or address,
            port=int(port_text or 26379),
            password=expect.password.get() if expect.password else None,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=no_retry(),
            ssl=expect.tls,
            ssl_ca_certs=ca_file if expect.tls else None,
        )
        try:
            try:
                reply = cast(Any, client).execute_command("SENTINEL", "CKQUORUM", expect.master)
                ckquorum, ok = _text(reply), True
            except redis.ResponseError as exc:
                ckquorum, ok = str(exc), False
            master = cast(Mapping[str, Any], client.sentinel_master(expect.master))
            readings.append(SentinelReading(address, ckquorum, ok, dict(master)))
        except redis.RedisError as exc:
            readings.append(SentinelReading(address, problem=redis_problem(exc, timeout)))
        finally:
            client.close()
    return readings


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def sentinel_findings(
    readings: Sequence[SentinelReading], expect: RedisSentinelExpectations
) -> list[Finding]:
    """Every Sentinel answers, quorum and failover authorisation reachable, enough Sentinels."""
    subject = f"redis sentinel master {expect.master}"
    found: list[Finding] = []
    for reading in readings:
        if reading.problem is not None:
            found.append(
                _finding(
                    "redis-sentinel",
                    Severity.HIGH,
                    f"redis sentinel {reading.address}",
                    f"could not be asked: {reading.problem}",
                )
            )
        elif not reading.quorum_ok:
            found.append(
                _finding(
                    "redis-sentinel",
                    Severity.HIGH,
                    f"redis sentinel {reading.address}",
                    f"CKQUORUM answered {reading.ckquorum!r}; expected OK (quorum and failover "
                    "authorisation reachable)",
                )
            )
        elif reading.master.get("is_odown") or reading.master.get("is_sdown"):
            found.append(
                _finding(
                    "redis-sentinel",
                    Severity.CRITICAL,
                    f"redis sentinel {reading.address}",
                    f"sees master {expect.master} as down (flags {reading.master.get('flags')})",
                )
            )
    answered = [r for r in readings if r.problem is None and r.master]
    known = max((int(r.master.get("num-other-sentinels", 0)) + 1 for r in answered), default=0)
    if known < expect.min_sentinels:
        found.append(
            _finding(
                "redis-sentinel",
                Severity.HIGH,
                subject,
                f"{known} Sentinel(s) monitor the master ({len(answered)} of "
                f"{len(readings)} configured answered); expected at least {expect.min_sentinels}",
            )
        )
    return found
