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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from pytest_deployverify.profile.model import Section, Severity

__all__ = ["Catalog", "CheckSpec", "DuplicateCheck", "declare"]

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
    )


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
