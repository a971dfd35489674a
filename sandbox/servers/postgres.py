"""A real PostgreSQL cluster on loopback, with WAL archiving and a least-privilege app role.

PostgreSQL refuses to run as root, so as root the cluster belongs to the unprivileged
``deployverify`` system user (created if missing). pytest's temporary folders sit below a 0700
root-only folder that this user cannot enter; then the cluster's files (data, socket, WAL
archive) go to a fresh private folder under the system temp dir instead, removed again by
``stop()``. The server log, initdb log, pidfile and a ``cluster`` link to the cluster's files
are always in the workdir.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from sandbox.ports import LOOPBACK, free_port
from sandbox.procs import (
    INSTALL_HINT,
    ManagedProcess,
    ServerStartError,
    SystemUser,
    can_traverse,
    chown_tree,
    service_user,
    start_with_port_retry,
)

READY_TIMEOUT = 30.0
ARCHIVE_TIMEOUT = 20.0
ADMIN_USER = "postgres"
SAMPLE_TABLE = "api_clients"
PG_ROOT = Path("/usr/lib/postgresql")


def pg_bindir() -> Path:
    """The ``bin`` folder of the newest PostgreSQL under /usr/lib/postgresql (Debian layout)."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))

    found = sorted(PG_ROOT.glob("*/bin/postgres"), key=version)
    if not found:
        raise ServerStartError("postgres", None, f"no {PG_ROOT}/*/bin/postgres; {INSTALL_HINT}", "")
    return found[-1].parent


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class PostgresServer:
    port: int
    database: str
    app_user: str
    app_password: str = field(repr=False)
    admin_password: str = field(repr=False)
    workdir: Path
    data_dir: Path
    socket_dir: Path
    archive_dir: Path
    bindir: Path
    run_as: SystemUser | None = field(repr=False)
    process: ManagedProcess = field(repr=False)
    private_root: Path | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def dsn(self) -> str:
        """Connection URL of the application role (password auth over TCP)."""
        return self._url(self.app_user, self.app_password)

    @property
    def admin_dsn(self) -> str:
        """Connection URL of the cluster superuser (for set-up and tests only)."""
        return self._url(ADMIN_USER, self.admin_password)

    def _url(self, user: str, password: str) -> str:
        return (
            f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@{LOOPBACK}:{self.port}/{quote(self.database, safe='')}"
        )

    def stop(self) -> None:
        if self.process.running():
            # pg_ctl refuses root, so it runs as the cluster's owner like the server itself.
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                _run_as(
                    [self.bindir / "pg_ctl", "stop", "-D", self.data_dir, "-m", "fast", "-w"],
                    self.run_as,
                    cwd=self.data_dir.parent,
                    timeout=20,
                    check=False,
                )
        self.process.stop()  # reaps it, or SIGKILLs it if pg_ctl could not
        if self.private_root is not None:
            shutil.rmtree(self.private_root, ignore_errors=True)
        atexit.unregister(self.stop)


def _run_as(
    argv: list[Path | str],
    user: SystemUser | None,
    *,
    cwd: Path,
    timeout: float,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        user=user.uid if user else None,
        group=user.gid if user else None,
        extra_groups=[] if user else None,
        env={**os.environ, "LC_ALL": "C", "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def _cluster_root(workdir: Path, user: SystemUser | None) -> tuple[Path, Path | None]:
    """Where the cluster's own files go, and the private folder to remove later (if any)."""
    if user is None or can_traverse(workdir, user):
        root = workdir / "cluster"
        root.mkdir(exist_ok=True)
        return root, None
    private = Path(tempfile.mkdtemp(prefix="deployverify-pg-"))
    link = workdir / "cluster"
    if link.is_symlink():
        link.unlink()
    if not link.exists():
        link.symlink_to(private, target_is_directory=True)
    return private, private


def _settings_text(
    *, socket_dir: Path, archive_dir: Path, archive: bool, settings: Mapping[str, str]
) -> str:
    target = shlex.quote(str(archive_dir))
    values: dict[str, str] = {
        "listen_addresses": _conf_quote(LOOPBACK),
        "unix_socket_directories": _conf_quote(str(socket_dir)),
        "password_encryption": "scram-sha-256",
        "logging_collector": "off",
        "log_destination": "'stderr'",
        "wal_level": "replica",
        "archive_mode": "on" if archive else "off",
        # Never overwrite an archived segment; a non-zero exit makes postgres retry later.
        "archive_command": _conf_quote(f"test ! -f {target}/%f && cp %p {target}/%f"),
    }
    values.update(settings)
    lines = [f"{key} = {value}" for key, value in values.items()]
    return "\n# added by sandbox.servers.postgres\n" + "\n".join(lines) + "\n"


def _initdb(
    bindir: Path, data_dir: Path, user: SystemUser | None, admin_password: str, log: Path
) -> None:
    pwfile = data_dir.parent / "admin.pw"
    pwfile.write_text(admin_password + "\n")
    os.chmod(pwfile, 0o600)
    if user is not None:
        chown_tree(data_dir.parent, user)
    try:
        result = _run_as(
            [
                bindir / "initdb",
                "-D",
                data_dir,
                "-U",
                ADMIN_USER,
                f"--pwfile={pwfile}",
                "--auth-local=trust",  # the socket lives in a folder only the owner can reach
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",  # throw-away cluster: skip fsync to start quicker
            ],
            user,
            cwd=data_dir.parent,
            timeout=120,
            check=False,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise ServerStartError(
            "postgres",
            None,
            f"initdb failed (exit {result.returncode})",
            (result.stdout + result.stderr)[-4000:],
        )


def _create_app_objects(
    server: PostgresServer, *, app_superuser: bool, admin_database: str = "postgres"
) -> None:
    admin_url = server.admin_dsn.rsplit("/", 1)[0] + f"/{admin_database}"
    role = sql.Identifier(server.app_user)
    database = sql.Identifier(server.database)
    power = sql.SQL("SUPERUSER" if app_superuser else "NOSUPERUSER NOCREATEDB NOCREATEROLE")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN {} PASSWORD {}").format(
                role, power, sql.Literal(server.app_password)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(database))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, role))
    table = sql.Identifier("public", SAMPLE_TABLE)
    with psycopg.connect(server.admin_dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " name text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())"
            ).format(table)
        )
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(table, role)
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (name) SELECT 'client-' || n FROM generate_series(1, 50) n"
            ).format(table)
        )


