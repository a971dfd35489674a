"""Markdown that reads like the source checklists; JSON that follows the documented schema."""

from __future__ import annotations

import json

from pytest_deployverify.signoff import render_json, render_markdown
from pytest_deployverify.signoff.model import SCHEMA_VERSION, Approval, Decision, Outcome, Signoff
from pytest_deployverify.signoff.text import code, md

from .helpers import item, profile, signoff

WAIVERS = [
    {
        "check": "SEC-*",
        "reason": "partner needs TLS 1.2",
        "approver": "CISO",
        "ticket": "SEC-42",
        "expires": "2026-04-30",
    },
    {
        "check": "OLD",
        "reason": "retired with the old API",
        "approver": "Ops",
        "ticket": "OPS-1",
        "expires": "2020-01-01",
    },
]


def sample() -> Signoff:
    prof = profile(
        manual=[{"id": "oncall", "title": "On-call rotation", "section": "monitoring"}],
        waivers=WAIVERS,
        roles=["Engineering Lead", "Security"],
    )
    items = [
        item(
            "INFRA-1",
            evidence=[
                {"name": "ready_replicas", "value": 3, "expected": 3, "source": "deploy/api"},
                {"name": "observed_version", "value": "1.2.3"},
            ],
        ),
        item("INFRA-2", Outcome.FAILED, severity="critical", reason="2 of 3 pods | ready*"),
        item("SEC-TLS", Outcome.FAILED, section="security", reason="TLSv1.2 offered"),
        item("MON-1", Outcome.SKIPPED, severity="low", section="monitoring", reason="no grafana"),
        item("X", section="weird"),
    ]
    return signoff(items, prof, approvals=[Approval("Security", "Dana Smith", "2026-03-01")])


def test_markdown_reads_like_a_checklist() -> None:
    text = render_markdown.render(sample())
    lines = text.splitlines()
    assert lines[0] == "# Deployment Verification Sign-Off: demo"
    assert lines[2].startswith("**Verdict: NO-GO** ❌: blocking check INFRA-2")
    # Sections in checklist order, "other" last; ticked only by evidence.
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == [
        "### 1. Infrastructure ❌",
        "### 2. Security ✅",
        "### 3. Monitoring & Observability ⚠️",
        "### 4. Other checks ✅",
        "### Manual checks (attested by a person)",
        "### Skipped checks (1)",
        "### Waivers",
    ]
    assert "- [x] **Title of INFRA-1** · `INFRA-1` · high · passed in 250 ms" in lines
    assert "  - ready\\_replicas = `3` (expected `3`) · source: `deploy/api`" in lines
    assert (
        "- [ ] **Title of INFRA-2** · `INFRA-2` · critical · **FAILED**: 2 of 3 pods \\| ready\\*"
        in lines
    )
    assert (
        "- [x] **Title of SEC-TLS** · `SEC-TLS` · high · **WAIVED** (failed): TLSv1.2 offered"
        in (lines)
    )
    assert "  - waiver `SEC-42` approved by CISO until 2026-04-30: partner needs TLS 1.2" in lines
    assert "- [ ] **Title of MON-1** · `MON-1` · low · skipped: no grafana" in lines
    assert (
        "- [ ] **On-call rotation** · `oncall` · Monitoring & Observability · **pending**: "
        "attested by _________________ Date: _______" in lines
    )
    assert (
        "> ⚠️ **WARNING:** waiver 'OLD' (OPS-1, approved by Ops) EXPIRED on 2020-01-01: not applied; remove it from the profile"
        in lines
    )
    sign = lines[lines.index("## Sign-Off") :]
    assert sign[2:6] == [
        "**Deployment Approved By:**",
        "",
        "- [ ] Engineering Lead: _________________ Date: _______",
        "- [x] Security: Dana Smith Date: 2026-03-01",
    ]
    assert "**Verification Status:** NO-GO" in sign


def test_markdown_escapes_what_checks_report() -> None:
    assert md("a|b *c* [x](y) <script>\nnext") == "a\\|b \\*c\\* \\[x\\](y) \\<script\\> next"
    assert code("has `tick`") == "`` has `tick` ``"


def test_json_document_follows_the_schema_and_round_trips() -> None:
    original = sample()
    doc = render_json.to_document(original)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["kind"] == "signoff"
    assert set(doc) == {
        "schema_version",
        "kind",
        "run",
        "verdict",
        "counts",
        "checks",
        "manual",
        "waivers",
        "approvals",
        "warnings",
        "collection_errors",
        "manual_dropped",
    }
    assert doc["verdict"]["decision"] == "NO-GO"
    assert doc["counts"]["by_outcome"]["waived"] == 1
    assert doc["counts"]["by_section"]["infra"] == {"passed": 1, "failed": 1}
    sec = next(c for c in doc["checks"] if c["check_id"] == "SEC-TLS")
    assert (sec["outcome"], sec["waived_outcome"], sec["waiver"]["ticket"], sec["blocking"]) == (
        "waived",
        "failed",
        "SEC-42",
        True,
    )
    assert doc["manual"][0]["status"] == "pending"
    assert [w["status"] for w in doc["waivers"]] == ["applied", "expired"]
    assert doc["run"]["observed_version"] == "1.2.3"
    # Plain JSON (no NaN), and reading it back gives the same sign-off.
    text = render_json.render(original, key=None)
    again = render_json.from_document(json.loads(text))
    assert render_json.to_document(again) == doc
    assert again.verdict.decision is Decision.NO_GO


def test_non_finite_floats_are_made_plain() -> None:
    broken = item("A", evidence=[{"name": "ratio", "value": float("nan")}])
    doc = render_json.to_document(signoff([broken]))
    assert doc["checks"][0]["evidence"][0]["value"] == "nan"
