"""Tracing checklist: the service's recent traces are visible in Jaeger or Tempo."""

from __future__ import annotations

from pytest_deployverify.checklist import conclude, item
from pytest_deployverify.checks import tracing as tc
from pytest_deployverify.components.tracing import TracingConfig
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots


@item(tc.TRACES_RECENT)
def test_recent_traces(snapshot: Snapshots, evidence: Evidence) -> None:
    section: TracingConfig = snapshot.section("tracing")
    search: tc.TraceSearch = snapshot("tracing.recent")
    findings = tc.trace_findings(search)
    evidence.record(
        f"{search.backend} traces of {search.service}",
        {"count": search.count, "newest": search.newest, "trace ids": list(search.trace_ids)},
        expected=f">= {search.min_traces} in the last {section.lookback}",
        source=section.url.display,
        ok=not findings,
    )
    conclude(findings)
