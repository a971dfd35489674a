"""Database and cache checklist: Redis (auth, TLS, persistence, memory, hit rate, replication,
Sentinel, exporter) and PostgreSQL (version, database, least-privilege role, connections, WAL
archiving, replicas, settings). Every check only reads: INFO, PING without credentials, catalog
SELECTs in a read-only session.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from pytest_deployverify.checks import postgres_checks as pg
from pytest_deployverify.checks import redis_checks as rc
from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.checks.prometheus_checks import target_findings, target_summary
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.expectations.postgres import PostgresExpectations
from pytest_deployverify.expectations.redis import RedisExpectations
from pytest_deployverify.profile.model import PostgresConfig, Profile, RedisConfig
from pytest_deployverify.pytest_plugin.applicability import not_applicable


def conclude(findings: list[Finding]) -> None:
    assert not findings, summarize(findings)


def read(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a reader; a component that fails mid-run fails the check with its one-line message."""
    try:
        return fn(*args, **kwargs)
    except ComponentUnavailable as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


# -- Redis -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_section(profile: Profile) -> RedisConfig:
    section = profile.table("redis", RedisConfig)
    if section is None:
        not_applicable(f"redis is not configured for environment {profile.name}")
    return section


@pytest.fixture(scope="module")
def redis_expect(redis_section: RedisConfig) -> RedisExpectations:
    return redis_section.expect


@pytest.fixture(scope="module")
def redis_timeout(redis_section: RedisConfig) -> float:
    return redis_section.expect.probe_timeout or redis_section.timeout


@pytest.fixture
def redis_snapshot(redis_client: Any, redis_timeout: float) -> rc.RedisSnapshot:
    return read(rc.read_snapshot, redis_client, timeout=redis_timeout)  # type: ignore[no-any-return]


@pytest.mark.infra
@pytest.mark.check("INFRA-REDIS-REACH", title="Redis answers PING and INFO", severity="critical")
def test_redis_reachable(redis_snapshot: rc.RedisSnapshot, evidence: Evidence) -> None:
    evidence.record(
        "redis",
        {k: redis_snapshot.get(k) for k in ("redis_version", "role", "uptime_in_seconds")},
        source=redis_snapshot.endpoint,
        ok=True,
    )
    assert redis_snapshot.get("redis_version"), f"INFO of {redis_snapshot.endpoint} has no version"


