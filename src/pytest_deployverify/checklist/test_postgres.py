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
from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.components.postgres import PostgresConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.expectations.postgres import PostgresExpectations
from pytest_deployverify.profile.model import Profile
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
