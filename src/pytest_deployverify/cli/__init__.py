"""The ``deployverify`` command: the checklist, profiles, sign-offs.

Every failure is one line on stderr naming the file and the reason. pytest is imported only by the
commands that run it (``checklist`` with an environment or test paths), so ``--version``,
``profile`` and ``signoff`` start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from pytest_deployverify import __version__
from pytest_deployverify.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, PROG, CommandError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "CommandError", "build_parser", "main"]

EPILOG = (
    "exit codes: 0 ok; 1 tampered, bad signature, invalid profile or failed; "
    "2 unreadable input or usage error"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line instead of the usage block
        raise CommandError(f"{message} (see '{self.prog} --help')", EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    from pytest_deployverify.cli import (
        checklist_command,
        init_command,
        profile_commands,
        scan_command,
        signoff_commands,
    )

    parser = _Parser(
        prog=PROG,
        description="Deployment verification: the checklist, environment profiles, sign-offs.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    checklist_command.add_parser(commands)
    init_command.add_parser(commands)
    profile_commands.add_parser(commands)
    signoff_commands.add_parser(commands)
    scan_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["checklist"]:
            # Everything after the subcommand may belong to pytest, options included; argparse's
            # REMAINDER would reject a leading option such as --env.
            from pytest_deployverify.cli.checklist_command import run

            return run(args_list[1:])
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
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
