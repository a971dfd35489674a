"""PostgreSQL: what the checklist expects (``[postgres.expect]``), the snapshots it judges, the checks.

Pure functions over plain snapshots; the reading (catalog SELECTs in a read-only session, as the
application role or as a separate monitoring role) lives in ``components.postgres``. The role whose
attributes and privileges are judged is always the application's (the DSN's user), whichever login
read them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from pytest_deployverify.checks.declarations import declare, flag, needs
from pytest_deployverify.checks.findings import Finding, Rule, Severity
from pytest_deployverify.profile.fields import Count, Fraction, PositiveFloat
from pytest_deployverify.profile.schema import Range

model = dataclasses.dataclass(frozen=True, kw_only=True)

# Privileges each kind of object knows (has_*_privilege raises on anything else).
KNOWN_PRIVILEGES: dict[str, frozenset[str]] = {
    "table": frozenset(
        {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
    ),
    "sequence": frozenset({"USAGE", "SELECT", "UPDATE"}),
    "schema": frozenset({"CREATE", "USAGE"}),
    "database": frozenset({"CREATE", "CONNECT", "TEMPORARY", "TEMP"}),
}
# What a login needs to see what the checks judge (pg_monitor includes both).
READ_ALL_STATS = "pg_monitor (or pg_read_all_stats)"
READ_ALL_SETTINGS = "pg_monitor (or pg_read_all_settings)"


# -- expectations --------------------------------------------------------------------------------


class RoleAttribute(StrEnum):
    """Role attributes an application role may be granted by exception (never SUPERUSER)."""

    CREATEDB = "createdb"
    CREATEROLE = "createrole"
    BYPASSRLS = "bypassrls"
    REPLICATION = "replication"


@model
class PostgresExpectations:
    """``[postgres.expect]``: what the database must look like; WAL archiving and replicas are
    judged only when asked for (``wal_archiving = true``, ``min_replicas``).

    ``privileges`` maps an object to the privileges the application role must hold on it; the key
    is ``schema.table`` (a table) or ``table:``/``sequence:``/``schema:``/``database:`` + name::

        privileges = { "public.api_clients" = ["SELECT", "INSERT"], "schema:public" = ["USAGE"] }
    """

    # The PostgreSQL major version the server must run (`major_version = 16`; unset: any).
    major_version: Annotated[int, Range(ge=9)] | None = None
    # The application database that must exist (unset: [postgres] database, else the DSN's).
    database: str | None = None
    # Attributes the application role may hold besides LOGIN (SUPERUSER never is).
    allowed_role_attributes: tuple[RoleAttribute, ...] = ()
    # Privileges the application role must hold, per object: "schema.table", or "table:",
    # "sequence:", "schema:" or "database:" + name
    # (`privileges = { "public.orders" = ["SELECT", "INSERT"], "schema:public" = ["USAGE"] }`);
    # empty: SEC-PG-PRIVILEGES is not applicable.
    privileges: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # The highest share of max_connections the client sessions may use, 0 to 1.
    max_connections_fraction: Fraction = 0.8
    # Opt-in: many healthy set-ups back up otherwise (managed snapshots, base backups). true:
    # archive_mode on, the archiver not failing, the last segment within max_archive_age_s.
    wal_archiving: bool = False
    # Seconds since the last WAL segment was archived, at most (with wal_archiving), while
    # completed segments wait; an archiver that is caught up passes however idle the server.
    max_archive_age_s: PositiveFloat = 3600.0
    # Streaming replicas the primary must have (0: replication is not checked).
    min_replicas: Count = 0
    # Seconds of replay lag each streaming replica may have, at most.
    max_replica_lag_s: PositiveFloat = 30.0
    # pg_settings values, compared with units understood: { work_mem = "4MB", fsync = "on" }.
    settings: Mapping[str, str] = dataclasses.field(default_factory=dict)


# -- snapshots -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleInfo:
    """The application role as ``pg_roles`` describes it (``exists`` false: no such role)."""

    name: str
    attributes: Mapping[str, bool]
    exists: bool = True


@dataclass(frozen=True)
class ConnectionUsage:
    in_use: int
    max_connections: int
    reserved: int

    @property
    def fraction(self) -> float:
        return self.in_use / self.max_connections if self.max_connections else 1.0


@dataclass(frozen=True)
class Setting:
    name: str
    setting: str | None  # None: no such setting
    unit: str | None = None
    shown: str | None = None  # current_setting(): what SHOW prints, e.g. "128MB"


@dataclass(frozen=True)
class PostgresSnapshot:
    """What one statement reads: the server, the session, the application role, the target
    database, connection usage, the ``pg_settings`` rows the profile names, and what the login
    may see."""

    endpoint: str  # host:port/dbname, no credentials
    version: str
    version_num: int
    database: str  # the session's database
    login: str  # the role the verifier is logged in as
    role: RoleInfo  # the application role, judged
    target_database: str
    target_database_exists: bool
    connections: ConnectionUsage
    settings: Mapping[str, Setting] = field(default_factory=dict)
    reads_all_stats: bool = False  # the login has pg_read_all_stats (pg_monitor)
    reads_all_settings: bool = False  # the login has pg_read_all_settings (pg_monitor)
    taken_at: float = 0.0  # the server's clock

    @property
    def major(self) -> int:
        # 10 and later: 150004 -> 15; before 10: 90624 -> 9 (9.6 is "9" here, enough for a floor)
        return self.version_num // 10000

    @property
    def user(self) -> str:
        """The application role's name."""
        return self.role.name


