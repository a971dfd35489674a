"""``deployverify signoff verify|merge``: check a written sign-off, combine several."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pytest_deployverify import __version__
from pytest_deployverify.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError


def add_parser(commands: Any) -> None:
    from pytest_deployverify.signoff.integrity import SIGNING_KEY_VARIABLE

    signoff = commands.add_parser("signoff", help="work with sign-off files")
    signoff_commands = signoff.add_subparsers(dest="signoff_command", required=True)
    verify = signoff_commands.add_parser(
        "verify",
        help="check a JSON sign-off's digest (and its signature when "
        f"{SIGNING_KEY_VARIABLE} is set)",
    )
    verify.add_argument("file", type=Path, metavar="FILE")
    verify.set_defaults(handler=verify_command)
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
        help="write the merged sign-off (repeatable; the suffix picks the format); "
        "without it, Markdown goes to stdout",
    )
    merge_cmd.set_defaults(handler=merge_command)


def verify_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.signoff import integrity
    from pytest_deployverify.signoff.files import SignoffFileError, read_json

    path: Path = args.file
    try:
        doc = read_json(path)
    except SignoffFileError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
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
    verdict = doc.get("verdict")
    decision = verdict.get("decision", "?") if isinstance(verdict, dict) else "?"
    what = f"signature {result.signature}" if result.signature != "absent" else "not signed"
    print(f"OK: {path}: SHA-256 digest matches; {what}; verdict {decision}")
    for note in notes:
        print(f"note: {note}")
    return EXIT_OK


def merge_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.signoff import integrity
    from pytest_deployverify.signoff.files import write_atomic
    from pytest_deployverify.signoff.formats import MARKDOWN, FormatError, format_for
    from pytest_deployverify.signoff.merge import MergeError, load_verified, merge
    from pytest_deployverify.signoff.runinfo import now_iso

    outputs: list[Path] = args.output
    writers = []
    for out in outputs:
        try:
            chosen = format_for(out)
        except FormatError as exc:
            raise CommandError(f"-o {exc}", EXIT_USAGE) from None
        if chosen.render_merged is None:
            raise CommandError(f"-o {out}: the {chosen.name} format cannot write a merged sign-off")
        writers.append((out, chosen))
    key = integrity.signing_key(os.environ)
    parts = []
    for path in args.files:
        try:
            parts += load_verified(path, key)
        except MergeError as exc:
            raise CommandError(str(exc), EXIT_USAGE if exc.unreadable else EXIT_FAILED) from None
    merged = merge(parts, generated_at=now_iso(), generator=f"pytest-deployverify {__version__}")
    if not writers:
        assert MARKDOWN.render_merged is not None
        sys.stdout.write(MARKDOWN.render_merged(merged, os.environ))
    for out, chosen in writers:
        assert chosen.render_merged is not None
        try:
            write_atomic(out, chosen.render_merged(merged, os.environ))
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}", EXIT_USAGE) from None
        print(
            f"merged {len(merged.parts)} sign-offs into {out}: {merged.verdict.decision.value}",
            file=sys.stderr,
        )
    return EXIT_OK
