"""Metric gates: one item per ``[[gates]]`` entry (error rate, latency, saturation, circuit breakers,
HPA, cache, rollback triggers, or a query of the team's own), each judged over its past window.

Every enabled gate is evaluated by one read (``prometheus.gates``), concurrently and usually before
the first gate item runs; a soak (``watch``) runs there too, beside the other checks.
"""

from __future__ import annotations

import pytest

from pytest_deployverify.checklist import item
from pytest_deployverify.checks import gates as gc
from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots
from pytest_deployverify.pytest_plugin.context import get_context


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gate" not in metafunc.fixturenames:
        return
    context = get_context(metafunc.config)
    gates: list[gc.MetricGate | None] = (
        list(context.profile.gates or ()) if context and context.profile else []
    )
    if not gates:
        metafunc.parametrize("gate", [None], ids=["no-gates"])
    else:
        metafunc.parametrize("gate", gates, ids=[g.name if g else "none" for g in gates])


@item(gc.GATE)
def test_metric_gate(
    gate: gc.MetricGate | None, snapshot: Snapshots, profile: Profile, evidence: Evidence
) -> None:
    if gate is None:
        raise NotApplicable(f"no [[gates]] configured for environment {profile.name}")
    if not gate.enabled:
        raise NotApplicable(f"gate {gate.name} is disabled in the profile (enabled = false)")
    verdict: gc.GateResult | gc.GateProblem = snapshot("prometheus.gates")[gate.name]
    if isinstance(verdict, gc.GateProblem):
        pytest.fail(verdict.message, pytrace=False)
    spec = verdict.spec
    evidence.record(
        gate.name,
        verdict.evidence(),
        expected=spec.expectation,
        source=spec.query,
        ok=verdict.outcome is gc.GateOutcome.PASS,
        note="; ".join([spec.description, *spec.notes]) or None,
    )
    if verdict.outcome is gc.GateOutcome.INCONCLUSIVE:
        pytest.skip(f"inconclusive: {verdict.message}")
    assert verdict.outcome is gc.GateOutcome.PASS, verdict.message