@dataclass(frozen=True)
class PrivilegeCheck:
    kind: str
    name: str
    privilege: str
    granted: bool | None  # None: the object does not exist, or the privilege name is unknown
    problem: str | None = None


@dataclass(frozen=True)
class Privileges:
    """``has_*_privilege`` of the application role on each object the profile lists."""

    role: str
    checks: tuple[PrivilegeCheck, ...] = ()


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
    # The WAL segment being written (None on a standby, where the primary's archiver counts),
    # and the segment size: together they tell whether every completed segment is archived.
    current_wal: str | None = None
    wal_segment_bytes: int | None = None

    @property
    def last_archived_age_s(self) -> float | None:
        if self.last_archived_at is None:
            return None
        return round(self.server_now - self.last_archived_at)

    @property
    def segments_waiting(self) -> int | None:
        """Completed segments not archived yet: 0 when the archiver is caught up (only the
        segment in progress is left), None when it cannot be told (standby, another timeline,
        a ``.partial`` or ``.history`` file last archived)."""
        last, current = _segment(self.last_archived_wal), _segment(self.current_wal)
        if last is None or current is None or not self.wal_segment_bytes:
            return None
        if last[0] != current[0]:  # a timeline switch: segments are not comparable
            return None
        per_log = 0x1_0000_0000 // self.wal_segment_bytes
        position = (current[1] * per_log + current[2]) - (last[1] * per_log + last[2])
        return max(position - 1, 0)


def _segment(name: str | None) -> tuple[int, int, int] | None:
    """(timeline, log, segment) of a WAL file name such as ``00000001000000000000000A``."""
    if name is None or len(name) != 24:
        return None
    try:
        return int(name[:8], 16), int(name[8:16], 16), int(name[16:], 16)
    except ValueError:
        return None


@dataclass(frozen=True)
class Replica:
    name: str
    address: str | None
    state: str | None
    sync_state: str | None
    replay_lag_s: float | None


# -- rules and declarations -----------------------------------------------------------------------

VERSION = Rule("postgres-version", Severity.HIGH, "the expected major version")
DATABASE = Rule("postgres-database", Severity.CRITICAL, "the application database exists")
APP_ROLE = Rule("postgres-app-role", Severity.CRITICAL, "a least-privilege application role")
PRIVILEGES = Rule("postgres-privileges", Severity.HIGH, "the privileges the application needs")
CONNECTIONS = Rule("postgres-connections", Severity.HIGH, "connections below the limit")
ARCHIVING = Rule("postgres-wal-archiving", Severity.HIGH, "WAL archiving healthy and recent")
REPLICATION = Rule("postgres-replication", Severity.HIGH, "replicas streaming with low lag")
SETTINGS = Rule("postgres-settings", Severity.MEDIUM, "parameters as tuned")

