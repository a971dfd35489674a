"""The PostgreSQL component: ``[postgres]``, a read-only psycopg session, and its readers.

The session is read-only (``default_transaction_read_only``), autocommit, and bounded on both
sides (libpq's ``connect_timeout``, the server's ``statement_timeout``). It logs in as the
application role (the DSN's user), or as ``monitor_user`` when the profile names a separate
monitoring login; either way the application role is the one whose attributes and privileges are
judged (by name, through ``pg_roles`` and ``has_*_privilege``).

Readers: ``server`` (one statement: version, session, the application role, the target database,
connection usage, the ``pg_settings`` rows the profile names, what the login may see),
``settings`` (those rows, or "not verified" when the login may not see one), ``privileges`` (one
statement over every listed object), ``archiver`` (``pg_stat_archiver``) and ``replication``
(``pg_stat_replication``), the last three separate because each may fail alone (a revoked view, a
malformed object name, details hidden without pg_monitor). All of them use the one connection;
psycopg serialises concurrent use of it. psycopg is imported only when a client is built or read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.postgres import (
    CHECKS,
    KNOWN_PRIVILEGES,
    READ_ALL_SETTINGS,
    READ_ALL_STATS,
    ArchiverStatus,
    ConnectionUsage,
    PostgresExpectations,
    PostgresSnapshot,
    PrivilegeCheck,
    Privileges,
    Replica,
    RoleInfo,
    Setting,
    split_object,
    target_database,
)
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.components.errors import (
    ComponentUnavailable,
    ReadError,
    network_problem,
    timed_out,
)
from pytest_deployverify.profile.fields import PostgresDsn, Seconds
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Secret

if TYPE_CHECKING:
    import psycopg

COMPONENT = "postgres"
# libpq (and psycopg, which follows it) treats a connect_timeout below 2 s as 2 s.
MIN_CONNECT_TIMEOUT = 2
ROLE_ATTRIBUTES = ("superuser", "createrole", "createdb", "bypassrls", "replication")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PostgresConfig:
    """``[postgres]``: the PostgreSQL database of the service. ``dsn`` names the application role
    (its user) and ``password`` is that role's; with ``monitor_user`` (and ``monitor_password``)
    the verifier logs in as that separate monitoring role instead, ideally one granted
    ``pg_monitor``, and judges the application role by name without logging in as it. A check
    whose data the login may not read says "not verified: needs ..." and names the privilege."""

    # The database's libpq URL, whose user is the application role
    # (`dsn = "postgresql://app@db.example.com:5432/app?sslmode=verify-full"`).
    dsn: PostgresDsn
    # The application role's password; wins over one in the DSN.
    password: Secret | None = None
    # A least-privilege monitoring login for the catalog and statistics reads (a role with
    # pg_monitor sees replicas, every session and every setting). Unset: the DSN's user reads.
    monitor_user: str | None = None
    # monitor_user's password (unset: libpq looks in ~/.pgpass).
    monitor_password: Secret | None = None
    # Seconds to connect (at least 2, libpq's floor) and for each statement.
    timeout: Seconds = 5.0
    # The database to connect to, instead of the DSN's.
    database: str | None = None
    expect: PostgresExpectations = dataclasses.field(default_factory=PostgresExpectations)

    def __post_init__(self) -> None:
        if self.monitor_password is not None and self.monitor_user is None:
            raise ValueError("monitor_password is set without monitor_user; set both or neither")
        if self.monitor_user is not None and not self.app_user:
            raise ValueError(
                "monitor_user is set but the dsn names no user: the dsn's user is the "
                "application role whose privileges are judged (postgresql://APP_USER@host/db)"
            )

    @property
    def app_user(self) -> str | None:
        """The DSN's user (``postgresql://USER@...`` or ``?user=USER``), if it names one."""
        parts = urlsplit(self.dsn.get())
        if parts.username:
            return unquote(parts.username)
        users = parse_qs(parts.query).get("user")
        return users[0] if users else None

    @property
    def login(self) -> str | None:
        """The role the verifier logs in as (None: libpq's default user)."""
        return self.monitor_user or self.app_user


def endpoint(section: PostgresConfig) -> str:
    """The masked DSN, and the monitoring login when it is not the DSN's user."""
    if section.monitor_user is None:
        return section.dsn.display
    return f"{section.dsn.display} (login {section.monitor_user})"


