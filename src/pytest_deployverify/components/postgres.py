"""A read-only PostgreSQL session: bounded connect and statement time, autocommit, SELECT 1 probe."""

from __future__ import annotations

import dataclasses
from typing import Any

import psycopg

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.components.errors import ComponentUnavailable, network_problem, timed_out
from pytest_deployverify.expectations.postgres import PostgresExpectations
from pytest_deployverify.profile.fields import PostgresDsn, Seconds
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Secret

COMPONENT = "postgres"
# libpq (and psycopg, which follows it) treats a connect_timeout below 2 s as 2 s.
MIN_CONNECT_TIMEOUT = 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class PostgresConfig:
    dsn: PostgresDsn
    password: Secret | None = None
    timeout: Seconds = 5.0
    database: str | None = None
    expect: PostgresExpectations = dataclasses.field(default_factory=PostgresExpectations)


def connect_timeout(timeout: float) -> int:
    """Whole seconds for libpq's ``connect_timeout`` (0 would mean "wait forever")."""
    return max(MIN_CONNECT_TIMEOUT, int(timeout))


def connect_kwargs(config: PostgresConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "connect_timeout": connect_timeout(config.timeout),
        # Every statement is bounded server-side too, so a slow query cannot hang a check.
        "options": f"-c statement_timeout={int(config.timeout * 1000)}",
        "autocommit": True,
    }
    if config.password is not None:
        kwargs["password"] = config.password.get()
    if config.database:
        kwargs["dbname"] = config.database
    return kwargs


def explain_postgres_error(exc: BaseException, config: PostgresConfig) -> str:
    text = str(exc).strip()
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        detail = text.split("FATAL:", 1)[-1].strip()
        return f"rejected the credentials: {detail} (check the profile's postgres password)"
    if isinstance(exc, psycopg.errors.ConnectionTimeout) or "timeout expired" in lowered:
        return timed_out(connect_timeout(config.timeout), "connect")
    if "connection refused" in lowered:
        return "is unreachable: connection refused (nothing listens on that port)"
    if "does not exist" in lowered:
        detail = text.split("FATAL:", 1)[-1].strip()
        return f"refused the session: {detail}"
    problem = network_problem(exc, config.timeout)
    if problem is not None:
        return problem
    return f"failed: {type(exc).__name__}: {text}"


def build_postgres(config: PostgresConfig) -> psycopg.Connection[Any]:
    """A probed, read-only connection (``default_transaction_read_only``, then ``SELECT 1``)."""
    try:
        conn = psycopg.connect(config.dsn.get(), **connect_kwargs(config))
    except psycopg.Error as exc:
        raise ComponentUnavailable(
            COMPONENT, config.dsn.display, explain_postgres_error(exc, config)
        ) from None
    try:
        # Checks read; a session that cannot write makes an accidental write fail loudly.
        conn.execute("SET default_transaction_read_only = on")
        conn.execute("SELECT 1").fetchone()
    except psycopg.Error as exc:
        conn.close()
        raise ComponentUnavailable(
            COMPONENT, config.dsn.display, explain_postgres_error(exc, config)
        ) from None
    return conn


def _connect(section: PostgresConfig, profile: Profile) -> psycopg.Connection[Any]:
    return build_postgres(section)


component = Component(
    name="postgres",
    checklist=("pytest_deployverify.checklist.test_postgres",),
    title="PostgreSQL",
    sections=(SectionSpec("postgres", PostgresConfig, "the PostgreSQL database of the service"),),
    connect=_connect,
    extra="postgres",
)
