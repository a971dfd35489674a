"""PostgreSQL checks against a real cluster (initdb'd once for the module): the healthy set-up
passes every check read through the read-only application session, and each defect, made by the
cluster's superuser around one test, fails exactly its check with what was seen and expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import psycopg
import pytest

from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.checks.postgres_checks import (
    archiver_findings,
    connection_findings,
    database_findings,
    read_archiver,
    read_connections,
    read_replicas,
    read_role,
    read_server,
    read_settings,
    replication_findings,
    role_findings,
    settings_findings,
    target_database,
    version_findings,
)
from pytest_deployverify.components.postgres import build_postgres
from pytest_deployverify.expectations.postgres import PostgresExpectations, RoleAttribute
from pytest_deployverify.profile.schema import build
from sandbox.servers.postgres import SAMPLE_TABLE, PostgresServer, start_postgres

from .stack import postgres_config, wait_for

DATABASE = "integration_api_management"
PRIVILEGES = {
    f"public.{SAMPLE_TABLE}": ["SELECT", "INSERT", "UPDATE", "DELETE"],
    "schema:public": ["USAGE"],
    f"database:{DATABASE}": ["CONNECT"],
}
SETTINGS = {
    "wal_level": "replica",
    "archive_mode": "on",
    "max_connections": "20",
    "shared_buffers": "128MB",
    "password_encryption": "scram-sha-256",
    "statement_timeout": "2s",  # set by the verifier's own session
    "fsync": "true",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    cluster = start_postgres(
        tmp_path_factory.mktemp("postgres"),
        database=DATABASE,
        settings={"max_connections": "20", "superuser_reserved_connections": "3"},
    )
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def conn(server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    """The verifier's session, built like the component fixture builds it (read-only)."""
    connection = build_postgres(postgres_config(server.dsn))
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def admin(server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(server.admin_dsn, autocommit=True, connect_timeout=5) as connection:
        yield connection


def expect(**values: Any) -> PostgresExpectations:
    return build(PostgresExpectations, values)


def only(findings: list[Finding], check_id: str) -> list[Finding]:
    assert findings, "expected a finding"
    assert {f.check_id for f in findings} == {check_id}, summarize(findings)
    return findings


def test_healthy_cluster_passes_every_check(
    server: PostgresServer, conn: psycopg.Connection[Any]
) -> None:
    expectations = expect(major_version=15, privileges=PRIVILEGES, settings=SETTINGS)
    info = read_server(conn)
    assert info.version.startswith("PostgreSQL 15")
    database = target_database(expectations, None, f"/{DATABASE}")
    findings = [
        *version_findings(info, expectations.major_version),
        *database_findings(conn, database),
        *role_findings(read_role(conn, expectations.privileges)),
        *connection_findings(read_connections(conn), expectations.max_connections_fraction),
        *archiver_findings(read_archiver(conn), expectations.max_archive_age_s),
        *replication_findings(read_replicas(conn), 0, expectations.max_replica_lag_s),
        *settings_findings(read_settings(conn, list(SETTINGS)), SETTINGS),
    ]
    assert findings == [], summarize(findings)
    assert info.user == server.app_user
    assert read_archiver(conn).archived_count >= 1


def test_session_is_read_only(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute(f"DELETE FROM {SAMPLE_TABLE}")


def test_wrong_major_version(conn: psycopg.Connection[Any]) -> None:
    [finding] = only(version_findings(read_server(conn), 16), "postgres-version")
    assert finding.message.startswith("server is PostgreSQL 15 (server_version_num 15")
    assert finding.message.endswith("expected major version 16")


def test_missing_database(conn: psycopg.Connection[Any]) -> None:
    [finding] = only(database_findings(conn, "orders"), "postgres-database")
    assert finding.message == (
        "database 'orders' does not exist in pg_database; expected it to be created"
    )


@pytest.mark.parametrize(
    ("power", "severity", "message"),
    [
        ("SUPERUSER", "critical", "is SUPERUSER (rolsuper = true)"),
        ("CREATEDB CREATEROLE", "high", "has CREATEDB, CREATEROLE; expected none of them"),
        ("BYPASSRLS", "high", "has BYPASSRLS; expected none of them"),
    ],
)
def test_overpowered_app_role(
    server: PostgresServer,
    conn: psycopg.Connection[Any],
    admin: psycopg.Connection[Any],
    power: str,
    severity: str,
    message: str,
) -> None:
    admin.execute(f'ALTER ROLE "{server.app_user}" {power}')
    try:
        role = read_role(conn)
    finally:
        admin.execute(
            f'ALTER ROLE "{server.app_user}" NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS'
        )
    [finding] = only(role_findings(role), "postgres-app-role")
    assert finding.severity.value == severity
    assert message in finding.message
    if power == "CREATEDB CREATEROLE":
        allowed = (RoleAttribute.CREATEDB, RoleAttribute.CREATEROLE)
        assert role_findings(role, allowed) == []


def test_missing_privileges(
    server: PostgresServer, conn: psycopg.Connection[Any], admin: psycopg.Connection[Any]
) -> None:
    admin.execute(f'REVOKE INSERT ON {SAMPLE_TABLE} FROM "{server.app_user}"')
    try:
        role = read_role(
            conn, {**PRIVILEGES, "public.audit_log": ["SELECT"], "schema:public": ["FLY"]}
        )
    finally:
        admin.execute(f'GRANT INSERT ON {SAMPLE_TABLE} TO "{server.app_user}"')
    findings = only(role_findings(role), "postgres-privileges")
    messages = {(f.subject, f.message) for f in findings}
    assert messages == {
        (
            f"postgres role app on table public.{SAMPLE_TABLE}",
            "lacks INSERT (has_table_privilege = false); expected it granted",
        ),
        ("postgres role app on table public.audit_log", "SELECT: table does not exist"),
        (
            "postgres role app on schema public",
            "FLY: unknown schema privilege; use CREATE, USAGE",
        ),
    }


def test_connections_near_the_limit(server: PostgresServer, conn: psycopg.Connection[Any]) -> None:
    with ExitStack() as stack:
        for _ in range(16):
            stack.enter_context(psycopg.connect(server.admin_dsn, connect_timeout=5))
        usage = read_connections(conn)
    [finding] = only(connection_findings(usage, 0.8), "postgres-connections")
    assert usage.max_connections == 20
    assert f"{usage.in_use} of max_connections 20 in use" in finding.message
    assert finding.message.endswith("expected at most 80%")


def _write_and_switch(admin: psycopg.Connection[Any]) -> None:
    admin.execute("CREATE TABLE IF NOT EXISTS dv_wal (n int)")
    admin.execute("INSERT INTO dv_wal VALUES (1)")
    admin.execute("SELECT pg_switch_wal()")


def test_failing_wal_archiving(
    admin: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    before = read_archiver(conn)
    admin.execute("ALTER SYSTEM SET archive_command = 'false'")
    admin.execute("SELECT pg_reload_conf()")
    try:
        wait_for(
            lambda: admin.execute("SHOW archive_command").fetchone() == ("false",), 10, "reload"
        )
        _write_and_switch(admin)
        failing = wait_for(
            lambda: (s := read_archiver(conn)).failed_count > before.failed_count and s,
            20,
            "the archiver to fail",
        )
        findings = archiver_findings(failing, 3600, previous=before)
    finally:
        admin.execute("ALTER SYSTEM RESET archive_command")
        admin.execute("SELECT pg_reload_conf()")
        _write_and_switch(admin)
        wait_for(
            lambda: (
                (s := read_archiver(conn)).last_archived_at is not None
                and s.last_failed_at is not None
                and s.last_archived_at > s.last_failed_at
            ),
            30,
            "archiving to recover",
        )
    [finding] = only(findings, "postgres-wal-archiving")
    assert "archiving is failing: segment " in finding.message
    assert f"(failed_count {failing.failed_count})" in finding.message
    assert "expected the last failure to be older than the last success" in finding.message
    assert archiver_findings(read_archiver(conn), 3600) == []


def test_no_streaming_replica(conn: psycopg.Connection[Any]) -> None:
    [finding] = only(replication_findings(read_replicas(conn), 1, 30), "postgres-replication")
    assert finding.message == "0 replica(s) streaming (replicas: none); expected at least 1"


def test_settings_differ(conn: psycopg.Connection[Any]) -> None:
    wanted = {"log_min_duration_statement": "500ms", "shared_buffers": "256MB", "no_such": "1"}
    findings = only(
        settings_findings(read_settings(conn, list(wanted)), wanted), "postgres-settings"
    )
    assert sorted(f.message for f in findings) == [
        "is '-1'; expected '500ms'",
        "is '128MB'; expected '256MB'",
        "no such setting in pg_settings; expected '1' (check the name)",
    ]
