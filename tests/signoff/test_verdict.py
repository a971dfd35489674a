"""Every path to GO, CONDITIONAL and NO-GO, with the reasons a reviewer reads."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_deployverify.signoff.model import CheckItem, Decision, ManualEntry, Outcome, Scope
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
        "all 2 applicable blocking checks passed (1 under an active waiver); 1 advisory checks "
        "without failures; all 1 manual items attested"
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
    assert [r.split(" ")[0] for r in verdict.reasons] == ["blocking", "advisory", "manual", "NOT"]


@pytest.mark.parametrize("outcome", [Outcome.FAILED, Outcome.ERROR, Outcome.NOT_RUN])
def test_conditional_when_only_advisory_items_are_broken(outcome: Outcome) -> None:
    verdict = decide([item("A"), item("B", outcome, severity="medium")], [])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons[0].startswith("advisory check B")


def test_conditional_when_a_manual_item_is_pending() -> None:
    verdict = decide([item("A")], [ATTESTED, PENDING])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == ["manual item runbooks (Runbooks) is pending attestation"]


def test_many_pending_manual_items_make_one_reason_naming_each() -> None:
    pending = [dataclasses.replace(PENDING, id=f"item-{n}") for n in range(5)]
    verdict = decide([item("A")], [ATTESTED, *pending])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == [
        "5 manual items are pending attestation: item-0, item-1, item-2, item-3, item-4"
    ]


def test_a_skipped_blocking_item_proves_nothing() -> None:
    skipped = item("A", Outcome.SKIPPED, reason="not configured")
    verdict = decide([skipped, item("B")], [])
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
    assert verdict.reasons == ["NOT VERIFIED: no checks were collected, so nothing was verified"]


def test_a_run_where_nothing_applied_verified_nothing() -> None:
    """The empty profile: every check not applicable used to read 'GO, all 71 blocking passed'."""
    verdict = decide([item(f"C{n}", Outcome.NOT_APPLICABLE) for n in range(87)], [])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == [
        "NOT VERIFIED: no blocking check passed (87 checks: 87 not-applicable); a GO needs the "
        "profile's components verified by passing blocking checks"
    ]


def test_advisory_passes_alone_do_not_verify_a_release() -> None:
    verdict = decide([item("LOW", severity="low"), item("B", Outcome.NOT_APPLICABLE)], [])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons[0].startswith("NOT VERIFIED: no blocking check passed")


def component_item(check_id: str, component: str, outcome: Outcome = Outcome.PASSED) -> CheckItem:
    made = item(check_id, outcome)
    made.components = [component]
    return made


def test_a_configured_component_without_a_passing_blocking_check_is_not_verified() -> None:
    checks = [
        component_item("K8S-A", "kubernetes"),
        component_item("REDIS-A", "redis", Outcome.NOT_APPLICABLE),
        component_item("REDIS-B", "redis", Outcome.NOT_APPLICABLE),
    ]
    verdict = decide(checks, [], configured=["kubernetes", "redis"])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == [
        "NOT VERIFIED: redis is configured in the profile but none of its 2 checks verified it "
        "(outcomes: not-applicable)"
    ]
    checks[1] = component_item("REDIS-A", "redis")
    assert decide(checks, [], configured=["kubernetes", "redis"]).decision is Decision.GO


def test_a_configured_component_whose_checks_were_not_in_the_run_is_left_to_the_scope() -> None:
    checks = [component_item("SMOKE-A", "http")]
    scope = Scope(
        whole=False, collected=90, deselected=89, selection=["-m 'smoke'"], sections=["smoke"]
    )
    verdict = decide(checks, [], configured=["http", "redis"], scope=scope)
    assert verdict.decision is Decision.GO
    assert verdict.label == "GO for smoke"
    assert verdict.reasons[1] == (
        "GO for smoke only, not for the release: 1 of 90 collected items run; selected by "
        "-m 'smoke'; sections smoke"
    )


def test_a_partial_run_never_reads_as_a_whole_one() -> None:
    whole = Scope(whole=True, collected=2, sections=["infra"])
    assert decide([item("A")], [], scope=whole).label == "GO"
    keyword = Scope(whole=False, collected=5, deselected=4, selection=["-k 'redis'"])
    assert decide([item("A")], [], scope=keyword).label == "GO for the selected checks"
    two = Scope(whole=False, collected=9, deselected=3, sections=["monitoring", "smoke"])
    assert decide([item("A")], [], scope=two).label == "GO for monitoring, smoke"
    assert decide([item("A", Outcome.FAILED)], [], scope=two).label == "NO-GO for monitoring, smoke"


def test_an_interrupted_run_says_so_and_is_not_a_go() -> None:
    scope = Scope(collected=3, interrupted="stopping after 1 failures; 2 collected items never ran")
    verdict = decide([item("A"), item("B", Outcome.NOT_RUN, severity="low")], [], scope=scope)
    assert verdict.decision is Decision.CONDITIONAL
    assert (
        "the run was interrupted (stopping after 1 failures; 2 collected items never ran): "
        "it is incomplete"
    ) in verdict.reasons


def test_many_checks_that_did_not_run_are_one_reason_each_kind() -> None:
    """A run stopped early leaves most of the checklist unrun: one reason lists their ids, so
    the verdict stays legible; a few are still named one by one."""
    unrun = [item(f"N{n}", Outcome.NOT_RUN) for n in range(12)]
    unrun += [item("L1", Outcome.NOT_RUN, severity="low")]
    verdict = decide([item("A"), *unrun], [])
    assert verdict.decision is Decision.NO_GO
    assert verdict.reasons[0] == "12 blocking checks did not run: " + ", ".join(
        f"N{n}" for n in range(12)
    )
    assert "1 advisory check did not run: L1" in verdict.reasons
    assert not any("blocking check N0" in reason for reason in verdict.reasons)
    few = decide([item("A"), *unrun[:2]], [])
    assert sum("did not run" in reason for reason in few.reasons) == 2
    assert any(reason.startswith("blocking check N0 (") for reason in few.reasons)


def test_a_file_that_could_not_be_collected_is_a_no_go_naming_it() -> None:
    verdict = decide(
        [item("A")],
        [],
        collection_errors=["verify/test_team.py: ModuleNotFoundError: No module named 'x'"],
    )
    assert verdict.decision is Decision.NO_GO
    assert verdict.reasons == [
        "a test file could not be collected, so its checks never ran: verify/test_team.py: "
        "ModuleNotFoundError: No module named 'x'"
    ]


def test_a_stale_attestation_keeps_the_item_pending() -> None:
    stale = ManualEntry(
        "backup",
        "Backup restore tested",
        "infra",
        attested_by="sam",
        attested_at="2026-01-01",
        source="profile",
        stale="it was made for release 1.4.1, this run verifies 1.4.2",
    )
    assert not stale.attested
    verdict = decide([item("A")], [stale])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == [
        "manual item backup (Backup restore tested) is pending: the attestation by sam no longer "
        "counts (it was made for release 1.4.1, this run verifies 1.4.2)"
    ]


def test_observed_version_must_match_the_expected_release() -> None:
    assert decide(
        [item("A")], [], expected_version="1.2.3", observed_versions=["1.2.3"]
    ).decision is (Decision.GO)
    verdict = decide([item("A")], [], expected_version="1.2.3", observed_versions=["1.2.2"])
    assert verdict.decision is Decision.CONDITIONAL
    assert verdict.reasons == [
        "observed version differs from the expected release: '1.2.2' against expected '1.2.3'"
    ]


def test_a_version_written_with_a_leading_v_is_the_same_release() -> None:
    verdict = decide([item("A")], [], expected_version="1.4.2", observed_versions=["v1.4.2"])
    assert verdict.decision is Decision.GO


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


def test_a_component_with_only_advisory_checks_is_verified_by_one_passing() -> None:
    traces = component_item("MON-TRACES", "tracing")
    traces.severity = "medium"
    assert (
        decide([component_item("A", "http"), traces], [], configured=["http", "tracing"]).decision
        is Decision.GO
    )
    traces.outcome = Outcome.NOT_APPLICABLE
    verdict = decide([component_item("A", "http"), traces], [], configured=["http", "tracing"])
    assert verdict.decision is Decision.CONDITIONAL
    assert (
        "tracing is configured in the profile but none of its 1 checks verified it"
        in verdict.reasons[0]
    )
