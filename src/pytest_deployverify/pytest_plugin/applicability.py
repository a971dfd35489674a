"""Checks that do not apply to an environment: a distinct kind of skip the sign-off does not count
against the verdict (an environment without Redis Sentinel has no Sentinel quorum to verify).

A skip for any other reason still proves nothing and keeps the verdict from GO. The prefix that marks
such a skip is pure data (``checks.findings``), so the sign-off reads it without importing pytest.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

from pytest_deployverify.checks.findings import NOT_APPLICABLE_PREFIX


def not_applicable(reason: str) -> NoReturn:
    """Skip the calling check as not applicable to this environment, saying why."""
    __tracebackhide__ = True  # report the check's own line, not this helper's
    pytest.skip(NOT_APPLICABLE_PREFIX + reason)
