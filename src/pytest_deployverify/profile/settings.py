"""Resolve settings in the documented order: command line, then environment variable, then the
pytest ini file, then the default; and find that ini file the way pytest does, for the commands
that run without pytest (``deployverify profile check``)."""

from __future__ import annotations

import configparser
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ENV_DIR = "verify/environments"


class SettingError(ValueError):
    """A setting given in a way that cannot be right (an empty environment variable)."""


@dataclass(frozen=True)
class Resolved:
    value: str | None
    source: str  # "--env", "DEPLOYVERIFY_ENV", "ini deployverify_env" or "default"

    def describe(self) -> str:
        return f"{self.value} (from {self.source})"


def resolve(
    *,
    option: str,
    cli_value: str | None,
    env_var: str,
    environ: Mapping[str, str],
    ini_name: str,
    ini_value: Callable[[], str | None],
    default: str | None = None,
) -> Resolved:
    """The first source that sets a value. A variable that is set but empty is an error: an empty
    ``DEPLOYVERIFY_ENV=`` in a CI file must not quietly turn a verification into no verification."""
    if cli_value is not None:
        if not cli_value.strip():
            raise SettingError(f"{option} is empty; give a value or leave the option out")
        return Resolved(cli_value.strip(), option)
    if env_var in environ:
        value = environ[env_var].strip()
        if not value:
            raise SettingError(
                f"environment variable {env_var} is set but empty; set a value or unset it"
            )
        return Resolved(value, env_var)
    ini = ini_value()
    if ini:
        return Resolved(ini, f"ini {ini_name}")
    return Resolved(default, "default")


@dataclass(frozen=True)
class IniFile:
    """The pytest configuration file that applies to a directory, and its deployverify keys."""

    path: Path | None
    values: Mapping[str, str]

    @property
    def rootdir(self) -> Path | None:
        return self.path.parent if self.path is not None else None


def find_ini(start: Path) -> IniFile:
    """The first pytest configuration in ``start`` or a parent (pytest.ini, .pytest.ini,
    pyproject.toml with [tool.pytest.ini_options], tox.ini with [pytest], setup.cfg with
    [tool:pytest]), with its ``deployverify_*`` keys."""
    for folder in (start, *start.parents):
        for name in ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
            path = folder / name
            if not path.is_file():
                continue
            values = _read_ini(path)
            if values is not None:
                return IniFile(path, values)
    return IniFile(None, {})


def _read_ini(path: Path) -> dict[str, str] | None:
    """The deployverify keys of a config file; None when the file is not a pytest config."""
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            section = data.get("tool", {}).get("pytest", {})
            options = section.get("ini_options") if isinstance(section, dict) else None
            if not isinstance(options, dict):
                return None
            return {k: str(v) for k, v in options.items() if k.startswith("deployverify_")}
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, configparser.Error):
        return None
    name = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    if not parser.has_section(name):
        return {} if path.name in ("pytest.ini", ".pytest.ini") else None
    return {k: v for k, v in parser.items(name) if k.startswith("deployverify_")}


def env_dir(cli_value: str | None, environ: Mapping[str, str], cwd: Path) -> tuple[Path, Resolved]:
    """The profile folder as a run from ``cwd`` would use it: ``--env-dir`` and the variable
    relative to ``cwd``, the ini key and the default relative to the ini file's folder."""
    ini = find_ini(cwd)
    resolved = resolve(
        option="--env-dir",
        cli_value=cli_value,
        env_var="DEPLOYVERIFY_ENV_DIR",
        environ=environ,
        ini_name="deployverify_env_dir",
        ini_value=lambda: ini.values.get("deployverify_env_dir"),
        default=DEFAULT_ENV_DIR,
    )
    folder = Path(resolved.value or DEFAULT_ENV_DIR)
    if not folder.is_absolute():
        base = cwd if resolved.source in ("--env-dir", "DEPLOYVERIFY_ENV_DIR") else ini.rootdir
        folder = (base or cwd) / folder
    return folder, resolved
