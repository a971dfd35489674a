"""Resolve plugin settings in the documented order: command line, then environment variable, then ini."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


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
    if cli_value:
        return Resolved(cli_value, option)
    if environ.get(env_var):
        return Resolved(environ[env_var], env_var)
    ini = ini_value()
    if ini:
        return Resolved(ini, f"ini {ini_name}")
    return Resolved(default, "default")
