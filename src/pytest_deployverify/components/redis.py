"""A redis-py client from the profile: bounded timeouts, no retries, PING as the probe."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.components.errors import ComponentUnavailable, network_problem, timed_out
from pytest_deployverify.profile.model import Profile, RedisConfig

COMPONENT = "redis"


def no_retry() -> Retry:
    """redis-py 8 retries 3 times with exponential backoff by default (connect and commands):
    against a black-holed server that is four timeouts per command. A verifier wants one."""
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


def connect_redis(config: RedisConfig) -> redis.Redis:
    """A client for the profile's Redis; nothing is sent until the first command."""
    return redis.Redis.from_url(_url_for(config), **redis_kwargs(config))


def _url_for(config: RedisConfig) -> str:
    """The URL without the credentials the profile sets separately.

    redis-py lets the URL's userinfo override keyword arguments; the profile's explicit
    ``password``/``username`` must win instead."""
    raw = config.url.get()
    if config.password is None and config.username is None:
        return raw
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def explain_redis_error(exc: BaseException, timeout: float) -> str:
    """One phrase for why a Redis command failed (no secret: redis-py never echoes passwords)."""
    if isinstance(exc, redis.AuthenticationError | redis.exceptions.NoPermissionError):
        return f"rejected the credentials: {exc} (check the profile's redis password/username)"
    if isinstance(exc, redis.ResponseError) and "NOAUTH" in str(exc).upper():
        return "requires a password: the profile sets none (add redis.password)"
    if isinstance(exc, redis.TimeoutError):
        phase = "connect" if "connect" in str(exc).lower() else "read"
        return timed_out(timeout, phase)
    problem = network_problem(exc, timeout)
    if problem is not None:
        return problem
    if isinstance(exc, redis.ConnectionError):
        return f"is unreachable: {exc}"
    return f"failed: {type(exc).__name__}: {exc}"


def build_redis(config: RedisConfig) -> redis.Redis:
    """The probed client: PING must answer within the timeout, else ``ComponentUnavailable``."""
    client = connect_redis(config)
    try:
        if not client.ping():
            raise redis.ConnectionError("PING did not answer PONG")
    except Exception as exc:
        client.close()
        raise ComponentUnavailable(
            COMPONENT, config.url.display, explain_redis_error(exc, config.timeout)
        ) from exc
    return client


def _connect(section: RedisConfig, profile: Profile) -> redis.Redis:
    return build_redis(section)


component = Component(
    name="redis",
    checklist=("pytest_deployverify.checklist.test_datastores",),
    title="Redis",
    sections=(
        SectionSpec("redis", RedisConfig, "the Redis (cache, rate limits) the service uses"),
    ),
    connect=_connect,
    extra="redis",
)
