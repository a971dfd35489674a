"""PostgreSQL checks against a real cluster (initdb'd once for the module): the healthy set-up
passes every check read through the read-only application session, and each defect, made by the
cluster's superuser around one test, fails exactly its check with what was seen and expected.

Also: WAL archiving is opt-in (a healthy server that does not archive is not applicable, never a
failure); a separate monitoring login reads while the application role is judged, and a login
without pg_monitor leaves the items that need it "not verified: needs ...", never a credentials
error; the component reads everything in a handful of statements on its one connection.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pytest_deployverify.checks.findings import Finding, NotApplicable, summarize
from pytest_deployverify.checks.postgres import (
    CHECKS,
    PG_ARCHIVING,
    PostgresExpectations,
    RoleAttribute,
    archiver_findings,
    connection_findings,
    database_findings,
    privilege_findings,
    replication_findings,
    role_findings,
    settings_findings,
    target_database,
    version_findings,
)
from pytest_deployverify.components.catalog import profile_sections
from pytest_deployverify.components.errors import ComponentUnavailable, ReadError
from pytest_deployverify.components.postgres import (
    PostgresConfig,
    build_postgres,
    component,
    read_archiver,
    read_privileges,
    read_replicas,
    read_server,
    read_settings,
)
from pytest_deployverify.components.registry import ComponentRegistry
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.schema import SchemaError, build
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
# Monitoring logins: one granted pg_monitor, one without it.
MONITOR = ("dv_monitor", "dv-monitor-pw-7c1e")
PLAIN = ("dv_plain_login", "dv-plain-pw-93ab")
# A setting only pg_monitor (pg_read_all_settings) may read; PostgreSQL 15's default value.
HIDDEN_SETTING = {"ssl_min_protocol_version": "TLSv1.2"}
NOT_VERIFIED_STATS = "not verified: needs pg_monitor (or pg_read_all_stats)"
NOT_VERIFIED_SETTINGS = "not verified: needs pg_monitor (or pg_read_all_settings)"


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


@pytest.fixture(scope="module")
def monitors(server: PostgresServer, admin: psycopg.Connection[Any]) -> None:
    """Two monitoring roles on the cluster: one in pg_monitor, one without it."""
    for (name, password), extra in ((MONITOR, "IN ROLE pg_monitor"), (PLAIN, "")):
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} " + extra).format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        admin.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(DATABASE), sql.Identifier(name)
            )
        )


@pytest.fixture
def replica(server: PostgresServer, admin: psycopg.Connection[Any]) -> Iterator[str]:
    """A streaming standby as the primary sees it: pg_receivewal holds a physical replication
    connection (a walsender in pg_stat_replication) for the duration of one test."""
    target = Path(tempfile.mkdtemp(prefix="dv-receivewal-"))
    process = subprocess.Popen(
        [
            str(server.bindir / "pg_receivewal"),
            f"--dbname=host=127.0.0.1 port={server.port} user=postgres application_name=standby-1",
            f"--directory={target}",
            "--no-loop",
            "--no-password",
        ],
        env={**os.environ, "PGPASSWORD": server.admin_password},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def streaming() -> bool:
        rows = admin.execute("SELECT state FROM pg_stat_replication").fetchall()
        return rows == [("streaming",)]

    try:
        wait_for(streaming, 20, "pg_receivewal to stream")
        yield "standby-1"
    finally:
        process.terminate()
        process.wait(10)
        wait_for(
            lambda: admin.execute("SELECT count(*) FROM pg_stat_replication").fetchone() == (0,),
            20,
            "the walsender to exit",
        )
        for path in target.iterdir():
            path.unlink()
        target.rmdir()


@pytest.fixture
def registries() -> Iterator[Callable[..., ComponentRegistry]]:
    """Registries over the PostgreSQL component for ``[postgres]`` tables; closed afterwards."""
    made: list[ComponentRegistry] = []

    def make(section: dict[str, Any], connect: Any = None) -> ComponentRegistry:
        # Only this component's table: the test does not depend on the other components.
        data = {"name": "pg-test", "postgres": section}
        profile = Profile.from_dict(data, profile_sections([component]))
        used = component if connect is None else dataclasses.replace(component, connect=connect)
        registry = ComponentRegistry(profile, [used])
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.close()


def expect(**values: Any) -> PostgresExpectations:
    return build(PostgresExpectations, values)


def only(findings: list[Finding], check_id: str) -> list[Finding]:
    assert findings, "expected a finding"
    assert {f.check_id for f in findings} == {check_id}, summarize(findings)
    return findings


def dsn_without_password(server: PostgresServer) -> str:
    return f"postgresql://{server.app_user}@127.0.0.1:{server.port}/{server.database}"


def monitor_section(
    server: PostgresServer, login: tuple[str, str], **expect: Any
) -> dict[str, Any]:
    return {
        "dsn": dsn_without_password(server),
        "monitor_user": login[0],
        "monitor_password": login[1],
        "timeout": 3,
        "expect": expect,
    }


# -- the declarations --------------------------------------------------------------------------


def test_declarations_keep_ids_titles_and_severities() -> None:
    """Waivers and sign-offs name these; the declarations are their one source."""
    assert [(c.id, c.title, c.section.value, c.severity.value) for c in CHECKS] == [
        (
            "INFRA-PG-VERSION",
            "PostgreSQL answers at the expected major version",
            "infra",
            "critical",
        ),
        ("INFRA-PG-DATABASE", "Application database exists", "infra", "critical"),
        (
            "SEC-PG-ROLE",
            "Application role is not superuser or otherwise privileged",
            "security",
            "critical",
        ),
        (
            "SEC-PG-PRIVILEGES",
            "Application role holds the privileges it needs",
            "security",
            "high",
        ),
        ("INFRA-PG-CONNECTIONS", "Connections in use below the limit", "infra", "high"),
        ("INFRA-PG-ARCHIVING", "WAL archiving healthy and recent", "infra", "high"),
        ("INFRA-PG-REPLICATION", "Replicas streaming with low lag", "infra", "high"),
        ("INFRA-PG-SETTINGS", "Database parameters as tuned", "infra", "medium"),
    ]
    assert component.checks == CHECKS
    declared = {ref for spec in CHECKS for ref in spec.reads}
    assert {ref.split(".")[1] for ref in declared} == set(component.reads)


def test_monitor_keys_are_validated() -> None:
    with pytest.raises(SchemaError, match="monitor_user is set but the dsn names no user"):
        build(PostgresConfig, {"dsn": "postgresql://db.internal/app", "monitor_user": "mon"})
    with pytest.raises(SchemaError, match="monitor_password is set without monitor_user"):
        build(PostgresConfig, {"dsn": "postgresql://app@db/app", "monitor_password": "pw-123456"})
    config = build(PostgresConfig, {"dsn": "postgresql://db/app?user=svc", "monitor_user": "mon"})
    assert (config.app_user, config.login) == ("svc", "mon")


# -- the healthy cluster and each defect, read as the application -------------------------------


def test_healthy_cluster_passes_every_check(
    server: PostgresServer, conn: psycopg.Connection[Any]
) -> None:
    expectations = expect(major_version=15, privileges=PRIVILEGES, settings=SETTINGS)
    database = target_database(expectations, None, f"/{DATABASE}")
    info = read_server(conn, database=database, settings=list(SETTINGS))
    assert info.version.startswith("PostgreSQL 15")
    findings = [
        *version_findings(info, expectations.major_version),
        *database_findings(info),
        *role_findings(info.role),
        *privilege_findings(read_privileges(conn, expectations.privileges)),
        *connection_findings(info.connections, expectations.max_connections_fraction),
        *archiver_findings(read_archiver(conn), expectations.max_archive_age_s),
        *replication_findings(read_replicas(conn), 0, expectations.max_replica_lag_s),
        *settings_findings(read_settings(conn, info, list(SETTINGS)), SETTINGS),
    ]
    assert findings == [], summarize(findings)
    assert info.user == server.app_user
    assert info.login == server.app_user
    assert read_archiver(conn).archived_count >= 1


def test_session_is_read_only(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute(f"DELETE FROM {SAMPLE_TABLE}")


def test_wrong_major_version(conn: psycopg.Connection[Any]) -> None:
    [finding] = only(version_findings(read_server(conn), 16), "postgres-version")
    assert finding.message.startswith("server is PostgreSQL 15 (server_version_num 15")
    assert finding.message.endswith("expected major version 16")


def test_missing_database(conn: psycopg.Connection[Any]) -> None:
    [finding] = only(database_findings(read_server(conn, database="orders")), "postgres-database")
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
        role = read_server(conn).role
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
        privileges = read_privileges(
            conn, {**PRIVILEGES, "public.audit_log": ["SELECT"], "schema:public": ["FLY"]}
        )
    finally:
        admin.execute(f'GRANT INSERT ON {SAMPLE_TABLE} TO "{server.app_user}"')
    findings = only(privilege_findings(privileges), "postgres-privileges")
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
        usage = read_server(conn).connections
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


def test_an_idle_server_whose_archiver_is_caught_up_passes(
    admin: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    """A healthy server with nothing to write switches no segment (archive_timeout needs
    activity), so its last archive grows old: that is not a failing archiver."""
    _write_and_switch(admin)
    status = wait_for(
        lambda: (s := read_archiver(conn)).segments_waiting == 0 and s, 20, "the archiver"
    )
    assert status.current_wal is not None
    assert status.wal_segment_bytes == 16 * 1024 * 1024
    time.sleep(1.5)
    idle = read_archiver(conn)
    assert idle.last_archived_age_s is not None
    assert idle.last_archived_age_s >= 1
    assert idle.segments_waiting == 0
    assert archiver_findings(idle, max_age_s=1) == []


def test_no_streaming_replica(conn: psycopg.Connection[Any]) -> None:
    [finding] = only(replication_findings(read_replicas(conn), 1, 30), "postgres-replication")
    assert finding.message == "0 replica(s) streaming (replicas: none); expected at least 1"


def test_settings_differ(conn: psycopg.Connection[Any]) -> None:
    wanted = {"log_min_duration_statement": "500ms", "shared_buffers": "256MB", "no_such": "1"}
    settings = read_settings(conn, read_server(conn, settings=list(wanted)), list(wanted))
    findings = only(settings_findings(settings, wanted), "postgres-settings")
    assert sorted(f.message for f in findings) == [
        "is '-1'; expected '500ms'",
        "is '128MB'; expected '256MB'",
        "no such setting in pg_settings; expected '1' (check the name)",
    ]


# -- WAL archiving is opt-in ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A healthy server that does not archive WAL (backed up some other way)."""
    cluster = start_postgres(tmp_path_factory.mktemp("postgres-quiet"), archive=False)
    yield cluster
    cluster.stop()


