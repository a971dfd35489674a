"""Under pytest-xdist the controller builds the sign-off, even when a worker dies mid-run."""

from __future__ import annotations

import pytest

from .helpers import ENV_ARGS, by_id, load, project

CHECKS = """
import os
import pytest

@pytest.mark.infra
@pytest.mark.check("INFRA-A", title="First", severity="high")
def test_a(evidence):
    evidence.record("replicas", 3, expected=3)

@pytest.mark.infra
@pytest.mark.check("INFRA-CRASH", title="Kills its worker", severity="medium")
def test_crash():
    os._exit(1)

@pytest.mark.parametrize("n", range(6))
@pytest.mark.smoke
@pytest.mark.check("SMOKE-N", title="Endpoint answers", severity="high")
def test_n(n, evidence):
    evidence.record("status", 200, expected=200, source=f"/endpoint/{n}")

@pytest.mark.security
def test_undeclared():
    assert False, "undeclared severity fails closed"
"""


def test_every_collected_item_is_listed_and_the_lost_one_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, CHECKS)
    result = pytester.runpytest_subprocess(
        *ENV_ARGS, "-n", "2", "--signoff", "s.json", "--signoff", "s.md"
    )
    doc = load(pytester.path / "s.json")
    checks = by_id(doc)
    expected = {"INFRA-A", "INFRA-CRASH", "test_checks.py::test_undeclared"}
    expected |= {f"SMOKE-N[{n}]" for n in range(6)}
    assert set(checks) == expected
    assert len(doc["checks"]) == 9
    crash = checks["INFRA-CRASH"]
    assert crash["outcome"] == "error"
    assert crash["phase"] == "crash"
    assert crash["reason"].startswith("worker gw")
    assert crash["reason"].endswith("crashed while running it")
    assert {checks[f"SMOKE-N[{n}]"]["outcome"] for n in range(6)} == {"passed"}
    assert checks["SMOKE-N[3]"]["evidence"] == [
        {"name": "status", "value": 200, "expected": 200, "source": "/endpoint/3"}
    ]
    undeclared = checks["test_checks.py::test_undeclared"]
    assert (undeclared["severity"], undeclared["blocking"], undeclared["outcome"]) == (
        None,
        True,
        "failed",
    )
    assert doc["verdict"]["decision"] == "NO-GO"
    assert any("INFRA-CRASH" in w and "crashed" in w for w in doc["warnings"])
    result.stdout.fnmatch_lines(
        ["*deployverify sign-off: NO-GO*", "*BLOCKING FAILED*test_undeclared*"]
    )
    markdown = (pytester.path / "s.md").read_text(encoding="utf-8")
    assert "`INFRA-CRASH` · medium · **ERROR**: worker gw" in markdown


def test_items_that_never_ran_after_the_crash_are_not_run(pytester: pytest.Pytester) -> None:
    project(pytester, CHECKS)
    # One worker, no restart: everything after the crash is collected but never reported.
    result = pytester.runpytest_subprocess(
        *ENV_ARGS, "-n", "1", "--max-worker-restart", "0", "--signoff", "s.json"
    )
    doc = load(pytester.path / "s.json")
    outcomes = {c["nodeid"].split("::")[1]: c for c in doc["checks"]}
    assert len(outcomes) == 9
    assert outcomes["test_a"]["outcome"] == "passed"
    assert outcomes["test_crash"]["outcome"] == "error"
    never = [outcomes[f"test_n[{n}]"] for n in range(6)] + [outcomes["test_undeclared"]]
    assert {c["outcome"] for c in never} == {"not-run"}
    # The worker's first report told the controller what every item is: ids and severities stay.
    assert [c["check_id"] for c in never[:6]] == [f"SMOKE-N[{n}]" for n in range(6)]
    assert {c["severity"] for c in never[:6]} == {"high"}
    assert never[6]["severity"] is None  # undeclared in the code: fails closed
    assert doc["verdict"]["decision"] == "NO-GO"
    reasons = " ".join(doc["verdict"]["reasons"])
    assert "blocking check SMOKE-N[0] (Endpoint answers, high) did not run" in reasons
    assert "the run was interrupted" in reasons
    assert doc["run"]["scope"]["interrupted"]
    result.stdout.fnmatch_lines(["BLOCKING NOT-RUN SMOKE-N[[]0[]] Endpoint answers: *"])


INTERRUPTED = """
import os
import signal
import time
import pytest

@pytest.mark.parametrize("n", range(10))
@pytest.mark.monitoring
@pytest.mark.check("MON-LOW", title="A low-severity probe", severity="low")
def test_low(n):
    if n == 1:
        os.kill(os.getppid(), signal.SIGINT)  # Ctrl-C in the controller, as a person would
    time.sleep(0.4)
"""


def test_a_run_interrupted_under_xdist_keeps_ids_and_severities_and_says_so(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, INTERRUPTED)
    # A shell without job control starts background commands with SIGINT ignored, and Python
    # then never raises KeyboardInterrupt: the controller takes Ctrl-C as a terminal would.
    pytester.makeconftest(
        "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    )
    pytester.runpytest_subprocess(*ENV_ARGS, "-n", "2", "-p", "no:randomly", "--signoff", "s.json")
    doc = load(pytester.path / "s.json")
    not_run = [c for c in doc["checks"] if c["outcome"] == "not-run"]
    assert not_run, "the interruption left no item unrun"
    assert {c["severity"] for c in not_run} == {"low"}
    assert all(c["check_id"].startswith("MON-LOW[") for c in not_run)
    assert not any(c["blocking"] for c in not_run)
    assert doc["run"]["scope"]["interrupted"]
    assert doc["verdict"]["decision"] != "GO"
    assert any("interrupted" in w for w in doc["warnings"])
