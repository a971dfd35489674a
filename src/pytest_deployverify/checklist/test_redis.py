"""Redis checklist: reachability, auth, TLS, persistence, memory, hit rate, replication, Sentinel,
exporter, and cache read/write. Each item takes its snapshot (read once per run, concurrently with
the other components), calls a pure function from ``checks.redis``, records what it judged, and
concludes. The read/write probe writes only under the profile's dedicated key prefix; without one,
its destructive variant (run last, held back on protected environments) writes when allowed.
"""

from __future__ import annotations

import pytest

from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.support import conclude
from pytest_deployverify.checks import prometheus as prom
from pytest_deployverify.checks import redis as rc
from pytest_deployverify.components.errors import ComponentError
from pytest_deployverify.components.redis import RedisConfig, probe_timeout, write_probe
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots


@pytest.fixture(scope="module")
def redis_section(snapshot: Snapshots) -> RedisConfig:
    section: RedisConfig = snapshot.section("redis")
    return section


@item(rc.REDIS_REACH)
def test_redis_reachable(snapshot: Snapshots, evidence: Evidence) -> None:
    snap: rc.RedisSnapshot = snapshot("redis.info")
    evidence.record(
        "redis",
        {k: snap.get(k) for k in ("redis_version", "role", "uptime_in_seconds")},
        source=snap.endpoint,
        ok=bool(snap.get("redis_version")),
    )
    evidence.record(
        "read_as",
        {"login": snap.login or "default", "config": snap.config_refused or "read"},
        note="the ACL user the verifier read INFO and CONFIG GET as",
    )
    conclude(rc.reach_findings(snap))


@item(rc.REDIS_AUTH)
def test_redis_requires_auth(snapshot: Snapshots, evidence: Evidence) -> None:
    reply: rc.RespReply = snapshot("redis.auth_probe")
    findings = rc.auth_findings(reply)
    evidence.record(
        "PING without credentials",
        reply.reply or reply.problem,
        expected="-NOAUTH (refused)",
        source=reply.address,
        ok=not findings,
    )
    conclude(findings)


@item(rc.REDIS_TLS)
def test_redis_tls(snapshot: Snapshots, evidence: Evidence) -> None:
    probe: rc.TlsProbe = snapshot("redis.tls_probe")
    findings = rc.tls_findings(probe)
    evidence.record(
        "TLS",
        {"url": probe.url_display, "version": probe.tls.tls_version if probe.tls else None},
        expected="rediss:// with a verified certificate",
        ok=probe.tls is not None and probe.tls.answered,
    )
    evidence.record(
        "plaintext PING",
        {p.address: p.reply or p.problem for p in probe.plaintext},
        expected="refused on every port",
        source="ports: the URL's, the server's own tcp_port, [redis.expect] plaintext_ports",
        ok=not any(p.answered for p in probe.plaintext),
    )
    conclude(findings)


@item(rc.REDIS_PERSISTENCE)
def test_redis_persistence(
    snapshot: Snapshots, redis_section: RedisConfig, evidence: Evidence
) -> None:
    snap: rc.RedisSnapshot = snapshot("redis.info")
    expect = redis_section.expect
    findings = rc.persistence_findings(snap, expect)
    summary = rc.snapshot_summary(snap)
    evidence.record(
        "persistence",
        {k: v for k, v in summary.items() if k.startswith(("aof", "rdb", "config", "unread"))},
        expected=f"{expect.persistence.value}; last save ok and within {expect.max_save_age_s:g} s",
        source=snap.endpoint,
        ok=not findings,
    )
    conclude(findings)


@item(rc.REDIS_MEMORY)
def test_redis_memory(snapshot: Snapshots, redis_section: RedisConfig, evidence: Evidence) -> None:
    snap: rc.RedisSnapshot = snapshot("redis.info")
    expect = redis_section.expect
    findings = rc.memory_findings(snap, expect)
    evidence.record(
        "memory",
        {k: snap.get(k) for k in ("maxmemory", "maxmemory_policy", "used_memory")},
        expected=f"maxmemory set, evicting policy, used under {expect.max_memory_fraction:.0%}",
        ok=not findings,
    )
    conclude(findings)