def test_archiving_not_asked_for_is_not_applicable(
    quiet: PostgresServer, registries: Callable[..., ComponentRegistry]
) -> None:
    registry = registries({"dsn": quiet.dsn})
    assert (
        PG_ARCHIVING.not_applicable(registry.profile) == "[postgres.expect] wal_archiving = false"
    )
    with pytest.raises(NotApplicable, match=r"\[postgres.expect\] wal_archiving = false"):
        registry.read("postgres.archiver")
    assert registry.read("postgres.server").version.startswith("PostgreSQL 15")


def test_archiving_asked_for_and_off_fails_naming_it(
    quiet: PostgresServer, registries: Callable[..., ComponentRegistry]
) -> None:
    registry = registries({"dsn": quiet.dsn, "expect": {"wal_archiving": True}})
    assert PG_ARCHIVING.not_applicable(registry.profile) is None
    status = registry.read("postgres.archiver")
    [finding] = only(archiver_findings(status, 3600), "postgres-wal-archiving")
    assert finding.message == "archive_mode is off; expected on"


# -- a separate monitoring login -----------------------------------------------------------------


@pytest.mark.usefixtures("monitors")
def test_monitoring_login_reads_and_the_application_role_is_judged(
    server: PostgresServer,
    admin: psycopg.Connection[Any],
    registries: Callable[..., ComponentRegistry],
    replica: str,
) -> None:
    registry = registries(
        monitor_section(
            server,
            MONITOR,
            min_replicas=1,
            privileges=PRIVILEGES,
            settings={**SETTINGS, **HIDDEN_SETTING, "statement_timeout": "3s"},
        )
    )
    admin.execute(f'ALTER ROLE "{server.app_user}" CREATEDB')
    try:
        snap = registry.read("postgres.server")
    finally:
        admin.execute(f'ALTER ROLE "{server.app_user}" NOCREATEDB')
    assert (snap.login, snap.role.name) == (MONITOR[0], server.app_user)
    assert snap.reads_all_stats
    assert snap.reads_all_settings
    # The application role's attributes, not the login's.
    [finding] = only(role_findings(snap.role), "postgres-app-role")
    assert finding.subject == f"postgres role {server.app_user}"
    assert "has CREATEDB" in finding.message
    privileges = registry.read("postgres.privileges")
    assert privileges.role == server.app_user
    assert privilege_findings(privileges) == []
    assert len(privileges.checks) == 6
    assert all(c.granted for c in privileges.checks)
    replicas = registry.read("postgres.replication")
    assert [(r.name, r.state) for r in replicas] == [(replica, "streaming")]
    assert replication_findings(replicas, 1, 30) == []
    settings = registry.read("postgres.settings")
    assert {s.name: s.shown for s in settings}["ssl_min_protocol_version"] == "TLSv1.2"
    wanted = {**SETTINGS, **HIDDEN_SETTING, "statement_timeout": "3s"}
    assert settings_findings(settings, wanted) == []


