"""The sign-off as plain data: what ran where, what each checklist item showed, and the decision.

Everything here is JSON-friendly (strings, numbers, lists) so the same objects feed the Markdown,
the JSON document, the HTML summary and ``deployverify signoff merge``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pytest_deployverify.checks.findings import Severity

SCHEMA_VERSION = 1

# Checklist order of the source checklists; items without a section marker go last.
SECTION_ORDER = ("infra", "security", "monitoring", "smoke", "other")
SECTION_TITLES = {
    "infra": "Infrastructure",
    "security": "Security",
    "monitoring": "Monitoring & Observability",
    "smoke": "Smoke tests",
    "other": "Other checks",
}
OBSERVED_VERSION_EVIDENCE = "observed_version"
# Evidence a rollback check records with the time the rollback happened (the Helm revision's).
ROLLBACK_AT_EVIDENCE = "rollback_at"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"
    WAIVED = "waived"
    NOT_RUN = "not-run"
    # Skipped because the check does not apply to this environment: neutral for the verdict.
    NOT_APPLICABLE = "not-applicable"


# Outcomes that prove the item holds (a waived failure is documented and approved).
PROVEN = frozenset({Outcome.PASSED, Outcome.XPASSED, Outcome.WAIVED})
# Outcomes that show the item does not hold, or could not be evaluated at all.
BROKEN = frozenset({Outcome.FAILED, Outcome.ERROR, Outcome.NOT_RUN})


class Decision(StrEnum):
    GO = "GO"
    CONDITIONAL = "CONDITIONAL"
    NO_GO = "NO-GO"

    @property
    def rank(self) -> int:
        return _DECISION_RANK[self]

    @classmethod
    def worst(cls, decisions: list[Decision]) -> Decision:
        """The most severe decision; an empty list cannot prove anything, so it is CONDITIONAL."""
        return max(decisions, key=lambda d: d.rank) if decisions else cls.CONDITIONAL


_DECISION_RANK = {Decision.GO: 0, Decision.CONDITIONAL: 1, Decision.NO_GO: 2}


_BLOCKING = {s.value: s.blocking for s in Severity}


def is_blocking(severity: str | None) -> bool:
    """critical/high block the release; an undeclared or unknown severity blocks too (fail closed)."""
    if severity is None:
        return True
    return _BLOCKING.get(severity.lower(), True)


def section_of(section: str | None) -> str:
    return section if section in SECTION_TITLES else "other"


@dataclass(frozen=True)
class WaiverInfo:
    """A waiver as the profile declares it (dates as ISO strings)."""

    check: str
    reason: str
    approver: str
    ticket: str
    expires: str
    covers: list[str] = field(default_factory=lambda: ["failures"])


@dataclass
class CheckItem:
    """One checklist item (one collected test) and what the run showed about it."""

    nodeid: str
    check_id: str
    title: str
    severity: str | None
    section: str
    outcome: Outcome
    sections: list[str] = field(default_factory=list)
    destructive: bool = False
    duration: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)
    # One line: the failure's assertion message, the error, the skip or xfail reason.
    reason: str | None = None
    # Where it went wrong: "setup", "call", "teardown", "crash" or None.
    phase: str | None = None
    held_back: bool = False
    waiver: WaiverInfo | None = None
    # The outcome a waiver replaced (failed or error), kept so nobody mistakes it for a pass.
    waived_outcome: Outcome | None = None
    expired_waiver: WaiverInfo | None = None
    # The components the check verifies (from its declaration; the first is its own).
    components: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return is_blocking(self.severity)

    @property
    def severity_label(self) -> str:
        return self.severity or "undeclared"


@dataclass(frozen=True)
class WaiverEntry:
    """A profile waiver and what became of it in this run."""

    waiver: WaiverInfo
    status: str  # "applied", "unused" or "expired"
    applied_to: list[str] = field(default_factory=list)
    # Failing items an expired waiver would have covered: these are called out loudly.
    would_apply_to: list[str] = field(default_factory=list)
    # Items the pattern matched at all (whatever their outcome).
    matched: list[str] = field(default_factory=list)
    # Errored items the pattern matched that the waiver does not cover (it covers failures only).
    not_covered: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ManualEntry:
    """A checklist item no machine verifies: attested by a person (and by what means), or pending."""

    id: str
    title: str
    section: str
    attested_by: str | None = None
    attested_at: str | None = None
    note: str | None = None
    source: str | None = None  # "profile" or "--attest"
    release: str | None = None  # the release the attestation was made for
    # Why a profile attestation no longer counts (another release, too old); pending then.
    stale: str | None = None

    @property
    def attested(self) -> bool:
        return bool(self.attested_by) and self.stale is None


@dataclass(frozen=True)
class DroppedManual:
    """A shipped manual item the profile dropped (``[shipped_manual] drop``), with its reason."""

    id: str
    title: str
    section: str
    reason: str


@dataclass(frozen=True)
class ApprovalLine:
    """One sign-off role: filled in by ``--approve`` or left blank for a signature."""

    role: str
    name: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Approval:
    """``--approve "Security=Dana Smith@2026-11-21"``: a sign-off role filled in on the command line."""

    role: str
    name: str
    date: str  # ISO date; plain data so it crosses xdist and JSON unchanged


@dataclass(frozen=True)
class Attestation:
    """``--attest oncall=alice``: a manual checklist item attested on the command line."""

    item_id: str
    name: str
    date: str


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: list[str]
    # What a verdict of a partial run covers ("smoke"): "GO for smoke" is not a GO of the release.
    qualifier: str | None = None

    @property
    def label(self) -> str:
        return (
            f"{self.decision.value} for {self.qualifier}" if self.qualifier else self.decision.value
        )


CHECKLIST_OFF = "--checklist none"


@dataclass
class Scope:
    """How much of the checklist a run covered, so a partial run can never read as a whole one."""

    whole: bool = True
    collected: int = 0
    deselected: int = 0
    # How the run was narrowed: "-m 'smoke'", "-k redis", "--checklist smoke", "--deselect ...".
    selection: list[str] = field(default_factory=list)
    # Sections of the items that were kept, in checklist order.
    sections: list[str] = field(default_factory=list)
    # Why the run stopped before every kept item reported (-x, --maxfail, Ctrl-C, a crash).
    interrupted: str | None = None

    def describe(self) -> str:
        parts = [f"{self.collected - self.deselected} of {self.collected} collected items run"]
        if self.selection:
            parts.append("selected by " + ", ".join(self.selection))
        if self.sections:
            parts.append("sections " + ", ".join(self.sections))
        if self.interrupted:
            parts.append(f"INTERRUPTED: {self.interrupted}")
        return "; ".join(parts)

    def qualifier(self) -> str | None:
        """``smoke`` or ``smoke, monitoring`` for a run narrowed to sections; ``the team's own
        checks`` when the shipped checklist was off; ``the selected checks`` for any other
        narrowing; None for the whole checklist."""
        if self.whole:
            return None
        if CHECKLIST_OFF in self.selection:
            return "the team's own checks"
        by_section = all(s.startswith(("-m ", "--checklist ")) for s in self.selection)
        return ", ".join(self.sections) if self.sections and by_section else "the selected checks"


@dataclass
class RollbackInfo:
    """A run that verified a rollback (``--rollback-to``): the release rolled back to, the failed
    release it replaced (the profile's ``version``), and when the rollback happened."""

    to_version: str
    failed_version: str
    # Where the rollback mode was chosen: --rollback-to, DEPLOYVERIFY_ROLLBACK_TO, the ini key.
    source: str = "--rollback-to"
    # The rollback time (ISO 8601): --rollback-at, else the Helm revision's time as observed.
    at: str | None = None
    at_source: str | None = None

    def describe(self) -> str:
        when = f" at {self.at} (from {self.at_source})" if self.at else ""
        return f"rollback to {self.to_version} of the failed release {self.failed_version}{when}"


@dataclass
class RunInfo:
    """Where and when the run happened, and by whom; every value already redacted."""

    environment: str | None
    started_at: str
    finished_at: str
    environment_source: str | None = None
    profile_path: str | None = None
    protected: bool = False
    expected_version: str | None = None
    observed_version: str | None = None
    run_by: str | None = None
    run_by_source: str | None = None
    git_commit: str | None = None
    git_commit_source: str | None = None
    pytest_args: list[str] = field(default_factory=list)
    exit_status: int | None = None
    generator: str = ""
    scope: Scope | None = None
    # Set when the run verified a rollback (--rollback-to) rather than a deployment.
    rollback: RollbackInfo | None = None


@dataclass
class Signoff:
    run: RunInfo
    checks: list[CheckItem]
    manual: list[ManualEntry]
    waivers: list[WaiverEntry]
    approvals: list[ApprovalLine]
    verdict: Verdict
    # Things a reviewer must not miss: expired waivers, crashed workers, version mismatch.
    warnings: list[str] = field(default_factory=list)
    # Test files that could not be collected: checks that were lost before they could run.
    collection_errors: list[str] = field(default_factory=list)
    # Shipped manual items the profile dropped, each with why it does not apply.
    manual_dropped: list[DroppedManual] = field(default_factory=list)

    def by_section(self) -> dict[str, list[CheckItem]]:
        """Items per section in checklist order; sections without items are left out."""
        grouped: dict[str, list[CheckItem]] = {name: [] for name in SECTION_ORDER}
        for item in self.checks:
            grouped[section_of(item.section)].append(item)
        return {name: items for name, items in grouped.items() if items}

    def counts(self) -> dict[str, int]:
        """How many items ended in each outcome (every outcome listed, zeros included)."""
        counter = Counter(item.outcome for item in self.checks)
        return {outcome.value: counter.get(outcome, 0) for outcome in Outcome}

    def section_counts(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for name, items in self.by_section().items():
            counter = Counter(item.outcome for item in items)
            result[name] = {o.value: counter[o] for o in Outcome if counter[o]}
        return result

    @property
    def held_back(self) -> list[CheckItem]:
        return [item for item in self.checks if item.held_back]

    @property
    def pending_manual(self) -> list[ManualEntry]:
        return [entry for entry in self.manual if not entry.attested]

    @property
    def blocking_failures(self) -> list[CheckItem]:
        return [item for item in self.checks if item.blocking and item.outcome in BROKEN]

    @property
    def expired_waivers(self) -> list[WaiverEntry]:
        return [entry for entry in self.waivers if entry.status == "expired"]


@dataclass(frozen=True)
class MergePart:
    """One verified input of a merged sign-off (one environment or region)."""

    label: str
    source: str
    digest: str
    signature: str  # verification status of the input's signature
    signoff: Signoff
    # The input document as read (integrity block included), embedded in a merged JSON.
    document: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MergedSignoff:
    parts: list[MergePart]
    verdict: Verdict
    generated_at: str
    generator: str = ""
