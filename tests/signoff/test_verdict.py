"""Every path to GO, CONDITIONAL and NO-GO, with the reasons a reviewer reads."""

from __future__ import annotations

import pytest

from pytest_deployverify.signoff.model import Decision, ManualEntry, Outcome
from pytest_deployverify.signoff.verdict import decide

from .helpers import item

ATTESTED = ManualEntry(
    "oncall", "On-call", "monitoring", attested_by="sam", attested_at="2026-01-01"
)
PENDING = ManualEntry("runbooks", "Runbooks", "infra")


def test_go_when_blocking_items_pass_and_manual_items_are_attested() -> None:
    verdict = decide(
        [item("A"), item("B", Outcome.WAIVED), item("C", Outcome.SKIPPED, severity="low")],
        [ATTESTED],
    )
    assert verdict.decision is Decision.GO
    assert verdict.reasons == [
        "all 2 blocking checks passed (1 under an active waiver); 1 advisory checks without "
        "failures; all 1 manual items attested"
    ]


@pytest.mark.parametrize("outcome", [Outcome.FAILED, Outcome.ERROR, Outcome.NOT_RUN])
@pytest.mark.parametrize("severity", ["critical", "high", None, "bogus"])
def test_no_go_when_a_blocking_item_is_broken(outcome: Outcome, severity: str | None) -> None:
    verdict = decide([item("A"), item("B", outcome, severity=severity, reason="why")], [ATTESTED])
    assert verdict.decision is Decision.NO_GO
    assert len(verdict.reasons) == 1
    assert verdict.reasons[0].startswith("blocking check B (Title of B, ")
    assert verdict.reasons[0].endswith(": why")


def test_no_go_lists_conditional_reasons_too() -> None:
    verdict = decide(
        [item("A", Outcome.FAILED), item("B", Outcome.FAILED, severity="medium")], [PENDING]
    )
    assert verdict.decision is Decision.NO_GO
    assert [r.split(" ")[0] for r in verdict.reasons] == ["blocking", "advisory", "manual"]


@pytest.mark.parametrize("outcome", [Outcome.FAILED, Outcome.ERROR, Outcome.NOT_RUN])
def test_conditional_when_only_advisory_items_are_broken(outcome: Outcome) -> None:
    verdict = decide([item("A"), item("B", outcome, severity="medium")], [])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons[0].startswith("advisory check B")


def test_conditional_when_a_manual_item_is_pending() -> None:
    verdict = decide([item("A")], [ATTESTED, PENDING])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == ["manual item runbooks (Runbooks) is pending attestation"]


def test_a_skipped_blocking_item_proves_nothing() -> None:
    skipped = item("A", Outcome.SKIPPED, reason="not configured")
    verdict = decide([skipped], [])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == [
        "blocking check A (Title of A, high) was skipped: not configured: "
        "a skipped check proves nothing"
    ]


def test_a_held_back_blocking_item_says_so() -> None:
    held = item("A", Outcome.SKIPPED, destructive=True)
    held.held_back = True
    verdict = decide([held], [])
    assert verdict.decision is Decision.CONDITIONAL
    assert "held back" in verdict.reasons[0]


def test_xfail_in_code_is_not_a_waiver() -> None:
    verdict = decide([item("A", Outcome.XFAILED)], [])
    assert verdict.decision is Decision.CONDITIONAL
    assert "only a profile waiver documents an accepted failure" in verdict.reasons[0]


def test_an_empty_run_is_not_a_go() -> None:
    verdict = decide([], [])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == ["no checks were collected: nothing was verified"]


def test_observed_version_must_match_the_expected_release() -> None:
    assert decide(
        [item("A")], [], expected_version="1.2.3", observed_versions=["1.2.3"]
    ).decision is (Decision.GO)
    verdict = decide([item("A")], [], expected_version="1.2.3", observed_versions=["1.2.2"])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == [
        "observed version 1.2.2 differs from the expected release version 1.2.3"
    ]


def test_worst_decision() -> None:
    assert Decision.worst([Decision.GO, Decision.NO_GO, Decision.CONDITIONAL]) is Decision.NO_GO
    assert Decision.worst([Decision.GO, Decision.CONDITIONAL]) is Decision.CONDITIONAL
    assert Decision.worst([Decision.GO]) is Decision.GO
    assert Decision.worst([]) is Decision.CONDITIONAL


def test_not_applicable_blocking_item_is_neutral_but_a_plain_skip_is_not() -> None:
    neutral = decide([item("A"), item("S", Outcome.NOT_APPLICABLE)], [ATTESTED])
    assert neutral.decision is Decision.GO
    skipped = decide([item("A"), item("S", Outcome.SKIPPED, reason="no token")], [ATTESTED])
    assert skipped.decision is Decision.CONDITIONAL
