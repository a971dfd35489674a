"""Exit codes and the one error type every ``deployverify`` command raises."""

from __future__ import annotations

PROG = "deployverify"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = EXIT_USAGE  # the name the first commands used


class CommandError(Exception):
    """One line for stderr, and the exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code