def _archive_one_segment(server: PostgresServer) -> None:
    """Close the current WAL segment so the archiver copies it, and wait until it has."""
    with psycopg.connect(server.admin_dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT pg_switch_wal()")
        server.process.wait_until(
            lambda: _archived_count(conn) > 0, ARCHIVE_TIMEOUT, "archiving a WAL segment"
        )


def _archived_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT archived_count FROM pg_stat_archiver").fetchone()
    return int(row[0]) if row else 0


def start_postgres(
    workdir: Path,
    *,
    app_user: str = "app",
    app_password: str | None = None,
    database: str = "integration_api_management",
    app_superuser: bool = False,
    archive: bool = True,
    settings: Mapping[str, str] | None = None,
) -> PostgresServer:
    """initdb + start a cluster listening on 127.0.0.1 only; create ``database``, the app role
    (CONNECT on it, SELECT/INSERT/UPDATE/DELETE on ``public.api_clients``) and, with
    ``archive``, wait until one WAL segment is archived. ``settings`` values are raw
    postgresql.conf values (quote strings yourself: ``{"log_statement": "'ddl'"}``)."""
    bindir = pg_bindir()
    user = service_user()
    workdir.mkdir(parents=True, exist_ok=True)
    root, private_root = _cluster_root(workdir, user)
    data_dir = root / "data"
    socket_dir = root / "socket"
    archive_dir = root / "wal_archive"
    admin_password = secrets.token_urlsafe(18)
    app_password = app_password if app_password is not None else secrets.token_urlsafe(18)
    try:
        socket_dir.mkdir(exist_ok=True)
        archive_dir.mkdir(exist_ok=True)
        _initdb(bindir, data_dir, user, admin_password, workdir / "initdb.log")
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                _settings_text(
                    socket_dir=socket_dir,
                    archive_dir=archive_dir,
                    archive=archive,
                    settings=settings or {},
                )
            )
        if user is not None:
            chown_tree(root, user)
    except BaseException:
        if private_root is not None:
            shutil.rmtree(private_root, ignore_errors=True)
        raise

    def attempt() -> PostgresServer:
        port = free_port()
        process = ManagedProcess(
            "postgres",
            [str(bindir / "postgres"), "-D", str(data_dir), "-p", str(port)],
            workdir,
            port=port,
            cwd=root,
            env={**os.environ, "LC_ALL": "C"},
            run_as=user,
            stop_signal=signal.SIGINT,  # PostgreSQL's "fast" shutdown
        ).start()
        server = PostgresServer(
            port=port,
            database=database,
            app_user=app_user,
            app_password=app_password,
            admin_password=admin_password,
            workdir=workdir,
            data_dir=data_dir,
            socket_dir=socket_dir,
            archive_dir=archive_dir,
            bindir=bindir,
            run_as=user,
            process=process,
        )
        with process.stopped_on_error():
            process.wait_until(
                lambda: _accepts_admin(server), READY_TIMEOUT, "accepting connections"
            )
        return server

    try:
        server = start_with_port_retry(attempt)
    except BaseException:
        if private_root is not None:
            shutil.rmtree(private_root, ignore_errors=True)
        raise
    server.private_root = private_root
    # Runs before the process's own atexit hook (LIFO), so the private folder goes too.
    atexit.register(server.stop)
    try:
        try:
            _create_app_objects(server, app_superuser=app_superuser)
        except psycopg.Error as exc:
            raise server.process.failure(f"set-up SQL failed: {exc}") from exc
        if archive:
            _archive_one_segment(server)
    except BaseException:
        server.stop()
        raise
    return server


def _accepts_admin(server: PostgresServer) -> bool:
    url = server.admin_dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(url, connect_timeout=2) as conn:
        return conn.execute("SELECT 1").fetchone() == (1,)
