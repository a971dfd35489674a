"""``deployverify checklist``: the checklist without running it.

Without an environment and without test paths it lists every declared check of every registered
component (id, section, severity, title, the profile keys it needs) from the declarations alone,
without pytest. With ``--env NAME`` (or ``DEPLOYVERIFY_ENV``) or test paths it collects like a run,
the team's own tests included, and prints what would run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from pytest_deployverify.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, PROG, CommandError

FORMATS = ("md", "json")
HELP = f"""usage: {PROG} checklist [--format md|json] [PYTEST ARGS ...]

Print the checklist without running it.

  without an environment or test paths: every check the registered components declare
      (id, section, severity, title, and the profile keys it needs)
  with --env NAME (or DEPLOYVERIFY_ENV) and/or test paths: what a run would collect,
      your own tests included, e.g. {PROG} checklist --env production -m smoke

options:
  --format md|json  Markdown (default) or JSON
  -h, --help        show this help
"""


def add_parser(commands: Any) -> None:
    # Parsed by hand in run(): everything after the subcommand may belong to pytest.
    commands.add_parser("checklist", help="print the checklist without running it", add_help=False)


def run(args: Sequence[str]) -> int:
    rest = [a for a in args if a != "--"]
    if {"-h", "--help"} & set(rest):
        sys.stdout.write(HELP)
        return EXIT_OK
    fmt, rest = _take_format(rest)
    environment = any(a == "--env" or a.startswith("--env=") for a in rest)
    environment = environment or bool(os.environ.get("DEPLOYVERIFY_ENV", "").strip())
    if not rest and not environment:
        return _declared(fmt)
    return _collected(rest, fmt)


def _take_format(args: list[str]) -> tuple[str, list[str]]:
    fmt, rest, skip = "md", [], False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--format":
            if index + 1 >= len(args):
                raise CommandError("checklist: --format needs md or json", EXIT_USAGE)
            fmt, skip = args[index + 1], True
        elif arg.startswith("--format="):
            fmt = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if fmt not in FORMATS:
        raise CommandError(f"checklist: --format {fmt!r}: use md or json", EXIT_USAGE)
    return fmt, rest


def _declared(fmt: str) -> int:
    from pytest_deployverify.components.catalog import (
        ComponentLoadError,
        all_components,
        check_catalog,
    )
    from pytest_deployverify.signoff.checklist import render_checklist

    try:
        components = all_components()
    except ComponentLoadError as exc:
        raise CommandError(f"checklist: {exc}", EXIT_USAGE) from None
    catalog = check_catalog(components)
    owner = {spec.id: c.name for c in components for spec in c.checks}
    # The checklist's own checks (rollback) belong to no one component: named by their first.
    owner.update({spec.id: spec.components[0] for spec in catalog.values() if spec.id not in owner})
    if fmt == "json":
        from pytest_deployverify.checks.manual import SHIPPED_MANUAL

        checks = [{**spec.plain(), "component": owner[spec.id]} for spec in catalog.values()]
        manual = [
            {
                "id": entry.id,
                "title": entry.title,
                "section": entry.section.value if entry.section else "infra",
                "note": entry.note,
            }
            for entry in SHIPPED_MANUAL
        ]
        document = {
            "source": "declarations",
            "count": len(checks),
            "checks": checks,
            "manual": manual,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return EXIT_OK
    items = [
        {
            "check_id": spec.id,
            "title": spec.title,
            "severity": spec.severity.value,
            "section": spec.section.value,
            "destructive": spec.destructive,
            "keys": list(spec.keys),
            "nodeid": spec.id,
        }
        for spec in catalog.values()
    ]
    sys.stdout.write(
        render_checklist(items, None, source="declared by the installed components, not run")
    )
    return EXIT_OK


def _collected(pytest_args: list[str], fmt: str) -> int:
    import pytest

    from pytest_deployverify.cli.collect import ChecklistCollector

    collector = ChecklistCollector()
    captured = io.StringIO()
    # pytest writes usage errors and warnings to stderr/stdout: keep them to make one line.
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        code = pytest.main(
            [*pytest_args, "--collect-only", "-p", "no:terminal", "-p", "no:cacheprovider"],
            plugins=[collector],
        )
    if collector.errors:
        more = f" (and {len(collector.errors) - 1} more)" if len(collector.errors) > 1 else ""
        raise CommandError(f"checklist: collection failed: {collector.errors[0]}{more}")
    if code == pytest.ExitCode.USAGE_ERROR:
        raise CommandError(f"checklist: {_first_error(captured.getvalue())}", EXIT_USAGE)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) or (
        collector.markdown is None
    ):
        detail = _first_error(captured.getvalue())
        raise CommandError(f"checklist: pytest stopped with exit code {int(code)}: {detail}")
    if fmt == "json":
        sys.stdout.write(json.dumps(collector.document(), indent=2) + "\n")
    else:
        sys.stdout.write(collector.markdown)
    return EXIT_OK if code == pytest.ExitCode.OK else EXIT_FAILED


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "error:" in line.lower() and not line.startswith("ERROR: usage:"):
            return _clean(line)
    return _clean(lines[0]) if lines else "no details"


def _clean(line: str) -> str:
    line = line.removeprefix("ERROR: ").removeprefix(f"{PROG}: ")
    return line.replace("pytest.main(): ", "pytest: ")
