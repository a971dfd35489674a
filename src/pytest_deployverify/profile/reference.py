"""The profile's key reference, generated from the dataclasses that validate it, so it cannot drift.

``deployverify profile reference`` prints it; ``verify/environments/REFERENCE.md`` is its output, and
a test keeps the two equal. The JSON Schema (``profile.jsonschema``) uses the same descriptions.

A key's description has ONE source: the code next to the field that declares it, read from the
dataclass's source with ``ast`` and ``tokenize`` (nothing to keep in sync by hand):

* the comment block directly above the field (no blank line between), and/or
* the comment at the end of the field's line, and/or
* a string literal right after the field (an attribute docstring), or
* ``dataclasses.field(metadata={"description": ...})``, which wins over the others.

A comment line that starts with ``-- `` (``# -- Availability --``) is a heading of the fields
below it, never part of a description: it ends the comment block above a field.

A table's description is its class docstring (its first paragraph); a top-level component table
also has the description its ``SectionSpec`` gives, a nested table the comment next to the field
that holds it (``[http.expect.rate_limit] login``: whose login, what for).

Keys whose type alone cannot say what they accept (``[[gates]] params``: a table of strings, but
with known names) are described by a ``Known`` entry the caller passes: the profile layer cannot
import the modules that know them.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import functools
import inspect
import io
import re
import textwrap
import tokenize
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import Enum
from typing import Any

from pytest_deployverify.profile.model import Profile, SectionSpec
from pytest_deployverify.profile.schema import Range, field_hint
from pytest_deployverify.profile.secrets import Endpoint, Secret

HEADER = """# Profile reference

Every key an environment profile (`verify/environments/NAME.toml`) accepts, generated from the code
that validates it (`deployverify profile reference`): the meaning of each key is the comment next to
its field in the source. All sections are optional; `${VAR}` and `${VAR:-default}` take values from
the environment at load time. Keys of type *secret* never print (`***` in every report); *url* keys
print with their password masked. `deployverify profile schema` prints the same keys as a JSON
Schema for editors (see the end of this page).
"""

FOOTER = """
## Editor completion and validation

