"""PostgreSQL checks: read-only queries that return plain dataclasses, and evaluators over them.

Every query is a SELECT on catalog views and functions (``pg_roles``, ``pg_stat_archiver``,
``pg_stat_replication``, ``pg_settings``, ``has_*_privilege``); the client session is read-only too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from pytest_deployverify.checks.findings import Finding, Severity
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.expectations.postgres import PostgresExpectations, RoleAttribute

COMPONENT = "postgres"

# Privileges each kind of object knows (has_*_privilege raises on anything else).
KNOWN_PRIVILEGES: dict[str, frozenset[str]] = {
    "table": frozenset(
        {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
    ),
    "sequence": frozenset({"USAGE", "SELECT", "UPDATE"}),
    "schema": frozenset({"CREATE", "USAGE"}),
    "database": frozenset({"CREATE", "CONNECT", "TEMPORARY", "TEMP"}),
}
_EXISTS = {
    "table": "SELECT to_regclass(%s) IS NOT NULL",
    "sequence": "SELECT to_regclass(%s) IS NOT NULL",
    "schema": "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)",
    "database": "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)",
}
_HAS = {
    "table": "SELECT has_table_privilege(current_user, %s, %s)",
    "sequence": "SELECT has_sequence_privilege(current_user, %s, %s)",
    "schema": "SELECT has_schema_privilege(current_user, %s, %s)",
    "database": "SELECT has_database_privilege(current_user, %s, %s)",
}


def _finding(check_id: str, severity: Severity, subject: str, message: str) -> Finding:
    return Finding(check_id=check_id, severity=severity, subject=subject, message=message)


def _one(conn: psycopg.Connection[Any], query: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise ValueError(f"no row from {query!r}")
    return tuple(row)


def conn_endpoint(conn: psycopg.Connection[Any]) -> str:
    """``host:port/dbname`` of a connection (no credentials), for messages."""
    info = conn.info
    return f"{info.host}:{info.port}/{info.dbname}"


def unavailable(conn: psycopg.Connection[Any], exc: psycopg.Error) -> ComponentUnavailable:
    """A failed read as the component error every check reports the same way."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        where = conn_endpoint(conn)
    except Exception:  # a broken connection may not even report where it was
        where = "(connection lost)"
    return ComponentUnavailable(COMPONENT, where, f"failed a read-only query: {detail}")


# -- version and database --------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerInfo:
    version: str
    version_num: int
    database: str
    user: str

    @property
    def major(self) -> int:
        # 10 and later: 150004 -> 15; before 10: 90624 -> 9 (9.6 is "9" here, enough for a floor)
        return self.version_num // 10000


def read_server(conn: psycopg.Connection[Any]) -> ServerInfo:
    """``SELECT version()``, ``server_version_num``, the current database and role."""
    try:
        version, num, database, user = _one(
            conn,
            "SELECT version(), current_setting('server_version_num')::int, "
            "current_database(), current_user",
        )
    except psycopg.Error as exc:
        raise unavailable(conn, exc) from exc
    return ServerInfo(str(version), int(num), str(database), str(user))


def version_findings(info: ServerInfo, expected_major: int | None) -> list[Finding]:
    if expected_major is None or info.major == expected_major:
        return []
    return [
        _finding(
            "postgres-version",
            Severity.HIGH,
            f"postgres database {info.database}",
            f"server is PostgreSQL {info.major} (server_version_num {info.version_num}); "
            f"expected major version {expected_major}",
        )
    ]


def database_findings(conn: psycopg.Connection[Any], name: str) -> list[Finding]:
    """The named database exists (looked up in ``pg_database``)."""
    try:
        (exists,) = _one(conn, _EXISTS["database"], (name,))
    except psycopg.Error as exc:
        raise unavailable(conn, exc) from exc
    if exists:
        return []
    return [
        _finding(
            "postgres-database",
            Severity.CRITICAL,
            f"postgres database {name}",
            f"database {name!r} does not exist in pg_database; expected it to be created",
        )
    ]


# -- the application role ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivilegeCheck:
    kind: str
    name: str
    privilege: str
    granted: bool | None  # None: the object does not exist, or the privilege name is unknown
    problem: str | None = None


@dataclass(frozen=True)
class RoleInfo:
    name: str
    attributes: Mapping[str, bool]
    privileges: tuple[PrivilegeCheck, ...] = ()


