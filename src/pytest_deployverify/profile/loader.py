"""Find, parse, interpolate and validate an environment profile, with errors a person can act on.

Every error names the file, the key (dotted, with list indexes) and, where one is known, the fix.
Messages never include the offending value: it may be a secret. As a safety net, the message part
of every error is redacted with every value ``${VAR}`` interpolation put into the profile, before
it leaves this module (the file name, key and line are structure, and never redacted).
"""

from __future__ import annotations

import difflib
import errno
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_deployverify.profile.model import Profile, SectionSpec
from pytest_deployverify.profile.schema import SchemaError, dotted
from pytest_deployverify.profile.secrets import MASK, MIN_SECRET_LENGTH, Redactor

_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class ProfileError(Exception):
    """A profile that cannot be used, with where and why."""

    def __init__(
        self, path: Path | str, message: str, *, key: str = "", line: int | None = None
    ) -> None:
        self.path = str(path)
        self.key = key
        self.line = line
        self.message = message
        where = self.path + (f":{line}" if line else "")
        super().__init__(f"{where}: {key + ': ' if key else ''}{message}")

    def redacted(self, redactor: Redactor) -> ProfileError:
        """The same error with ``redactor``'s values masked in its message (not in the path,
        key or line, which are structure)."""
        message = redactor.redact(self.message)
        if message == self.message:
            return self
        return ProfileError(self.path, message, key=self.key, line=self.line)


@dataclass(frozen=True)
class LoadedProfile:
    profile: Profile
    path: Path
    # Which environment variables the profile read, for the report header (names only, never values).
    variables: tuple[str, ...]


def available_environments(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if not p.name.startswith("."))


def profile_path(name: str, folder: Path, display_root: Path | None = None) -> Path:
    """The file for environment ``name``; raises ProfileError naming what exists instead."""
    if not folder.exists():
        raise ProfileError(
            folder,
            f"environment profile folder does not exist; create it with a first profile: "
            f"{_init_command(name, folder)}; or point --env-dir (or DEPLOYVERIFY_ENV_DIR, or "
            "the deployverify_env_dir ini key) at the folder that holds NAME.toml files",
        )
    if not folder.is_dir():
        raise ProfileError(
            folder, "is not a folder; --env-dir must name a folder of NAME.toml files"
        )
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ProfileError(
            folder, f"environment name {name!r} is not valid: use letters, digits, '-', '_' or '.'"
        )
    path = folder / f"{name}.toml"
    problem = _not_a_file(path)
    if problem:
        raise ProfileError(_display(path, display_root), problem)
    if not path.is_file():
        known = available_environments(folder)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listing = ", ".join(known) if known else "none"
        raise ProfileError(
            path,
            f"unknown environment {name!r}{hint}; environments in {folder}: {listing}; "
            f"to create it: {_init_command(name, folder)}",
        )
    return path


