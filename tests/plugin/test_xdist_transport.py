"""Evidence and checklist metadata cross pytest-xdist and arrive at the controller as plain data."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import json

CONTROLLER = []


def pytest_configure(config):
    # Not PYTEST_XDIST_WORKER: an outer xdist run of this very suite sets it for us too.
    if not hasattr(config, "workerinput"):
        CONTROLLER.append(True)


def pytest_runtest_logreport(report):
    if not CONTROLLER:
        return
    data = getattr(report, "deployverify", None)
    node = getattr(report, "node", None)
    worker = node.gateway.id if node is not None else None
    with open("seen.jsonl", "a") as fh:
        row = {"nodeid": report.nodeid, "when": report.when, "worker": worker, "data": data}
        fh.write(json.dumps(row) + "\\n")
"""

CHECKS = '''
import os
import pytest


@pytest.mark.monitoring
@pytest.mark.check("MON-ERR", title="Error rate under SLO", severity="critical")
@pytest.mark.parametrize("n", range(6))
def test_gate(evidence, n):
    evidence.record("error_rate", 0.0004 * n, expected="< 0.001", source="sum(rate(...))", ok=True)
    evidence.record("worker", os.environ.get("PYTEST_XDIST_WORKER"))


@pytest.mark.smoke
def test_documented():
    """Liveness answers 200."""
    assert True
'''


def test_evidence_and_metadata_reach_controller(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    envs = pytester.mkdir("envs")
    (envs / "demo.toml").write_text('version = "1.0"\n')
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess("--env", "demo", "--env-dir", "envs", "-n", "2")
    assert result.ret == pytest.ExitCode.OK
    rows = [json.loads(line) for line in (pytester.path / "seen.jsonl").read_text().splitlines()]
    calls = {r["nodeid"]: r for r in rows if r["when"] == "call"}
    assert len(calls) == 7
    # Every call ran in a worker process and its data crossed to the controller.
    workers = {r["worker"] for r in calls.values()}
    assert workers <= {"gw0", "gw1"}, workers
    assert None not in workers
    gate = calls["test_checks.py::test_gate[3]"]["data"]
    assert gate["check_id"] == "MON-ERR[3]"
    assert gate["title"] == "Error rate under SLO"
    assert gate["severity"] == "critical"
    assert gate["section"] == "monitoring"
    first = gate["evidence"][0]
    assert first == {
        "name": "error_rate",
        "value": pytest.approx(0.0012),
        "expected": "< 0.001",
        "source": "sum(rate(...))",
        "ok": True,
    }
    assert gate["evidence"][1]["value"] == calls["test_checks.py::test_gate[3]"]["worker"]
    doc = calls["test_checks.py::test_documented"]["data"]
    assert doc["title"] == "Liveness answers 200."
    assert doc["severity"] is None  # undeclared: the sign-off treats it as blocking
    assert doc["section"] == "smoke"
    setups = [r for r in rows if r["when"] == "setup"]
    # Passing setups carry nothing: the call report holds the checklist data.
    assert setups
    assert all(r["data"] is None for r in setups)
