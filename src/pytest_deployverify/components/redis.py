"""The Redis component: ``[redis]``, a redis-py client without retries, and its readers.

The verifier logs in as the application (``username``/``password``), or, when the profile names
one, as a separate least-privilege monitoring login (``monitor_username``/``monitor_password``: an
ACL user allowed ``+ping +info +config|get``). A command that login may not run is reported as
"not verified: needs +<command> (ACL)", never as rejected credentials.

Readers: ``info`` (INFO all, plus CONFIG GET where allowed), ``auth_probe`` (PING without
credentials), ``tls_probe`` (a verified TLS PING and plaintext PINGs on every candidate port,
the one the server itself reports included), ``sentinels`` (read-only SENTINEL commands),
``write_probe`` (only with ``[redis.expect] probe_key_prefix``: a random key under that prefix
SET with a 30 s TTL, read back and deleted, in one round trip). Nothing else writes to Redis;
without a dedicated prefix the write probe is the destructive item's, called by it. redis-py is
imported only when a client is built, so a profile without Redis never needs it.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.redis import (
    CHECKS,
    PROBE_TTL_MS,
    RedisExpectations,
    RedisSentinelExpectations,
    RedisSnapshot,
    RespReply,
    SentinelReading,
    TlsProbe,
    WriteProbe,
)
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.components.errors import (
    ComponentUnavailable,
    ReadError,
    network_problem,
    timed_out,
)
from pytest_deployverify.profile.fields import ExistingFile, RedisUrl, Seconds
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Secret

if TYPE_CHECKING:
    import redis as redis_lib
    from redis.retry import Retry

COMPONENT = "redis"
CONFIG_KEYS = ("save", "appendonly", "maxmemory", "maxmemory-policy", "port", "tls-port")
_PING = b"*1\r\n$4\r\nPING\r\n"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RedisConfig:
    """``[redis]``: the Redis (cache, rate limits) the service uses. ``username``/``password`` are
    the application's login; with ``monitor_username`` (and ``monitor_password``) the verifier
    reads as that separate least-privilege ACL user instead (``+ping +info +config|get`` is all
    it needs), and a command it may not run is reported as "not verified: needs +<command>"."""

    # The address the service uses, rediss:// for TLS; a user and password in it count unless
    # username/password set them (`url = "rediss://redis.example.com:6380/0"`).
    url: RedisUrl
    # The application's password (AUTH); wins over the URL's.
    password: Secret | None = None
    # The application's ACL user (unset: the URL's user, else the default user).
    username: str | None = None
    # A monitoring login for the reads (an ACL user: ``user monitor on >PASSWORD +ping +info
    # +config|get``). Unset: the application's login reads.
    monitor_username: str | None = None
    # monitor_username's password (requires monitor_username).
    monitor_password: Secret | None = None
    # A PEM file of the CA certificates that sign the server's certificate, for rediss:// and
    # the TLS probes (unset: the system trust store).
    ca_file: ExistingFile | None = None
    # Seconds to connect and for each command's answer.
    timeout: Seconds = 2.0
    # TLS is required: the URL must be rediss:// with a verified handshake, and no port of the
    # host may answer plaintext (false: SEC-REDIS-TLS is not applicable).
    expect_tls: bool = False
    expect: RedisExpectations = dataclasses.field(default_factory=RedisExpectations)

    def __post_init__(self) -> None:
        if self.monitor_password is not None and self.monitor_username is None:
            raise ValueError(
                "monitor_password is set without monitor_username; set both (the ACL user the "
                "verifier reads as) or neither"
            )

    @property
    def login(self) -> str | None:
        """The ACL user the verifier logs in as (None: the default user)."""
        return self.monitor_username or self.username or self.url_username

    @property
    def url_username(self) -> str | None:
        name = urlsplit(self.url.get()).username
        return unquote(name) if name else None


# -- the client ------------------------------------------------------------------------------------


def no_retry() -> Retry:
    """redis-py 8 retries 3 times with exponential backoff by default (connect and commands):
    against a black-holed server that is four timeouts per command. A verifier wants one."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Retry(NoBackoff(), retries=0)