def _init_command(name: str, folder: Path) -> str:
    """The command that writes a first profile NAME.toml in ``folder`` (NAME for a name that is
    not valid: the error about it comes next)."""
    shown = name if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) else "NAME"
    return f"deployverify init {shown} --env-dir {shlex.quote(str(folder))}"


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` exists (as a name) but is no profile file to read, or None."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (
                "is a symbolic link that loops (it points back to itself, directly or through "
                "other links); replace it with the profile file, or a link to it"
            )
        if exc.errno == errno.ENOENT and path.is_symlink():
            return (
                f"is a symbolic link to {os.readlink(path)}, which does not exist; point it "
                "at the profile file, or replace it with the file"
            )
        if exc.errno == errno.ENOENT:
            return None
        return f"cannot be read: {exc.strerror}"
    if path.is_dir():
        return "is a folder, not a file; the profile is the file NAME.toml in the profile folder"
    if not path.is_file():
        return "is not a regular file; the profile must be a TOML file"
    return None


def load_profile(
    name: str,
    folder: Path,
    environ: Mapping[str, str],
    *,
    display_root: Path | None = None,
    sections: Iterable[SectionSpec] | Callable[[Collection[str]], Iterable[SectionSpec]] = (),
) -> LoadedProfile:
    """Find, read, interpolate and validate profile ``name``; ``sections`` are the components'
    tables (``components.catalog.profile_sections()`` for the registered components), or a
    function of the profile's top-level keys returning them (to load only what it configures)."""
    path = profile_path(name, folder, display_root)
    shown = _display(path, display_root)
    text = _read(path, shown)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.search(str(exc))
        line = int(match.group(1)) if match else None
        detail = _TOML_POSITION.sub("", str(exc)).strip()
        raise ProfileError(shown, f"TOML syntax error: {detail}", line=line) from None
    raw.setdefault("name", name)
    if raw.get("name") != name:
        raise ProfileError(
            shown,
            f"name {raw.get('name')!r} does not match the file name {name!r}; "
            "remove the key or rename the file",
            key="name",
            line=_find_line(text, ("name",)),
        )
    # What interpolation put into the profile is masked in every message that follows.
    variables = _Variables(environ)
    try:
        interpolated = _interpolate(raw, variables, (), shown, text)
    except ProfileError as exc:
        raise exc.redacted(variables.inserted) from None
    specs = sections(tuple(raw)) if callable(sections) else sections
    try:
        profile = Profile.from_dict(interpolated, specs)
    except SchemaError as exc:
        raise _explain(exc, shown, text, variables) from None
    return LoadedProfile(profile=profile, path=path, variables=tuple(dict.fromkeys(variables.used)))


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            # The folder resolved, not the file: a profile that is a symbolic link keeps its name.
            return str((path.parent.resolve() / path.name).relative_to(root.resolve()))
        except (ValueError, OSError, RuntimeError):
            pass
    return str(path)


def _read(path: Path, shown: str) -> str:
    """The file's text. A UTF-8 byte-order mark (some Windows editors write one) is accepted and
    dropped; UTF-16 and other encodings are refused with what to do."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProfileError(shown, f"cannot be read: {exc.strerror}") from None
    if data.startswith(_UTF16_BOMS):
        raise ProfileError(
            shown,
            "is UTF-16 text (it starts with a UTF-16 byte-order mark); TOML is UTF-8: save the "
            "file as UTF-8",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ProfileError(
            shown, f"is not UTF-8 text ({exc.reason}); save the file as UTF-8", line=line
        ) from None


def _key(loc: tuple[str | int, ...]) -> str:
    return dotted(loc)


class _Variables:
    """The environment as interpolation reads it, recording the names read, the values put in,
    and which keys took which variables."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.used: list[str] = []
        self.inserted = Redactor()
        self.sources: dict[tuple[str | int, ...], list[str]] = {}

    def value(self, name: str, loc: tuple[str | int, ...]) -> str | None:
        """The variable's value as the shell's ``${NAME:-default}`` sees it (None: unset)."""
        self.used.append(name)
        self.sources.setdefault(loc, []).append(name)
        value = self.environ.get(name)
        # The safety net leaves values shorter than a secret may be (a secret-typed key refuses
        # them) alone: numbers, booleans and host names ("3600", "true", "redis") would mask the
        # words of the very message that must say what to write ("redis://", "3600").
        if value is not None and len(value) >= MIN_SECRET_LENGTH:
            self.inserted.add(value)
        return value

    def redact(self, message: str, loc: tuple[str | int, ...]) -> str:
        """``message`` with the interpolated values masked; where that masked something, it
        names the variables the key took, so the message still says where to look."""
        redacted = self.inserted.redact(message)
        names = self.sources.get(loc)
        if MASK in redacted and names:  # masked here, or by the schema (a secret seen elsewhere)
            listed = ", ".join(f"${{{name}}}" for name in dict.fromkeys(names))
            redacted += f" (the value comes from {listed})"
        return redacted


def _interpolate(
    value: Any,
    variables: _Variables,
    loc: tuple[str | int, ...],
    shown: str,
    text: str,
) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, variables, (*loc, k), shown, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, variables, (*loc, i), shown, text) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def fail(message: str) -> ProfileError:
        return ProfileError(shown, message, key=_key(loc), line=_find_line(text, loc))

    return _substitute(value, variables, loc, fail)


def _substitute(
    value: str,
    variables: _Variables,
    loc: tuple[str | int, ...],
    fail: Callable[[str], ProfileError],
) -> str:
    """``value`` with each ``${NAME}`` and ``${NAME:-default}`` replaced, as the shell does: the
    default applies when the variable is unset or empty, and may itself hold ``${...}``."""
    out: list[str] = []
    index = 0
    while True:
        start = value.find("${", index)
        if start < 0:
            out.append(value[index:])
            return "".join(out)
        out.append(value[index:start])
        end = _closing(value, start + 2)
        if end is None:
            raise fail("unterminated '${': every ${ needs its }; write ${NAME} or ${NAME:-default}")
        body = value[start + 2 : end]
        name, has_default, default = body.partition(":-")
        if "${" in name:
            raise fail(
                "nested '${' inside a variable name: a name cannot be built from another "
                "variable; write ${NAME}, or ${NAME:-${OTHER}} for a fallback variable"
            )
        if not _VAR_NAME.match(name):
            raise fail(
                f"'${{{body}}}' is not a valid variable reference; write ${{NAME}} or "
                "${NAME:-default} (letters, digits and _, not starting with a digit)"
            )
        found = variables.value(name, loc)
        if found:
            out.append(found)
        elif has_default:
            out.append(_substitute(default, variables, loc, fail) if "${" in default else default)
        elif found is not None:
            out.append(found)  # set but empty, and no default: empty, as in the shell
        else:
            raise fail(
                f"needs environment variable {name}, which is not set; "
                f"export {name}=..., or write ${{{name}:-default}} in the profile"
            )
        index = end + 1


def _closing(value: str, start: int) -> int | None:
    """The index of the ``}`` that closes a ``${`` whose body starts at ``start`` (nested
    ``${...}`` inside it counted), or None."""
    depth = 0
    index = start
    while index < len(value):
        if value.startswith("${", index):
            depth += 1
            index += 2
            continue
        if value[index] == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return None


def _explain(exc: SchemaError, shown: str, text: str, variables: _Variables) -> ProfileError:
    """One message naming every bad key with its line (the schema never includes values; the
    messages are redacted with what interpolation put in all the same)."""
    lines = []
    first_line = None
    for error in exc.errors:
        line = _find_line(text, error.loc)
        first_line = first_line or line
        where = f" (line {line})" if line else ""
        message = variables.redact(error.message, error.loc)
        lines.append(f"{dotted(error.loc) or '(top level)'}{where}: {message}")
    if len(lines) == 1:
        return ProfileError(shown, lines[0], line=first_line)
    return ProfileError(shown, "invalid profile:\n  " + "\n  ".join(lines), line=first_line)


def _find_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best-effort line of a key: its assignment in its table (an inline table's key too), else
    the line of the nearest enclosing key or table header that can be found."""
    lines = text.splitlines()
    for cut in range(len(loc), 0, -1):
        line = _locate(lines, loc[:cut])
        if line:
            return line
    return None


def _header(names: list[str]) -> re.Pattern[str]:
    parts = r"\s*\.\s*".join(r"[\"']?" + re.escape(n) + r"[\"']?" for n in names)
    return re.compile(r"^\s*\[\[?\s*" + parts + r"\s*\]\]?\s*(#.*)?$")


def _locate(lines: list[str], loc: tuple[str | int, ...]) -> int | None:
    names = [p for p in loc if isinstance(p, str)]
    if not names:
        return None
    start, end, rest = 0, len(lines), names
    # The innermost table with a header of its own: [a.b], or the n-th [[a.b]] for a.b[n].
    for count in range(len(names), 0, -1):
        position = [i for i, p in enumerate(loc) if isinstance(p, str)][count - 1]
        index = loc[position + 1] if position + 1 < len(loc) else None
        found = [i for i, line in enumerate(lines) if _header(names[:count]).match(line)]
        if not found:
            continue
        start = found[min(index, len(found) - 1)] if isinstance(index, int) else found[0]
        if count == len(names):
            return start + 1
        rest = names[count:]
        start += 1
        break
    # The key's own section ends at the next table header.
    for number in range(start, len(lines)):
        if re.match(r"^\s*\[", lines[number]):
            end = number
            break
    for key in reversed(rest):
        quoted = r"[\"']?" + re.escape(key) + r"[\"']?"
        assign = re.compile(r"(^|[{,])\s*" + quoted + r"\s*=")
        for number in range(start, end):
            if assign.search(lines[number]):
                return number + 1
    return None