@pytest.mark.security
@pytest.mark.check(
    "SEC-REDIS-AUTH", title="Redis refuses clients without credentials", severity="critical"
)
def test_redis_requires_auth(
    redis_client: Any,
    redis_section: RedisConfig,
    redis_expect: RedisExpectations,
    redis_timeout: float,
    evidence: Evidence,
) -> None:
    if not redis_expect.require_auth:
        not_applicable("[redis.expect] require_auth = false")
    reply = rc.probe_unauthenticated(redis_section, redis_timeout)
    findings = rc.auth_findings(reply)
    evidence.record(
        "PING without credentials",
        reply.reply or reply.problem,
        expected="-NOAUTH (refused)",
        source=reply.address,
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.security
@pytest.mark.check("SEC-REDIS-TLS", title="Redis uses TLS and refuses plaintext", severity="high")
def test_redis_tls(
    redis_client: Any,
    redis_section: RedisConfig,
    redis_expect: RedisExpectations,
    redis_timeout: float,
    evidence: Evidence,
) -> None:
    if not redis_section.expect_tls:
        not_applicable("[redis] expect_tls = false: TLS is not required for this environment")
    tls = (
        rc.probe_tls(redis_section, redis_timeout) if redis_section.url.scheme == "rediss" else None
    )
    plaintext = rc.probe_plaintext(redis_section, redis_expect.plaintext_ports, redis_timeout)
    findings = rc.tls_findings(redis_section, tls, plaintext)
    evidence.record(
        "TLS",
        {"url": redis_section.url.display, "version": tls.tls_version if tls else None},
        expected="rediss:// with a verified certificate",
        ok=tls is not None and tls.answered,
    )
    evidence.record(
        "plaintext PING",
        {p.address: p.reply or p.problem for p in plaintext},
        expected="refused on every port",
        ok=not any(p.answered for p in plaintext),
    )
    conclude(findings)


@pytest.mark.infra
@pytest.mark.check(
    "INFRA-REDIS-PERSIST", title="Redis persistence configured and saving", severity="high"
)
def test_redis_persistence(
    redis_snapshot: rc.RedisSnapshot, redis_expect: RedisExpectations, evidence: Evidence
) -> None:
    findings = rc.persistence_findings(redis_snapshot, redis_expect)
    summary = rc.snapshot_summary(redis_snapshot)
    evidence.record(
        "persistence",
        {k: v for k, v in summary.items() if k.startswith(("aof", "rdb", "config", "unread"))},
        expected=f"{redis_expect.persistence.value}; last save ok and within "
        f"{redis_expect.max_save_age_s:g} s",
        source=redis_snapshot.endpoint,
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.infra
@pytest.mark.check(
    "INFRA-REDIS-MEMORY", title="Redis memory limit and eviction policy set", severity="high"
)
def test_redis_memory(
    redis_snapshot: rc.RedisSnapshot, redis_expect: RedisExpectations, evidence: Evidence
) -> None:
    findings = rc.memory_findings(redis_snapshot, redis_expect)
    evidence.record(
        "memory",
        {k: redis_snapshot.get(k) for k in ("maxmemory", "maxmemory_policy", "used_memory")},
        expected=f"maxmemory set, evicting policy, used under {redis_expect.max_memory_fraction:.0%}",
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.monitoring
@pytest.mark.check("MON-REDIS-HITRATE", title="Cache hit rate above the floor", severity="medium")
def test_redis_hit_rate(
    redis_snapshot: rc.RedisSnapshot,
    redis_expect: RedisExpectations,
    profile: Profile,
    evidence: Evidence,
) -> None:
    floor = redis_expect.min_hit_rate
    rate = rc.hit_rate(
        redis_snapshot,
        profile.slo.cache_hit_rate if floor is None else floor,
        redis_expect.min_hit_samples,
        redis_expect.hit_rate_no_data,
    )
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


@pytest.mark.infra
@pytest.mark.check(
    "INFRA-REDIS-REPLICATION", title="Redis replication as expected", severity="high"
)
def test_redis_replication(
    redis_expect: RedisExpectations, request: pytest.FixtureRequest, evidence: Evidence
) -> None:
    if redis_expect.role is None and not redis_expect.min_replicas:
        not_applicable("[redis.expect] sets neither role nor min_replicas")
    redis_snapshot: rc.RedisSnapshot = request.getfixturevalue("redis_snapshot")
    findings = rc.replication_findings(redis_snapshot, redis_expect)
    evidence.record(
        "replication",
        {k: redis_snapshot.get(k) for k in ("role", "connected_slaves", "master_link_status")},
        expected={"role": redis_expect.role, "min_replicas": redis_expect.min_replicas},
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.infra
@pytest.mark.check("INFRA-REDIS-SENTINEL", title="Redis Sentinel quorum reachable", severity="high")
def test_redis_sentinel(
    redis_section: RedisConfig,
    redis_expect: RedisExpectations,
    redis_timeout: float,
    evidence: Evidence,
) -> None:
    sentinel = redis_expect.sentinel
    if sentinel is None:
        not_applicable("[redis.expect.sentinel] is not configured")
    readings = rc.read_sentinels(sentinel, redis_timeout, redis_section.ca_file)
    findings = rc.sentinel_findings(readings, sentinel)
    evidence.record(
        "sentinels",
        {r.address: r.ckquorum or r.problem for r in readings},
        expected=f"quorum OK, at least {sentinel.min_sentinels} Sentinels",
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.monitoring
@pytest.mark.check(
    "MON-REDIS-EXPORTER", title="Redis exporter scraped by Prometheus", severity="medium"
)
def test_redis_exporter(
    redis_expect: RedisExpectations, request: pytest.FixtureRequest, evidence: Evidence
) -> None:
    job = redis_expect.exporter_job
    if job is None:
        not_applicable("[redis.expect] exporter_job is not set")
    prom_api = request.getfixturevalue("prom_api")
    targets = prom_api.targets()
    findings = target_findings(targets, job, check_id="redis-exporter")
    evidence.record(
        "exporter targets",
        target_summary(
            [t for t in targets.get("activeTargets") or [] if t.get("scrapePool") == job]
        ),
        expected=f"job {job}: every target up",
        ok=not findings,
    )
    conclude(findings)


# -- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_section(profile: Profile) -> PostgresConfig:
    section = profile.table("postgres", PostgresConfig)
    if section is None:
        not_applicable(f"postgres is not configured for environment {profile.name}")
    return section


@pytest.fixture(scope="module")
def pg_expect(pg_section: PostgresConfig) -> PostgresExpectations:
    return pg_section.expect


@pytest.mark.infra
@pytest.mark.check(
    "INFRA-PG-VERSION",
    title="PostgreSQL answers at the expected major version",
    severity="critical",
)
def test_postgres_version(
    postgres: Any, pg_expect: PostgresExpectations, evidence: Evidence
) -> None:
    info = read(pg.read_server, postgres)
    findings = pg.version_findings(info, pg_expect.major_version)
    evidence.record(
        "version",
        info.version,
        expected=pg_expect.major_version,
        source=pg.conn_endpoint(postgres),
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.infra
@pytest.mark.check("INFRA-PG-DATABASE", title="Application database exists", severity="critical")
def test_postgres_database(
    postgres: Any, pg_section: PostgresConfig, pg_expect: PostgresExpectations, evidence: Evidence
) -> None:
    name = pg.target_database(pg_expect, pg_section.database, urlsplit(pg_section.dsn.get()).path)
    findings = read(pg.database_findings, postgres, name)
    evidence.record("database", name, expected="present in pg_database", ok=not findings)
    conclude(findings)


@pytest.mark.security
@pytest.mark.check(
    "SEC-PG-ROLE",
    title="Application role is not superuser or otherwise privileged",
    severity="critical",
)
def test_postgres_role(postgres: Any, pg_expect: PostgresExpectations, evidence: Evidence) -> None:
    role = read(pg.read_role, postgres)
    findings = pg.role_findings(role, pg_expect.allowed_role_attributes)
    evidence.record(
        f"role {role.name}",
        dict(role.attributes),
        expected={
            "superuser": False,
            "allowed": [a.value for a in pg_expect.allowed_role_attributes],
        },
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.security
@pytest.mark.check(
    "SEC-PG-PRIVILEGES", title="Application role holds the privileges it needs", severity="high"
)
def test_postgres_privileges(
    postgres: Any, pg_expect: PostgresExpectations, evidence: Evidence
) -> None:
    if not pg_expect.privileges:
        pytest.skip("[postgres.expect] privileges lists nothing")
    role = read(pg.read_role, postgres, pg_expect.privileges)
    findings = pg.role_findings(role, [*pg_expect.allowed_role_attributes])
    findings = [f for f in findings if f.check_id == "postgres-privileges"]
    evidence.record(
        "privileges",
        [f"{c.kind} {c.name} {c.privilege}: {c.granted}" for c in role.privileges],
        expected=dict(pg_expect.privileges),
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.infra
@pytest.mark.check(
    "INFRA-PG-CONNECTIONS", title="Connections in use below the limit", severity="high"
)
def test_postgres_connections(
    postgres: Any, pg_expect: PostgresExpectations, evidence: Evidence
) -> None:
    usage = read(pg.read_connections, postgres)
    findings = pg.connection_findings(usage, pg_expect.max_connections_fraction)
    evidence.record(
        "connections",
        {"in_use": usage.in_use, "max_connections": usage.max_connections},
        expected=f"at most {pg_expect.max_connections_fraction:.0%} in use",
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.infra
@pytest.mark.check("INFRA-PG-ARCHIVING", title="WAL archiving healthy and recent", severity="high")
def test_postgres_wal_archiving(
    postgres: Any, pg_expect: PostgresExpectations, evidence: Evidence
) -> None:
    if not pg_expect.wal_archiving:
        not_applicable("[postgres.expect] wal_archiving = false")
    status = read(pg.read_archiver, postgres)
    findings = pg.archiver_findings(status, pg_expect.max_archive_age_s)
    evidence.record(
        "pg_stat_archiver",
        {
            "archive_mode": status.archive_mode,
            "archived_count": status.archived_count,
            "last_archived_wal": status.last_archived_wal,
            "last_archived_age_s": (
                round(status.server_now - status.last_archived_at)
                if status.last_archived_at is not None
                else None
            ),
            "failed_count": status.failed_count,
            "last_failed_wal": status.last_failed_wal,
        },
        expected=f"no failure since the last success; last archive within {pg_expect.max_archive_age_s:g} s",
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.infra
@pytest.mark.check("INFRA-PG-REPLICATION", title="Replicas streaming with low lag", severity="high")
def test_postgres_replication(
    postgres: Any, pg_expect: PostgresExpectations, evidence: Evidence
) -> None:
    if not pg_expect.min_replicas:
        not_applicable("[postgres.expect] min_replicas = 0: no replica expected")
    replicas = read(pg.read_replicas, postgres)
    findings = pg.replication_findings(
        replicas, pg_expect.min_replicas, pg_expect.max_replica_lag_s
    )
    evidence.record(
        "pg_stat_replication",
        [{"name": r.name, "state": r.state, "replay_lag_s": r.replay_lag_s} for r in replicas],
        expected=f">= {pg_expect.min_replicas} streaming, lag <= {pg_expect.max_replica_lag_s:g} s",
        ok=not findings,
    )
    conclude(findings)


@pytest.mark.infra
@pytest.mark.check("INFRA-PG-SETTINGS", title="Database parameters as tuned", severity="medium")
def test_postgres_settings(
    postgres: Any, pg_expect: PostgresExpectations, evidence: Evidence
) -> None:
    if not pg_expect.settings:
        pytest.skip("[postgres.expect] settings lists nothing")
    settings = read(pg.read_settings, postgres, list(pg_expect.settings))
    findings = pg.settings_findings(settings, pg_expect.settings)
    evidence.record(
        "pg_settings",
        {s.name: s.shown or s.setting for s in settings},
        expected=dict(pg_expect.settings),
        ok=not findings,
    )
    conclude(findings)