def redis_kwargs(config: RedisConfig) -> dict[str, Any]:
    """The keyword arguments for ``redis.Redis.from_url`` (password/username override the URL's)."""
    kwargs: dict[str, Any] = {
        "socket_connect_timeout": config.timeout,
        "socket_timeout": config.timeout,
        "retry": no_retry(),
        "retry_on_timeout": False,
        "health_check_interval": 0,
    }
    url = urlsplit(config.url.get())
    if config.monitor_username is not None:
        # The monitoring login, never the application's password for another user.
        kwargs["username"] = config.monitor_username
        kwargs["password"] = config.monitor_password.get() if config.monitor_password else None
        if config.url.scheme == "rediss" and config.ca_file:
            kwargs["ssl_ca_certs"] = config.ca_file
        return kwargs
    if config.password is not None:
        kwargs["password"] = config.password.get()
        if config.username is None and url.username:
            kwargs["username"] = unquote(url.username)
    if config.username is not None:
        kwargs["username"] = config.username
        if config.password is None and url.password:
            kwargs["password"] = unquote(url.password)
    if config.url.scheme == "rediss" and config.ca_file:
        kwargs["ssl_ca_certs"] = config.ca_file
    return kwargs


def connect_redis(config: RedisConfig) -> redis_lib.Redis:
    """A client for the profile's Redis; nothing is sent until the first command."""
    import redis

    return redis.Redis.from_url(_url_for(config), **redis_kwargs(config))


def _url_for(config: RedisConfig) -> str:
    """The URL without the credentials the profile sets separately.

    redis-py lets the URL's userinfo override keyword arguments; the profile's explicit
    ``password``/``username`` must win instead."""
    raw = config.url.get()
    separate = (config.password, config.username, config.monitor_username)
    if all(value is None for value in separate):
        return raw
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


_COMMAND = re.compile(r"run the '([^']+)' command", re.IGNORECASE)


def acl_needs(exc: BaseException) -> str:
    """The ACL rule a NOPERM error asks for (``+config|get``), from Redis's own message."""
    match = _COMMAND.search(str(exc))
    return f"+{match.group(1).lower()}" if match else "a command the ACL user may not run"


def not_permitted(exc: BaseException, login: str | None = None) -> str:
    """ "not verified: needs +info (ACL) ...": the login works, one command is not allowed."""
    who = f" for ACL user {login!r}" if login else ""
    return f"not verified: needs {acl_needs(exc)} (ACL){who}: {exc}"


def explain_redis_error(
    exc: BaseException, timeout: float, config: RedisConfig | None = None
) -> str:
    """One phrase for why a Redis command failed (no secret: redis-py never echoes passwords)."""
    import redis

    login = config.login if config is not None else None
    if isinstance(exc, redis.exceptions.NoPermissionError):
        return not_permitted(exc, login)
    if isinstance(exc, redis.AuthenticationError):
        key = (
            "monitor_username/monitor_password"
            if config is not None and config.monitor_username is not None
            else "password/username"
        )
        return f"rejected the credentials: {exc} (check the profile's redis {key})"
    if isinstance(exc, redis.ResponseError) and "NOAUTH" in str(exc).upper():
        return "requires a password: the profile sets none (add redis.password)"
    if isinstance(exc, redis.TimeoutError):
        phase = "connect" if "connect" in str(exc).lower() else "read"
        return timed_out(timeout, phase)
    if isinstance(exc, redis.exceptions.InvalidResponse) or "protocol error" in str(exc).lower():
        return "answered something that is not the Redis protocol (is this port really Redis?)"
    problem = network_problem(exc, timeout)
    if problem is not None:
        return problem
    if isinstance(exc, redis.ConnectionError):
        return f"is unreachable: {exc}"
    return f"failed: {type(exc).__name__}: {exc}"


redis_problem = explain_redis_error  # the name the readers' callers used


def build_redis(config: RedisConfig) -> redis_lib.Redis:
    """The probed client: PING must answer within the timeout, else ``ComponentUnavailable``."""
    import redis

    client = connect_redis(config)
    try:
        if not client.ping():
            raise redis.ConnectionError("PING did not answer PONG")
    except Exception as exc:
        client.close()
        raise ComponentUnavailable(
            COMPONENT, display_endpoint(config), explain_redis_error(exc, config.timeout, config)
        ) from exc
    return client


def display_endpoint(config: RedisConfig) -> str:
    """The masked URL, and the monitoring login when the verifier reads as one."""
    if config.monitor_username is None:
        return config.url.display
    return f"{config.url.display} (login {config.monitor_username})"


# -- reading ---------------------------------------------------------------------------------------


def client_endpoint(client: redis_lib.Redis) -> str:
    """``host:port`` of a redis-py client (no credentials), for messages."""
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