@item(rc.REDIS_HIT_RATE)
def test_redis_hit_rate(
    snapshot: Snapshots, redis_section: RedisConfig, profile: Profile, evidence: Evidence
) -> None:
    snap: rc.RedisSnapshot = snapshot("redis.info")
    expect = redis_section.expect
    floor = profile.slo.cache_hit_rate if expect.min_hit_rate is None else expect.min_hit_rate
    rate = rc.hit_rate(snap, floor, expect.min_hit_samples, expect.hit_rate_no_data)
    evidence.record(
        "hit rate",
        {"rate": rate.rate, "hits": rate.hits, "misses": rate.misses},
        expected=f">= {rate.floor:.0%} over at least {rate.min_samples} lookups",
        ok=rate.status == "pass",
        note=rate.message,
    )
    if rate.status == "inconclusive":
        pytest.skip(f"inconclusive: {rate.message}")
    assert rate.status == "pass", rate.message


@item(rc.REDIS_REPLICATION)
def test_redis_replication(
    snapshot: Snapshots, redis_section: RedisConfig, evidence: Evidence
) -> None:
    expect = redis_section.expect
    snap: rc.RedisSnapshot = snapshot("redis.info")
    findings = rc.replication_findings(snap, expect)
    evidence.record(
        "replication",
        {k: snap.get(k) for k in ("role", "connected_slaves", "master_link_status")},
        expected={"role": expect.role, "min_replicas": expect.min_replicas},
        ok=not findings,
    )
    conclude(findings)


@item(rc.REDIS_SENTINEL)
def test_redis_sentinel(
    snapshot: Snapshots, redis_section: RedisConfig, evidence: Evidence
) -> None:
    readings: list[rc.SentinelReading] = snapshot("redis.sentinels")
    sentinel = redis_section.expect.sentinel
    assert sentinel is not None  # the reader is not applicable without it
    findings = rc.sentinel_findings(readings, sentinel)
    evidence.record(
        "sentinels",
        {r.address: r.ckquorum or r.problem for r in readings},
        expected=f"quorum OK, at least {sentinel.min_sentinels} Sentinels",
        ok=not findings,
    )
    conclude(findings)


@item(rc.REDIS_EXPORTER)
def test_redis_exporter(
    snapshot: Snapshots, redis_section: RedisConfig, evidence: Evidence
) -> None:
    job = redis_section.expect.exporter_job
    assert job is not None  # the declaration needs it
    targets = snapshot("prometheus.targets")
    findings = prom.target_findings(targets, job, check_id="redis-exporter")
    evidence.record(
        "exporter targets",
        prom.target_summary(prom.job_targets(targets, job)),
        expected=f"job {job}: every target up",
        ok=not findings,
    )
    conclude(findings)


def _record_write_probe(probe: rc.WriteProbe, evidence: Evidence, findings: object) -> None:
    evidence.record(
        "write probe",
        probe.steps(),
        expected=f"OK, the value back, an expiry within {probe.ttl_ms} ms, 1 key deleted",
        source=probe.endpoint,
        ok=not findings,
        note=f"one round trip, {probe.elapsed_ms:g} ms, as ACL user {probe.login or 'default'}",
    )


@item(rc.REDIS_READ_WRITE)
def test_redis_read_write(snapshot: Snapshots, evidence: Evidence) -> None:
    probe: rc.WriteProbe = snapshot("redis.write_probe")
    findings = rc.read_write_findings(probe)
    _record_write_probe(probe, evidence, findings)
    conclude(findings)


# -- destructive: the plugin runs this after every read-only item ----------------------------


@item(rc.REDIS_READ_WRITE_UNSCOPED)
def test_redis_read_write_unscoped(
    snapshot: Snapshots, redis_section: RedisConfig, evidence: Evidence
) -> None:
    client = snapshot.client("redis")
    problem: str | None = None
    try:
        probe = write_probe(client, rc.DEFAULT_PROBE_PREFIX, timeout=probe_timeout(redis_section))
    except ComponentError as exc:  # the ACL forbids the probe, or the connection died
        problem = str(exc)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    findings = rc.read_write_findings(probe)
    _record_write_probe(probe, evidence, findings)
    conclude(findings)
