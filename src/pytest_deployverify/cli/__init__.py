"""The ``deployverify`` command: verify and merge sign-offs, print the checklist without running it.

Every failure is one line on stderr naming the file and the reason; exit codes are documented in
``--help``: 0 fine, 1 tampered/invalid/failed, 2 unreadable input or usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify import __version__
from pytest_deployverify.pytest_plugin.context import get_context
from pytest_deployverify.pytest_plugin.markers import item_metadata
from pytest_deployverify.signoff import integrity
from pytest_deployverify.signoff.checklist import render_checklist
from pytest_deployverify.signoff.collect import one_line_reason
from pytest_deployverify.signoff.files import SignoffFileError, read_json, write_atomic
from pytest_deployverify.signoff.merge import MergeError, load_verified, merge, merged_document
from pytest_deployverify.signoff.render_json import dumps
from pytest_deployverify.signoff.render_markdown import render_merged
from pytest_deployverify.signoff.runinfo import now_iso

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2
PROG = "deployverify"


class CommandError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line instead of the usage block
        raise CommandError(f"{message} (see '{self.prog} --help')", EXIT_UNREADABLE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Deployment verification sign-offs: verify, merge, and print the checklist.",
        epilog="exit codes: 0 ok; 1 tampered, bad signature or failed; 2 unreadable or usage error",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    signoff = commands.add_parser("signoff", help="work with sign-off files")
    signoff_commands = signoff.add_subparsers(dest="signoff_command", required=True)
    verify = signoff_commands.add_parser(
        "verify",
        help="check a JSON sign-off's digest (and its signature when "
        f"{integrity.SIGNING_KEY_VARIABLE} is set)",
    )
    verify.add_argument("file", type=Path, metavar="FILE")
    verify.set_defaults(handler=_verify)
    merge_cmd = signoff_commands.add_parser(
        "merge",
        help="combine JSON sign-offs of several environments or regions; the worst verdict wins",
    )
    merge_cmd.add_argument("files", type=Path, nargs="+", metavar="FILE")
    merge_cmd.add_argument(
        "-o",
        "--output",
        type=Path,
        action="append",
        default=[],
        metavar="OUT.md|OUT.json",
        help="write the merged sign-off (repeatable); without it, Markdown goes to stdout",
    )
    merge_cmd.set_defaults(handler=_merge)
    checklist = commands.add_parser(
        "checklist",
        help="print the collected checklist as Markdown without running it",
        description="Arguments are passed to pytest (e.g. verify/ --env production -m smoke).",
    )
    checklist.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="PYTEST ARGS")
    checklist.set_defaults(handler=_checklist)
    profile = commands.add_parser("profile", help="check environment profiles, list their keys")
    profile_commands = profile.add_subparsers(dest="profile_command", required=True)
    check = profile_commands.add_parser(
        "check",
        help="load and validate a profile as a run would (variables from the environment)",
    )
    check.add_argument("name", metavar="NAME")
    check.add_argument("--env-dir", type=Path, default=Path("verify/environments"), metavar="DIR")
    check.set_defaults(handler=_profile_check)
    reference = profile_commands.add_parser("reference", help="print every profile key as Markdown")
    reference.set_defaults(handler=_profile_reference)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["checklist"] and not {"-h", "--help"} & set(args_list[1:2]):
            # Everything after the subcommand belongs to pytest, options included; argparse's
            # REMAINDER would reject a leading option such as --env.
            return run_checklist(args_list[1:])
        args = build_parser().parse_args(args_list)
        code: int = args.handler(args)
        return code
    except CommandError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, with enough to report it
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE


# profile check / reference ----------------------------------------------------------------------


def _profile_check(args: argparse.Namespace) -> int:
    from pytest_deployverify.components.catalog import all_components, profile_sections
    from pytest_deployverify.profile.loader import ProfileError, load_profile

    components = all_components()
    try:
        loaded = load_profile(
            args.name,
            args.env_dir,
            os.environ,
            display_root=Path.cwd(),
            sections=profile_sections(components),
        )
    except ProfileError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None
    profile = loaded.profile
    configured = [c.name for c in components if c.configured_in(profile)]
    print(f"OK: {loaded.path}: environment {profile.name!r}")
    print(
        f"  protected: {'yes' if profile.protected else 'no'}; version: {profile.version or '(not set)'}"
    )
    print(f"  components: {', '.join(configured) or 'none'}")
    print(
        f"  services: {len(profile.services)}; gates: {len(profile.gates)}; manual items: "
        f"{len(profile.manual)}; waivers: {len(profile.waivers)}; roles: {', '.join(profile.roles)}"
    )
    if loaded.variables:
        print(f"  variables read: {', '.join(loaded.variables)}")
    return 0


def _profile_reference(args: argparse.Namespace) -> int:
    from pytest_deployverify.components.catalog import all_components, profile_sections
    from pytest_deployverify.profile.reference import render_reference

    print(render_reference(profile_sections(all_components())), end="")
    return 0


# signoff verify -------------------------------------------------------------------------------


def _verify(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        doc = read_json(path)
    except SignoffFileError as exc:
        raise CommandError(str(exc), EXIT_UNREADABLE) from None
    key = integrity.signing_key(os.environ)
    result = integrity.verify(doc, key)
    problems = list(result.problems)
    notes = list(result.notes)
    embedded = doc.get("environments") if doc.get("kind") == "merged" else None
    for entry in embedded if isinstance(embedded, list) else []:
        inner = entry.get("document") if isinstance(entry, dict) else None
        label = entry.get("label", "?") if isinstance(entry, dict) else "?"
        if not isinstance(inner, dict):
            problems.append(f"embedded sign-off {label!r} is missing")
            continue
        inner_result = integrity.verify(inner, key)
        problems += [f"embedded sign-off {label!r}: {p}" for p in inner_result.problems]
    if problems:
        print(f"TAMPERED: {path}: {'; '.join(problems)}")
        return EXIT_FAILED
    verdict = (
        doc.get("verdict", {}).get("decision", "?") if isinstance(doc.get("verdict"), dict) else "?"
    )
    what = f"signature {result.signature}" if result.signature != "absent" else "not signed"
    print(f"OK: {path}: SHA-256 digest matches; {what}; verdict {verdict}")
    for note in notes:
        print(f"note: {note}")
    return EXIT_OK


# signoff merge --------------------------------------------------------------------------------


def _merge(args: argparse.Namespace) -> int:
    outputs: list[Path] = args.output
    for out in outputs:
        if out.suffix.lower() not in (".md", ".json"):
            raise CommandError(f"-o {out}: the file name must end in .md or .json", EXIT_UNREADABLE)
    key = integrity.signing_key(os.environ)
    parts = []
    for path in args.files:
        try:
            parts += load_verified(path, key)
        except MergeError as exc:
            raise CommandError(
                str(exc), EXIT_UNREADABLE if exc.unreadable else EXIT_FAILED
            ) from None
    merged = merge(parts, generated_at=now_iso(), generator=f"pytest-deployverify {__version__}")
    markdown = render_merged(merged)
    if not outputs:
        sys.stdout.write(markdown)
    for out in outputs:
        try:
            if out.suffix.lower() == ".json":
                write_atomic(out, dumps(integrity.seal(merged_document(merged), key)))
            else:
                write_atomic(out, markdown)
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}", EXIT_UNREADABLE) from None
        print(
            f"merged {len(merged.parts)} sign-offs into {out}: {merged.verdict.decision.value}",
            file=sys.stderr,
        )
    return EXIT_OK


# checklist ------------------------------------------------------------------------------------


class ChecklistCollector:
    """A plugin object for an in-process ``pytest --collect-only``: records item metadata."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.markdown: str | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        context = get_context(session.config)
        profile = context.profile if context else None
        default = profile.default_severity.value if profile and profile.default_severity else None
        for item in session.items:
            meta: dict[str, Any] = dict(item_metadata(item, default))
            meta["nodeid"] = item.nodeid
            self.items.append(meta)
        shown = None
        if context is not None and context.profile_path is not None:
            try:
                shown = str(context.profile_path.resolve().relative_to(session.config.rootpath))
            except ValueError:
                shown = str(context.profile_path)
        self.markdown = render_checklist(
            self.items,
            profile,
            profile_path=shown,
            held_back=list(context.held_back) if context else [],
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            reason = one_line_reason(report.longreprtext) or "collection failed"
            self.errors.append(f"{report.nodeid or '(rootdir)'}: {reason}")


def _checklist(args: argparse.Namespace) -> int:
    return run_checklist(args.pytest_args)


def run_checklist(args: Sequence[str]) -> int:
    pytest_args = [a for a in args if a != "--"]
    collector = ChecklistCollector()
    captured = io.StringIO()
    # pytest writes usage errors and warnings to stderr/stdout: keep them to make one line.
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        code = pytest.main(
            [*pytest_args, "--collect-only", "-p", "no:terminal"], plugins=[collector]
        )
    if collector.errors:
        more = f" (and {len(collector.errors) - 1} more)" if len(collector.errors) > 1 else ""
        raise CommandError(f"checklist: collection failed: {collector.errors[0]}{more}")
    if code == pytest.ExitCode.USAGE_ERROR:
        raise CommandError(f"checklist: {_first_error(captured.getvalue())}", EXIT_UNREADABLE)
    if (
        code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        or not collector.markdown
    ):
        detail = _first_error(captured.getvalue())
        raise CommandError(f"checklist: pytest stopped with exit code {int(code)}: {detail}")
    sys.stdout.write(collector.markdown)
    return EXIT_OK


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "error:" in line.lower() and not line.startswith("ERROR: usage:"):
            return _clean(line)
    return _clean(lines[0]) if lines else "no details"


def _clean(line: str) -> str:
    line = line.removeprefix("ERROR: ").removeprefix(f"{PROG}: ")
    return line.replace("pytest.main(): ", "pytest: ")


if __name__ == "__main__":
    raise SystemExit(main())
