"""Checks that do not apply to an environment: a distinct kind of skip the sign-off does not count
against the verdict (an environment without Redis Sentinel has no Sentinel quorum to verify).

A skip for any other reason still proves nothing and keeps the verdict from GO.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

NOT_APPLICABLE_PREFIX = "not applicable: "


def not_applicable(reason: str) -> NoReturn:
    """Skip the calling check as not applicable to this environment, saying why."""
    __tracebackhide__ = True  # report the check's own line, not this helper's
    pytest.skip(NOT_APPLICABLE_PREFIX + reason)


def split_not_applicable(reason: str | None) -> str | None:
    """The reason without its prefix when a skip reason marks the check not applicable, else None."""
    if reason and reason.startswith(NOT_APPLICABLE_PREFIX):
        return reason[len(NOT_APPLICABLE_PREFIX) :]
    return None