@pytest.mark.usefixtures("monitors")
def test_login_without_pg_monitor_is_not_verified_not_rejected(
    server: PostgresServer,
    registries: Callable[..., ComponentRegistry],
    replica: str,
) -> None:
    registry = registries(
        monitor_section(
            server, PLAIN, min_replicas=1, privileges=PRIVILEGES, settings=HIDDEN_SETTING
        )
    )
    snap = registry.read("postgres.server")
    assert (snap.login, snap.role.name) == (PLAIN[0], server.app_user)
    assert not snap.reads_all_stats
    assert role_findings(snap.role) == []
    assert privilege_findings(registry.read("postgres.privileges")) == []
    with pytest.raises(ReadError) as replication:
        registry.read("postgres.replication")
    with pytest.raises(ReadError) as settings:
        registry.read("postgres.settings")
    assert replication.value.what == "pg_stat_replication"
    assert replication.value.problem == (
        f"{NOT_VERIFIED_STATS}: the state and lag of 1 replica(s) are hidden from role {PLAIN[0]}"
    )
    assert settings.value.problem == (
        f"{NOT_VERIFIED_SETTINGS}: ssl_min_protocol_version is hidden from role {PLAIN[0]}"
    )
    for error in (replication.value, settings.value):
        assert str(error).startswith(f"postgres at 127.0.0.1:{server.port}/{DATABASE}: ")
        assert "credentials" not in str(error)
        assert PLAIN[1] not in str(error)


