"""The profile's key reference, generated from the dataclasses that validate it, so it cannot drift.

``deployverify profile reference`` prints it; ``verify/environments/REFERENCE.md`` is its output, and
a test keeps the two equal.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Any

from pytest_deployverify.profile.model import Profile, SectionSpec
from pytest_deployverify.profile.schema import Range, field_hint
from pytest_deployverify.profile.secrets import Endpoint, Secret

HEADER = """# Profile reference

Every key an environment profile (`verify/environments/NAME.toml`) accepts, generated from the code
that validates it (`deployverify profile reference`). All sections are optional; `${VAR}` and
`${VAR:-default}` take values from the environment at load time. Keys of type *secret* never print
(`***` in every report); *url* keys print with their password masked.
"""


def render_reference(sections: Iterable[SectionSpec] = ()) -> str:
    """The reference of the profile's own keys and of each component table in ``sections``."""
    lines = [HEADER]
    tables = list(_tables("", Profile))
    for spec in sections:
        nested = _nested(spec.type)
        if nested is not None:
            inner, array = nested
            tables += list(_tables(f"[{spec.key}]" if array else spec.key, inner))
    for table, cls in tables:
        doc = _summary(cls)
        lines += ["", f"## `{table or '(top level)'}`", ""]
        if doc and doc.strip("`.[] ") != table.strip("[]"):
            lines += [doc, ""]
        lines += ["| key | type | default |", "| --- | --- | --- |"]
        for field in dataclasses.fields(cls):
            if cls is Profile and field.name == "sections":
                continue  # the component tables, listed below
            hint = field_hint(cls, field.name)
            if _nested(hint) is not None:
                continue  # a table of its own, listed below
            default = _default(field)
            if cls is Profile and field.name == "name":
                default = "the file name"  # the loader fills it in
            lines.append(f"| `{field.name}` | {_type(hint)} | {default} |")
    return "\n".join(lines) + "\n"


def _tables(prefix: str, cls: type) -> Iterator[tuple[str, type]]:
    yield prefix, cls
    for field in dataclasses.fields(cls):
        if cls is Profile and field.name == "sections":
            continue
        nested = _nested(field_hint(cls, field.name))
        if nested is not None:
            inner, array = nested
            name = f"{prefix}.{field.name}" if prefix else field.name
            yield from _tables(f"[{name}]" if array else name, inner)


def _nested(hint: Any) -> tuple[type, bool] | None:
    """(dataclass, is an array of tables) when the field is a table of its own."""
    hint = _strip(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint, False
    origin = typing.get_origin(hint)
    if origin is tuple:
        inner = _strip(typing.get_args(hint)[0])
        if isinstance(inner, type) and dataclasses.is_dataclass(inner):
            return inner, True
    return None


def _strip(hint: Any) -> Any:
    """The type without Annotated and Optional wrappers."""
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return _strip(args[0])
    return hint


def _type(hint: Any) -> str:
    bounds = ""
    if typing.get_origin(hint) is typing.Annotated:
        base, *extra = typing.get_args(hint)
        for item in extra:
            if isinstance(item, Range):
                parts = [
                    f"{op} {value:g}"
                    for op, value in (("&gt;", item.gt), ("≥", item.ge), ("≤", item.le))
                    if value is not None
                ]
                bounds = f" ({', '.join(parts)})"
            elif hasattr(item, "schemes"):
                bounds = " (" + ", ".join(f"{s}://" for s in item.schemes) + ")"
        hint = base
    optional = type(None) in typing.get_args(hint)
    core = _strip(hint)
    text = _name(core)
    return f"{text}{bounds}{' or unset' if optional else ''}"


def _name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return f"array of {_name(_strip(typing.get_args(hint)[0]))}"
    if origin is not None and origin.__name__ in ("Mapping", "dict"):
        return f"table of {_name(_strip(typing.get_args(hint)[1]))}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_name(_strip(a)) for a in typing.get_args(hint) if a is not type(None))
    if isinstance(hint, type):
        if issubclass(hint, Endpoint):
            return "url"
        if issubclass(hint, Secret):
            return "secret"
        if issubclass(hint, Enum):
            return "one of " + ", ".join(f"`{m.value}`" for m in hint)
        return {
            "str": "string",
            "int": "integer",
            "float": "number",
            "bool": "boolean",
            "date": "date",
        }.get(hint.__name__, hint.__name__)
    return re.sub(r"[\w.]+\.", "", str(hint))


def _default(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
        if dataclasses.is_dataclass(value):
            return "(table)"
    else:
        return "**required**"
    if value is None:
        return "unset"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple | list) and not value:
        return "`[]`"
    if isinstance(value, dict) and not value:
        return "`{}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`" if not isinstance(value, tuple) else "`" + str(list(value)) + "`"


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    if doc.startswith(f"{cls.__name__}("):  # dataclass's generated signature, not a docstring
        return ""
    return " ".join(doc.split("\n\n")[0].split())
