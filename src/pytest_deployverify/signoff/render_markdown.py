"""The Markdown sign-off: reads like the source checklists, pasted into a change ticket.

Boxes are ticked by evidence (``- [x]`` only for items that passed or carry an active waiver),
failures and pending items stay ``- [ ]`` with the reason on the same line, and the Sign-Off block
has ``Role: Name Date`` lines, or blanks to sign on paper.
"""

from __future__ import annotations

from collections.abc import Iterable

from pytest_deployverify.signoff.model import (
    BROKEN,
    PROVEN,
    SECTION_ORDER,
    SECTION_TITLES,
    ApprovalLine,
    CheckItem,
    Decision,
    ManualEntry,
    MergedSignoff,
    Outcome,
    Scope,
    Signoff,
    WaiverEntry,
    section_of,
)
from pytest_deployverify.signoff.text import (
    OUTCOME_LABELS,
    code,
    count_line,
    duration_text,
    md,
    value_text,
)
from pytest_deployverify.signoff.waivers import describe_waiver_entry

BLANK_NAME = "_________________"
BLANK_DATE = "_______"
MAX_EVIDENCE_LINES = 12
DECISION_MARKS = {Decision.GO: "✅", Decision.CONDITIONAL: "⚠️", Decision.NO_GO: "❌"}


def title(signoff: Signoff) -> str:
    """What the sign-off verified: a deployment, or a rollback to the previous release."""
    return (
        "Rollback Verification Sign-Off"
        if signoff.run.rollback
        else "Deployment Verification Sign-Off"
    )


def render(signoff: Signoff) -> str:
    env = signoff.run.environment or "(no environment)"
    lines = [f"# {title(signoff)}: {md(env)}", ""]
    lines += _verdict_banner(signoff)
    lines += _run_table(signoff)
    lines += _warnings(signoff.warnings)
    lines += render_body(signoff, level=2)
    lines += _signoff_block(signoff.approvals, signoff, level=2)
    lines += _footer(signoff.run.generator)
    return "\n".join(lines).rstrip() + "\n"


def render_body(signoff: Signoff, level: int) -> list[str]:
    """Verdict reasons, the checklist per section, manual items, skips and waivers."""
    h = "#" * level
    lines = [f"{h} Verdict: {signoff.verdict.label}", ""]
    lines += [f"- {md(reason)}" for reason in signoff.verdict.reasons]
    if signoff.collection_errors:
        lines += ["", f"{h}# Lost before they ran: files that could not be collected", ""]
        lines += [f"- ❌ {md(error)}" for error in signoff.collection_errors]
    lines += ["", f"{h} Checklist", ""]
    for number, (name, items) in enumerate(signoff.by_section().items(), start=1):
        counts: dict[str, int] = {}
        for item in items:
            counts[item.outcome.value] = counts.get(item.outcome.value, 0) + 1
        lines += [f"{h}# {number}. {SECTION_TITLES[name]} {_section_mark(items)}", ""]
        lines += [f"_{count_line(counts)}_", ""]
        for item in items:
            lines += _item_lines(item)
        lines.append("")
    if signoff.manual or signoff.manual_dropped:
        lines += [f"{h}# Manual checks (attested by a person)", ""]
        lines += _manual_lines(signoff)
    skipped = [item for item in signoff.checks if item.outcome is Outcome.SKIPPED]
    if skipped:
        lines += [f"{h}# Skipped checks ({len(skipped)})", ""]
        lines += ["Every skip and its reason; a skipped check proves nothing.", ""]
        for item in skipped:
            kind = "held back: " if item.held_back else ""
            lines.append(
                f"- {code(item.check_id)} {md(item.title)}: {kind}{md(item.reason or '(no reason given)')}"
            )
        lines.append("")
    not_applicable = [item for item in signoff.checks if item.outcome is Outcome.NOT_APPLICABLE]
    if not_applicable:
        lines += [f"{h}# Not applicable to this environment ({len(not_applicable)})", ""]
        for item in not_applicable:
            lines.append(f"- {code(item.check_id)} {md(item.title)}: {md(item.reason or '')}")
        lines.append("")
    if signoff.waivers:
        lines += [f"{h}# Waivers", ""]
        lines += _waiver_table(signoff.waivers)
        lines.append("")
    return lines