_P = ("postgres",)
PG_VERSION = declare(
    "INFRA-PG-VERSION",
    title="PostgreSQL answers at the expected major version",
    section="infra",
    severity="critical",
    components=_P,
    keys=("postgres.dsn", "postgres.expect.major_version"),
    reads=("postgres.server",),
    description="The database answers a read-only session with the profile's credentials, at "
    "[postgres.expect] major_version when it is set.",
)
PG_DATABASE = declare(
    "INFRA-PG-DATABASE",
    title="Application database exists",
    section="infra",
    severity="critical",
    components=_P,
    keys=("postgres.expect.database", "postgres.database", "postgres.dsn"),
    reads=("postgres.server",),
    description="The database the service uses is in pg_database.",
)
PG_ROLE = declare(
    "SEC-PG-ROLE",
    title="Application role is not superuser or otherwise privileged",
    section="security",
    severity="critical",
    components=_P,
    keys=("postgres.dsn", "postgres.expect.allowed_role_attributes"),
    reads=("postgres.server",),
    description="The application role (the DSN's user) is not SUPERUSER and has no CREATEROLE, "
    "CREATEDB, BYPASSRLS or REPLICATION unless allowed_role_attributes lists it.",
)
PG_PRIVILEGES = declare(
    "SEC-PG-PRIVILEGES",
    title="Application role holds the privileges it needs",
    section="security",
    severity="high",
    components=_P,
    keys=("postgres.expect.privileges",),
    reads=("postgres.privileges",),
    applies=needs("postgres.expect.privileges"),
    description="Every privilege [postgres.expect] privileges lists is granted to the "
    "application role on an object that exists.",
)
PG_CONNECTIONS = declare(
    "INFRA-PG-CONNECTIONS",
    title="Connections in use below the limit",
    section="infra",
    severity="high",
    components=_P,
    keys=("postgres.expect.max_connections_fraction",),
    reads=("postgres.server",),
    description="Client sessions in pg_stat_activity stay under a fraction of max_connections.",
)
PG_ARCHIVING = declare(
    "INFRA-PG-ARCHIVING",
    title="WAL archiving healthy and recent",
    section="infra",
    severity="high",
    components=_P,
    keys=("postgres.expect.wal_archiving", "postgres.expect.max_archive_age_s"),
    reads=("postgres.archiver",),
    applies=flag("postgres.expect.wal_archiving"),
    description="Opt-in with [postgres.expect] wal_archiving = true: archive_mode on, no "
    "failure since the last success, the last segment archived recently.",
)
PG_REPLICATION = declare(
    "INFRA-PG-REPLICATION",
    title="Replicas streaming with low lag",
    section="infra",
    severity="high",
    components=_P,
    keys=("postgres.expect.min_replicas", "postgres.expect.max_replica_lag_s"),
    reads=("postgres.replication",),
    applies=needs("postgres.expect.min_replicas"),
    description="At least min_replicas replicas stream from the primary, each within "
    "max_replica_lag_s; reading their state needs pg_monitor (or pg_read_all_stats).",
)
PG_SETTINGS = declare(
    "INFRA-PG-SETTINGS",
    title="Database parameters as tuned",
    section="infra",
    severity="medium",
    components=_P,
    keys=("postgres.expect.settings",),
    reads=("postgres.settings",),
    applies=needs("postgres.expect.settings"),
    description="Each parameter [postgres.expect] settings names has the value given, units "
    "understood (4MB = 4096kB).",
)
CHECKS = (
    PG_VERSION,
    PG_DATABASE,
    PG_ROLE,
    PG_PRIVILEGES,
    PG_CONNECTIONS,
    PG_ARCHIVING,
    PG_REPLICATION,
    PG_SETTINGS,
)


# -- version and database -------------------------------------------------------------------------


def version_findings(snap: PostgresSnapshot, expected_major: int | None) -> list[Finding]:
    if expected_major is None or snap.major == expected_major:
        return []
    return [
        VERSION(
            f"postgres database {snap.database}",
            f"server is PostgreSQL {snap.major} (server_version_num {snap.version_num}); "
            f"expected major version {expected_major}",
        )
    ]


def database_findings(snap: PostgresSnapshot) -> list[Finding]:
    """The target database exists (looked up in ``pg_database``)."""
    if snap.target_database_exists:
        return []
    name = snap.target_database
    return [
        DATABASE(
            f"postgres database {name}",
            f"database {name!r} does not exist in pg_database; expected it to be created",
        )
    ]


def target_database(
    expect: PostgresExpectations, section_database: str | None, dsn_path: str
) -> str:
    return expect.database or section_database or dsn_path.lstrip("/") or "postgres"


# -- the application role ---------------------------------------------------------------------------


def split_object(key: str) -> tuple[str, str]:
    """``"schema:public"`` → ("schema", "public"); ``"public.t"`` → ("table", "public.t")."""
    kind, sep, name = key.partition(":")
    if sep and kind.strip().lower() in KNOWN_PRIVILEGES:
        return kind.strip().lower(), name.strip()
    return "table", key.strip()


