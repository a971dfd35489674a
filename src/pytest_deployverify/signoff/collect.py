"""Fold the per-phase test reports of a run into one checklist item per collected test.

Works on plain ``PhaseReport`` records (the pytest glue converts ``TestReport`` objects), so the
rules are unit-tested without running pytest: a failed setup is an error, a crashed pytest-xdist
worker is an error, a collected item that never reported is "not-run".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_deployverify.checks.findings import split_not_applicable
from pytest_deployverify.signoff.model import (
    OBSERVED_VERSION_EVIDENCE,
    CheckItem,
    Outcome,
    section_of,
)

CRASH_PHASE = "???"  # pytest-xdist's ``when`` on the report it makes up for a crashed worker
MAX_REASON = 300
_CRASHED_WORKER = re.compile(r"worker '([^']+)' crashed")
_STRIP_PREFIXES = ("AssertionError: ", "Failed: ", "Skipped: ", "reason: ")


@dataclass(frozen=True)
class PhaseReport:
    """The parts of one ``TestReport`` (setup, call, teardown, or a crash) the sign-off needs."""

    nodeid: str
    when: str
    outcome: str  # "passed", "failed" or "skipped", as pytest reports it
    duration: float = 0.0
    meta: Mapping[str, Any] | None = None  # the report's ``deployverify`` dict
    message: str | None = None  # the failure's crash message, or the skip reason
    wasxfail: str | None = None  # set (possibly "") when the item was expected to fail


def one_line_reason(text: str | None) -> str | None:
    """The first meaningful line of a failure or skip message, without pytest's prefixes."""
    if not text:
        return None
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    # A long traceback text (no crash message available): its "E   ..." lines say what happened.
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    line = errors[0] if errors else lines[0]
    for prefix in _STRIP_PREFIXES:
        if line.startswith(prefix):
            line = line[len(prefix) :].strip()
            break
    if not line:
        return None
    return line if len(line) <= MAX_REASON else line[: MAX_REASON - 1] + "…"


class ReportCollector:
    """Accumulates the reports of a run (in any order, from any worker) and builds the items."""

    def __init__(self) -> None:
        # dict as an ordered set: collection order is checklist order.
        self._expected: dict[str, None] = {}
        self._meta: dict[str, Mapping[str, Any]] = {}
        self._phases: dict[str, list[PhaseReport]] = {}
        # Time spent in setups and teardowns that passed: all the sign-off needs of them.
        self._extra_time: dict[str, float] = {}

    def expect(self, nodeids: Iterable[str]) -> None:
        """Node ids that were collected (controller or worker collection): each gets an item."""
        for nodeid in nodeids:
            self._expected.setdefault(nodeid, None)

    def describe(self, nodeid: str, meta: Mapping[str, Any]) -> None:
        """Metadata known before a report arrives (from items collected in this process)."""
        self._expected.setdefault(nodeid, None)
        self._meta.setdefault(nodeid, meta)

    def add_passed_phase(self, nodeid: str, duration: float) -> None:
        """A setup or teardown that passed: only its duration counts (a cheap path per test)."""
        self._expected.setdefault(nodeid, None)
        self._extra_time[nodeid] = self._extra_time.get(nodeid, 0.0) + max(duration, 0.0)

    def add(self, report: PhaseReport) -> None:
        self._expected.setdefault(report.nodeid, None)
        self._phases.setdefault(report.nodeid, []).append(report)
        if report.meta is not None:
            # Report data wins over collection-time metadata: it is what the test actually ran with.
            self._meta[report.nodeid] = report.meta

    def __len__(self) -> int:
        return len(self._expected)

    def build(self) -> list[CheckItem]:
        return [self._item(nodeid) for nodeid in self._expected]

    def _item(self, nodeid: str) -> CheckItem:
        phases = self._phases.get(nodeid, [])
        meta = self._meta.get(nodeid, {})
        outcome, reason, phase = resolve_outcome(phases)
        error = meta.get("error")
        if error and outcome not in (Outcome.FAILED, Outcome.ERROR):
            # A broken @pytest.mark.check leaves severity unknown: never let it pass silently.
            outcome, reason, phase = Outcome.ERROR, one_line_reason(str(error)), "collect"
        evidence: list[dict[str, Any]] = []
        for report in phases:
            data = report.meta or {}
            evidence.extend(e for e in data.get("evidence") or [] if isinstance(e, dict))
        return CheckItem(
            nodeid=nodeid,
            check_id=str(meta.get("check_id") or nodeid),
            title=str(meta.get("title") or _title_from_nodeid(nodeid)),
            severity=meta.get("severity"),
            section=section_of(meta.get("section")),
            sections=list(meta.get("sections") or []),
            destructive=bool(meta.get("destructive", False)),
            outcome=outcome,
            duration=round(
                sum(max(p.duration, 0.0) for p in phases) + self._extra_time.get(nodeid, 0.0), 6
            ),
            evidence=evidence,
            reason=reason,
            phase=phase,
            components=[str(c) for c in meta.get("components") or []],
        )


