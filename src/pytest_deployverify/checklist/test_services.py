"""Downstream services checklist: every ``[[services]]`` health endpoint answers 200.

The ``services`` component probes them side by side; the evidence shows each service's answer and
how many probes were in flight at once.
"""

from __future__ import annotations

from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.support import conclude
from pytest_deployverify.checks.http import catalog as hc
from pytest_deployverify.checks.http.downstream import DownstreamReport, downstream_findings
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots


@item(hc.SMOKE_DOWNSTREAM)
def test_downstream_services(snapshot: Snapshots, evidence: Evidence) -> None:
    report: DownstreamReport = snapshot("services.health")
    findings = downstream_findings(report)
    evidence.record("services", report.observed(), expected="200 from each", ok=not findings)
    evidence.record("probe_elapsed_ms", round(report.elapsed_ms), unit="ms")
    evidence.record("probe_max_in_flight", report.max_in_flight, note="probes run concurrently")
    conclude(findings)
