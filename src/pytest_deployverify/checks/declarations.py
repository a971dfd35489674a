"""Each checklist item declared once: id, title, section, severity, and what it needs.

A ``CheckSpec`` is the single source of a check's metadata. The checklist test carries only its id
(``@item(SPEC)`` applies the markers); the sign-off, ``deployverify checklist`` and the generated docs
read the declaration. ``components`` and ``keys`` say what the check needs from the profile (a check
whose component is not configured is not applicable; its message names the key to set); ``reads``
name the snapshots it judges (``"redis.info"``), which the run fetches concurrently before the checks
need them.

Declarations live beside the pure functions that judge (``checks/<area>.py``) and reach the run
through the component that owns them (``Component.checks``), so a third-party component brings its
own. No pytest, no clients here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_deployverify.profile.model import Profile, Section, Severity

__all__ = [
    "SPEC_ATTRIBUTE",
    "Applies",
    "Catalog",
    "CheckSpec",
    "DuplicateCheck",
    "declare",
    "flag",
    "lookup",
    "needs",
    "needs_any",
]

# The attribute ``checklist.item(SPEC)`` sets on a test function.
SPEC_ATTRIBUTE = "__deployverify_check__"

# Whether a check applies to a profile: None when it does, else the reason (naming the key to set).
Applies = Callable[[Profile], str | None]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_REF = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class CheckSpec:
    """The declaration of one checklist item."""

    id: str
    title: str
    section: Section
    severity: Severity
    components: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    destructive: bool = False
    description: str = ""
    applies: Applies | None = None

    def not_applicable(self, profile: Profile) -> str | None:
        """Why the check does not apply to ``profile`` (None when it does)."""
        return self.applies(profile) if self.applies is not None else None

    @property
    def blocking(self) -> bool:
        return self.severity.blocking

    def plain(self) -> dict[str, object]:
        """JSON-ready form, for ``deployverify checklist --format json`` and the docs."""
        return {
            "id": self.id,
            "title": self.title,
            "section": self.section.value,
            "severity": self.severity.value,
            "blocking": self.blocking,
            "components": list(self.components),
            "keys": list(self.keys),
            "reads": list(self.reads),
            "destructive": self.destructive,
            "description": self.description,
        }


def declare(
    id: str,
    *,
    title: str,
    section: str | Section,
    severity: str | Severity,
    components: Iterable[str] = (),
    keys: Iterable[str] = (),
    reads: Iterable[str] = (),
    destructive: bool = False,
    description: str = "",
    applies: Applies | None = None,
) -> CheckSpec:
    """Validate and return a declaration; a mistake is a ValueError naming the id and the fix."""
    if not _ID.match(id):
        raise ValueError(f"check id {id!r}: use letters, digits, '.', '_' or '-'")
    if not title.strip():
        raise ValueError(f"check {id}: the title is empty")
    try:
        section_value = Section(section)
    except ValueError:
        choices = ", ".join(s.value for s in Section)
        raise ValueError(f"check {id}: unknown section {section!r}; one of {choices}") from None
    severity_value = severity if isinstance(severity, Severity) else Severity.parse(severity)
    components_t = tuple(components)
    reads_t = tuple(reads)
    for ref in reads_t:
        if not _REF.match(ref):
            raise ValueError(f"check {id}: read {ref!r} must be 'component.read'")
        if ref.split(".", 1)[0] not in components_t:
            raise ValueError(f"check {id}: read {ref!r} names a component not in components")
    return CheckSpec(
        id=id,
        title=title.strip(),
        section=section_value,
        severity=severity_value,
        components=components_t,
        keys=tuple(keys),
        reads=reads_t,
        destructive=destructive,
        description=" ".join(description.split()),
        applies=applies,
    )


_MISSING = object()


def lookup(profile: Profile, key: str) -> Any:
    """The value at a dotted profile key (``redis.expect.role``, ``version``); ``_MISSING`` when a
    table on the way is absent."""
    head, *rest = key.split(".")
    value: Any = (
        profile.sections[head] if head in profile.sections else getattr(profile, head, None)
    )
    for part in rest:
        if value is None:
            return _MISSING
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, _MISSING)
    return value


def _is_set(value: Any) -> bool:
    """Set to something that asks for a check: not absent, not empty, not 0 or false."""
    if value is _MISSING or value is None or value is False:
        return False
    return bool(value) if isinstance(value, int | float | tuple | list | Mapping | str) else True


def _shown(key: str) -> str:
    table, _, leaf = key.rpartition(".")
    return f"[{table}] {leaf}" if table else key


def needs(*keys: str) -> Applies:
    """Applies when every key is set; else names the first one missing."""

    def applies(profile: Profile) -> str | None:
        for key in keys:
            if not _is_set(lookup(profile, key)):
                return f"{_shown(key)} is not set in profile {profile.name!r}"
        return None

    return applies


def needs_any(*keys: str) -> Applies:
    """Applies when at least one key is set; else names them all."""

    def applies(profile: Profile) -> str | None:
        if any(_is_set(lookup(profile, key)) for key in keys):
            return None
        return f"none of {', '.join(_shown(k) for k in keys)} is set in profile {profile.name!r}"

    return applies


def flag(key: str) -> Applies:
    """Applies when a boolean key is true; else says it is false."""

    def applies(profile: Profile) -> str | None:
        return None if lookup(profile, key) is True else f"{_shown(key)} = false"

    return applies


class DuplicateCheck(ValueError):
    """Two declarations share an id."""


class Catalog(Mapping[str, CheckSpec]):
    """Every declared check by id, in declaration order; a duplicate id is an error."""

    def __init__(self, specs: Iterable[CheckSpec] = ()) -> None:
        self._specs: dict[str, CheckSpec] = {}
        for spec in specs:
            known = self._specs.get(spec.id)
            if known is not None and known != spec:
                raise DuplicateCheck(
                    f"check id {spec.id!r} is declared twice ({known.title!r} and {spec.title!r})"
                )
            self._specs[spec.id] = spec

    def __getitem__(self, check_id: str) -> CheckSpec:
        return self._specs[check_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)
