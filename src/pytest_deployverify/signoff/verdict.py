"""GO, CONDITIONAL or NO-GO, with every reason a reviewer needs to agree or disagree.

* NO-GO: a blocking item (critical, high, or undeclared severity) failed, errored, crashed its
  worker, or never ran.
* CONDITIONAL: nothing blocking is broken, but something is unproven: an advisory item is broken,
  a blocking item was skipped or marked xfail in code (a skip proves nothing), a manual item is
  pending, the observed version differs from the expected release, or no check ran at all.
* GO: every blocking item passed or carries an active waiver, and every manual item is attested.
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_deployverify.signoff.model import (
    BROKEN,
    CheckItem,
    Decision,
    ManualEntry,
    Outcome,
    Verdict,
)


def decide(
    checks: Sequence[CheckItem],
    manual: Sequence[ManualEntry],
    *,
    expected_version: str | None = None,
    observed_versions: Sequence[str] = (),
) -> Verdict:
    no_go: list[str] = []
    conditional: list[str] = []
    for item in checks:
        label = f"{item.check_id} ({item.title}, {item.severity_label})"
        why = f": {item.reason}" if item.reason else ""
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
    for entry in manual:
        if not entry.attested:
            conditional.append(f"manual item {entry.id} ({entry.title}) is pending attestation")
    if not checks:
        conditional.append("no checks were collected: nothing was verified")
    mismatch = [v for v in observed_versions if expected_version and v != expected_version]
    if mismatch:
        conditional.append(
            f"observed version {', '.join(mismatch)} differs from the expected release "
            f"version {expected_version}"
        )
    if no_go:
        return Verdict(Decision.NO_GO, no_go + conditional)
    if conditional:
        return Verdict(Decision.CONDITIONAL, conditional)
    return Verdict(Decision.GO, [_go_summary(checks, manual)])


def _verb(outcome: Outcome) -> str:
    return {Outcome.FAILED: "failed", Outcome.ERROR: "errored", Outcome.NOT_RUN: "did not run"}[
        outcome
    ]


def _go_summary(checks: Sequence[CheckItem], manual: Sequence[ManualEntry]) -> str:
    blocking = [item for item in checks if item.blocking]
    waived = sum(1 for item in blocking if item.outcome is Outcome.WAIVED)
    waived_text = f" ({waived} under an active waiver)" if waived else ""
    manual_text = f"; all {len(manual)} manual items attested" if manual else ""
    return (
        f"all {len(blocking)} blocking checks passed{waived_text}; "
        f"{len(checks) - len(blocking)} advisory checks without failures{manual_text}"
    )
