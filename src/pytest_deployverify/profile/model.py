"""The environment profile: one validated, frozen description of the target environment.

A profile is a TOML file (``verify/environments/NAME.toml``); every section is optional. Loading,
``${VAR}`` interpolation and error messages live in ``profile_loader``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import Enum, StrEnum
from typing import Annotated, Any, TypeVar, cast

from pytest_deployverify.profile.fields import (
    Count,
    Duration,
    Fraction,
    PositiveFloat,
)
from pytest_deployverify.profile.schema import FieldError, Range, SchemaError, build
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

# The sign-off tables of the two source checklists, chosen with ``roles = "NAME"``: the API
# gateway's four approvers, and the integration platform's deployment team then its business
# stakeholders. ``default`` is DEFAULT_ROLES.
ROLE_PRESETS: dict[str, tuple[str, ...]] = {
    "default": DEFAULT_ROLES,
    "api-gateway": ("Engineering Lead", "Security Team", "Operations Team", "Product Manager"),
    "platform": (
        "DevOps Engineer",
        "Platform Engineer",
        "Security Engineer",
        "Product Owner",
        "Engineering Manager",
        "CTO",
    ),
}


def role_preset(name: str) -> tuple[str, ...]:
    """The roles of a preset; ValueError naming the presets (and the list form) otherwise."""
    found = ROLE_PRESETS.get(name.strip().lower())
    if found is None:
        known = "; ".join(f"{key} ({', '.join(roles)})" for key, roles in ROLE_PRESETS.items())
        raise ValueError(
            f"roles: no preset named {name!r}; presets: {known}; or list the roles "
            '(roles = ["Release Manager", "Security"])'
        )
    return found


class Section(StrEnum):
    INFRA = "infra"
    SECURITY = "security"
    MONITORING = "monitoring"
    SMOKE = "smoke"


model = dataclasses.dataclass(frozen=True, kw_only=True)


def replaced(obj: T, **changes: Any) -> T:
    """``dataclasses.replace`` for the ``model`` classes (which type checkers do not see as
    dataclasses): a copy with ``changes``, validated by ``__post_init__`` again."""
    copy: T = dataclasses.replace(cast(Any, obj), **changes)
    return copy


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

    # The highest share of failed (5xx) requests allowed, 0 to 1 (`error_rate = 0.001` is 0.1 %):
    # the error_rate gate's threshold.
    error_rate: Fraction = 0.001
    # The 95th percentile latency allowed, in milliseconds (the p95_latency gate).
    p95_latency_ms: PositiveFloat = 1000.0
    # The 99th percentile latency allowed, in milliseconds (the p99_latency gate).
    p99_latency_ms: PositiveFloat = 2000.0
    # The lowest cache hit rate allowed, 0 to 1 (the cache_hit_rate gate, Redis keyspace hits).
    cache_hit_rate: Fraction = 0.9
    # TLS certificates must stay valid at least this many more days.
    cert_min_days: Count = 14


@model
class Policy:
    """``[policy]``: how long waivers and attestations may stand before someone looks again."""

    # A waiver may expire at most this many days after the day the profile is loaded.
    waiver_max_days: Annotated[int, Range(ge=1, le=366)] = 90
    # An attestation written into the profile counts for this many days after ``attested_at``,
    # unless the item sets its own ``max_age_days``; bound to a release with ``release``.
    attestation_max_age_days: Annotated[int, Range(ge=1, le=366)] = 30


@model
class ShippedManual:
    """``[shipped_manual]``: the manual items the shipped checklist declares (secrets rotation,
    perimeter, on-call, DR drill, backup restore, pen test...), pending until attested. A
    ``[[manual]]`` entry with a shipped item's id attests it in the profile; ``drop`` removes the
    ones that do not apply here, each with why (the sign-off lists what was dropped)."""

    # false: list only the profile's own [[manual]] items, none of the shipped ones.
    enabled: bool = True
    # Shipped items that do not apply to this environment, by id, each with the reason the
    # sign-off shows (`drop = { dr-multi-region = "single region by design, ADR-12" }`).
    drop: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [key for key, reason in self.drop.items() if not reason.strip()]
        if bad:
            raise ValueError(
                f"drop: give the reason each shipped item does not apply ({', '.join(bad)})"
            )


@model
class RollbackPolicy:
    """``[rollback]``: what a rollback verification (``--rollback-to VERSION``) requires besides
    the release rolled back to running everywhere and no pod of the failed release (the
    profile's ``version``) left: the rollback triggers recovered after the rollback."""

    # The gates that triggered the rollback and must have recovered: [[gates]] names or
    # ready-made gates (their [[gates]] entry, when there is one, gives their params).
    triggers: tuple[str, ...] = ("rollback_error_rate", "rollback_p95_latency")
    # How long every point of each trigger must have held (the seed: monitor for 15 minutes);
    # the window ends when the run reads it and must start `settle` after the rollback.
    recovery: Duration = "15m"
    # Time allowed after the rollback before the recovery window may start (the failed
    # release's requests drain and leave the gates' rate windows).
    settle: Duration = "5m"

    def __post_init__(self) -> None:
        if not self.triggers:
            raise ValueError("triggers: name at least one gate that must have recovered")


@model
class ManualItem:
    """A checklist item no machine can verify: attested by a person, or pending.

    An attestation in the profile is bound to the release it was made for (``release``: it is
    stale once the profile's ``version`` moves on) and/or to an age (``max_age_days``, default
    ``[policy] attestation_max_age_days``); a stale attestation is pending again."""

    # The item's id, unique in the profile; `--attest ID=NAME` attests it (`id = "oncall"`). The
    # id of a shipped item ([shipped_manual]) attests or adjusts that item.
    id: str
    # What must be true, as the sign-off shows it (`title = "On-call rotation established"`);
    # may be left out for a shipped item, which brings its own.
    title: str | None = None
    # The sign-off section the item is listed in (default: the shipped item's, else infra).
    section: Section | None = None
    # Who attests the item (unset: the item is pending, and the verdict cannot be GO).
    attested_by: str | None = None
    # The day of the attestation (required with attested_by): it goes stale after max_age_days.
    attested_at: dt.date | None = None
    # The release the attestation was made for: it is stale once the profile's version differs.
    release: str | None = None
    # Days the attestation counts after attested_at (default: [policy] attestation_max_age_days).
    max_age_days: Annotated[int, Range(ge=1, le=3660)] | None = None
    # Free text shown with the item in the sign-off (where the evidence is, a ticket).
    note: str | None = None

    def __post_init__(self) -> None:
        if self.attested_by is not None and not self.attested_by.strip():
            raise ValueError(f"manual item {self.id!r}: attested_by is empty")
        if self.attested_by and self.attested_at is None:
            raise ValueError(
                f"manual item {self.id!r}: attested_by needs attested_at (the day of the "
                "attestation), so it can go stale"
            )

    @property
    def attested(self) -> bool:
        return bool(self.attested_by)

    def over(self, shipped: ManualItem) -> ManualItem:
        """This profile entry applied to the shipped item of the same id: what it sets wins (an
        entry with a title of its own describes the item itself: the shipped note is left out)."""
        return replaced(
            shipped,
            title=self.title or shipped.title,
            section=self.section or shipped.section,
            attested_by=self.attested_by,
            attested_at=self.attested_at,
            release=self.release,
            max_age_days=self.max_age_days,
            note=self.note if self.title else self.note or shipped.note,
        )


# Values that say nothing about who or why (a waiver must be accountable).
_PLACEHOLDERS = frozenset(
    {"x", "xx", "xxx", "-", "--", "n/a", "na", "none", "tbd", "todo", "?", "...", "test", "foo"}
)
_WILDCARDS = "*?["
WAIVER_COVERS = ("failures", "errors")


def _accountable(value: str, key: str, minimum: int) -> str | None:
    text = value.strip()
    if not text:
        return f"{key} is empty"
    if text.lower() in _PLACEHOLDERS or len(set(text.lower())) == 1:
        return f"{key} {text!r} is a placeholder"
    if len(text) < minimum:
        return f"{key} {text!r} is too short (at least {minimum} characters)"
    if not any(c.isalnum() for c in text):
        return f"{key} {text!r} has no letter or digit"
    return None


def pattern_problem(pattern: str) -> str | None:
    """Why a waiver's check pattern is not acceptable: it must name one check or a family of
    checks (a literal prefix of at least 3 characters before any wildcard), never everything."""
    text = pattern.strip()
    if not text:
        return "check is empty"
    first = min((text.index(c) for c in _WILDCARDS if c in text), default=len(text))
    if first < len(text) and len(text[:first].strip("-_. ")) < 3:
        return (
            f"check pattern {text!r} would waive too much; name a check id or a family with a "
            "literal prefix of at least 3 characters (e.g. 'SEC-TLS-*')"
        )
    return None


@model
class Waiver:
    """An approved, time-boxed exception: a failing check becomes a documented expected failure.

    ``check`` is a check id or an fnmatch pattern naming a family of checks (``SEC-TLS-*``),
    never everything. A waiver covers failures; an error (the check could not run, so nothing was
    judged) is covered only when ``covers`` includes ``errors``, and the sign-off shows it as a
    waived error. ``reason``, ``approver`` and ``ticket`` must be real, and ``expires`` at most
    ``[policy] waiver_max_days`` ahead."""

    # The check id, or an fnmatch pattern with a literal prefix of 3+ characters (`check = "K8S-HPA"`).
    check: str
    # Why the exception is acceptable (at least 10 characters, no placeholder).
    reason: str
    # Who approved the exception (a person or role).
    approver: str
    # The ticket that tracks the fix (`ticket = "CHG-1234"`).
    ticket: str
    # The last day the waiver applies; at most [policy] waiver_max_days ahead.
    expires: dt.date
    # What it waives: "failures", and "errors" (a check that could not run) only when listed.
    covers: tuple[str, ...] = ("failures",)

    def __post_init__(self) -> None:
        problems = [
            pattern_problem(self.check),
            _accountable(self.reason, "reason", 10),
            _accountable(self.approver, "approver", 2),
            _accountable(self.ticket, "ticket", 3),
        ]
        bad = [c for c in self.covers if c not in WAIVER_COVERS]
        if bad or not self.covers:
            problems.append(f"covers must list failures and/or errors, not {list(self.covers)}")
        found = [p for p in problems if p]
        if found:
            raise ValueError(f"waiver {self.check!r}: " + "; ".join(found))

    def active_on(self, day: dt.date) -> bool:
        return day <= self.expires

    def covers_outcome(self, outcome: str) -> bool:
        """``outcome`` is "failed" or "error"."""
        return ("errors" if outcome == "error" else "failures") in self.covers


@model
class Profile:
    # The environment's name: the file name without .toml (a different value is an error).
    name: str
    # One line about the environment, shown in the report header and the sign-off.
    description: str = ""
    # A production-like environment: checks marked destructive are held back unless the run
    # passes --allow-destructive.
    protected: bool = False
    # The release that must be running (`version = "1.4.2"`, or `"${RELEASE_VERSION}"` from CI):
    # the image tags, Helm app version and /version answer are checked against it.
    version: str | None = None
    # The severity of a check that declares none (unset: such a check counts as blocking).
    default_severity: Severity | None = None
    slo: Slo = dataclasses.field(default_factory=Slo)
    manual: tuple[ManualItem, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    # The approval roles of the sign-off, in order; --approve ROLE=NAME fills one. A list, or a
    # preset: "api-gateway" (the API gateway checklist's four roles), "platform" (the integration
    # platform's six), "default" (`roles = "platform"`).
    roles: tuple[str, ...] | str = DEFAULT_ROLES
    policy: Policy = dataclasses.field(default_factory=Policy)
    shipped_manual: ShippedManual = dataclasses.field(default_factory=ShippedManual)
    rollback: RollbackPolicy = dataclasses.field(default_factory=RollbackPolicy)
    # The components' tables ([redis], [kubernetes], [[services]], ...), validated by the section
    # types the components declare (``SectionSpec``); absent tables are not in the mapping.
    sections: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.roles, str):
            object.__setattr__(self, "roles", role_preset(self.roles))
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
    def from_dict(
        cls,
        data: Mapping[str, Any],
        sections: Iterable[SectionSpec] = (),
        *,
        today: dt.date | None = None,
    ) -> Profile:
        """Validate plain data (parsed TOML) into a Profile; raises schema.SchemaError.

        ``sections`` are the tables the registered components own; any other top-level key that
        is not one of the profile's own is an error naming the known keys. A waiver may not expire
        more than ``[policy] waiver_max_days`` after ``today`` (the day the profile is loaded).
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
        limit = (today or dt.date.today()) + dt.timedelta(days=profile.policy.waiver_max_days)
        errors += [
            FieldError(
                ("waivers", index, "expires"),
                f"{waiver.expires.isoformat()} is more than {profile.policy.waiver_max_days} days "
                "ahead ([policy] waiver_max_days): a waiver is reviewed, not forgotten",
            )
            for index, waiver in enumerate(profile.waivers)
            if waiver.expires > limit
        ]
        if errors:
            raise SchemaError(errors)
        return profile

    def manual_items(
        self, shipped: Sequence[ManualItem] = (), *, with_shipped: bool = True
    ) -> list[ManualItem]:
        """The manual items the sign-off lists: the ``shipped`` ones ([shipped_manual]: unless
        turned off, less those dropped), each completed by the profile's [[manual]] entry of the
        same id, then the profile's own items. ``with_shipped=False`` (a run of part of the
        checklist) lists only the profile's [[manual]] entries, in its order (an entry with a
        shipped id completed by that item). ``manual_problems`` says what does not fit."""
        by_id = {item.id: item for item in shipped}

        def completed(entry: ManualItem) -> ManualItem:
            base = by_id.get(entry.id)
            if base is not None:
                return entry.over(base)
            return replaced(
                entry, title=entry.title or entry.id, section=entry.section or Section.INFRA
            )

        if not with_shipped or not self.shipped_manual.enabled:
            return [completed(entry) for entry in self.manual]
        own = {entry.id: entry for entry in self.manual}
        found = [
            completed(own.pop(item.id)) if item.id in own else item
            for item in shipped
            if item.id not in self.shipped_manual.drop
        ]
        return found + [completed(entry) for entry in own.values()]

    def dropped_manual(self, shipped: Sequence[ManualItem] = ()) -> list[tuple[ManualItem, str]]:
        """The shipped items this profile drops, with the reason it gives."""
        if not self.shipped_manual.enabled:
            return []
        drop = self.shipped_manual.drop
        return [(item, drop[item.id]) for item in shipped if item.id in drop]

    def manual_problems(self, shipped: Sequence[ManualItem] = ()) -> list[str]:
        """What in [[manual]] and [shipped_manual] does not fit the shipped items: an own item
        without a title, a dropped id that is not shipped, an item both dropped and attested."""
        ids = {item.id for item in shipped}
        known = ", ".join(sorted(ids)) or "none"
        problems = [
            f"[[manual]] {item.id!r} has no title and is not a shipped item; give it a title"
            for item in self.manual
            if not item.title and item.id not in ids
        ]
        problems += [
            f"[shipped_manual] drop names {key!r}, which is not a shipped item (shipped: {known})"
            for key in self.shipped_manual.drop
            if key not in ids
        ]
        problems += [
            f"[[manual]] {item.id!r} is also dropped in [shipped_manual]; keep one of them"
            for item in self.manual
            if item.id in self.shipped_manual.drop
        ]
        return problems

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