def role_findings(role: RoleInfo, allowed: Sequence[RoleAttribute] = ()) -> list[Finding]:
    """Never SUPERUSER; no CREATEROLE/CREATEDB/BYPASSRLS/REPLICATION unless allowed."""
    subject = f"postgres role {role.name}"
    if not role.exists:
        return [
            APP_ROLE(
                subject,
                "does not exist in pg_roles; expected the DSN's user to be the application role",
                Severity.HIGH,
            )
        ]
    found: list[Finding] = []
    if role.attributes.get("superuser"):
        found.append(
            APP_ROLE(
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
            APP_ROLE(
                subject,
                f"has {', '.join(a.upper() for a in granted)}; expected none of them "
                "(allow one with postgres.expect.allowed_role_attributes)",
                Severity.HIGH,
            )
        )
    return found


def privilege_findings(privileges: Privileges) -> list[Finding]:
    """Every listed privilege granted, on an object that exists, by a privilege name that exists."""
    subject = f"postgres role {privileges.role}"
    found: list[Finding] = []
    for check in privileges.checks:
        where = f"{subject} on {check.kind} {check.name}"
        if check.granted is None:
            found.append(PRIVILEGES(where, f"{check.privilege}: {check.problem}"))
        elif not check.granted:
            found.append(
                PRIVILEGES(
                    where,
                    f"lacks {check.privilege} (has_{check.kind}_privilege = false); expected it "
                    "granted",
                )
            )
    return found


# -- connections ---------------------------------------------------------------------------------------


def connection_findings(usage: ConnectionUsage, max_fraction: float) -> list[Finding]:
    if usage.fraction <= max_fraction:
        return []
    return [
        CONNECTIONS(
            "postgres server",
            f"{usage.in_use} of max_connections {usage.max_connections} in use "
            f"({usage.fraction:.0%}); expected at most {max_fraction:.0%}",
        )
    ]


# -- WAL archiving ------------------------------------------------------------------------------------


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

    def fail(message: str) -> None:
        found.append(ARCHIVING(subject, message))

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
    waiting = status.segments_waiting
    if status.last_archived_at is None:
        fail(
            f"no WAL segment was ever archived (archived_count {status.archived_count}); "
            f"expected one within the last {max_age_s:.0f} s"
        )
    elif waiting == 0:
        # Caught up: an idle server writes no new segment to archive (archive_timeout switches
        # only after activity), so the age of the last archive says nothing about its health.
        pass
    elif now - status.last_archived_at > max_age_s:
        behind = (
            f"{waiting} completed segment(s) wait to be archived (writing {status.current_wal}); "
            if waiting
            else ""
        )
        fail(
            f"{behind}last archived segment {status.last_archived_wal} was "
            f"{_ago(now - status.last_archived_at)}; expected one within the last "
            f"{max_age_s:.0f} s (set archive_timeout so idle servers still switch segments)"
        )
    return found


# -- replication --------------------------------------------------------------------------------------


def replication_findings(
    replicas: Sequence[Replica], min_replicas: int, max_lag_s: float
) -> list[Finding]:
    found: list[Finding] = []
    if replicas and all(r.state is None for r in replicas):
        # The reader reports this as "not verified" before judging; kept for callers of their own.
        found.append(
            REPLICATION(
                "postgres replication",
                f"{len(replicas)} replica row(s) but their state is hidden from this role; "
                f"grant it {READ_ALL_STATS} to verify replication",
            )
        )
        return found
    streaming = [r for r in replicas if r.state == "streaming"]
    if len(streaming) < min_replicas:
        states = ", ".join(f"{r.name}={r.state}" for r in replicas) or "none"
        found.append(
            REPLICATION(
                "postgres replication",
                f"{len(streaming)} replica(s) streaming (replicas: {states}); expected at "
                f"least {min_replicas}",
            )
        )
    for replica in streaming:
        if replica.replay_lag_s is not None and replica.replay_lag_s > max_lag_s:
            found.append(
                REPLICATION(
                    f"postgres replica {replica.name}",
                    f"replay lag {replica.replay_lag_s:.1f} s; expected at most {max_lag_s:g} s",
                )
            )
    return found


# -- settings --------------------------------------------------------------------------------------------


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
        subject = f"postgres setting {setting.name}"
        if setting.setting is None:
            found.append(
                SETTINGS(
                    subject, f"no such setting in pg_settings; expected {wanted!r} (check the name)"
                )
            )
        elif not setting_matches(setting, wanted):
            shown = setting.shown or setting.setting
            found.append(SETTINGS(subject, f"is {shown!r}; expected {wanted!r}"))
    return found