def client_login(client: redis_lib.Redis) -> str | None:
    """The ACL user a redis-py client logs in as (None: the default user)."""
    name = client.connection_pool.connection_kwargs.get("username")
    return str(name) if name else None


def read_snapshot(
    client: redis_lib.Redis, *, timeout: float = 2.0, clock: Any = time.time
) -> RedisSnapshot:
    """INFO all, plus CONFIG GET of the persistence, memory and port keys when CONFIG is allowed,
    in one round trip (a pipeline without MULTI).

    Raises ``ComponentUnavailable`` (naming Redis and its address) when the connection fails,
    ``ReadError`` "not verified: needs +info (ACL)" when the login may not run INFO.
    """
    import redis

    endpoint = client_endpoint(client)
    login = client_login(client)
    pipe = client.pipeline(transaction=False)
    pipe.info("all")
    pipe.config_get(*CONFIG_KEYS)
    try:
        info, raw = pipe.execute(raise_on_error=False)
    except redis.RedisError as exc:
        raise ComponentUnavailable(COMPONENT, endpoint, explain_redis_error(exc, timeout)) from exc
    if isinstance(info, redis.exceptions.NoPermissionError):
        raise ReadError(COMPONENT, endpoint, "INFO", not_permitted(info, login))
    if isinstance(info, BaseException):
        raise ComponentUnavailable(COMPONENT, endpoint, explain_redis_error(info, timeout))
    config: dict[str, str] = {}
    unreadable: list[str] = []
    refused: str | None = None
    if isinstance(raw, redis.exceptions.NoPermissionError):
        who = f" for ACL user {login!r}" if login else ""
        refused = f"not verified: needs {acl_needs(raw)} (ACL){who}"
    elif isinstance(raw, redis.ResponseError):
        refused = str(raw).split(",")[0]
    elif isinstance(raw, BaseException):
        raise ComponentUnavailable(COMPONENT, endpoint, explain_redis_error(raw, timeout))
    else:
        config = {str(k): str(v) for k, v in raw.items()}
    if refused is not None:
        unreadable.append(
            f"CONFIG GET refused ({refused}): the RDB save schedule was judged from INFO only "
            "(managed services disable CONFIG)"
        )
    return RedisSnapshot(
        endpoint=endpoint,
        info=info,
        config=config,
        unreadable=tuple(unreadable),
        taken_at=clock(),
        login=login,
        config_refused=refused,
    )