def render_merged(merged: MergedSignoff) -> str:
    mark = DECISION_MARKS[merged.verdict.decision]
    lines = [
        "# Deployment Verification Sign-Off: " + ", ".join(md(part.label) for part in merged.parts),
        "",
        f"**Overall verdict: {merged.verdict.decision.value}** {mark} (the worst of "
        f"{len(merged.parts)} environments)",
        "",
        "| Environment | Verdict | Expected version | Observed version | Run by | Finished | "
        "Git commit | Source | SHA-256 | Signature |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for part in merged.parts:
        run = part.signoff.run
        cells = [
            md(part.label),
            f"**{part.signoff.verdict.label}**",
            md(run.expected_version or "—"),
            md(run.observed_version or "—"),
            md(run.run_by or "—"),
            md(run.finished_at),
            code(run.git_commit[:12]) if run.git_commit else "—",
            code(part.source),
            code(part.digest[:16] + "…"),
            md(part.signature),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Overall verdict", ""]
    lines += [f"- {md(reason)}" for reason in merged.verdict.reasons]
    lines.append("")
    for part in merged.parts:
        so = part.signoff
        lines += [f"## Environment: {md(part.label)}", ""]
        lines += _run_table(so)
        lines += _warnings(so.warnings)
        lines += render_body(so, level=3)
        lines += _signoff_block(so.approvals, so, level=3)
    lines += _footer(merged.generator)
    return "\n".join(lines).rstrip() + "\n"


def _verdict_banner(signoff: Signoff) -> list[str]:
    decision = signoff.verdict.decision
    first = signoff.verdict.reasons[0] if signoff.verdict.reasons else ""
    more = len(signoff.verdict.reasons) - 1
    tail = f" (and {more} more reason{'s' if more > 1 else ''} below)" if more > 0 else ""
    label = signoff.verdict.label
    return [f"**Verdict: {md(label)}** {DECISION_MARKS[decision]}: {md(first)}{tail}", ""]


def _run_table(signoff: Signoff) -> list[str]:
    run = signoff.run
    env = code(run.environment) if run.environment else "—"
    if run.environment_source:
        env += f" (from {md(run.environment_source)})"
    if run.protected:
        env += " · protected"
    version = f"expected {code(run.expected_version) if run.expected_version else '—'}, "
    version += f"observed {code(run.observed_version) if run.observed_version else '—'}"
    run_by = md(run.run_by) if run.run_by else BLANK_NAME
    if run.run_by_source:
        run_by += f" (from {md(run.run_by_source)})"
    commit = code(run.git_commit) if run.git_commit else "unknown"
    if run.git_commit_source:
        commit += f" ({md(run.git_commit_source)})"
    rows = [
        ("Environment", env),
        ("Profile", code(run.profile_path) if run.profile_path else "—"),
        ("Release version", version),
        *(
            [("Rollback", md(run.rollback.describe()) + f" (from {md(run.rollback.source)})")]
            if run.rollback
            else []
        ),
        ("Run by", run_by),
        ("Started", md(run.started_at)),
        ("Finished", md(run.finished_at)),
        ("Git commit", commit),
        ("Scope", md(_scope_text(run.scope))),
        ("pytest arguments", code(" ".join(run.pytest_args), 400) if run.pytest_args else "—"),
        ("Results", md(count_line(signoff.counts()))),
    ]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return [*lines, ""]


def _scope_text(scope: Scope | None) -> str:
    if scope is None:
        return "—"
    head = "the whole checklist" if scope.whole else "PART of the checklist"
    return f"{head}: {scope.describe()}"


def _warnings(warnings: Iterable[str]) -> list[str]:
    lines = [f"> ⚠️ **WARNING:** {md(text)}" for text in warnings]
    # A blank quote line between warnings keeps them separate paragraphs in every renderer.
    return [*_join_quoted(lines), ""] if lines else []


def _join_quoted(lines: list[str]) -> list[str]:
    joined: list[str] = []
    for line in lines:
        if joined:
            joined.append(">")
        joined.append(line)
    return joined


def _section_mark(items: list[CheckItem]) -> str:
    if all(item.outcome in PROVEN for item in items):
        return "✅"
    if any(item.outcome in BROKEN for item in items):
        return "❌"
    return "⚠️"


def _item_lines(item: CheckItem) -> list[str]:
    box = "[x]" if item.outcome in PROVEN else "[ ]"
    head = f"- {box} **{md(item.title)}** · {code(item.check_id)} · {md(item.severity_label)}"
    if item.destructive:
        head += " · destructive"
    label = OUTCOME_LABELS[item.outcome]
    if item.outcome in (Outcome.PASSED, Outcome.XPASSED):
        status = f"{label} in {duration_text(item.duration)}"
    elif item.outcome is Outcome.SKIPPED and item.held_back:
        status = "**held back** (destructive, protected environment)"
    elif item.outcome in BROKEN or item.outcome is Outcome.WAIVED:
        status = f"**{label}**"
    else:
        status = label
    if item.outcome is Outcome.WAIVED and item.waived_outcome is Outcome.ERROR:
        status += " (an ERROR: the check could not run, nothing was judged)"
    elif item.outcome is Outcome.WAIVED and item.waived_outcome:
        status += f" ({item.waived_outcome.value})"
    if item.reason:
        where = f" in {item.phase}" if item.phase in ("setup", "teardown") else ""
        status += f"{where}: {md(item.reason)}"
    lines = [f"{head} · {status}"]
    if item.waiver:
        w = item.waiver
        lines.append(
            f"  - waiver {code(w.ticket)} approved by {md(w.approver)} until {md(w.expires)}: "
            f"{md(w.reason)}"
        )
    if item.expired_waiver and item.outcome is not Outcome.WAIVED:
        w = item.expired_waiver
        lines.append(f"  - ⚠️ **waiver {code(w.ticket)} EXPIRED on {md(w.expires)}: not applied**")
    for entry in item.evidence[:MAX_EVIDENCE_LINES]:
        lines.append(f"  - {_evidence_md(entry)}")
    hidden = len(item.evidence) - MAX_EVIDENCE_LINES
    if hidden > 0:
        lines.append(f"  - … {hidden} more evidence entries in the JSON sign-off")
    return lines


def _evidence_md(entry: dict[str, object]) -> str:
    unit = f" {md(entry['unit'])}" if entry.get("unit") else ""
    text = f"{md(entry.get('name', '?'))} = {code(value_text(entry.get('value')))}{unit}"
    if "expected" in entry:
        text += f" (expected {code(value_text(entry['expected']))})"
    if entry.get("ok") is False:
        text += " ✗"
    if entry.get("source"):
        text += f" · source: {code(entry['source'])}"
    if entry.get("note"):
        text += f" · {md(entry['note'])}"
    return text


def _manual_lines(signoff: Signoff) -> list[str]:
    """The manual items grouped by section, in checklist order, then the dropped ones."""
    pending = len(signoff.pending_manual)
    lines = [f"_{len(signoff.manual) - pending} of {len(signoff.manual)} attested_", ""]
    grouped: dict[str, list[ManualEntry]] = {}
    for entry in signoff.manual:
        grouped.setdefault(section_of(entry.section), []).append(entry)
    for name in SECTION_ORDER:
        entries = grouped.get(name)
        if entries:
            lines += [f"**{md(SECTION_TITLES[name])}**", ""]
            lines += [_manual_line(entry) for entry in entries]
            lines.append("")
    if signoff.manual_dropped:
        lines += [f"**Dropped by the profile** ({md('[shipped_manual] drop')})", ""]
        lines += [
            f"- ~~{md(d.title)}~~ · {code(d.id)} · "
            f"{md(SECTION_TITLES.get(d.section, d.section))}: {md(d.reason)}"
            for d in signoff.manual_dropped
        ]
        lines.append("")
    return lines


def _manual_line(entry: ManualEntry) -> str:
    box = "[x]" if entry.attested else "[ ]"
    section = SECTION_TITLES.get(entry.section, entry.section)
    head = f"- {box} **{md(entry.title)}** · {code(entry.id)} · {md(section)}"
    if entry.attested:
        when = f" on {md(entry.attested_at)}" if entry.attested_at else ""
        via = f" (via {md(entry.source)})" if entry.source else ""
        text = f"{head} · attested by {md(entry.attested_by)}{when}{via}"
        if entry.release:
            text += f" for release {code(entry.release)}"
    elif entry.stale:
        text = (
            f"{head} · **pending**: the attestation by {md(entry.attested_by)} on "
            f"{md(entry.attested_at or '?')} is stale ({md(entry.stale)}); attested by "
            f"{BLANK_NAME} Date: {BLANK_DATE}"
        )
    else:
        text = f"{head} · **pending**: attested by {BLANK_NAME} Date: {BLANK_DATE}"
    if entry.note:
        text += f" · {md(entry.note)}"
    return text


def _waiver_table(entries: list[WaiverEntry]) -> list[str]:
    lines = [
        "| Check | Status | Reason | Approver | Ticket | Expires | Detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in entries:
        w = entry.waiver
        status = f"**{entry.status.upper()}** ⚠️" if entry.status == "expired" else entry.status
        lines.append(
            f"| {code(w.check)} | {status} | {md(w.reason)} | {md(w.approver)} | "
            f"{md(w.ticket)} | {md(w.expires)} | {md(describe_waiver_entry(entry))} |"
        )
    return lines


def _signoff_block(approvals: list[ApprovalLine], signoff: Signoff, level: int) -> list[str]:
    h = "#" * level
    lines = [f"{h} Sign-Off", "", "**Deployment Approved By:**", ""]
    for line in approvals:
        if line.name:
            lines.append(
                f"- [x] {md(line.role)}: {md(line.name)} Date: {md(line.date or BLANK_DATE)}"
            )
        else:
            lines.append(f"- [ ] {md(line.role)}: {BLANK_NAME} Date: {BLANK_DATE}")
    run = signoff.run
    lines += [
        "",
        f"**Verification Run By:** {md(run.run_by) if run.run_by else BLANK_NAME}  ",
        f"**Verification Date:** {md(run.finished_at)}  ",
        f"**Verification Status:** {md(signoff.verdict.label)}"
        + (f" ({md(run.rollback.describe())})" if run.rollback else ""),
        "",
    ]
    return lines


def _footer(generator: str) -> list[str]:
    return ["---", "", f"_Generated by {md(generator or 'pytest-deployverify')}._"]
