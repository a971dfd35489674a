"""Logs checklist: the service's recent lines arrive in Loki, and none of them holds a secret."""

from __future__ import annotations

from pytest_deployverify.checklist import conclude, item
from pytest_deployverify.checks import logs as lc
from pytest_deployverify.checks.secret_scan import scan_lines
from pytest_deployverify.components.logs import LogsConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots


@item(lc.LOGS_RECENT)
def test_recent_logs(snapshot: Snapshots, evidence: Evidence) -> None:
    section: LogsConfig = snapshot.section("logs")
    query: lc.LogQuery = snapshot("logs.recent")
    findings = lc.log_findings(query, section.min_lines)
    evidence.record(
        f"lines of {section.selector}",
        {
            "count": len(query.lines),
            "newest": query.lines[0].timestamp if query.lines else None,
            "streams": sorted({str(dict(line.labels)) for line in query.lines})[:10],
        },
        expected=f">= {section.min_lines} in the last {section.lookback}",
        source=section.url.display,
        ok=not findings,
    )
    conclude(findings)


@item(lc.LOGS_SECRETS)
def test_logs_free_of_secrets(snapshot: Snapshots, evidence: Evidence) -> None:
    query: lc.LogQuery = snapshot("logs.recent")
    matches = scan_lines(lc.log_lines_for_scan(query))
    evidence.record(
        "secret-looking values",
        [f"{m.where}: {m.kind} {m.redacted}" for m in matches],
        expected=f"none in the last {len(query.lines)} line(s) of {query.selector}",
        ok=not matches,
    )
    conclude(lc.secret_findings(matches, "loki"))
