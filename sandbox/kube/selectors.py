"""Label and field selectors with the grammar and matching rules of the real API."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SET_REQ = re.compile(r"^(?P<key>[^\s!=<>(),]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_CMP_REQ = re.compile(r"^(?P<key>[^\s!=<>(),]+)\s*(?P<op>==|=|!=|>|<)\s*(?P<value>[^\s!=<>(),]*)$")
_NOT_EXISTS = re.compile(r"^!\s*(?P<key>[^\s!=<>(),]+)$")
_EXISTS = re.compile(r"^(?P<key>[^\s!=<>(),]+)$")


class SelectorError(ValueError):
    """A selector that does not parse, or names a field the resource does not index."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # one of: =, !=, in, notin, exists, !exists, gt, lt
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        # gt / lt compare integers; a non-integer label never matches (as upstream).
        try:
            number = int(value) if value is not None else None
        except ValueError:
            return False
        if number is None:
            return False
        bound = int(self.values[0])
        return number > bound if self.op == "gt" else number < bound


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(req.matches(labels) for req in self.requirements)


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside `( ... )`."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError("unable to parse requirement: found ')', expected: ','")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise SelectorError("unable to parse requirement: found '', expected: ')'")
    parts.append("".join(current))
    return parts


def _check_key(key: str) -> str:
    if not _LABEL_KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise SelectorError(
            f'unable to parse requirement: <nil>: Invalid value: "{key}": name part must consist '
            "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character"
        )
    return key


def _check_value(value: str) -> str:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise SelectorError(
            f'unable to parse requirement: <nil>: Invalid value: "{value}": a valid label must be '
            "an empty string or consist of alphanumeric characters, '-', '_' or '.'"
        )
    return value


def _parse_requirement(raw: str) -> Requirement:
    text = raw.strip()
    if not text:
        raise SelectorError("unable to parse requirement: found '', expected: identifier")
    if match := _SET_REQ.match(text):
        if not match["values"].strip():
            raise SelectorError(
                "unable to parse requirement: for 'in', 'notin' operators, values set can't be "
                "empty"
            )
        values = tuple(_check_value(v.strip()) for v in match["values"].split(","))
        return Requirement(_check_key(match["key"]), match["op"], values)
    if match := _CMP_REQ.match(text):
        op = {"==": "=", ">": "gt", "<": "lt"}.get(match["op"], match["op"])
        value = _check_value(match["value"])
        if op in ("gt", "lt") and not re.fullmatch(r"-?\d+", value):
            raise SelectorError(
                f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an "
                f"integer: {value!r}"
            )
        return Requirement(_check_key(match["key"]), op, (value,))
    if match := _NOT_EXISTS.match(text):
        return Requirement(_check_key(match["key"]), "!exists")
    if match := _EXISTS.match(text):
        return Requirement(_check_key(match["key"]), "exists")
    raise SelectorError(f"unable to parse requirement: found '{text}', expected: identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a `labelSelector` query value; an empty string selects everything."""
    if not text.strip():
        return LabelSelector(())
    return LabelSelector(tuple(_parse_requirement(part) for part in _split_top_level(text)))


# ---- field selectors -------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldTerm:
    field: str
    negate: bool
    value: str


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[FieldTerm, ...]

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for term in self.terms:
            equal = field_value(obj, term.field) == term.value
            if equal == term.negate:
                return False
        return True


def _split_escaped(text: str, sep: str) -> list[str]:
    """Split on `sep` unless backslash-escaped; keep escapes for a later unescape."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _parse_term(raw: str, allowed: frozenset[str]) -> FieldTerm:
    # Find the operator outside escapes: `!=` first, then `==`, then `=`.
    for op in ("!=", "==", "="):
        index = _find_unescaped(raw, op)
        if index >= 0:
            field = raw[:index].strip()
            value = _unescape(raw[index + len(op) :])
            if field not in allowed:
                raise SelectorError(f"field label not supported: {field}")
            return FieldTerm(field, op == "!=", value)
    raise SelectorError(f"invalid selector: '{raw}'; can't understand '{raw}'")


def _find_unescaped(text: str, needle: str) -> int:
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def parse_field_selector(text: str, extra_fields: tuple[str, ...]) -> FieldSelector:
    """Parse a `fieldSelector`; only metadata.name/namespace and the resource's own labels."""
    if not text.strip():
        return FieldSelector(())
    allowed = frozenset(("metadata.name", "metadata.namespace", *extra_fields))
    return FieldSelector(tuple(_parse_term(p, allowed) for p in _split_escaped(text, ",") if p))


_SPECIAL_FIELDS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    # Events index `source` as the reporting component.
    "source": lambda obj: str((obj.get("source") or {}).get("component", "")),
}
_BOOL_FIELDS = frozenset(("spec.hostNetwork", "spec.unschedulable"))


def field_value(obj: Mapping[str, Any], field: str) -> str:
    """The string the apiserver compares a field selector against (missing → empty)."""
    if field in _SPECIAL_FIELDS:
        return _SPECIAL_FIELDS[field](obj)
    node: Any = obj
    for part in field.split("."):
        if not isinstance(node, Mapping):
            node = None
            break
        node = node.get(part)
    if field in _BOOL_FIELDS:
        return "true" if node else "false"
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)
