"""A small validator that turns parsed TOML into frozen dataclasses, collecting every error with its key.

Why not pydantic: importing it and building the models cost about 150 ms per pytest process, which
alone broke the plugin's overhead budget (1,000 trivial checks within 1.10x of a run without the plugin).
The profile needs only a handful of types, and owning the messages guarantees they never echo a value.
"""

from __future__ import annotations

import collections.abc
import contextlib
import contextvars
import dataclasses
import datetime as dt
import difflib
import importlib
import math
import sys
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from pytest_deployverify.profile.secrets import Redactor, Secret, secret_length_problem

Loc = tuple[str | int, ...]
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class FieldError:
    loc: Loc
    message: str


class SchemaError(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{dotted(e.loc)}: {e.message}" for e in errors))


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclasses.dataclass(frozen=True)
class Range:
    """Numeric bounds for ``Annotated[float, Range(...)]``."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None

    def __call__(self, value: Any) -> Any:
        if self.gt is not None and not value > self.gt:
            raise ValueError(f"must be greater than {self.gt:g}")
        if self.ge is not None and not value >= self.ge:
            raise ValueError(f"must be greater than or equal to {self.ge:g}")
        if self.le is not None and not value <= self.le:
            raise ValueError(f"must be less than or equal to {self.le:g}")
        return value


_HINTS: dict[tuple[type, str], Any] = {}


class _LazyNames(collections.abc.Mapping[str, Any]):
    """Names a module declares in ``__lazy_types__`` ({name: (module, attribute)}), imported on
    first use while an annotation is evaluated."""

    def __init__(self, table: collections.abc.Mapping[str, tuple[str, str]]) -> None:
        self._table = table

    def __getitem__(self, name: str) -> Any:
        module, attribute = self._table[name]
        return getattr(importlib.import_module(module), attribute)

    def __iter__(self) -> collections.abc.Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def field_hint(cls: type, name: str) -> Any:
    """The evaluated annotation of one field; others stay unevaluated until data uses them."""
    key = (cls, name)
    if key not in _HINTS:
        annotation = cls.__annotations__[name]
        if isinstance(annotation, str):
            module = sys.modules[cls.__module__]
            lazy = _LazyNames(getattr(module, "__lazy_types__", {}))
            annotation = eval(annotation, vars(module), lazy)
        _HINTS[key] = annotation
    return _HINTS[key]


def lazy_factory(
    table: collections.abc.Mapping[str, tuple[str, str]], name: str
) -> Callable[[], Any]:
    """A dataclass ``default_factory`` that imports its class on first call."""

    def make() -> Any:
        return _LazyNames(table)[name]()

    return make


def build(
    cls: type[T],
    data: Any,
    *,
    extra: collections.abc.Mapping[str, Any] | None = None,
    into: str | None = None,
) -> T:
    """Validate ``data`` into dataclass ``cls``; raises SchemaError listing every problem.

    ``extra`` declares more top-level keys ({key: type}) than the dataclass has; their validated
    values are passed as one mapping in the field ``into`` (which the data itself cannot set).
    """
    errors: list[FieldError] = []
    with _collecting_secrets() as seen:
        result = _dataclass(cls, data, (), errors, extra=extra or {}, into=into)
    if errors:
        raise SchemaError(_scrubbed(errors, seen))
    return typing.cast(T, result)


def convert(value: Any, hint: Any, loc: Loc) -> Any:
    """Validate one value against a type hint; raises SchemaError listing every problem."""
    errors: list[FieldError] = []
    with _collecting_secrets() as seen:
        result = _convert(value, hint, loc, errors)
    if errors:
        raise SchemaError(_scrubbed(errors, seen))
    return result


# The secret values validated so far in this build: no error message may contain one, whichever
# check wrote it (a component's own ``__post_init__`` included).
_SEEN_SECRETS: contextvars.ContextVar[list[Secret] | None] = contextvars.ContextVar(
    "deployverify_seen_secrets", default=None
)


@contextlib.contextmanager
def _collecting_secrets() -> collections.abc.Iterator[list[Secret]]:
    seen: list[Secret] = []
    token = _SEEN_SECRETS.set(seen)
    try:
        yield seen
    finally:
        _SEEN_SECRETS.reset(token)


def _scrubbed(errors: list[FieldError], seen: list[Secret]) -> list[FieldError]:
    redactor = Redactor()
    for secret in seen:
        try:
            redactor.add_secret(secret)
        except ValueError:  # a malformed URL has no parts to find; its own check said why
            continue
    if not redactor:
        return errors
    return [FieldError(error.loc, redactor.redact(error.message)) for error in errors]


def _dataclass(
    cls: Any,
    data: Any,
    loc: Loc,
    errors: list[FieldError],
    *,
    extra: collections.abc.Mapping[str, Any] | None = None,
    into: str | None = None,
) -> Any:
    if not isinstance(data, dict):
        errors.append(FieldError(loc, f"expected a table ({cls.__name__}), got {_kind(data)}"))
        return None
    extra = extra or {}
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name != into}
    known = [*fields, *extra]
    for key in data:
        if key not in fields and key not in extra:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            errors.append(FieldError((*loc, key), f"unknown key; {hint}"))
    values: dict[str, Any] = {}
    before = len(errors)
    if into is not None:
        # Every declared key is present: absent tables read as None, absent arrays as ().
        values[into] = types.MappingProxyType(
            {
                key: (
                    _convert(data[key], hint, (*loc, key), errors)
                    if key in data
                    else (() if typing.get_origin(hint) is tuple else None)
                )
                for key, hint in extra.items()
            }
        )
    for name, field in fields.items():
        if name in data:
            values[name] = _convert(data[name], field_hint(cls, name), (*loc, name), errors)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            errors.append(FieldError((*loc, name), "required key is missing"))
    if len(errors) != before:
        return None
    try:
        return cls(**values)
    except ValueError as exc:
        errors.append(FieldError(loc, str(exc)))
        return None


def _convert(value: Any, hint: Any, loc: Loc, errors: list[FieldError]) -> Any:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *checks = typing.get_args(hint)
        before = len(errors)
        converted = _convert(value, base, loc, errors)
        if len(errors) != before:
            return None
        for check in checks:
            if callable(check):
                try:
                    converted = check(converted)
                except ValueError as exc:
                    errors.append(FieldError(loc, str(exc)))
                    return None
        return converted
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        if len(options) == 1:
            return _convert(value, options[0], loc, errors)
        failed: list[FieldError] = []
        for option in options:
            trial: list[FieldError] = []
            converted = _convert(value, option, loc, trial)
            if not trial:
                return converted
            failed += trial
        # An option that took the kind of value but refused the value itself says why best.
        specific = [e for e in failed if not e.message.startswith(("expected ", "unexpected "))]
        errors.append(specific[0] if specific else FieldError(loc, f"unexpected {_kind(value)}"))
        return None
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            errors.append(FieldError(loc, f"expected an array, got {_kind(value)}"))
            return None
        item_hint = typing.get_args(hint)[0]
        return tuple(_convert(v, item_hint, (*loc, i), errors) for i, v in enumerate(value))
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            errors.append(FieldError(loc, f"expected a table, got {_kind(value)}"))
            return None
        key_hint, value_hint = typing.get_args(hint)
        if key_hint is not str:  # a key type of its own (HeaderName): check every key
            for k in value:
                _convert(str(k), key_hint, (*loc, str(k)), errors)
        return types.MappingProxyType(
            {str(k): _convert(v, value_hint, (*loc, str(k)), errors) for k, v in value.items()}
        )
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _dataclass(hint, value, loc, errors)
        converter = _SCALARS.get(hint)
        if converter is None and issubclass(hint, Secret):
            converter = _secret(hint)
        if converter is None and issubclass(hint, Enum):
            converter = _enum(hint)
        if converter is not None:
            try:
                return converter(value)
            except (ValueError, TypeError) as exc:
                errors.append(FieldError(loc, str(exc)))
                return None
    raise TypeError(f"schema: unsupported type {hint!r} at {dotted(loc)}")


def _kind(value: Any) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "a table",
        dt.date: "a date",
        dt.datetime: "a date-time",
    }.get(type(value), type(value).__name__)


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a string, got {_kind(value)}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    # Values interpolated from ${VAR} arrive as text.
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expected a boolean (true or false), got {_kind(value)}")


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected an integer, got {_kind(value)}")


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {_kind(value)}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except OverflowError:  # an integer beyond any float
        raise ValueError("is too large to be a number; write a smaller value") from None
    except ValueError:
        raise ValueError(f"expected a number, got {_kind(value)}") from None
    if not math.isfinite(number):
        # TOML writes nan and inf, and float() reads them from ${VAR} text: no bound holds for them.
        raise ValueError("is not a finite number (nan or inf); write a number such as 5 or 2.5")
    return number


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a date (YYYY-MM-DD), got {_kind(value)}")


_SCALARS: dict[type, Callable[[Any], Any]] = {
    str: _str,
    bool: _bool,
    int: _int,
    float: _float,
    dt.date: _date,
}


def _secret(cls: type[Secret]) -> Callable[[Any], Secret]:
    def convert(value: Any) -> Secret:
        secret = cls(_str(value))
        problem = secret_length_problem(secret)
        if problem:
            raise ValueError(problem)
        seen = _SEEN_SECRETS.get()
        if seen is not None:
            seen.append(secret)
        return secret

    return convert


def _enum(cls: type[Enum]) -> Callable[[Any], Enum]:
    def convert(value: Any) -> Enum:
        try:
            return cls(value.lower() if isinstance(value, str) else value)
        except ValueError:
            choices = ", ".join(str(m.value) for m in cls)
            raise ValueError(f"expected one of: {choices}") from None

    return convert
