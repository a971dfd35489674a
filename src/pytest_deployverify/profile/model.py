"""The environment profile: one validated, frozen description of the target environment.

A profile is a TOML file (``verify/environments/NAME.toml``); every section is optional. Loading,
``${VAR}`` interpolation and error messages live in ``profile_loader``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum, StrEnum
from typing import Any, TypeVar

from pytest_deployverify.profile.fields import (
    Count,
    Fraction,
    PositiveFloat,
)
from pytest_deployverify.profile.schema import FieldError, SchemaError, build
from pytest_deployverify.profile.secrets import Secret

T = TypeVar("T")

SECTIONS = ("infra", "security", "monitoring", "smoke")


class Severity(StrEnum):
    """How much a failed check weighs on the go/no-go decision."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def blocking(self) -> bool:
        return self in (Severity.CRITICAL, Severity.HIGH)

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r}; choose one of: {choices}") from None


DEFAULT_ROLES = ("Engineering Lead", "Security", "Operations", "Product")


class Section(StrEnum):
    INFRA = "infra"
    SECURITY = "security"
    MONITORING = "monitoring"
    SMOKE = "smoke"


model = dataclasses.dataclass(frozen=True, kw_only=True)


@dataclasses.dataclass(frozen=True)
class SectionSpec:
    """A top-level profile table a component owns: its key, the type that validates it, what it is.

    ``type`` is a dataclass (a table) or ``tuple[Dataclass, ...]`` (an array of tables).
    """

    key: str
    type: Any
    description: str = ""
    # For an array of tables: the field that must be unique across its entries ("name").
    unique: str | None = None


@model
class Slo:
    """Thresholds from the source checklists; checks read the ones they need."""

    error_rate: Fraction = 0.001
    p95_latency_ms: PositiveFloat = 1000.0
    p99_latency_ms: PositiveFloat = 2000.0
    cache_hit_rate: Fraction = 0.9
    cert_min_days: Count = 14


@model
class ManualItem:
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


@model
class Waiver:
    """An approved, time-boxed exception: a failing check becomes a documented expected failure.

    ``check`` is a check id or an fnmatch pattern over check ids."""

    check: str
    reason: str
    approver: str
    ticket: str
    expires: dt.date

    def active_on(self, day: dt.date) -> bool:
        return day <= self.expires


@model
class Profile:
    name: str
    description: str = ""
    protected: bool = False
    version: str | None = None
    default_severity: Severity | None = None
    slo: Slo = dataclasses.field(default_factory=Slo)
    manual: tuple[ManualItem, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    roles: tuple[str, ...] = DEFAULT_ROLES
    # The components' tables ([redis], [kubernetes], [[services]], ...), validated by the section
    # types the components declare (``SectionSpec``); absent tables are not in the mapping.
    sections: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for label, names in (
            ("manual", [m.id for m in self.manual]),
            ("roles", list(self.roles)),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{label}: {name!r} appears twice")
                seen.add(name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], sections: Iterable[SectionSpec] = ()) -> Profile:
        """Validate plain data (parsed TOML) into a Profile; raises schema.SchemaError.

        ``sections`` are the tables the registered components own; any other top-level key that
        is not one of the profile's own is an error naming the known keys.
        """
        specs = {spec.key: spec for spec in sections}
        profile = build(
            cls, dict(data), extra={k: s.type for k, s in specs.items()}, into="sections"
        )
        errors = [
            FieldError((spec.key,), f"{name!r} appears twice")
            for spec in specs.values()
            if spec.unique
            for name in _duplicates(
                getattr(entry, spec.unique) for entry in profile.sections.get(spec.key) or ()
            )
        ]
        if errors:
            raise SchemaError(errors)
        return profile

    def component(self, name: str) -> Any:
        """The named component section, or None when the profile does not configure it."""
        return self.sections.get(name)

    def table(self, key: str, kind: type[T]) -> T | None:
        """The component table ``key`` typed as ``kind`` (None when absent)."""
        value = self.sections.get(key)
        if value is None or isinstance(value, kind):
            return value
        raise TypeError(f"profile table [{key}] is a {type(value).__name__}, not {kind.__name__}")

    def __getattr__(self, name: str) -> Any:
        # ``profile.redis`` for a component's table; only called when normal lookup fails.
        if name.startswith("_"):
            raise AttributeError(name)
        sections = self.__dict__.get("sections")
        if sections is not None and name in sections:
            return sections[name]
        raise AttributeError(
            f"profile has no attribute {name!r} (a component table that is not configured "
            "reads as absent: use profile.component(name))"
        )

    def iter_secrets(self) -> Iterator[Secret]:
        """Every secret value in the profile, so the run can redact them from all output."""
        yield from _walk_secrets(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports: secrets masked, dates as ISO strings; the component tables at
        the top level, as the file writes them (absent ones left out)."""
        data: dict[str, Any] = plain_data(self)
        sections = data.pop("sections", {})
        data.update({key: value for key, value in sections.items() if value not in (None, [])})
        return data


def _duplicates(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    twice: list[str] = []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return twice


def _walk_secrets(value: object) -> Iterator[Secret]:
    if isinstance(value, Secret):
        yield value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _walk_secrets(getattr(value, field.name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk_secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk_secrets(item)


def plain_data(value: Any) -> Any:
    if isinstance(value, Secret):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value):
        return {f.name: plain_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(v) for v in value]
    return value
