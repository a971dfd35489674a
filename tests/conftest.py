"""Test-suite defaults.

Runs the project's pytester-based tests make collect only the test files they write: the shipped
checklist (collected whenever an environment is selected) joins in only where a test asks for it
with ``--checklist``.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _only_the_tests_a_run_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOYVERIFY_CHECKLIST", "none")
