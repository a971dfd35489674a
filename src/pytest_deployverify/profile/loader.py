"""Find, parse, interpolate and validate an environment profile, with errors a person can act on.

Every error names the file, the key (dotted, with list indexes) and, where one is known, the fix.
Messages never include the offending value: it may be a secret.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_deployverify.profile.model import Profile, SectionSpec
from pytest_deployverify.profile.schema import SchemaError, dotted

_VAR = re.compile(r"\$\{([^}]*)\}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
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


def profile_path(name: str, folder: Path) -> Path:
    """The file for environment ``name``; raises ProfileError naming what exists instead."""
    if not folder.exists():
        raise ProfileError(
            folder,
            "environment profile folder does not exist; create it, or point --env-dir "
            "(or DEPLOYVERIFY_ENV_DIR, or the deployverify_env_dir ini key) at the folder "
            "that holds NAME.toml files",
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
    if not path.is_file():
        known = available_environments(folder)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listing = ", ".join(known) if known else "none"
        raise ProfileError(
            path, f"unknown environment {name!r}{hint}; environments in {folder}: {listing}"
        )
    return path


def load_profile(
    name: str,
    folder: Path,
    environ: Mapping[str, str],
    *,
    display_root: Path | None = None,
    sections: Iterable[SectionSpec] = (),
) -> LoadedProfile:
    """Find, read, interpolate and validate profile ``name``; ``sections`` are the components'
    tables (``components.catalog.profile_sections()`` for the registered components)."""
    path = profile_path(name, folder)
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
    used: list[str] = []
    interpolated = _interpolate(raw, environ, (), shown, text, used)
    try:
        profile = Profile.from_dict(interpolated, sections)
    except SchemaError as exc:
        raise _explain(exc, shown, text) from None
    return LoadedProfile(profile=profile, path=path, variables=tuple(dict.fromkeys(used)))


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)


def _read(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError(shown, f"is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ProfileError(shown, f"cannot be read: {exc.strerror}") from None


def _key(loc: tuple[str | int, ...]) -> str:
    return dotted(loc)


def _interpolate(
    value: Any,
    environ: Mapping[str, str],
    loc: tuple[str | int, ...],
    shown: str,
    text: str,
    used: list[str],
) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, environ, (*loc, k), shown, text, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, environ, (*loc, i), shown, text, used) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def fail(message: str) -> ProfileError:
        return ProfileError(shown, message, key=_key(loc), line=_find_line(text, loc))

    if value.count("${") != len(_VAR.findall(value)):
        raise fail("unterminated '${' : write ${NAME} or ${NAME:-default}")

    def substitute(match: re.Match[str]) -> str:
        body = match.group(1)
        name, has_default, default = body.partition(":-")
        if not _VAR_NAME.match(name):
            raise fail(f"'${{{body}}}' is not a valid variable reference; write ${{NAME}}")
        used.append(name)
        if name in environ:
            return environ[name]
        if has_default:
            return default
        raise fail(
            f"needs environment variable {name}, which is not set; "
            f"export {name}=..., or write ${{{name}:-default}} in the profile"
        )

    return _VAR.sub(substitute, value)


def _explain(exc: SchemaError, shown: str, text: str) -> ProfileError:
    """One message naming every bad key with its line (the schema never includes values)."""
    lines = []
    first_line = None
    for error in exc.errors:
        line = _find_line(text, error.loc)
        first_line = first_line or line
        where = f" (line {line})" if line else ""
        lines.append(f"{dotted(error.loc) or '(top level)'}{where}: {error.message}")
    if len(lines) == 1:
        return ProfileError(shown, lines[0], line=first_line)
    return ProfileError(shown, "invalid profile:\n  " + "\n  ".join(lines), line=first_line)


def _find_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best-effort line of a key: the key's assignment after its table header, if one is found."""
    keys = [p for p in loc if isinstance(p, str)]
    if not keys:
        return None
    lines = text.splitlines()
    start = 0
    tables = keys[:-1]
    if tables:
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(".".join(tables)) + r"\s*\]\]?\s*(#.*)?$")
        for number, line in enumerate(lines):
            if header.match(line):
                start = number
                break
        else:
            # Perhaps an inline or dotted form: fall back to the last key anywhere.
            start = 0
    assign = re.compile(r"^\s*" + re.escape(keys[-1]) + r"\s*=")
    for number in range(start, len(lines)):
        if assign.match(lines[number]):
            return number + 1
    if tables and start:
        return start + 1
    return None