`deployverify profile schema > verify/environments/profile.schema.json` writes a JSON Schema
(draft 2020-12) of every key above, with the same descriptions. Taplo and the editors built on it
(VS Code's *Even Better TOML*, Helix, Zed, ...) use it when the profile's first line names it:

```toml
#:schema ./profile.schema.json
```

(the path is relative to the profile). `deployverify init` writes both. Regenerate the schema
after upgrading pytest-deployverify; `deployverify profile check NAME` stays the authority (it
also resolves `${VAR}` and checks files, URLs and waivers the schema cannot).
"""

_PRAGMA = re.compile(r"^(type:|noqa|fmt:|pragma|pyright:|mypy:)")
# ``# -- Availability --``: a heading of the fields below it, not a description (``# --flag``,
# an option named at the start of a comment, is not one).
_HEADING = re.compile(r"^-{2,}(\s|$)")


# -- descriptions from the source ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Known:
    """A name a free-form key accepts that its type cannot list: a gate parameter (a key of
    ``params``), a ready-made gate (a value of ``name``)."""

    name: str
    description: str
    default: str | None = None
    used_by: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Extras:
    """What the types alone do not say, from modules above the profile layer.

    ``keys``: for (dataclass, field) of a table of free-form keys, the keys it knows (the table
    accepts only these); ``values``: for (dataclass, field) of a string, well-known values (other
    values stay allowed)."""

    keys: Mapping[tuple[type, str], tuple[Known, ...]] = dataclasses.field(default_factory=dict)
    values: Mapping[tuple[type, str], tuple[Known, ...]] = dataclasses.field(default_factory=dict)
    titles: Mapping[tuple[type, str], str] = dataclasses.field(default_factory=dict)


def field_description(cls: type, name: str) -> str:
    """The description of field ``name`` of dataclass ``cls`` ("" when it has none)."""
    for field in dataclasses.fields(cls):
        if field.name == name:
            for key in ("description", "doc"):
                text = field.metadata.get(key)
                if isinstance(text, str) and text.strip():
                    return _clean(text)
    for klass in cls.__mro__:
        if klass is object or not dataclasses.is_dataclass(klass):
            continue
        found = _source_docs(klass).get(name)
        if found:
            return found
    return ""


def table_description(cls: type) -> str:
    """The first paragraph of the class docstring ("" for a dataclass without one)."""
    doc = inspect.getdoc(cls) or ""
    if doc.startswith(f"{cls.__name__}("):  # dataclass's generated signature, not a docstring
        return ""
    return _clean(doc.split("\n\n")[0])


def mapping_descriptions(module: types.ModuleType, name: str) -> dict[str, str]:
    """The comments next to the entries of the dict literal ``name = {...}`` at the top level of
    ``module``: above an entry, or at the end of its line (e.g. ``DEFAULT_PARAMS`` in
    ``checks/gates.py``)."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return {}
    tree = ast.parse(source)
    comments = _comments(source)
    lines = source.splitlines()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        named = any(isinstance(t, ast.Name) and t.id == name for t in targets)
        value = node.value if named and isinstance(node, ast.Assign | ast.AnnAssign) else None
        if not isinstance(value, ast.Dict):
            continue
        found: dict[str, str] = {}
        for key, item in zip(value.keys, value.values, strict=True):
            if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                continue
            end = item.end_lineno or item.lineno
            text = _describe(lines, comments, key.lineno, end, None)
            if text:
                found[key.value] = text
        return found
    return {}


@functools.cache
def _source_docs(cls: type) -> dict[str, str]:
    try:
        lines, _ = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return {}
    source = textwrap.dedent("".join(lines))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    if node is None:
        return {}
    comments = _comments(source)
    text_lines = source.splitlines()
    found: dict[str, str] = {}
    body = node.body
    for index, stmt in enumerate(body):
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        after = body[index + 1] if index + 1 < len(body) else None
        docstring = (
            after.value.value
            if isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
            else None
        )
        text = _describe(
            text_lines, comments, stmt.lineno, stmt.end_lineno or stmt.lineno, docstring
        )
        if text:
            found[stmt.target.id] = text
    return found


def _comments(source: str) -> dict[int, tuple[str, bool]]:
    """Line number -> (comment text, whether the comment is the whole line)."""
    found: dict[int, tuple[str, bool]] = {}
    lines = source.splitlines()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                row, column = token.start
                whole = not lines[row - 1][:column].strip()
                found[row] = (token.string.lstrip("#").strip(), whole)
    except (tokenize.TokenError, IndentationError):
        pass
    return found


def _describe(
    lines: list[str],
    comments: Mapping[int, tuple[str, bool]],
    first: int,
    last: int,
    docstring: str | None,
) -> str:
    above: list[str] = []
    row = first - 1
    while row >= 1 and row in comments and comments[row][1]:
        if _HEADING.match(comments[row][0]):
            break
        above.insert(0, comments[row][0])
        row -= 1
    trailing = [
        comments[r][0] for r in range(first, last + 1) if r in comments and not comments[r][1]
    ]
    parts = [p for p in (*above, *trailing) if p and not _PRAGMA.match(p)]
    if docstring:
        parts.append(docstring)
    return _clean(" ".join(parts))


def _clean(text: str) -> str:
    return " ".join(text.split())


# -- the keys -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KeyDoc:
    """One key of the profile, as the reference and the schema show it."""

    path: str  # "redis.expect.persistence", "gates[].params", "name"
    table: str  # "redis.expect", "[gates]", "" (top level)
    name: str
    owner: type  # the dataclass that declares it
    type: str
    default: str
    description: str
    example: str


@dataclasses.dataclass(frozen=True)
class TableDoc:
    table: str  # "redis.expect", "[gates]", "" for the top level
    cls: type
    description: str
    keys: tuple[KeyDoc, ...]


def tables(sections: Iterable[SectionSpec] = ()) -> list[TableDoc]:
    """The profile's own tables, then each component table in ``sections``, nested ones after
    their parent, with every key documented."""
    found: list[TableDoc] = []
    for table, cls, held in _tables("", Profile):
        lead = "the profile's own keys (each component's tables follow)" if cls is Profile else ""
        found.append(_table(table, cls, lead, held))
    for spec in sections:
        nested = _nested(spec.type)
        if nested is None:
            continue
        inner, array = nested
        for table, cls, held in _tables(f"[{spec.key}]" if array else spec.key, inner):
            lead = spec.description if table.strip("[]") == spec.key else ""
            found.append(_table(table, cls, lead, held))
    return found


def keys(sections: Iterable[SectionSpec] = ()) -> list[KeyDoc]:
    return [key for table in tables(sections) for key in table.keys]


def undescribed(sections: Iterable[SectionSpec] = (), extras: Extras | None = None) -> list[str]:
    """Every key (and every known gate parameter) that has no description, as dotted paths."""
    missing = [key.path for key in keys(sections) if not key.description]
    for (cls, field), known in (extras or Extras()).keys.items():
        missing += [f"{cls.__name__}.{field}.{k.name}" for k in known if not k.description]
    return missing


def _table(table: str, cls: type, lead: str, held: str = "") -> TableDoc:
    """``lead``: what the component's ``SectionSpec`` says of a top-level table; ``held``: the
    description of the field that holds a nested one (it comes first: it says what this use of a
    shared table is for)."""
    summary = table_description(cls)
    about = f"{lead[:1].upper()}{lead[1:]}." if lead else ""
    if summary and summary.strip("`.[] ") != table.strip("[]"):
        about = summary
    if held:
        about = f"{held} {about}".strip()
    docs = []
    for field in dataclasses.fields(cls):
        if cls is Profile and field.name == "sections":
            continue  # the component tables, listed below
        hint = field_hint(cls, field.name)
        if _nested(hint) is not None:
            continue  # a table of its own, listed below
        default = _default(field)
        if cls is Profile and field.name == "name":
            default = "the file name"  # the loader fills it in
        path = _path(table, field.name)
        description = field_description(cls, field.name)
        docs.append(
            KeyDoc(
                path=path,
                table=table,
                name=field.name,
                owner=cls,
                type=_type(hint),
                default=default,
                description=description,
                example=_written(field.name, description) or example(field.name, hint, field, path),
            )
        )
    return TableDoc(table, cls, about, tuple(docs))


def _path(table: str, name: str) -> str:
    dotted = table.replace("[", "").replace("]", "[]")
    return f"{dotted}.{name}" if dotted else name


def _tables(prefix: str, cls: type, held: str = "") -> Iterator[tuple[str, type, str]]:
    """(table, dataclass, the description of the field that holds it) for ``cls`` and every
    table nested in it, parents first."""
    yield prefix, cls, held
    for field in dataclasses.fields(cls):
        if cls is Profile and field.name == "sections":
            continue
        nested = _nested(field_hint(cls, field.name))
        if nested is not None:
            inner, array = nested
            name = f"{prefix}.{field.name}" if prefix else field.name
            yield from _tables(
                f"[{name}]" if array else name, inner, field_description(cls, field.name)
            )


def _nested(hint: Any) -> tuple[type, bool] | None:
    """(dataclass, is an array of tables) when the field is a table of its own."""
    hint = strip(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint, False
    origin = typing.get_origin(hint)
    if origin is tuple:
        inner = strip(typing.get_args(hint)[0])
        if isinstance(inner, type) and dataclasses.is_dataclass(inner):
            return inner, True
    return None


def nested(hint: Any) -> tuple[type, bool] | None:
    """(dataclass, is an array of tables) when a field of this type is a table of its own."""
    return _nested(hint)


def strip(hint: Any) -> Any:
    """The type without Annotated and Optional wrappers."""
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return strip(args[0])
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
    core = strip(hint)
    text = _name(core)
    return f"{text}{bounds}{' or unset' if optional else ''}"


def _name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return f"array of {_name(strip(typing.get_args(hint)[0]))}"
    if origin is not None and origin.__name__ in ("Mapping", "dict"):
        return f"table of {_name(strip(typing.get_args(hint)[1]))}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_name(strip(a)) for a in typing.get_args(hint) if a is not type(None))
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


def default_value(field: dataclasses.Field[Any]) -> Any:
    """The field's default as plain data (dataclasses.MISSING when it has none; a nested
    table's default is MISSING too: its own keys say theirs)."""
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
        if dataclasses.is_dataclass(value):
            return dataclasses.MISSING
    else:
        return dataclasses.MISSING
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


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
    if isinstance(value, tuple | list | dict | types.MappingProxyType):
        return f"`{toml_value(_plain(value))}`"  # as the profile writes it: `["ingress"]`
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`"


# -- examples -------------------------------------------------------------------------------------

_EXAMPLE_URLS = {
    "http": "https://service.example.com",
    "redis": "rediss://redis.example.com:6380/0",
    "postgresql": "postgresql://app@db.example.com:5432/app?sslmode=verify-full",
}


def _written(name: str, description: str) -> str | None:
    """An example the description itself gives: `` `name = value` `` in backticks."""
    match = re.search(r"`(" + re.escape(name) + r" = [^`]+)`", description)
    return match.group(1) if match else None


def example(name: str, hint: Any, field: dataclasses.Field[Any] | None, path: str = "") -> str:
    """A TOML line that sets the key to a valid value (the default where it is telling, else a
    value of the type)."""
    value = _example_value(name, hint, field, path)
    return f"{_toml_key(name)} = {value}"


def _example_value(name: str, hint: Any, field: dataclasses.Field[Any] | None, path: str) -> str:
    default = default_value(field) if field is not None else dataclasses.MISSING
    bounds: Range | None = None
    schemes: tuple[str, ...] = ()
    if typing.get_origin(hint) is typing.Annotated:
        base, *extra = typing.get_args(hint)
        for item in extra:
            if isinstance(item, Range):
                bounds = item
            elif hasattr(item, "schemes"):
                schemes = tuple(item.schemes)
        hint = base
    core = strip(hint)
    if typing.get_origin(core) is typing.Annotated:  # Optional[Annotated[...]]
        return _example_value(name, core, None, path)
    origin = typing.get_origin(core)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(core) if a is not type(None)]
        if default not in (dataclasses.MISSING, None):
            return toml_value(default)
        return _example_value(name, options[0], None, path)
    if origin is tuple:
        if default not in (dataclasses.MISSING, None, []):
            return toml_value(default)
        return f"[{_example_value(name, typing.get_args(core)[0], None, path)}]"
    if origin is not None and origin.__name__ in ("Mapping", "dict"):
        if default not in (dataclasses.MISSING, None, {}):
            return toml_value(default)
        _, value_hint = typing.get_args(core)
        return f'{{ "key" = {_example_value("value", value_hint, None, path)} }}'
    if isinstance(core, type):
        if issubclass(core, Endpoint):
            scheme = schemes[0] if schemes else "https"
            family = next((s for s in _EXAMPLE_URLS if scheme.startswith(s[:4])), "http")
            return toml_value(_EXAMPLE_URLS[family])
        if issubclass(core, Secret):
            variable = re.sub(r"[^A-Z0-9]+", "_", path.replace("[]", "").upper()).strip("_")
            return toml_value("${" + (variable or "SECRET") + "}")
        if issubclass(core, Enum):
            members = [m.value for m in core]
            others = [m for m in members if m != default]
            return toml_value(others[0] if others else members[0])
        if core is bool:
            return "true" if default is not True else "false"
        if core in (int, float):
            if isinstance(default, int | float) and not isinstance(default, bool):
                return toml_value(default)
            number: float = 1
            if bounds is not None:
                if bounds.ge is not None:
                    number = max(number, bounds.ge)
                if bounds.gt is not None and number <= bounds.gt:
                    number = bounds.gt + 1
                if bounds.le is not None:
                    number = min(number, bounds.le)
            return toml_value(int(number) if core is int else float(number))
        if core is dt.date:
            return "2026-12-31"
        if core is str:
            if isinstance(default, str) and default:
                return toml_value(default)
            return toml_value(name.replace("_", "-"))
    return toml_value(default) if default not in (dataclasses.MISSING, None) else '"..."'


def toml_value(value: Any) -> str:
    """``value`` written as TOML (strings, numbers, booleans, dates, arrays, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return toml_value(value.value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        escaped = (
            value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\t", "\\t")
        )
        return f'"{escaped}"'
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else toml_value(name)


# -- rendering -------------------------------------------------------------------------------------


def render_reference(sections: Iterable[SectionSpec] = (), extras: Extras | None = None) -> str:
    """The reference of the profile's own keys and of each component table in ``sections``."""
    extras = extras or Extras()
    lines = [HEADER]
    for table in tables(sections):
        lines += ["", f"## `{table.table or '(top level)'}`", ""]
        if table.description:
            lines += [_cell(table.description, table=False), ""]
        lines += [
            "| key | type | default | meaning | example |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key in table.keys:
            meaning = _cell(key.description) or "*(not described yet)*"
            lines.append(
                f"| `{key.name}` | {key.type} | {key.default} | {meaning} | "
                f"`{_cell(key.example, code=True)}` |"
            )
        for (cls, field), known in extras.values.items():
            if cls is table.cls and known:
                title = extras.titles.get((cls, field), f"Known values of `{field}`")
                lines += ["", f"### {title}", "", f"| `{field}` | meaning |", "| --- | --- |"]
                lines += [f"| `{k.name}` | {_cell(k.description)} |" for k in known]
        for (cls, field), known in extras.keys.items():
            if cls is table.cls and known:
                title = extras.titles.get((cls, field), f"Keys of `{field}`")
                lines += [
                    "",
                    f"### {title}",
                    "",
                    "| key | default | meaning | used by |",
                    "| --- | --- | --- | --- |",
                ]
                for k in known:
                    default = f'`"{k.default}"`' if k.default else '`""`'
                    users = ", ".join(f"`{u}`" for u in k.used_by) or "—"
                    meaning = _cell(k.description) or "*(not described yet)*"
                    lines.append(f"| `{k.name}` | {default} | {meaning} | {users} |")
    lines.append(FOOTER)
    return "\n".join(lines)


_CODE_SPAN = re.compile(r"(``.*?``|`[^`]*`)")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _cell(text: str, *, table: bool = True, code: bool = False) -> str:
    """``text`` as Markdown (``code``: the content of a code span, taken literally). Elsewhere
    ``<name>`` outside code spans would be read as an HTML tag and vanish (``<status_label>``,
    ``<release>-<chart>``), so it is written ``&lt;name>``."""
    text = _clean(text)
    if not code:
        parts = _CODE_SPAN.split(text)
        text = "".join(p if i % 2 else _TAG_START.sub("&lt;", p) for i, p in enumerate(parts))
    return text.replace("|", "\\|") if table else text