# -- the client ------------------------------------------------------------------------------------


def connect_timeout(timeout: float) -> int:
    """Whole seconds for libpq's ``connect_timeout`` (0 would mean "wait forever")."""
    return max(MIN_CONNECT_TIMEOUT, int(timeout))


def connect_kwargs(config: PostgresConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "connect_timeout": connect_timeout(config.timeout),
        # Every statement is bounded server-side too, so a slow query cannot hang a check; and
        # the session cannot write, so an accidental write fails loudly. Both are startup
        # options: no extra round trip.
        "options": (
            f"-c statement_timeout={int(config.timeout * 1000)} -c default_transaction_read_only=on"
        ),
        "autocommit": True,
    }
    if config.monitor_user is not None:
        kwargs["user"] = config.monitor_user
        # Never the application's password for another role: unset lets libpq use ~/.pgpass.
        kwargs["password"] = config.monitor_password.get() if config.monitor_password else ""
    elif config.password is not None:
        kwargs["password"] = config.password.get()
    if config.database:
        kwargs["dbname"] = config.database
    return kwargs


def explain_postgres_error(exc: BaseException, config: PostgresConfig) -> str:
    """One phrase for why the session could not be opened (no secret: libpq never echoes one)."""
    import psycopg

    text = str(exc).strip()
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        detail = text.split("FATAL:", 1)[-1].strip()
        key = "monitor_password" if config.monitor_user is not None else "password"
        return f"rejected the credentials: {detail} (check the profile's postgres {key})"
    if isinstance(exc, psycopg.errors.ConnectionTimeout) or "timeout expired" in lowered:
        return timed_out(connect_timeout(config.timeout), "connect")
    if "connection refused" in lowered:
        return "is unreachable: connection refused (nothing listens on that port)"
    if "permission denied" in lowered:
        detail = text.split("FATAL:", 1)[-1].strip()
        return f"refused the session: {detail} (grant the login CONNECT on the database)"
    if "does not exist" in lowered:
        detail = text.split("FATAL:", 1)[-1].strip()
        return f"refused the session: {detail}"
    problem = network_problem(exc, config.timeout)
    if problem is not None:
        return problem
    return f"failed: {type(exc).__name__}: {text}"


def build_postgres(config: PostgresConfig) -> psycopg.Connection[Any]:
    """A probed, read-only connection: ``SELECT 1`` must answer, else ``ComponentUnavailable``."""
    import psycopg

    try:
        conn = psycopg.connect(config.dsn.get(), **connect_kwargs(config))
    except psycopg.Error as exc:
        raise ComponentUnavailable(
            COMPONENT, endpoint(config), explain_postgres_error(exc, config)
        ) from None
    try:
        conn.execute("SELECT 1").fetchone()
    except psycopg.Error as exc:
        conn.close()
        raise ComponentUnavailable(
            COMPONENT, endpoint(config), explain_postgres_error(exc, config)
        ) from None
    return conn


# -- reading ---------------------------------------------------------------------------------------


def conn_endpoint(conn: psycopg.Connection[Any]) -> str:
    """``host:port/dbname`` of a connection (no credentials), for messages."""
    info = conn.info
    return f"{info.host}:{info.port}/{info.dbname}"


def _where(conn: psycopg.Connection[Any]) -> str:
    try:
        return conn_endpoint(conn)
    except Exception:  # a broken connection may not even report where it was
        return "(connection lost)"