def split_object(key: str) -> tuple[str, str]:
    """``"schema:public"`` → ("schema", "public"); ``"public.t"`` → ("table", "public.t")."""
    kind, sep, name = key.partition(":")
    if sep and kind.strip().lower() in KNOWN_PRIVILEGES:
        return kind.strip().lower(), name.strip()
    return "table", key.strip()


def read_role(
    conn: psycopg.Connection[Any], privileges: Mapping[str, Sequence[str]] | None = None
) -> RoleInfo:
    """The current role's attributes (``pg_roles``) and each listed privilege (``has_*_privilege``)."""
    try:
        row = _one(
            conn,
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication "
            "FROM pg_roles WHERE rolname = current_user",
        )
        name, *flags = row
        attributes = dict(
            zip(
                ("superuser", "createrole", "createdb", "bypassrls", "replication"),
                flags,
                strict=True,
            )
        )
        checks: list[PrivilegeCheck] = []
        for key, wanted in (privileges or {}).items():
            kind, obj = split_object(key)
            (exists,) = _one(conn, _EXISTS[kind], (obj,))
            for privilege in wanted:
                priv = privilege.strip().upper()
                if priv not in KNOWN_PRIVILEGES[kind]:
                    known = ", ".join(sorted(KNOWN_PRIVILEGES[kind]))
                    checks.append(
                        PrivilegeCheck(
                            kind, obj, priv, None, f"unknown {kind} privilege; use {known}"
                        )
                    )
                elif not exists:
                    checks.append(PrivilegeCheck(kind, obj, priv, None, f"{kind} does not exist"))
                else:
                    (granted,) = _one(conn, _HAS[kind], (obj, priv))
                    checks.append(PrivilegeCheck(kind, obj, priv, bool(granted)))
    except psycopg.Error as exc:
        raise unavailable(conn, exc) from exc
    return RoleInfo(str(name), {k: bool(v) for k, v in attributes.items()}, tuple(checks))


def role_findings(role: RoleInfo, allowed: Sequence[RoleAttribute] = ()) -> list[Finding]:
    """Never SUPERUSER; no CREATEROLE/CREATEDB/BYPASSRLS/REPLICATION unless allowed; the listed
    privileges granted."""
    subject = f"postgres role {role.name}"
    found: list[Finding] = []
    if role.attributes.get("superuser"):
        found.append(
            _finding(
                "postgres-app-role",
                Severity.CRITICAL,
                subject,
                "is SUPERUSER (rolsuper = true); expected a least-privilege application role",
            )
        )
    granted = [
        attr.value
        for attr in RoleAttribute
        if role.attributes.get(attr.value) and attr not in allowed
    ]
    if granted:
        found.append(
            _finding(
                "postgres-app-role",
                Severity.HIGH,
                subject,
                f"has {', '.join(a.upper() for a in granted)}; expected none of them "
                "(allow one with postgres.expect.allowed_role_attributes)",
            )
        )
    for check in role.privileges:
        if check.granted is None:
            found.append(
                _finding(
                    "postgres-privileges",
                    Severity.HIGH,
                    f"{subject} on {check.kind} {check.name}",
                    f"{check.privilege}: {check.problem}",
                )
            )
        elif not check.granted:
            found.append(
                _finding(
                    "postgres-privileges",
                    Severity.HIGH,
                    f"{subject} on {check.kind} {check.name}",
                    f"lacks {check.privilege} (has_{check.kind}_privilege = false); expected it "
                    "granted",
                )
            )
    return found


# -- connections ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionUsage:
    in_use: int
    max_connections: int
    reserved: int

    @property
    def fraction(self) -> float:
        return self.in_use / self.max_connections if self.max_connections else 1.0


def read_connections(conn: psycopg.Connection[Any]) -> ConnectionUsage:
    """Client backends in ``pg_stat_activity`` against ``max_connections``."""
    try:
        in_use, max_conn, reserved = _one(
            conn,
            # Without pg_monitor, other roles' rows hide backend_type: a row with a role and a
            # database is then counted as a client session (background workers have neither).
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " OR (backend_type IS NULL AND usesysid IS NOT NULL AND datname IS NOT NULL)),"
            " current_setting('max_connections')::int,"
            " current_setting('superuser_reserved_connections')::int",
        )
    except psycopg.Error as exc:
        raise unavailable(conn, exc) from exc
    return ConnectionUsage(int(in_use), int(max_conn), int(reserved))


