"""Redact a sign-off's data before any renderer sees it: every string in the model, whatever
format escapes it afterwards (Markdown turns ``_`` into ``\\_``, HTML ``&`` into ``&amp;``; a
secret redacted after escaping would slip through)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def redacted(value: T, redact: Callable[[str], str]) -> T:
    """A copy of ``value`` (dataclasses, lists, tuples, dicts, strings) with ``redact`` applied to
    every string; enums, numbers and None are kept."""
    return _map(value, redact)  # type: ignore[no-any-return]


def _map(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, Enum) or value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _map(getattr(value, f.name), redact)
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {_map(k, redact): _map(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_map(v, redact) for v in value)
    return value
