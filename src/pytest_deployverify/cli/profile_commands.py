"""``deployverify profile check|reference``: validate a profile as a run would; list every key."""

from __future__ import annotations

import argparse
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
    reference = profile_commands.add_parser("reference", help="print every profile key as Markdown")
    reference.set_defaults(handler=reference_command)


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
    from pytest_deployverify.components.catalog import all_components, profile_sections
    from pytest_deployverify.profile.reference import render_reference

    print(render_reference(profile_sections(all_components())), end="")
    return EXIT_OK
