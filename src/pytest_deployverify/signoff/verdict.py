"""GO, CONDITIONAL or NO-GO, with every reason a reviewer needs to agree or disagree.

* NO-GO: a blocking item (critical, high, or undeclared severity) failed, errored, crashed its
  worker, or never ran; or a test file could not be collected (its checks were lost).
* CONDITIONAL: nothing blocking is broken, but something is unproven: an advisory item is broken;
  a blocking item was skipped or marked xfail in code (a skip proves nothing); a manual item is
  pending; the observed version differs from the expected release; the run was interrupted; or
  the run verified nothing, or left a configured component unverified (no blocking check of it
  passed). "Not applicable" is neutral, but never counts as having verified anything.
* GO: every blocking item passed or carries an active waiver, every manual item is attested, and
  every configured component in the run's scope was verified by at least one passing blocking
  check. A run narrowed to part of the checklist (``-m smoke``, ``-k``, ``--checklist smoke``)
  gets a qualified verdict, "GO for smoke"; an unqualified GO needs the whole checklist.

A run that verifies a rollback (``--rollback-to``) is decided the same way; its first reason says
whether the rollback to the previous release was verified.
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_deployverify.checks.versions import compare_versions
from pytest_deployverify.signoff.model import (
    BROKEN,
    CheckItem,
    Decision,
    ManualEntry,
    Outcome,
    RollbackInfo,
    Scope,
    Verdict,
)

VERIFIED = frozenset({Outcome.PASSED, Outcome.XPASSED, Outcome.WAIVED})
# Up to this many pending manual items get a reason each (with the title); more are listed by id.
MANUAL_ONE_BY_ONE = 3
# Up to this many checks that did not run get a reason each; more (a run stopped early) are one
# reason listing their ids.
NOT_RUN_ONE_BY_ONE = 10


def decide(
    checks: Sequence[CheckItem],
    manual: Sequence[ManualEntry],
    *,
    expected_version: str | None = None,
    observed_versions: Sequence[str] = (),
    scope: Scope | None = None,
    configured: Sequence[str] = (),
    collection_errors: Sequence[str] = (),
    rollback: RollbackInfo | None = None,
) -> Verdict:
    verdict = _decide(
        checks,
        manual,
        expected_version=expected_version,
        observed_versions=observed_versions,
        scope=scope,
        configured=configured,
        collection_errors=collection_errors,
    )
    if rollback is None:
        return verdict
    head = {
        Decision.GO: "rollback verified",
        Decision.CONDITIONAL: "rollback not fully verified",
        Decision.NO_GO: "rollback NOT verified",
    }[verdict.decision]
    line = (
        f"{head}: this run verified the {rollback.describe()}; the release rolled back to must "
        "run everywhere, no pod of the failed release remain, and the rollback triggers "
        "have recovered"
    )
    return Verdict(verdict.decision, [line, *verdict.reasons], verdict.qualifier)


def _decide(
    checks: Sequence[CheckItem],
    manual: Sequence[ManualEntry],
    *,
    expected_version: str | None,
    observed_versions: Sequence[str],
    scope: Scope | None,
    configured: Sequence[str],
    collection_errors: Sequence[str],
) -> Verdict:
    no_go: list[str] = [
        f"a test file could not be collected, so its checks never ran: {error}"
        for error in collection_errors
    ]
    conditional: list[str] = []
    not_run = [item for item in checks if item.outcome is Outcome.NOT_RUN]
    grouped = len(not_run) > NOT_RUN_ONE_BY_ONE
    if grouped:
        for blocking, kind, into in ((True, "blocking", no_go), (False, "advisory", conditional)):
            ids = [item.check_id for item in not_run if item.blocking is blocking]
            if ids:
                noun = "check" if len(ids) == 1 else "checks"
                into.append(f"{len(ids)} {kind} {noun} did not run: {', '.join(ids)}")
    for item in checks:
        label = f"{item.check_id} ({item.title}, {item.severity_label})"
        why = f": {item.reason}" if item.reason else ""
        if grouped and item.outcome is Outcome.NOT_RUN:
            continue
        if item.outcome in BROKEN:
            text = f"{label} {_verb(item.outcome)}{why}"
            if item.blocking:
                no_go.append(f"blocking check {text}")
            else:
                conditional.append(f"advisory check {text}")
        elif item.blocking and item.outcome is Outcome.SKIPPED:
            if item.held_back:
                text = "was held back (destructive, protected environment; --allow-destructive)"
            else:
                text = f"was skipped{why}"
            conditional.append(f"blocking check {label} {text}: a skipped check proves nothing")
        elif item.blocking and item.outcome is Outcome.XFAILED:
            conditional.append(
                f"blocking check {label} is marked xfail in code{why}; "
                "only a profile waiver documents an accepted failure"
            )
    unattested = []
    for entry in manual:
        if entry.stale:
            conditional.append(
                f"manual item {entry.id} ({entry.title}) is pending: the attestation by "
                f"{entry.attested_by} no longer counts ({entry.stale})"
            )
        elif not entry.attested:
            unattested.append(entry)
    if len(unattested) > MANUAL_ONE_BY_ONE:
        # The shipped items alone are two dozen: one line, with every id, keeps the reasons legible.
        conditional.append(
            f"{len(unattested)} manual items are pending attestation: "
            + ", ".join(entry.id for entry in unattested)
        )
    else:
        conditional += [
            f"manual item {entry.id} ({entry.title}) is pending attestation" for entry in unattested
        ]
    if scope is not None and scope.interrupted:
        conditional.append(f"the run was interrupted ({scope.interrupted}): it is incomplete")
    conditional += _unverified(checks, configured)
    mismatch = [
        compare_versions(expected_version, v)
        for v in observed_versions
        if expected_version and not compare_versions(expected_version, v).same
    ]
    if mismatch:
        conditional.append(
            "observed version differs from the expected release: "
            + "; ".join(m.describe() for m in mismatch)
        )
    qualifier = scope.qualifier() if scope is not None else None
    if no_go:
        return Verdict(Decision.NO_GO, no_go + conditional, qualifier)
    if conditional:
        return Verdict(Decision.CONDITIONAL, conditional, qualifier)
    reasons = [_go_summary(checks, manual)]
    if scope is not None and not scope.whole:
        reasons.append(f"GO for {qualifier} only, not for the release: {scope.describe()}")
    return Verdict(Decision.GO, reasons, qualifier)


def _unverified(checks: Sequence[CheckItem], configured: Sequence[str]) -> list[str]:
    """A run that verified nothing, and configured components none of whose checks verified them.

    Only components with checks in the run are judged, so a run narrowed to smoke does not call
    Redis unverified because its checks were deselected; the scope line says what was left out."""
    if not checks:
        return ["NOT VERIFIED: no checks were collected, so nothing was verified"]
    reasons: list[str] = []
    if not any(item.blocking and item.outcome in VERIFIED for item in checks):
        counts = ", ".join(
            f"{sum(1 for i in checks if i.outcome is o)} {o.value}"
            for o in Outcome
            if any(i.outcome is o for i in checks)
        )
        reasons.append(
            f"NOT VERIFIED: no blocking check passed ({len(checks)} checks: {counts}); a GO "
            "needs the profile's components verified by passing blocking checks"
        )
    for name in configured:
        own = [item for item in checks if item.components[:1] == [name]]
        # Its blocking checks verify it; a component whose checks are all advisory (recent
        # traces, say) is verified by any of them passing.
        judges = [item for item in own if item.blocking] or own
        if not own or any(item.outcome in VERIFIED for item in judges):
            continue
        outcomes = sorted({item.outcome.value for item in own})
        reasons.append(
            f"NOT VERIFIED: {name} is configured in the profile but none of its {len(own)} "
            f"checks verified it (outcomes: {', '.join(outcomes)})"
        )
    return reasons


def _verb(outcome: Outcome) -> str:
    return {Outcome.FAILED: "failed", Outcome.ERROR: "errored", Outcome.NOT_RUN: "did not run"}[
        outcome
    ]


def _go_summary(checks: Sequence[CheckItem], manual: Sequence[ManualEntry]) -> str:
    blocking = [item for item in checks if item.blocking]
    waived = sum(1 for item in blocking if item.outcome is Outcome.WAIVED)
    waived_text = f" ({waived} under an active waiver)" if waived else ""
    manual_text = f"; all {len(manual)} manual items attested" if manual else ""
    applicable = [i for i in blocking if i.outcome is not Outcome.NOT_APPLICABLE]
    return (
        f"all {len(applicable)} applicable blocking checks passed{waived_text}; "
        f"{len(checks) - len(blocking)} advisory checks without failures{manual_text}"
    )
