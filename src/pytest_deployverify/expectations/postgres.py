"""Profile expectations for the PostgreSQL checks: ``[postgres.expect]``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pytest_deployverify.profile.fields import Count, Fraction, PositiveFloat
from pytest_deployverify.profile.schema import Range

model = dataclasses.dataclass(frozen=True, kw_only=True)


class RoleAttribute(StrEnum):
    """Role attributes an application role may be granted by exception (never SUPERUSER)."""

    CREATEDB = "createdb"
    CREATEROLE = "createrole"
    BYPASSRLS = "bypassrls"
    REPLICATION = "replication"


@model
class PostgresExpectations:
    """``[postgres.expect]``.

    ``privileges`` maps an object to the privileges the application role must hold on it; the key
    is ``schema.table`` (a table) or ``table:``/``sequence:``/``schema:``/``database:`` + name::

        privileges = { "public.api_clients" = ["SELECT", "INSERT"], "schema:public" = ["USAGE"] }
    """

    major_version: Annotated[int, Range(ge=9)] | None = None
    database: str | None = None  # None: [postgres] database, else the DSN's database
    allowed_role_attributes: tuple[RoleAttribute, ...] = ()
    privileges: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    max_connections_fraction: Fraction = 0.8
    wal_archiving: bool = True
    max_archive_age_s: PositiveFloat = 3600.0
    min_replicas: Count = 0
    max_replica_lag_s: PositiveFloat = 30.0
    # pg_settings values, compared with units understood: { work_mem = "4MB", fsync = "on" }.
    settings: Mapping[str, str] = dataclasses.field(default_factory=dict)
