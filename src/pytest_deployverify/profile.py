"""The environment profile: one validated, frozen description of the target environment.

A profile is a TOML file (``verify/environments/NAME.toml``); every section is optional. Loading,
``${VAR}`` interpolation and error messages live in ``profile_loader``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import Enum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .checks.findings import Severity
from .secrets import Endpoint, Secret

SECTIONS = ("infra", "security", "monitoring", "smoke")
DEFAULT_ROLES = ("Engineering Lead", "Security", "Operations", "Product")


class Section(str, Enum):
    INFRA = "infra"
    SECURITY = "security"
    MONITORING = "monitoring"
    SMOKE = "smoke"


def _url_check(*schemes: str) -> AfterValidator:
    def check(value: Endpoint) -> Endpoint:
        raw = value.get()
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError(f"malformed URL {value.display!r}: {exc}") from None
        if parts.scheme.lower() not in schemes:
            allowed = ", ".join(f"{s}://" for s in schemes)
            raise ValueError(f"URL {value.display!r} must start with {allowed}")
        if not parts.hostname:
            raise ValueError(f"URL {value.display!r} has no host")
        return value

    return AfterValidator(check)


HttpUrl = Annotated[Endpoint, _url_check("http", "https")]
RedisUrl = Annotated[Endpoint, _url_check("redis", "rediss")]
PostgresDsn = Annotated[Endpoint, _url_check("postgresql", "postgres")]
Seconds = Annotated[float, Field(gt=0, le=3600)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class KubernetesConfig(Model):
    """Where the cluster is and which workloads the checklist is about."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    namespace: str = "default"
    workloads: list[str] = Field(default_factory=list)
    timeout: Seconds = 10.0
    page_size: Annotated[int, Field(ge=1, le=5000)] = 500


class RedisConfig(Model):
    url: RedisUrl
    password: Secret | None = None
    username: str | None = None
    ca_file: str | None = None
    timeout: Seconds = 2.0
    expect_tls: bool = False


class PrometheusConfig(Model):
    url: HttpUrl
    bearer_token: Secret | None = None
    ca_file: str | None = None
    timeout: Seconds = 5.0
    job: str | None = None


class AlertmanagerConfig(Model):
    url: HttpUrl
    bearer_token: Secret | None = None
    ca_file: str | None = None
    timeout: Seconds = 5.0
    receivers: list[str] = Field(default_factory=list)


class HttpConfig(Model):
    base_url: HttpUrl
    ca_file: str | None = None
    verify_tls: bool = True
    timeout: Seconds = 5.0
    headers: dict[str, Secret] = Field(default_factory=dict)


class PostgresConfig(Model):
    dsn: PostgresDsn
    password: Secret | None = None
    timeout: Seconds = 5.0
    database: str | None = None


class Slo(Model):
    """Thresholds from the source checklists; checks read the ones they need."""

    error_rate: Fraction = 0.001
    p95_latency_ms: Annotated[float, Field(gt=0)] = 1000.0
    p99_latency_ms: Annotated[float, Field(gt=0)] = 2000.0
    cache_hit_rate: Fraction = 0.9
    cert_min_days: Annotated[int, Field(ge=0)] = 14


class Service(Model):
    """A downstream service whose health endpoint must answer."""

    name: str
    url: HttpUrl
    timeout: Seconds = 5.0


class ManualItem(Model):
    """A checklist item no machine can verify: attested by a person, or pending."""

    id: str
    title: str
    section: Section = Section.INFRA
    attested_by: str | None = None
    attested_at: dt.date | None = None
    note: str | None = None

    @property
    def attested(self) -> bool:
        return bool(self.attested_by)


class Waiver(Model):
    """An approved, time-boxed exception: a failing check becomes a documented expected failure."""

    check: str = Field(description="check id, or an fnmatch pattern over check ids")
    reason: str
    approver: str
    ticket: str
    expires: dt.date

    def active_on(self, day: dt.date) -> bool:
        return day <= self.expires


class Profile(Model):
    name: str
    description: str = ""
    protected: bool = False
    version: str | None = None
    default_severity: Severity | None = None
    kubernetes: KubernetesConfig | None = None
    redis: RedisConfig | None = None
    prometheus: PrometheusConfig | None = None
    alertmanager: AlertmanagerConfig | None = None
    http: HttpConfig | None = None
    postgres: PostgresConfig | None = None
    slo: Slo = Field(default_factory=Slo)
    services: list[Service] = Field(default_factory=list)
    manual: list[ManualItem] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=lambda: list(DEFAULT_ROLES))

    @model_validator(mode="after")
    def _unique_names(self) -> Profile:
        for label, names in (
            ("services", [s.name for s in self.services]),
            ("manual", [m.id for m in self.manual]),
            ("roles", list(self.roles)),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{label}: {name!r} appears twice")
                seen.add(name)
        return self

    def component(self, name: str) -> Any:
        """The named component section, or None when the profile does not configure it."""
        return getattr(self, name, None)

    def iter_secrets(self) -> Iterator[Secret]:
        """Every secret value in the profile, so the run can redact them from all output."""
        yield from _walk_secrets(self)


ComponentName = Literal["kubernetes", "redis", "prometheus", "alertmanager", "http", "postgres"]
COMPONENTS: tuple[ComponentName, ...] = (
    "kubernetes",
    "redis",
    "prometheus",
    "alertmanager",
    "http",
    "postgres",
)


def _walk_secrets(value: object) -> Iterator[Secret]:
    if isinstance(value, Secret):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk_secrets(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk_secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk_secrets(item)