def resolve_outcome(phases: list[PhaseReport]) -> tuple[Outcome, str | None, str | None]:
    """(outcome, one-line reason, phase) from the reports of one item, following pytest's rules."""
    if not phases:
        return Outcome.NOT_RUN, "no result was reported: the run stopped before this item", None
    by_when = {p.when: p for p in phases}
    crash = by_when.get(CRASH_PHASE)
    if crash is not None:
        worker = _CRASHED_WORKER.search(crash.message or "")
        name = f" {worker.group(1)}" if worker else ""
        return Outcome.ERROR, f"worker{name} crashed while running it", "crash"
    setup, call, teardown = by_when.get("setup"), by_when.get("call"), by_when.get("teardown")
    outcome: Outcome
    reason: str | None
    phase: str | None = None
    if setup is not None and setup.outcome == "failed":
        return Outcome.ERROR, one_line_reason(setup.message), "setup"
    if setup is not None and setup.outcome == "skipped":
        outcome = Outcome.XFAILED if setup.wasxfail is not None else Outcome.SKIPPED
        reason = one_line_reason(setup.wasxfail or setup.message)
        outcome, reason = _applicability(outcome, reason)
    elif call is not None:
        outcome, reason = _call_outcome(call)
        phase = "call" if outcome is Outcome.FAILED else None
    else:
        outcome = Outcome.NOT_RUN
        reason = "the run stopped after its setup: no result was reported"
    if teardown is not None and teardown.outcome == "failed" and outcome is not Outcome.FAILED:
        detail = one_line_reason(teardown.message) or "teardown failed"
        return Outcome.ERROR, f"teardown: {detail}", "teardown"
    return outcome, reason, phase


def _call_outcome(call: PhaseReport) -> tuple[Outcome, str | None]:
    if call.outcome == "failed":
        return Outcome.FAILED, one_line_reason(call.message) or "failed"
    if call.outcome == "skipped":
        if call.wasxfail is not None:
            return Outcome.XFAILED, one_line_reason(call.wasxfail or call.message)
        return _applicability(Outcome.SKIPPED, one_line_reason(call.message))
    if call.wasxfail is not None:
        return Outcome.XPASSED, one_line_reason(call.wasxfail)
    return Outcome.PASSED, None


def _applicability(outcome: Outcome, reason: str | None) -> tuple[Outcome, str | None]:
    if outcome is Outcome.SKIPPED:
        rest = split_not_applicable(reason)
        if rest is not None:
            return Outcome.NOT_APPLICABLE, rest
    return outcome, reason


def observed_versions(items: Iterable[CheckItem]) -> list[str]:
    """Distinct values of evidence named ``observed_version``, in the order they were recorded."""
    seen: dict[str, None] = {}
    for item in items:
        for entry in item.evidence:
            if entry.get("name") == OBSERVED_VERSION_EVIDENCE and entry.get("value") is not None:
                seen.setdefault(str(entry["value"]), None)
    return list(seen)


def _title_from_nodeid(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1]
