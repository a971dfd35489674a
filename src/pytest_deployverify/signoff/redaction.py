"""Redact a sign-off's data before any renderer sees it: every string in the model, whatever
format escapes it afterwards (Markdown turns ``_`` into ``\\_``, HTML ``&`` into ``&amp;``; a
secret redacted after escaping would slip through).

Structure is not redacted (issue 12): the fields that name what was checked (a check's node id,
check id, title, severity, sections and components; a manual item's id, title and section; the
checks a waiver names) come from code and declarations and are kept as they are, but for the
parametrize part of a name (``test_x[<id>]``), which may be built from a secret and stays masked.
Free text (reasons, evidence, messages) is redacted with those names protected: a node id or a
check id quoted in a message stays intact (``Redactor`` has the exact rule)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from pytest_deployverify.profile.secrets import Redactor, split_parameters
from pytest_deployverify.signoff.model import (
    CheckItem,
    DroppedManual,
    ManualEntry,
    Scope,
    WaiverEntry,
    WaiverInfo,
)

T = TypeVar("T")

# The fields of the model that hold structure, per class.
STRUCTURAL_FIELDS: dict[type, frozenset[str]] = {
    CheckItem: frozenset(
        ("nodeid", "check_id", "title", "severity", "section", "sections", "components")
    ),
    ManualEntry: frozenset(("id", "title", "section")),
    DroppedManual: frozenset(("id", "title", "section")),
    WaiverInfo: frozenset(("check",)),
    WaiverEntry: frozenset(("applied_to", "would_apply_to", "matched", "not_covered")),
    Scope: frozenset(("sections",)),
}


def redacted(value: T, redactor: Redactor) -> T:
    """A copy of ``value`` (dataclasses, lists, tuples, dicts, strings) with secrets masked in
    every string; enums, numbers and None are kept. Structural fields keep all but their
    parametrize part (``Redactor.redact_name``), and the model's structure is protected in free
    text too."""
    redactor.protect(structure(value))
    return _map(value, redactor.redact, redactor.redact_name, False)  # type: ignore[no-any-return]


def structure(value: Any) -> set[str]:
    """Every string held in a structural field of ``value`` (its static part)."""
    found: set[str] = set()
    _collect(value, found, False, set())
    return found


def _collect(value: Any, found: set[str], structural: bool, seen: set[int]) -> None:
    if isinstance(value, str):
        if structural:
            found.add(split_parameters(value)[0])
        return
    if isinstance(value, Enum) or value is None or isinstance(value, bool | int | float):
        return
    if id(value) in seen:
        return
    seen.add(id(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kept = STRUCTURAL_FIELDS.get(type(value), frozenset())
        for f in dataclasses.fields(value):
            _collect(getattr(value, f.name), found, structural or f.name in kept, seen)
    elif isinstance(value, dict):  # free-form data (evidence): structure only in a named field
        if structural:
            for v in value.values():
                _collect(v, found, structural, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            _collect(v, found, structural, seen)


def _map(
    value: Any, text: Callable[[str], str], name: Callable[[str], str], structural: bool
) -> Any:
    if isinstance(value, Enum) or value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return name(value) if structural else text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kept = STRUCTURAL_FIELDS.get(type(value), frozenset())
        changes = {
            f.name: _map(getattr(value, f.name), text, name, structural or f.name in kept)
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {
            _map(k, text, name, structural): _map(v, text, name, structural)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_map(v, text, name, structural) for v in value)
    return value