@pytest.mark.usefixtures("monitors")
def test_a_wrong_application_role_or_a_login_without_connect(
    server: PostgresServer,
    admin: psycopg.Connection[Any],
    registries: Callable[..., ComponentRegistry],
) -> None:
    section = monitor_section(server, MONITOR, privileges={"schema:public": ["USAGE"]})
    section["dsn"] = section["dsn"].replace(f"{server.app_user}@", "ghost@")
    registry = registries(section)
    [finding] = only(role_findings(registry.read("postgres.server").role), "postgres-app-role")
    assert (finding.subject, finding.message) == (
        "postgres role ghost",
        "does not exist in pg_roles; expected the DSN's user to be the application role",
    )
    [finding] = only(
        privilege_findings(registry.read("postgres.privileges")), "postgres-privileges"
    )
    assert finding.message == "USAGE: role ghost does not exist"

    admin.execute(
        sql.SQL("REVOKE CONNECT ON DATABASE {} FROM {}").format(
            sql.Identifier(DATABASE), sql.Identifier(PLAIN[0])
        )
    )
    try:
        registry = registries(monitor_section(server, PLAIN))
        with pytest.raises(ComponentUnavailable) as refused:
            registry.read("postgres.server")
    finally:
        admin.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(DATABASE), sql.Identifier(PLAIN[0])
            )
        )
    assert str(refused.value).startswith(
        f"postgres at {dsn_without_password(server)} (login {PLAIN[0]}) refused the session: "
        f'permission denied for database "{DATABASE}"'
    )
    assert str(refused.value).endswith("(grant the login CONNECT on the database)")
    assert "credentials" not in str(refused.value)