def query_failed(
    conn: psycopg.Connection[Any], what: str, exc: BaseException, needs: str | None = None
) -> ComponentUnavailable | ReadError:
    """A failed statement as the error the run reports: the session is gone (component
    unavailable), the login lacks a privilege ("not verified: needs ..."), or this read failed."""
    import psycopg

    lines = str(exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    where = _where(conn)
    if isinstance(exc, psycopg.errors.QueryCanceled):  # statement_timeout
        return ReadError(COMPONENT, where, what, f"statement timed out: {detail}")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        wanted = needs or "a privilege the login lacks"
        return ReadError(COMPONENT, where, what, f"not verified: needs {wanted}: {detail}")
    if conn.closed or isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return ComponentUnavailable(COMPONENT, where, f"failed a read-only query: {detail}")
    return ReadError(COMPONENT, where, what, f"failed: {detail}")


def _one(conn: psycopg.Connection[Any], query: str, params: Any = ()) -> tuple[Any, ...]:
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise ValueError(f"no row from {query!r}")
    return tuple(row)


# Whether the login has a predefined role's privileges (NULL on a server without that role).
_HAS_ROLE = "(SELECT pg_has_role(current_user, oid, 'USAGE') FROM pg_roles WHERE rolname = '{}')"
_SERVER = f"""
SELECT version(), current_setting('server_version_num')::int, current_database(), current_user,
  r.rolname IS NOT NULL, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
  r.rolreplication,
  EXISTS (SELECT 1 FROM pg_database WHERE datname = %(database)s),
  -- Without pg_read_all_stats, other roles' rows hide backend_type: a row with a role and a
  -- database is then counted as a client session (background workers have neither).
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'
     OR (backend_type IS NULL AND usesysid IS NOT NULL AND datname IS NOT NULL)),
  current_setting('max_connections')::int,
  current_setting('superuser_reserved_connections')::int,
  coalesce({_HAS_ROLE.format("pg_read_all_stats")}, false),
  coalesce({_HAS_ROLE.format("pg_read_all_settings")}, false),
  (SELECT coalesce(json_agg(json_build_array(name, setting, unit, current_setting(name))), '[]')
     FROM pg_settings WHERE name = ANY(%(settings)s::text[])),
  extract(epoch FROM now())::float8
FROM (SELECT 1) AS one
LEFT JOIN pg_roles AS r ON r.rolname = coalesce(%(role)s::text, current_user::text)
"""


def read_server(
    conn: psycopg.Connection[Any],
    *,
    role: str | None = None,
    database: str | None = None,
    settings: Sequence[str] = (),
) -> PostgresSnapshot:
    """One statement: the server, the session, the application role ``role`` (None: the login),
    whether ``database`` (None: the session's) exists, connection usage, the ``pg_settings`` rows
    named in ``settings``, and whether the login may read every statistic and setting."""
    import psycopg

    params = {"role": role, "database": database or "", "settings": list(settings)}
    try:
        row = _one(conn, _SERVER, params)
    except psycopg.Error as exc:
        raise query_failed(conn, "reading the server", exc) from None
    (version, num, current_db, login, role_exists, *flags) = row[:10]
    db_exists, in_use, max_conn, reserved, all_stats, all_settings, rows, now = row[10:]
    name = role or str(login)
    attributes = {key: bool(value) for key, value in zip(ROLE_ATTRIBUTES, flags, strict=True)}
    found = {
        str(r[0]): Setting(str(r[0]), r[1], r[2], r[3])
        for r in (rows or [])
        if isinstance(r, list) and len(r) == 4
    }
    return PostgresSnapshot(
        endpoint=_where(conn),
        version=str(version),
        version_num=int(num),
        database=str(current_db),
        login=str(login),
        role=RoleInfo(name, attributes if role_exists else {}, bool(role_exists)),
        target_database=database or str(current_db),
        target_database_exists=bool(db_exists) if database else True,
        connections=ConnectionUsage(int(in_use), int(max_conn), int(reserved)),
        settings=found,
        reads_all_stats=bool(all_stats),
        reads_all_settings=bool(all_settings),
        taken_at=float(now),
    )


def read_settings(
    conn: psycopg.Connection[Any], snap: PostgresSnapshot, names: Sequence[str]
) -> list[Setting]:
    """The settings ``names`` in order, from the snapshot's rows; a name without a row is a
    setting that does not exist (``setting`` None), unless the login may not see every setting:
    then ``current_setting`` tells a hidden one (``ReadError``: not verified) from a wrong name."""
    import psycopg

    missing = [name for name in names if name not in snap.settings]
    hidden: list[str] = []
    if missing and not snap.reads_all_settings:
        for name in missing:
            try:
                conn.execute("SELECT current_setting(%s, true)", (name,)).fetchone()
            except psycopg.errors.InsufficientPrivilege:
                hidden.append(name)
            except psycopg.Error as exc:
                raise query_failed(conn, "pg_settings", exc) from None
    if hidden:
        raise ReadError(
            COMPONENT,
            snap.endpoint,
            "pg_settings",
            f"not verified: needs {READ_ALL_SETTINGS}: {', '.join(hidden)} "
            f"{'is' if len(hidden) == 1 else 'are'} hidden from role {snap.login}",
        )
    return [snap.settings.get(name, Setting(name, None)) for name in names]


_EXISTS = {
    "table": "to_regclass(o) IS NOT NULL",
    "sequence": "EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass(o) AND relkind = 'S')",
    "schema": "EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = o)",
    "database": "EXISTS (SELECT 1 FROM pg_database WHERE datname = o)",
}
_PRIVILEGES = """
SELECT n, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r), e,
  CASE WHEN e AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN CASE k
    WHEN 'table' THEN has_table_privilege(r::name, o, p)
    WHEN 'sequence' THEN has_sequence_privilege(r::name, o, p)
    WHEN 'schema' THEN has_schema_privilege(r::name, o, p)
    WHEN 'database' THEN has_database_privilege(r::name, o, p)
  END END
FROM (
  SELECT n, k, o, p, r, CASE k
      WHEN 'table' THEN {table} WHEN 'sequence' THEN {sequence}
      WHEN 'schema' THEN {schema} WHEN 'database' THEN {database} END AS e
  FROM (VALUES {rows}) AS v(n, k, o, p, r)
) AS listed
ORDER BY n
"""


def read_privileges(
    conn: psycopg.Connection[Any],
    privileges: Mapping[str, Sequence[str]],
    role: str | None = None,
) -> Privileges:
    """``has_*_privilege`` of ``role`` (None: the login) for every listed object and privilege,
    in one statement; unknown privilege names are decided here without asking."""
    import psycopg

    checks: dict[int, PrivilegeCheck] = {}
    asked: list[tuple[int, str, str, str]] = []
    for key, wanted in privileges.items():
        kind, obj = split_object(key)
        for privilege in wanted:
            priv = privilege.strip().upper()
            if priv in KNOWN_PRIVILEGES[kind]:
                asked.append((len(checks), kind, obj, priv))
                checks[len(checks)] = PrivilegeCheck(kind, obj, priv, None)
            else:
                known = ", ".join(sorted(KNOWN_PRIVILEGES[kind]))
                problem = f"unknown {kind} privilege; use {known}"
                checks[len(checks)] = PrivilegeCheck(kind, obj, priv, None, problem)
    if asked:
        rows = ", ".join(
            "(%s::int, %s::text, %s::text, %s::text, coalesce(%s::text, current_user::text))"
            for _ in asked
        )
        params: list[Any] = []
        for number, kind, obj, priv in asked:
            params += [number, kind, obj, priv, role]
        try:
            answers = conn.execute(_PRIVILEGES.format(rows=rows, **_EXISTS), params).fetchall()
        except psycopg.Error as exc:
            raise query_failed(conn, "has_*_privilege", exc) from None
        for number, role_exists, exists, granted in answers:
            check = checks[int(number)]
            if not role_exists:
                check = dataclasses.replace(check, problem=f"role {role} does not exist")
            elif not exists:
                check = dataclasses.replace(check, problem=f"{check.kind} does not exist")
            else:
                check = dataclasses.replace(check, granted=bool(granted))
            checks[int(number)] = check
    # Without a role named, the login's: libpq knows it, no need to ask the server.
    return Privileges(role or conn.info.user, tuple(checks[n] for n in sorted(checks)))


_ARCHIVER = """
SELECT current_setting('archive_mode'), current_setting('archive_command'),
  coalesce(current_setting('archive_library', true), ''),
  archived_count, last_archived_wal, extract(epoch FROM last_archived_time)::float8,
  failed_count, last_failed_wal, extract(epoch FROM last_failed_time)::float8,
  extract(epoch FROM now())::float8,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END,
  pg_size_bytes(current_setting('wal_segment_size'))
FROM pg_stat_archiver
"""


def read_archiver(conn: psycopg.Connection[Any]) -> ArchiverStatus:
    """``pg_stat_archiver`` with times as epoch seconds, and the server's own clock."""
    import psycopg

    try:
        row = _one(conn, _ARCHIVER)
    except psycopg.Error as exc:
        raise query_failed(conn, "pg_stat_archiver", exc, "SELECT on pg_stat_archiver") from None
    return ArchiverStatus(
        archive_mode=str(row[0]),
        archive_command=str(row[1]),
        archive_library=str(row[2]),
        archived_count=int(row[3]),
        last_archived_wal=row[4],
        last_archived_at=row[5],
        failed_count=int(row[6]),
        last_failed_wal=row[7],
        last_failed_at=row[8],
        server_now=float(row[9]),
        current_wal=row[10],
        wal_segment_bytes=int(row[11]) if row[11] is not None else None,
    )


_REPLICATION = f"""
SELECT pid, application_name, client_addr::text, state, sync_state,
  extract(epoch FROM replay_lag)::float8, current_user,
  coalesce({_HAS_ROLE.format("pg_read_all_stats")}, false)
FROM (SELECT 1) AS one LEFT JOIN pg_stat_replication ON true
"""


def read_replicas(conn: psycopg.Connection[Any]) -> list[Replica]:
    """Rows of ``pg_stat_replication``. Without pg_monitor (or pg_read_all_stats) the rows are
    there but their details are not: that is ``ReadError`` "not verified", not a verdict."""
    import psycopg

    try:
        rows = conn.execute(_REPLICATION).fetchall()
    except psycopg.Error as exc:
        raise query_failed(conn, "pg_stat_replication", exc, READ_ALL_STATS) from None
    replicas = [
        Replica(str(r[1] or f"pid {r[0]}"), r[2], r[3], r[4], r[5])
        for r in rows
        if r[0] is not None
    ]
    login, privileged = rows[0][6], rows[0][7]
    if replicas and not privileged:
        raise ReadError(
            COMPONENT,
            _where(conn),
            "pg_stat_replication",
            f"not verified: needs {READ_ALL_STATS}: the state and lag of {len(replicas)} "
            f"replica(s) are hidden from role {login}",
        )
    return replicas


# -- readers -----------------------------------------------------------------------------------


def judged_role(section: PostgresConfig) -> str | None:
    """The application role to judge: the DSN's user when another role logs in, else the login."""
    return section.app_user if section.monitor_user is not None else None


def section_target_database(section: PostgresConfig) -> str:
    return target_database(section.expect, section.database, urlsplit(section.dsn.get()).path)


def _server(ctx: ReadContext) -> PostgresSnapshot:
    section: PostgresConfig = ctx.section
    return read_server(
        ctx.client,
        role=judged_role(section),
        database=section_target_database(section),
        settings=list(section.expect.settings),
    )


def _settings(ctx: ReadContext) -> list[Setting]:
    section: PostgresConfig = ctx.section
    if not section.expect.settings:
        raise NotApplicable("[postgres.expect] settings is not set")
    snap: PostgresSnapshot = ctx.read("postgres.server")
    return read_settings(ctx.client, snap, list(section.expect.settings))


def _privileges(ctx: ReadContext) -> Privileges:
    section: PostgresConfig = ctx.section
    if not section.expect.privileges:
        raise NotApplicable("[postgres.expect] privileges is not set")
    return read_privileges(ctx.client, section.expect.privileges, judged_role(section))


def _archiver(ctx: ReadContext) -> ArchiverStatus:
    section: PostgresConfig = ctx.section
    if not section.expect.wal_archiving:
        raise NotApplicable("[postgres.expect] wal_archiving = false")
    return read_archiver(ctx.client)


def _replication(ctx: ReadContext) -> list[Replica]:
    section: PostgresConfig = ctx.section
    if not section.expect.min_replicas:
        raise NotApplicable("[postgres.expect] min_replicas is not set")
    return read_replicas(ctx.client)


def _connect(section: PostgresConfig, profile: Profile) -> psycopg.Connection[Any]:
    return build_postgres(section)


component = Component(
    name="postgres",
    title="PostgreSQL",
    sections=(SectionSpec("postgres", PostgresConfig, "the PostgreSQL database of the service"),),
    connect=_connect,
    reads={
        "server": _server,
        "settings": _settings,
        "privileges": _privileges,
        "archiver": _archiver,
        "replication": _replication,
    },
    checks=CHECKS,
    checklist=("pytest_deployverify.checklist.test_postgres",),
    extra="postgres",
    endpoint=endpoint,
    description="Version, database, least-privilege application role and its privileges, "
    "connections, WAL archiving, replicas and parameters of the database, read in a read-only "
    "session (optionally as a separate monitoring login).",
)
