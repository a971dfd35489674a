"""PostgreSQL checklist: version, database, least-privilege application role and its privileges,
connections, WAL archiving (opt-in), replicas, parameters. Each item takes its snapshot (read once
per run in a read-only session, concurrently with the other components), calls a pure function
from ``checks.postgres``, records what it judged, and concludes.
"""

from __future__ import annotations

import pytest

from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.support import conclude
from pytest_deployverify.checks import postgres as pc
from pytest_deployverify.components.postgres import PostgresConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots


@pytest.fixture(scope="module")
def pg_expect(snapshot: Snapshots) -> pc.PostgresExpectations:
    section: PostgresConfig = snapshot.section("postgres")
    return section.expect


@item(pc.PG_VERSION)
def test_postgres_version(
    snapshot: Snapshots, pg_expect: pc.PostgresExpectations, evidence: Evidence
) -> None:
    snap: pc.PostgresSnapshot = snapshot("postgres.server")
    findings = pc.version_findings(snap, pg_expect.major_version)
    evidence.record(
        "version",
        {"version": snap.version, "server_version_num": snap.version_num, "login": snap.login},
        expected=pg_expect.major_version,
        source=snap.endpoint,
        ok=not findings,
    )
    conclude(findings)


@item(pc.PG_DATABASE)
def test_postgres_database(snapshot: Snapshots, evidence: Evidence) -> None:
    snap: pc.PostgresSnapshot = snapshot("postgres.server")
    findings = pc.database_findings(snap)
    evidence.record(
        "database",
        {"name": snap.target_database, "in pg_database": snap.target_database_exists},
        expected="present in pg_database",
        source=snap.endpoint,
        ok=not findings,
    )
    conclude(findings)


@item(pc.PG_ROLE)
def test_postgres_role(
    snapshot: Snapshots, pg_expect: pc.PostgresExpectations, evidence: Evidence
) -> None:
    snap: pc.PostgresSnapshot = snapshot("postgres.server")
    findings = pc.role_findings(snap.role, pg_expect.allowed_role_attributes)
    evidence.record(
        f"role {snap.role.name}",
        dict(snap.role.attributes) if snap.role.exists else "not in pg_roles",
        expected={
            "superuser": False,
            "allowed": [a.value for a in pg_expect.allowed_role_attributes],
        },
        source=f"pg_roles, read as {snap.login}",
        ok=not findings,
    )
    conclude(findings)


@item(pc.PG_PRIVILEGES)
def test_postgres_privileges(
    snapshot: Snapshots, pg_expect: pc.PostgresExpectations, evidence: Evidence
) -> None:
    privileges: pc.Privileges = snapshot("postgres.privileges")
    findings = pc.privilege_findings(privileges)
    evidence.record(
        f"privileges of role {privileges.role}",
        [
            f"{c.kind} {c.name} {c.privilege}: {c.granted if c.problem is None else c.problem}"
            for c in privileges.checks
        ],
        expected=dict(pg_expect.privileges),
        ok=not findings,
    )
    conclude(findings)


@item(pc.PG_CONNECTIONS)
def test_postgres_connections(
    snapshot: Snapshots, pg_expect: pc.PostgresExpectations, evidence: Evidence
) -> None:
    snap: pc.PostgresSnapshot = snapshot("postgres.server")
    usage = snap.connections
    findings = pc.connection_findings(usage, pg_expect.max_connections_fraction)
    evidence.record(
        "connections",
        {
            "in_use": usage.in_use,
            "max_connections": usage.max_connections,
            "superuser_reserved": usage.reserved,
        },
        expected=f"at most {pg_expect.max_connections_fraction:.0%} in use",
        source="pg_stat_activity"
        + ("" if snap.reads_all_stats else " (other roles' backend types hidden: estimated)"),
        ok=not findings,
    )
    conclude(findings)


@item(pc.PG_ARCHIVING)
def test_postgres_wal_archiving(
    snapshot: Snapshots, pg_expect: pc.PostgresExpectations, evidence: Evidence
) -> None:
    status: pc.ArchiverStatus = snapshot("postgres.archiver")
    findings = pc.archiver_findings(status, pg_expect.max_archive_age_s)
    evidence.record(
        "pg_stat_archiver",
        {
            "archive_mode": status.archive_mode,
            "archived_count": status.archived_count,
            "last_archived_wal": status.last_archived_wal,
            "last_archived_age_s": status.last_archived_age_s,
            "failed_count": status.failed_count,
            "last_failed_wal": status.last_failed_wal,
            "segment_in_progress": status.current_wal,
            "segments_waiting": status.segments_waiting,
        },
        expected="no failure since the last success; every completed segment archived, or "
        f"the last archive within {pg_expect.max_archive_age_s:g} s",
        ok=not findings,
    )
    conclude(findings)


@item(pc.PG_REPLICATION)
def test_postgres_replication(
    snapshot: Snapshots, pg_expect: pc.PostgresExpectations, evidence: Evidence
) -> None:
    replicas: list[pc.Replica] = snapshot("postgres.replication")
    findings = pc.replication_findings(
        replicas, pg_expect.min_replicas, pg_expect.max_replica_lag_s
    )
    evidence.record(
        "pg_stat_replication",
        [
            {"name": r.name, "address": r.address, "state": r.state, "replay_lag_s": r.replay_lag_s}
            for r in replicas
        ],
        expected=f">= {pg_expect.min_replicas} streaming, lag <= {pg_expect.max_replica_lag_s:g} s",
        ok=not findings,
    )
    conclude(findings)


@item(pc.PG_SETTINGS)
def test_postgres_settings(
    snapshot: Snapshots, pg_expect: pc.PostgresExpectations, evidence: Evidence
) -> None:
    settings: list[pc.Setting] = snapshot("postgres.settings")
    findings = pc.settings_findings(settings, pg_expect.settings)
    evidence.record(
        "pg_settings",
        {s.name: s.shown or s.setting for s in settings},
        expected=dict(pg_expect.settings),
        ok=not findings,
    )
    conclude(findings)
