"""``deployverify profile check|reference|schema``: validate a profile as a run would; list every
key with its meaning; print the profile's JSON Schema for editors."""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any

from pytest_deployverify.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError


def add_parser(commands: Any) -> None:
    profile = commands.add_parser("profile", help="check environment profiles, list their keys")
    profile_commands = profile.add_subparsers(dest="profile_command", required=True)
    check = profile_commands.add_parser(
        "check",
        help="load and validate a profile as a run would (variables from the environment; the "
        "folder from --env-dir, DEPLOYVERIFY_ENV_DIR or the deployverify_env_dir ini key)",
    )
    check.add_argument("name", metavar="NAME")
    check.add_argument("--env-dir", metavar="DIR", default=None)
    check.set_defaults(handler=check_command)
    reference = profile_commands.add_parser(
        "reference",
        help="print every profile key as Markdown: type, default, meaning, an example; and the "
        "gate parameters",
    )
    reference.set_defaults(handler=reference_command)
    schema = profile_commands.add_parser(
        "schema",
        help="print the profile's JSON Schema (draft 2020-12) for editors: save it beside the "
        "profiles and name it on a profile's first line, '#:schema ./profile.schema.json'",
    )
    schema.set_defaults(handler=schema_command)


def check_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.components.catalog import (
        ComponentLoadError,
        all_components,
        profile_sections,
    )
    from pytest_deployverify.profile.loader import ProfileError, load_profile
    from pytest_deployverify.profile.settings import SettingError, env_dir

    cwd = Path.cwd()
    try:
        folder, source = env_dir(args.env_dir, os.environ, cwd)
        components = all_components()
    except (SettingError, ComponentLoadError) as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    try:
        loaded = load_profile(
            args.name,
            folder,
            os.environ,
            display_root=cwd,
            sections=profile_sections(components),
        )
    except ProfileError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None
    profile = loaded.profile
    configured = [c.name for c in components if c.configured_in(profile)]
    print(f"OK: {loaded.path}: environment {profile.name!r} (folder from {source.source})")
    version = profile.version or "(not set)"
    print(f"  protected: {'yes' if profile.protected else 'no'}; version: {version}")
    print(f"  components: {', '.join(configured) or 'none'}")
    print(
        f"  manual items: {len(profile.manual)}; waivers: {len(profile.waivers)}; "
        f"roles: {', '.join(profile.roles)}"
    )
    if loaded.variables:
        print(f"  variables read: {', '.join(loaded.variables)}")
    return EXIT_OK


def reference_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.profile.reference import render_reference

    print(render_reference(*documented_sections()), end="")
    return EXIT_OK


def schema_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.profile.jsonschema import render_schema

    print(render_schema(*documented_sections()), end="")
    return EXIT_OK


def documented_sections() -> tuple[list[Any], Any]:
    """Every registered component's tables, and what their types alone do not say (the gate
    parameters and the ready-made gates of ``checks/gates.py``): the input of the reference and
    of the schema."""
    from pytest_deployverify.components.catalog import (
        ComponentLoadError,
        all_components,
        profile_sections,
    )

    try:
        sections = profile_sections(all_components())
    except ComponentLoadError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    return sections, gate_extras()


def gate_extras() -> Any:
    """The keys of ``[[gates]] params`` (with the comment next to each in ``DEFAULT_PARAMS``, and
    which ready-made gates read it) and the names of the ready-made gates."""
    from pytest_deployverify.checks import gates
    from pytest_deployverify.profile.reference import Extras, Known, mapping_descriptions

    comments = mapping_descriptions(gates, "DEFAULT_PARAMS")
    readers: dict[str, list[str]] = {name: [] for name in gates.DEFAULT_PARAMS}
    for gate_name, ready in gates.READY_MADE.items():
        for param in _params_read(ready.build, gates.DEFAULT_PARAMS):
            readers.setdefault(param, []).append(gate_name)
    params = tuple(
        Known(name, comments.get(name, ""), default or None, tuple(readers.get(name, ())))
        for name, default in gates.DEFAULT_PARAMS.items()
    )
    names = tuple(Known(name, ready.description) for name, ready in gates.READY_MADE.items())
    return Extras(
        keys={(gates.MetricGate, "params"): params},
        values={(gates.MetricGate, "name"): names},
        titles={
            (gates.MetricGate, "params"): "Gate parameters (`[[gates]] params`)",
            (gates.MetricGate, "name"): "Ready-made gates (`[[gates]] name`)",
        },
    )


def _params_read(build: Any, defaults: dict[str, str]) -> list[str]:
    """The parameters a ready-made query reads (it is built once with a recording mapping)."""
    seen: list[str] = []

    class Recording(dict[str, str]):
        def __getitem__(self, key: str) -> str:
            if key not in seen:
                seen.append(key)
            return super().__getitem__(key)

    # A query that needs more than the defaults: what it read so far.
    with contextlib.suppress(Exception):
        build(Recording({**defaults, "status_label": defaults.get("status_label") or "status"}))
    return seen