def connection_findings(usage: ConnectionUsage, max_fraction: float) -> list[Finding]:
    if usage.fraction <= max_fraction:
        return []
    return [
        _finding(
            "postgres-connections",
            Severity.HIGH,
            "postgres server",
            f"{usage.in_use} of max_connections {usage.max_connections} in use "
            f"({usage.fraction:.0%}); expected at most {max_fraction:.0%}",
        )
    ]


# -- WAL archiving ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiverStatus:
    archive_mode: str
    archive_command: str
    archive_library: str
    archived_count: int
    last_archived_wal: str | None
    last_archived_at: float | None
    failed_count: int
    last_failed_wal: str | None
    last_failed_at: float | None
    server_now: float


def read_archiver(conn: psycopg.Connection[Any]) -> ArchiverStatus:
    """``pg_stat_archiver`` with times as epoch seconds, and the server's own clock."""
    try:
        row = _one(
            conn,
            "SELECT current_setting('archive_mode'), current_setting('archive_command'),"
            " coalesce(current_setting('archive_library', true), ''),"
            " archived_count, last_archived_wal, extract(epoch FROM last_archived_time)::float8,"
            " failed_count, last_failed_wal, extract(epoch FROM last_failed_time)::float8,"
            " extract(epoch FROM now())::float8 FROM pg_stat_archiver",
        )
    except psycopg.Error as exc:
        raise unavailable(conn, exc) from exc
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
    )


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def archiver_findings(
    status: ArchiverStatus, max_age_s: float, previous: ArchiverStatus | None = None
) -> list[Finding]:
    """Archiving on and configured, not failing (no failure since the last success, no new
    failures since ``previous``), and the last archived segment recent."""
    subject = "postgres WAL archiver"
    found: list[Finding] = []

    def fail(message: str, severity: Severity = Severity.HIGH) -> None:
        found.append(_finding("postgres-wal-archiving", severity, subject, message))

    if status.archive_mode not in ("on", "always"):
        fail(f"archive_mode is {status.archive_mode}; expected on")
        return found
    if not status.archive_command.strip() and not status.archive_library.strip():
        fail("archive_mode is on but archive_command and archive_library are empty")
    now = status.server_now
    if status.last_failed_at is not None and (
        status.last_archived_at is None or status.last_failed_at > status.last_archived_at
    ):
        since = (
            f"after the last success {_ago(now - status.last_archived_at)}"
            if status.last_archived_at is not None
            else "and nothing was ever archived"
        )
        fail(
            f"archiving is failing: segment {status.last_failed_wal} failed "
            f"{_ago(now - status.last_failed_at)} {since} (failed_count {status.failed_count}); "
            "expected the last failure to be older than the last success"
        )
    elif previous is not None and status.failed_count > previous.failed_count:
        fail(
            f"failed_count rose from {previous.failed_count} to {status.failed_count}; "
            "expected no new archive failures"
        )
    if status.last_archived_at is None:
        fail(
            f"no WAL segment was ever archived (archived_count {status.archived_count}); "
            f"expected one within the last {max_age_s:.0f} s"
        )
    elif now - status.last_archived_at > max_age_s:
        fail(
            f"last archived segment {status.last_archived_wal} was "
            f"{_ago(now - status.last_archived_at)}; expected one within the last "
            f"{max_age_s:.0f} s (set archive_timeout so idle servers still switch segments)"
        )
    return found


# -- replication --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replica:
    name: str
    address: str | None
    state: str | None
    sync_state: str | None
    replay_lag_s: float | None


