"""Turning a check's result into a test outcome, shared by the checklist files (``conclude`` is
re-exported from ``pytest_deployverify.checklist``, where it lives)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_deployverify.checklist import conclude

if TYPE_CHECKING:
    from pytest_deployverify.checklist.kubernetes import ItemResult
    from pytest_deployverify.evidence import Evidence


def conclude_item(result: ItemResult, evidence: Evidence) -> None:
    """Record what a Kubernetes item observed, then pass, skip with its reason, or fail."""
    __tracebackhide__ = True  # the report points at the test and shows the message
    for entry in result.evidence:
        evidence.record(**entry)
    if result.skipped:
        pytest.skip(result.skipped)
    passed = result.passed  # a plain bool keeps the report to the message
    assert passed, result.message


__all__ = ["conclude", "conclude_item"]