def resp_ping(
    host: str,
    port: int,
    *,
    timeout: float,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> RespReply:
    """Connect (optionally over TLS), send PING without AUTH, and read the first reply line."""
    address = f"{host}:{port}"
    version = None
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            sock: socket.socket = raw
            if tls is not None:
                sock = tls.wrap_socket(raw, server_hostname=server_hostname or host)
                version = sock.version()  # type: ignore[attr-defined,unused-ignore]
            sock.sendall(_PING)
            data = b""
            while b"\r\n" not in data and len(data) < 512:
                chunk = sock.recv(512)
                if not chunk:
                    break
                data += chunk
    except ssl.SSLError as exc:
        return RespReply(
            address, tls is not None, None, f"TLS handshake failed: {exc.reason or exc}"
        )
    except TimeoutError:
        return RespReply(address, tls is not None, None, f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        return RespReply(address, tls is not None, None, "connection refused")
    except OSError as exc:
        return RespReply(address, tls is not None, None, f"connection failed: {exc}")
    line = data.split(b"\r\n", 1)[0].decode("utf-8", errors="replace")
    if not data:
        return RespReply(address, tls is not None, None, "closed the connection without a reply")
    if line[:1] not in ("+", "-") or b"\r\n" not in data:
        return RespReply(
            address, tls is not None, None, f"answered bytes that are not RESP: {data[:40]!r}"
        )
    return RespReply(address, tls is not None, line[:200], None, version)


def _tls_context(config: RedisConfig) -> ssl.SSLContext:
    return (
        ssl.create_default_context(cafile=config.ca_file)
        if config.ca_file
        else ssl.create_default_context()
    )


def probe_timeout(config: RedisConfig) -> float:
    return config.expect.probe_timeout or config.timeout


def probe_unauthenticated(config: RedisConfig, timeout: float | None = None) -> RespReply:
    """PING the profile's Redis without credentials (over TLS for ``rediss://``)."""
    tls = _tls_context(config) if config.url.scheme == "rediss" else None
    return resp_ping(
        config.url.host, config.url.port or 6379, timeout=timeout or config.timeout, tls=tls
    )


def probe_plaintext(
    config: RedisConfig, extra_ports: Sequence[int] = (), timeout: float | None = None
) -> list[RespReply]:
    """PING in plaintext on the profile's port and on ``extra_ports`` of the same host."""
    port = config.url.port or 6379
    ports = list(dict.fromkeys([port, *extra_ports]))
    return [
        resp_ping(config.url.host, p, timeout=timeout or config.timeout, tls=None) for p in ports
    ]


def probe_tls(config: RedisConfig, timeout: float | None = None) -> RespReply:
    """PING over verified TLS (the profile's CA) to learn the negotiated TLS version."""
    return resp_ping(
        config.url.host,
        config.url.port or 6379,
        timeout=timeout or config.timeout,
        tls=_tls_context(config),
    )


def server_plaintext_ports(snap: RedisSnapshot) -> tuple[int, ...]:
    """The plaintext port the server reports about itself: CONFIG ``port`` (0 means plaintext is
    off), else INFO ``tcp_port``, which Redis sets to the TLS port when plaintext is off (that
    one is probed anyway, as the URL's port)."""
    configured = snap.config.get("port")
    value = configured if configured is not None else snap.get("tcp_port")
    try:
        port = int(str(value))
    except ValueError:
        return ()
    return (port,) if port > 0 else ()


def read_sentinels(
    expect: RedisSentinelExpectations, timeout: float, ca_file: str | None = None
) -> list[SentinelReading]:
    """Ask every Sentinel ``SENTINEL CKQUORUM`` and ``SENTINEL MASTER`` (read-only commands)."""
    import redis

    readings = []
    for address in expect.addresses:
        host, _, port_text = address.rpartition(":")
        client = redis.Redis(
            host=host or address,
            port=int(port_text or 26379),
            password=expect.password.get() if expect.password else None,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=no_retry(),
            ssl=expect.tls,
            ssl_ca_certs=ca_file if expect.tls else None,
        )
        try:
            try:
                reply = cast(Any, client).execute_command("SENTINEL", "CKQUORUM", expect.master)
                ckquorum, ok = _text(reply), True
            except redis.ResponseError as exc:
                ckquorum, ok = str(exc), False
            master = cast(Mapping[str, Any], client.sentinel_master(expect.master))
            readings.append(SentinelReading(address, ckquorum, ok, dict(master)))
        except redis.RedisError as exc:
            readings.append(SentinelReading(address, problem=explain_redis_error(exc, timeout)))
        finally:
            client.close()
    return readings


def write_probe(
    client: redis_lib.Redis,
    prefix: str,
    *,
    ttl_ms: int = PROBE_TTL_MS,
    timeout: float = 2.0,
    clock: Any = time.perf_counter,
) -> WriteProbe:
    """SET a random key under ``prefix`` (NX, PX ``ttl_ms``), GET it, PTTL it and DEL it, in one
    round trip (a pipeline without MULTI). The server's refusal of the write (READONLY, OOM,
    MISCONF) is the probe's result; an ACL that forbids the commands is ``ReadError`` "not
    verified: needs +set (ACL)", a dead connection ``ComponentUnavailable``."""
    import redis

    endpoint = client_endpoint(client)
    login = client_login(client)
    key = f"{prefix}{secrets.token_hex(8)}"
    value = secrets.token_hex(16)
    pipe = client.pipeline(transaction=False)
    pipe.set(key, value, px=ttl_ms, nx=True)
    pipe.get(key)
    pipe.pttl(key)
    pipe.delete(key)
    started = clock()
    try:
        answers = pipe.execute(raise_on_error=False)
    except redis.RedisError as exc:
        raise ComponentUnavailable(COMPONENT, endpoint, explain_redis_error(exc, timeout)) from exc
    elapsed = (clock() - started) * 1000
    denied = next((a for a in answers if isinstance(a, redis.exceptions.NoPermissionError)), None)
    if denied is not None:
        problem = (
            f"{not_permitted(denied, login)}; the probe needs +set +get +pttl +del on keys "
            f"~{prefix}*"
        )
        raise ReadError(COMPONENT, endpoint, "the write probe", problem)
    written, got, ttl, deleted = answers
    if isinstance(written, redis.ConnectionError):
        raise ComponentUnavailable(COMPONENT, endpoint, explain_redis_error(written, timeout))
    refused = _server_error(written) if isinstance(written, BaseException) else None
    others = [a for a in (got, ttl, deleted) if isinstance(a, BaseException)]
    return WriteProbe(
        endpoint=endpoint,
        key=key,
        ttl_ms=ttl_ms,
        written=written is True,
        read_back=_text(got) == value
        if got is not None and not isinstance(got, BaseException)
        else False,
        ttl_left_ms=ttl if isinstance(ttl, int) else None,
        deleted=deleted if isinstance(deleted, int) else None,
        refused=refused,
        problem="; ".join(str(a) for a in others) if others and refused is None else None,
        elapsed_ms=round(elapsed, 3),
        login=login,
    )


# redis-py turns these error codes into exception classes and drops the code from the text.
_ERROR_CODES = {"OutOfMemoryError": "OOM", "ReadOnlyError": "READONLY"}


def _server_error(exc: BaseException) -> str:
    """A Redis error reply as the server sent it (``OOM command not allowed ...``)."""
    code = _ERROR_CODES.get(type(exc).__name__)
    text = str(exc)
    return f"{code} {text}" if code and not text.startswith(code) else text


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- readers -----------------------------------------------------------------------------------


def _info(ctx: ReadContext) -> RedisSnapshot:
    section: RedisConfig = ctx.section
    return read_snapshot(ctx.client, timeout=probe_timeout(section))


def _auth_probe(ctx: ReadContext) -> RespReply:
    section: RedisConfig = ctx.section
    if not section.expect.require_auth:
        raise NotApplicable("[redis.expect] require_auth = false")
    ctx.client  # noqa: B018 - an unreachable Redis fails here once, with its own message
    return probe_unauthenticated(section, probe_timeout(section))


def tls_probe(section: RedisConfig, snap: RedisSnapshot | None = None) -> TlsProbe:
    """A verified TLS PING (for ``rediss://``) and plaintext PINGs on the URL's port, the ports
    the server reports in ``snap`` and the profile's ``plaintext_ports``."""
    from_server = server_plaintext_ports(snap) if snap is not None else ()
    timeout = probe_timeout(section)
    tls = probe_tls(section, timeout) if section.url.scheme == "rediss" else None
    ports = [*from_server, *section.expect.plaintext_ports]
    return TlsProbe(
        url_display=section.url.display,
        scheme=section.url.scheme,
        address=f"{section.url.host}:{section.url.port or 6379}",
        tls=tls,
        plaintext=tuple(probe_plaintext(section, ports, timeout)),
        ports_from_server=from_server,
    )


def _tls_probe(ctx: ReadContext) -> TlsProbe:
    section: RedisConfig = ctx.section
    if not section.expect_tls:
        raise NotApplicable("[redis] expect_tls = false: TLS is not required for this environment")
    return tls_probe(section, ctx.read("redis.info"))


def _sentinels(ctx: ReadContext) -> list[SentinelReading]:
    section: RedisConfig = ctx.section
    sentinel = section.expect.sentinel
    if sentinel is None:
        raise NotApplicable("[redis.expect.sentinel] is not configured")
    return read_sentinels(sentinel, probe_timeout(section), section.ca_file)


def _write_probe(ctx: ReadContext) -> WriteProbe:
    section: RedisConfig = ctx.section
    prefix = section.expect.probe_key_prefix
    if not prefix:
        raise NotApplicable("[redis.expect] probe_key_prefix is not set")
    return write_probe(ctx.client, prefix, timeout=probe_timeout(section))


def _connect(section: RedisConfig, profile: Profile) -> redis_lib.Redis:
    return build_redis(section)


component = Component(
    name="redis",
    title="Redis",
    sections=(
        SectionSpec("redis", RedisConfig, "the Redis (cache, rate limits) the service uses"),
    ),
    connect=_connect,
    reads={
        "info": _info,
        "auth_probe": _auth_probe,
        "tls_probe": _tls_probe,
        "sentinels": _sentinels,
        "write_probe": _write_probe,
    },
    checks=CHECKS,
    checklist=("pytest_deployverify.checklist.test_redis",),
    extra="redis",
    endpoint=display_endpoint,
    description="Reachability, authentication, TLS, persistence, memory, hit rate, replication, "
    "Sentinel and exporter of the cache, and a read/write probe under a dedicated key prefix.",
)
