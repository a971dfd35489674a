"""The shipped HTTP checklist (``test_http_smoke.py``, ``test_http_security.py``,
``test_services.py``) run by pytest with a generated profile, against a healthy stack and a stack
with two defects (one in the gateway, one in nginx).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checks.http import catalog as hc
from sandbox.certs import CertFiles
from sandbox.gateway.downstream import DownstreamProcess
from sandbox.gateway.settings import DEFAULT_VERSION
from tests.http_checks.stack import GatewayStack, StackSpec, certs, services, start_stacks

__all__ = ["certs", "services"]  # fixtures used here, imported from stack.py

# The shipped HTTP checklist modules (the plugin runs the destructive items last).
SELECT = ("--checklist", "all", "-k", "test_http_security or test_http_smoke or test_services")
# A compact JWS as the gateway issues them: never in any output.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")

# A plugin loaded into the run (-p): every report's checklist data, one JSON line each.
CAPTURE = """
import json, os

def pytest_runtest_logreport(report):
    data = getattr(report, "deployverify", None)
    if data is None or (report.when != "call" and report.passed):
        return
    row = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
           "check_id": data["check_id"], "title": data["title"],
           "severity": data["severity"], "section": data["section"],
           "destructive": data["destructive"], "evidence": data["evidence"],
           "message": str(report.longrepr) if report.failed else None}
    with open(os.environ["DV_CAPTURE"], "a") as fh:
        fh.write(json.dumps(row) + "\\n")
"""


def install_capture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, plugin: str = CAPTURE
) -> Path:
    """Make ``plugin`` loadable by the run as ``-p dv_capture``; the file its rows go to."""
    capture = pytester.path / "capture.jsonl"
    monkeypatch.setenv("DV_CAPTURE", str(capture))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(pytester.path), os.environ.get("PYTHONPATH", "")])
    )
    pytester.makepyfile(dv_capture=plugin)
    return capture


@pytest.fixture(scope="module")
def stacks(
    tmp_path_factory: pytest.TempPathFactory, certs: CertFiles, services: DownstreamProcess
) -> Iterator[dict[str, GatewayStack]]:
    specs = [
        # A login name that equals a section name and a marker: it is not a secret.
        StackSpec("healthy", acme_user="smoke"),
        StackSpec("broken", defects=frozenset({"cross_tenant"}), tls_protocols="TLSv1.2 TLSv1.3"),
    ]
    started = start_stacks(tmp_path_factory.mktemp("suite"), specs, certs, services)
    yield started
    for stack in started.values():
        stack.stop()


def run_checklist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stack: GatewayStack
) -> tuple[pytest.RunResult, dict[str, dict[str, Any]], str]:
    profile = stack.write_profile(pytester.path / "environments")
    for name, value in stack.secrets().items():
        monkeypatch.setenv(name, value)
    capture = install_capture(pytester, monkeypatch)
    result = pytester.runpytest_subprocess(
        "-p",
        "dv_capture",
        "-p",
        "no:cacheprovider",
        "--env",
        profile.stem,
        "--env-dir",
        str(profile.parent),
        "-rfEs",
        *SELECT,
    )
    rows = [json.loads(line) for line in capture.read_text().splitlines()]
    by_id = {row["check_id"]: row for row in rows}
    return result, by_id, profile.read_text()


def test_healthy_stack_passes_the_checklist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stacks: dict[str, GatewayStack]
) -> None:
    result, rows, profile_text = run_checklist(pytester, monkeypatch, stacks["healthy"])
    result.assert_outcomes(passed=len(hc.item_ids()))
    # Every item reports its declaration's title and severity.
    specs = {s.id: s for s in (*hc.CHECKS, *hc.SERVICE_CHECKS)}
    assert {k: (r["title"], r["severity"]) for k, r in rows.items()} == {
        item: (specs[item.split("[")[0]].title, specs[item.split("[")[0]].severity.value)
        for item in hc.item_ids()
    }
    version = next(
        e for e in rows["SMOKE-GW-VERSION"]["evidence"] if e["name"] == "observed_version"
    )
    assert version == {
        "name": "observed_version",
        "value": DEFAULT_VERSION,
        "expected": DEFAULT_VERSION,
        "source": "GET /version .version",
        "ok": True,
    }
    assert rows["SEC-GW-RATE-BURST"]["section"] == "security"
    assert {r["check_id"] for r in rows.values() if r["destructive"]} == {
        "SMOKE-GW-FLOWS-WRITE",
        "SMOKE-GW-LOAD",
        "SEC-GW-RATE-BURST",
    }
    downstream = {e["name"]: e["value"] for e in rows["SMOKE-GW-DOWNSTREAM"]["evidence"]}
    assert downstream["probe_max_in_flight"] == 19
    # The login name "smoke" is not a secret: sections, markers and node ids keep it.
    assert {r["section"] for k, r in rows.items() if k.startswith("SMOKE-")} == {"smoke"}
    assert all("***" not in r["nodeid"] for r in rows.values())
    assert any("test_http_smoke.py" in r["nodeid"] for r in rows.values())
    # The answers the edge proxy made itself were judged, and named.
    edge = next(
        e for e in rows["SEC-GW-HDR-VERSION-LEAK"]["evidence"] if e["name"] == "edge_answers"
    )
    notes = [answer.get("note") for answer in edge["value"]]
    assert "edge: TRACE method" in notes
    assert "edge: proxy health endpoint" in notes
    assert "edge: plain-HTTP redirect" in notes
    # Secrets came from the environment: neither the profile nor the output holds them.
    output = result.stdout.str() + json.dumps(rows)
    for value in stacks["healthy"].secrets().values():
        assert value not in profile_text
    for value in stacks["healthy"].secret_values():
        assert value not in output
    assert not JWT.search(output)


def test_defects_fail_exactly_their_checks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stacks: dict[str, GatewayStack]
) -> None:
    result, rows, _ = run_checklist(pytester, monkeypatch, stacks["broken"])
    result.assert_outcomes(passed=len(hc.item_ids()) - 2, failed=2)
    failed = {check_id: row for check_id, row in rows.items() if row["outcome"] == "failed"}
    assert set(failed) == {"SEC-GW-TENANT-ISOLATION", "SEC-GW-TLS-VERSION"}
    assert (
        "tenant acme read tenant globex's resource" in failed["SEC-GW-TENANT-ISOLATION"]["message"]
    )
    assert "TLS 1.2-only handshake succeeded" in failed["SEC-GW-TLS-VERSION"]["message"]
    result.stdout.fnmatch_lines(
        [
            "FAILED *test_http_security.py::test_tenant_cannot_read_other_tenant*",
            "FAILED *test_http_security.py::test_minimum_tls_version*",
        ],
        consecutive=False,
    )
    # A failing tenant check shows no token (it once printed tenant_tokens = ('eyJ...')).
    output = result.stdout.str() + json.dumps(rows)
    assert not JWT.search(output)
    for value in stacks["broken"].secret_values():
        assert value not in output
