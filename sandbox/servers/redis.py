"""A real redis-server on loopback: password, optional TLS port, persistence and memory policy,
and ACL users (a least-privilege monitoring login beside the application's)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from sandbox.certs import CertFiles
from sandbox.ports import LOOPBACK, free_port
from sandbox.procs import (
    INSTALL_HINT,
    ManagedProcess,
    ServerStartError,
    start_with_port_retry,
)

READY_TIMEOUT = 15.0
# What a least-privilege monitoring login needs for every read of the Redis checks.
MONITOR_RULES = "+ping +info +config|get"
# An application login: every key and command but the dangerous ones.
APP_RULES = "~* &* +@all -@dangerous"


@dataclass
class RedisServer:
    """Handle on a running redis-server. ``port`` is None when the plaintext port is off."""

    port: int | None
    tls_port: int | None
    password: str | None = field(repr=False)
    ca_file: Path | None
    config_file: Path
    process: ManagedProcess = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        """``redis://`` URL with the password (plaintext port)."""
        if self.port is None:
            raise ValueError("this redis has no plaintext port (plaintext=False); use tls_url")
        return f"redis://{_auth(self.password)}{LOOPBACK}:{self.port}/0"

    @property
    def tls_url(self) -> str:
        """``rediss://`` URL with the password; verify the server with ``ca_file``."""
        if self.tls_port is None:
            raise ValueError("this redis has no TLS port (tls=False); use url")
        return f"rediss://{_auth(self.password)}{LOOPBACK}:{self.tls_port}/0"

    def client(self, *, tls: bool = False, timeout: float = 2.0) -> redis.Redis:
        """A redis-py client for this server (no retries, short timeouts)."""
        port = self.tls_port if tls else self.port
        if port is None:
            raise ValueError(f"this redis has no {'TLS' if tls else 'plaintext'} port")
        return redis.Redis(
            host=LOOPBACK,
            port=port,
            password=self.password,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # redis-py retries by default; a sandbox probe should fail fast instead.
            retry=Retry(NoBackoff(), retries=0),
            ssl=tls,
            ssl_ca_certs=str(self.ca_file) if tls and self.ca_file else None,
        )

    def stop(self) -> None:
        self.process.stop()


def _auth(password: str | None) -> str:
    return f":{quote(password, safe='')}@" if password else ""


def _quote(value: str) -> str:
    """Quote a value for redis.conf (double quotes, backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_redis_conf(
    *,
    datadir: Path,
    port: int,
    tls_port: int | None,
    password: str | None,
    appendonly: bool,
    save: str,
    maxmemory: str | None,
    maxmemory_policy: str,
    rename_config: bool,
    certs: CertFiles | None,
    acl_users: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    lines = [
        f"bind {LOOPBACK}",
        "protected-mode yes",
        f"port {port}",  # 0 turns the plaintext listener off
        "daemonize no",
        'logfile ""',  # stdout, which ManagedProcess sends to the log file
        f"dir {_quote(str(datadir))}",
        "dbfilename dump.rdb",
        f"appendonly {'yes' if appendonly else 'no'}",
        f"save {save}" if save else 'save ""',  # "" turns RDB snapshots off
        f"maxmemory-policy {maxmemory_policy}",
    ]
    if maxmemory:
        lines.append(f"maxmemory {maxmemory}")
    if password:
        lines.append(f"requirepass {_quote(password)}")
    for name, (user_password, rules) in (acl_users or {}).items():
        # ACL users beside the default one: "user NAME on >PASSWORD RULES..."
        lines.append(f"user {name} on >{user_password} {rules}")
    if tls_port is not None and certs is not None:
        lines += [
            f"tls-port {tls_port}",
            f"tls-cert-file {_quote(str(certs.server_cert))}",
            f"tls-key-file {_quote(str(certs.server_key))}",
            f"tls-ca-cert-file {_quote(str(certs.ca_cert))}",
            # Server-authenticated TLS only, like most managed Redis offerings.
            "tls-auth-clients no",
        ]
    if rename_config:
        # Managed services (ElastiCache, Memorystore…) hide CONFIG; checks must cope without it.
        lines.append('rename-command CONFIG ""')
    return "\n".join(lines) + "\n"


def start_redis(
    workdir: Path,
    *,
    password: str | None,
    tls: bool = False,
    plaintext: bool = True,
    appendonly: bool = True,
    save: str = "3600 1",
    maxmemory: str | None = "64mb",
    maxmemory_policy: str = "allkeys-lru",
    rename_config: bool = False,
    certs: CertFiles | None = None,
    acl_users: Mapping[str, tuple[str, str]] | None = None,
) -> RedisServer:
    """Start redis-server in ``workdir``; ready when PING answers (over TLS if that is the only
    port). ``certs`` (from ``sandbox.certs.make_certs``) is required when ``tls`` is true.
    ``acl_users`` maps an ACL user name to ``(password, rules)``, e.g. a monitoring login
    ``{"monitor": (PASSWORD, MONITOR_RULES)}``; passwords must not contain spaces."""
    if not tls and not plaintext:
        raise ValueError("redis needs at least one port: set tls=True or plaintext=True")
    if tls and certs is None:
        raise ValueError("tls=True needs certs=sandbox.certs.make_certs(folder)")
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerStartError("redis", None, f"redis-server not found; {INSTALL_HINT}", "")
    workdir.mkdir(parents=True, exist_ok=True)
    datadir = workdir / "data"
    datadir.mkdir(exist_ok=True)

    def attempt() -> RedisServer:
        port = free_port() if plaintext else None
        tls_port = free_port() if tls else None
        config_file = workdir / "redis.conf"
        config_file.write_text(
            render_redis_conf(
                datadir=datadir,
                port=port or 0,
                tls_port=tls_port,
                password=password,
                appendonly=appendonly,
                save=save,
                maxmemory=maxmemory,
                maxmemory_policy=maxmemory_policy,
                rename_config=rename_config,
                certs=certs,
                acl_users=acl_users,
            )
        )
        process = ManagedProcess(
            "redis", [binary, str(config_file)], workdir, port=port or tls_port
        ).start()
        server = RedisServer(
            port=port,
            tls_port=tls_port,
            password=password,
            ca_file=certs.ca_cert if tls and certs else None,
            config_file=config_file,
            process=process,
        )
        with process.stopped_on_error():
            client = server.client(tls=port is None, timeout=1.0)
            try:
                process.wait_until(lambda: bool(client.ping()), READY_TIMEOUT, "answering PING")
            finally:
                client.close()
        return server

    return start_with_port_retry(attempt)