class CountingConnection:
    """A psycopg connection that counts the statements the readers send."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self.statements: list[str] = []

    def execute(self, query: Any, params: Any = None) -> Any:
        self.statements.append(str(query).split()[0])
        return self._conn.execute(query, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.mark.usefixtures("monitors")
def test_every_read_in_one_statement_each(
    server: PostgresServer, registries: Callable[..., ComponentRegistry]
) -> None:
    """Everything the eight items judge: one statement for the server, role, database,
    connections and settings, and one each for privileges, archiver and replication."""
    made: list[CountingConnection] = []

    def connect(section: PostgresConfig, profile: Any) -> CountingConnection:
        made.append(CountingConnection(build_postgres(section)))
        return made[-1]

    registry = registries(
        monitor_section(
            server,
            MONITOR,
            major_version=15,
            wal_archiving=True,
            min_replicas=1,
            privileges=PRIVILEGES,
            settings={**SETTINGS, **HIDDEN_SETTING, "statement_timeout": "3s"},
        ),
        connect,
    )
    registry.prefetch([ref for spec in CHECKS for ref in spec.reads])
    for name in component.reads:
        registry.read(f"postgres.{name}")
    [client] = made
    assert len(client.statements) == 4, client.statements


# -- the checklist items, run by pytest ---------------------------------------------------------


def profile_text(
    server: PostgresServer, *, monitor: tuple[str, str] | None = None, **expect: str
) -> str:
    lines = [
        "[postgres]",
        f'dsn = "{dsn_without_password(server)}"',
        'password = "${DV_PG_PASSWORD}"',
        "timeout = 3",
    ]
    if monitor is not None:
        lines += [
            f'monitor_user = "{monitor[0]}"',
            'monitor_password = "${DV_PG_MONITOR_PASSWORD}"',
        ]
    lines += [
        "[postgres.expect]",
        "major_version = 15",
        f'privileges = {{ "public.{SAMPLE_TABLE}" = ["SELECT", "INSERT"], "schema:public" = ["USAGE"] }}',
        *(f"{key} = {value}" for key, value in expect.items()),
    ]
    return "\n".join(lines) + "\n"


def run_checklist(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    server: PostgresServer,
    text: str,
    monitor_password: str = "unused",
) -> pytest.RunResult:
    monkeypatch.setenv("DV_PG_PASSWORD", server.app_password)
    monkeypatch.setenv("DV_PG_MONITOR_PASSWORD", monitor_password)
    monkeypatch.setenv("COLUMNS", "250")
    envs = pytester.path / "envs"
    envs.mkdir(exist_ok=True)
    (envs / "pg.toml").write_text(text)
    return pytester.runpytest_subprocess(
        *("--env", "pg", "--env-dir", "envs", "-rsfE", "-p", "no:cacheprovider"),
        *("-p", "no:randomly", "--checklist", "all", "-k", "test_postgres"),
    )


def test_checklist_on_a_server_without_archiving(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, quiet: PostgresServer
) -> None:
    text = profile_text(quiet, settings='{ wal_level = "replica" }')
    result = run_checklist(pytester, monkeypatch, quiet, text)
    result.assert_outcomes(passed=6, skipped=2)
    result.stdout.fnmatch_lines_random(
        [
            "SKIPPED*not applicable: [[]postgres.expect[]] wal_archiving = false*",
            "SKIPPED*not applicable: [[]postgres.expect[]] min_replicas is not set*",
        ]
    )
    assert quiet.app_password not in result.stdout.str()

    result = run_checklist(pytester, monkeypatch, quiet, text + "wal_archiving = true\n")
    result.assert_outcomes(passed=6, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "FAILED *test_postgres.py::test_postgres_wal_archiving - AssertionError: "
            "[[]postgres-wal-archiving[]] postgres WAL archiver: archive_mode is off; expected on*"
        ]
    )


@pytest.mark.usefixtures("monitors")
def test_checklist_with_and_without_pg_monitor(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    server: PostgresServer,
    replica: str,
) -> None:
    text = profile_text(
        server,
        monitor=MONITOR,
        wal_archiving="true",
        min_replicas="1",
        settings='{ wal_level = "replica", ssl_min_protocol_version = "TLSv1.2" }',
    )
    result = run_checklist(pytester, monkeypatch, server, text, MONITOR[1])
    result.assert_outcomes(passed=8)

    text = text.replace(MONITOR[0], PLAIN[0])
    result = run_checklist(pytester, monkeypatch, server, text, PLAIN[1])
    # What the login may not see is an error of the item (not verified), not a failure.
    result.assert_outcomes(passed=6, errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "ERROR *::test_postgres_replication - Failed: postgres at *: pg_stat_replication: "
            f"{NOT_VERIFIED_STATS}*",
            "ERROR *::test_postgres_settings - Failed: postgres at *: pg_settings: "
            f"{NOT_VERIFIED_SETTINGS}*",
            f"postgres at 127.0.0.1:{server.port}/{DATABASE}: pg_stat_replication: "
            f"{NOT_VERIFIED_STATS}: the state and lag of 1 replica(s) are hidden from role "
            f"{PLAIN[0]}",
            f"postgres at 127.0.0.1:{server.port}/{DATABASE}: pg_settings: "
            f"{NOT_VERIFIED_SETTINGS}: ssl_min_protocol_version is hidden from role {PLAIN[0]}",
        ]
    )
    output = result.stdout.str()
    assert "credentials" not in output
    assert PLAIN[1] not in output
    assert server.app_password not in output
