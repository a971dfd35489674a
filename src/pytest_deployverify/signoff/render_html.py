"""HTML fragments for the pytest-html report: the sign-off summary, the evidence of one check.

Self-contained (inline ``<style>``, no external resources) so ``--self-contained-html`` holds, and
every value is escaped: check titles and evidence come from the system under test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from pytest_deployverify.signoff.model import (
    SECTION_ORDER,
    SECTION_TITLES,
    Decision,
    Outcome,
    Signoff,
    section_of,
)
from pytest_deployverify.signoff.text import evidence_summary, value_text
from pytest_deployverify.signoff.waivers import describe_waiver_entry

_SECTION_RANK = {name: rank for rank, name in enumerate(SECTION_ORDER)}
VERDICT_COLOURS = {
    Decision.GO: ("#e6f4ea", "#137333"),
    Decision.CONDITIONAL: ("#fef7e0", "#8a5a00"),
    Decision.NO_GO: ("#fce8e6", "#a50e0e"),
}
_STYLE = """
<style>
.dv-signoff{border:1px solid #ccc;padding:8px 14px;margin:10px 0;border-radius:4px;color:#222}
.dv-signoff li,.dv-signoff td{color:#222}
.dv-signoff table{border-collapse:collapse;margin:4px 0 10px}
.dv-signoff th,.dv-signoff td{border:1px solid #ddd;padding:2px 8px;text-align:left}
.dv-verdict{font-size:1.4em;font-weight:bold;padding:6px 10px;border-radius:4px}
.dv-signoff li.dv-warning{color:#a50e0e;font-weight:bold}
.dv-evidence td,.dv-evidence th{border:1px solid #ddd;padding:2px 6px}
.dv-evidence{border-collapse:collapse;margin:4px 0}
</style>
"""


def summary_html(signoff: Signoff) -> str:
    decision = signoff.verdict.decision
    background, colour = VERDICT_COLOURS[decision]
    run = signoff.run
    parts = [
        _STYLE,
        '<div class="dv-signoff" id="deployverify-signoff">',
        f"<h2>{'Rollback' if run.rollback else 'Deployment'} sign-off: "
        f"{escape(run.environment or '(no environment)')}</h2>",
        f'<p class="dv-verdict" data-verdict="{escape(decision.value)}" '
        f'style="background:{background};color:{colour}">Verdict: '
        f"{escape(signoff.verdict.label)}</p>",
        _list("dv-reasons", signoff.verdict.reasons),
    ]
    if signoff.warnings:
        parts.append(_list("dv-warnings", signoff.warnings, item_css="dv-warning"))
    facts = [
        ("Environment", run.environment or "—"),
        ("Profile", run.profile_path or "—"),
        ("Expected version", run.expected_version or "—"),
        *([("Rollback", run.rollback.describe())] if run.rollback else []),
        ("Observed version", run.observed_version or "—"),
        ("Run by", run.run_by or "—"),
        ("Git commit", run.git_commit or "unknown"),
        ("Started", run.started_at),
    ]
    parts.append(_table(["", ""], [[name, value] for name, value in facts], css="dv-run"))
    parts.append("<h3>Checks per section</h3>")
    outcomes = [o.value for o in Outcome]
    rows = [
        [SECTION_TITLES.get(name, name), *[str(counts.get(o, 0)) for o in outcomes]]
        for name, counts in signoff.section_counts().items()
    ]
    rows.append(["Total", *[str(n) for n in signoff.counts().values()]])
    parts.append(_table(["Section", *outcomes], rows, css="dv-sections"))
    if signoff.manual:
        parts.append("<h3>Manual checks</h3>")
        manual_rows = [
            [
                SECTION_TITLES.get(entry.section, entry.section),
                entry.id,
                entry.title,
                f"attested by {entry.attested_by} on {entry.attested_at or '?'}"
                if entry.attested
                else "PENDING",
            ]
            for entry in sorted(signoff.manual, key=lambda e: _SECTION_RANK[section_of(e.section)])
        ]
        manual_rows += [
            [SECTION_TITLES.get(d.section, d.section), d.id, d.title, f"dropped: {d.reason}"]
            for d in signoff.manual_dropped
        ]
        parts.append(_table(["Section", "Item", "Title", "Status"], manual_rows, css="dv-manual"))
    if signoff.waivers:
        parts.append("<h3>Waivers</h3>")
        waiver_rows = [
            [
                w.waiver.check,
                w.status.upper(),
                w.waiver.ticket,
                w.waiver.expires,
                describe_waiver_entry(w),
            ]
            for w in signoff.waivers
        ]
        parts.append(
            _table(
                ["Check", "Status", "Ticket", "Expires", "Detail"], waiver_rows, css="dv-waivers"
            )
        )
    parts.append("<h3>Approvals</h3>")
    approval_rows = [
        [line.role, line.name or "_________________", line.date or "_______"]
        for line in signoff.approvals
    ]
    parts.append(_table(["Role", "Name", "Date"], approval_rows, css="dv-approvals"))
    parts.append("</div>")
    return "\n".join(parts)


def evidence_html(evidence: Sequence[Mapping[str, Any]]) -> str:
    """The evidence of one check as a small table (shown in the row's details)."""
    rows = [
        [
            str(entry.get("name", "?")),
            value_text(entry.get("value")),
            value_text(entry["expected"]) if "expected" in entry else "",
            _ok_text(entry.get("ok")),
            str(entry.get("source") or ""),
        ]
        for entry in evidence
    ]
    return _table(["Evidence", "Value", "Expected", "Ok", "Source"], rows, css="dv-evidence")


def _ok_text(ok: object) -> str:
    if ok is True:
        return "ok"
    if ok is False:
        return "NOT OK"
    return ""


def evidence_cell(evidence: Sequence[Mapping[str, Any]], shown: int = 3) -> str:
    """A short plain-text summary for the results table column."""
    texts = [evidence_summary(entry, limit=80) for entry in evidence[:shown]]
    more = len(evidence) - shown
    if more > 0:
        texts.append(f"+{more} more")
    return "; ".join(texts)


def _list(css: str, lines: Iterable[str], *, item_css: str | None = None) -> str:
    item_class = f' class="{item_css}"' if item_css else ""
    items = "".join(f"<li{item_class}>{escape(line)}</li>" for line in lines)
    return f'<ul class="{css}">{items}</ul>'


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], css: str) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
