"""Label selectors evaluated locally, so a cached unfiltered LIST can answer a selected read.

Covers the string grammar the API server accepts for label selectors: ``k=v``, ``k==v``, ``k!=v``,
``k in (a,b)``, ``k notin (a,b)``, ``k`` (exists) and ``!k`` (does not exist), joined by commas.
Anything else returns ``None`` from ``parse_label_selector`` and the reader asks the server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, str]], bool]

# Label keys: optional DNS prefix, then a name of letters, digits, '-', '_', '.'.
_KEY = r"[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^()]*)\)\s*$")
_EQUALITY = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_VALUE_ONLY = re.compile(rf"^{_VALUE}$")


def _split(selector: str) -> list[str] | None:
    """Split on commas outside parentheses; None when parentheses do not balance."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(selector):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            parts.append(selector[start:index])
            start = index + 1
    if depth != 0:
        return None
    parts.append(selector[start:])
    return parts


def _requirement(text: str) -> Predicate | None:
    match = _SET.match(text)
    if match:
        key, op, raw = match.groups()
        values = {v.strip() for v in raw.split(",")}
        if not all(_VALUE_ONLY.match(v) for v in values):
            return None
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    match = _EQUALITY.match(text)
    if match:
        key, op, value = match.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: key in labels and labels[key] == value
    match = _EXISTS.match(text)
    if match:
        negate, key = match.groups()
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    return None


def parse_label_selector(selector: str) -> Predicate | None:
    """A predicate over a labels mapping, or None if this grammar cannot be evaluated here."""
    if not selector.strip():
        return lambda labels: True
    parts = _split(selector)
    if parts is None:
        return None
    predicates = []
    for part in parts:
        predicate = _requirement(part)
        if predicate is None:
            return None
        predicates.append(predicate)
    return lambda labels: all(p(labels) for p in predicates)


def object_labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    return labels if isinstance(labels, Mapping) else {}