def read_replicas(conn: psycopg.Connection[Any]) -> list[Replica]:
    """Rows of ``pg_stat_replication`` (details need pg_monitor or pg_read_all_stats)."""
    try:
        rows = conn.execute(
            "SELECT application_name, client_addr::text, state, sync_state,"
            " extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication"
        ).fetchall()
    except psycopg.Error as exc:
        raise unavailable(conn, exc) from exc
    return [Replica(str(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def replication_findings(
    replicas: Sequence[Replica], min_replicas: int, max_lag_s: float
) -> list[Finding]:
    found: list[Finding] = []
    if replicas and all(r.state is None for r in replicas):
        found.append(
            _finding(
                "postgres-replication",
                Severity.HIGH,
                "postgres replication",
                f"{len(replicas)} replica row(s) but their state is hidden from this role; "
                "grant it pg_monitor (or pg_read_all_stats) to verify replication",
            )
        )
        return found
    streaming = [r for r in replicas if r.state == "streaming"]
    if len(streaming) < min_replicas:
        states = ", ".join(f"{r.name}={r.state}" for r in replicas) or "none"
        found.append(
            _finding(
                "postgres-replication",
                Severity.HIGH,
                "postgres replication",
                f"{len(streaming)} replica(s) streaming (replicas: {states}); expected at "
                f"least {min_replicas}",
            )
        )
    for replica in streaming:
        if replica.replay_lag_s is not None and replica.replay_lag_s > max_lag_s:
            found.append(
                _finding(
                    "postgres-replication",
                    Severity.HIGH,
                    f"postgres replica {replica.name}",
                    f"replay lag {replica.replay_lag_s:.1f} s; expected at most {max_lag_s:g} s",
                )
            )
    return found


# -- settings --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    name: str
    setting: str | None  # None: no such setting
    unit: str | None = None
    shown: str | None = None  # current_setting(): what SHOW prints, e.g. "128MB"


def read_settings(conn: psycopg.Connection[Any], names: Sequence[str]) -> list[Setting]:
    try:
        rows = conn.execute(
            "SELECT name, setting, unit, current_setting(name) FROM pg_settings "
            "WHERE name = ANY(%s)",
            (list(names),),
        ).fetchall()
    except psycopg.Error as exc:
        raise unavailable(conn, exc) from exc
    by_name = {str(r[0]): Setting(str(r[0]), r[1], r[2], r[3]) for r in rows}
    return [by_name.get(name, Setting(name, None)) for name in names]


_MEMORY = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
_TIME = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_QUANTITY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_BOOLEAN = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False}
_BOOLEAN |= {"no": False, "0": False}


def _unit_scale(unit: str) -> tuple[str, float] | None:
    """("memory", bytes) or ("time", seconds) for a pg_settings unit such as ``8kB`` or ``ms``."""
    match = _QUANTITY.match(unit if unit[:1].isdigit() else f"1{unit}")
    if not match:
        return None
    count, name = float(match.group(1)), match.group(2).lower()
    if name in _MEMORY:
        return "memory", count * _MEMORY[name]
    if name in _TIME:
        return "time", count * _TIME[name]
    return None


def setting_matches(setting: Setting, expected: str) -> bool:
    """True when ``expected`` means the same value (``"4MB"`` = ``4096`` kB, ``"on"`` = ``"true"``)."""
    if setting.setting is None:
        return False
    wanted = expected.strip().strip("'\"")
    for actual in (setting.setting, setting.shown):
        if actual is not None and actual.strip().lower() == wanted.lower():
            return True
    raw = setting.setting.strip().lower()
    if raw in _BOOLEAN and wanted.lower() in _BOOLEAN:
        return _BOOLEAN[raw] == _BOOLEAN[wanted.lower()]
    scale = _unit_scale(setting.unit) if setting.unit else None
    match = _QUANTITY.match(wanted)
    if scale is None or match is None:
        return False
    kind, size = scale
    try:
        actual_value = float(raw) * size if float(raw) >= 0 else float(raw)
    except ValueError:
        return False
    number, unit = float(match.group(1)), match.group(2).lower()
    if number < 0:
        return actual_value == number
    table = _MEMORY if kind == "memory" else _TIME
    if not unit:
        return abs(number * size - actual_value) < 1e-9
    if unit not in table:
        return False
    return abs(number * table[unit] - actual_value) < 1e-9 * max(1.0, actual_value)


def settings_findings(settings: Sequence[Setting], expected: Mapping[str, str]) -> list[Finding]:
    found: list[Finding] = []
    for setting in settings:
        wanted = expected.get(setting.name)
        if wanted is None:
            continue
        if setting.setting is None:
            found.append(
                _finding(
                    "postgres-settings",
                    Severity.MEDIUM,
                    f"postgres setting {setting.name}",
                    f"no such setting in pg_settings; expected {wanted!r} (check the name)",
                )
            )
        elif not setting_matches(setting, wanted):
            shown = setting.shown or setting.setting
            found.append(
                _finding(
                    "postgres-settings",
                    Severity.MEDIUM,
                    f"postgres setting {setting.name}",
                    f"is {shown!r}; expected {wanted!r}",
                )
            )
    return found


def target_database(
    expect: PostgresExpectations, section_database: str | None, dsn_path: str
) -> str:
    return expect.database or section_database or dsn_path.lstrip("/") or "postgres"
