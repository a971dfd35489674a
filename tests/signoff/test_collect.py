"""Folding setup/call/teardown reports into one outcome per item, as pytest would judge it."""

from __future__ import annotations

import pytest

from pytest_deployverify.signoff.collect import (
    PhaseReport,
    ReportCollector,
    one_line_reason,
    resolve_outcome,
)
from pytest_deployverify.signoff.model import Outcome

NODE = "test_x.py::test_a"
META = {
    "check_id": "INFRA-1",
    "title": "Replicas ready",
    "severity": "high",
    "section": "infra",
    "sections": ["infra"],
    "destructive": False,
    "error": None,
    "evidence": [],
}


def phase(when: str, outcome: str = "passed", **kwargs: object) -> PhaseReport:
    return PhaseReport(nodeid=NODE, when=when, outcome=outcome, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("phases", "expected", "reason", "where"),
    [
        ([phase("setup"), phase("call"), phase("teardown")], Outcome.PASSED, None, None),
        (
            [
                phase("setup"),
                phase("call", "failed", message="AssertionError: 2 of 3\nassert 2 == 3"),
            ],
            Outcome.FAILED,
            "2 of 3",
            "call",
        ),
        (
            [phase("setup", "failed", message="ConnectionError: redis unreachable")],
            Outcome.ERROR,
            "ConnectionError: redis unreachable",
            "setup",
        ),
        (
            [phase("setup", "skipped", message="Skipped: not configured")],
            Outcome.SKIPPED,
            "not configured",
            None,
        ),
        (
            [phase("setup"), phase("call", "skipped", wasxfail="reason: known bug")],
            Outcome.XFAILED,
            "known bug",
            None,
        ),
        ([phase("setup"), phase("call", wasxfail="")], Outcome.XPASSED, None, None),
        (
            [phase("setup"), phase("call"), phase("teardown", "failed", message="OSError: boom")],
            Outcome.ERROR,
            "teardown: OSError: boom",
            "teardown",
        ),
        (
            [
                phase("setup"),
                phase("???", "failed", message="worker 'gw1' crashed while running x"),
            ],
            Outcome.ERROR,
            "worker gw1 crashed while running it",
            "crash",
        ),
        (
            [phase("setup")],
            Outcome.NOT_RUN,
            "the run stopped after its setup: no result was reported",
            None,
        ),
        ([], Outcome.NOT_RUN, "no result was reported: the run stopped before this item", None),
    ],
)
def test_resolve_outcome(
    phases: list[PhaseReport], expected: Outcome, reason: str | None, where: str | None
) -> None:
    assert resolve_outcome(phases) == (expected, reason, where)


def test_failed_call_with_failing_teardown_stays_failed() -> None:
    outcome, reason, _ = resolve_outcome(
        [phase("setup"), phase("call", "failed", message="bad"), phase("teardown", "failed")]
    )
    assert (outcome, reason) == (Outcome.FAILED, "bad")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AssertionError: replicas 2/3\nassert 2 == 3", "replicas 2/3"),
        ("Failed: explicit failure", "explicit failure"),
        ("Skipped: no redis", "no redis"),
        ("assert 2 == 3\n +  where 2 = f()", "assert 2 == 3"),
        ("def test():\n>   x()\nE   KeyError: 'k'\nE   more", "KeyError: 'k'"),
        ("", None),
        ("   \n ", None),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_one_line_reason(text: str, expected: str | None) -> None:
    assert one_line_reason(text) == expected


def test_collector_lists_every_collected_item_in_order_even_without_reports() -> None:
    collector = ReportCollector()
    collector.expect(["a.py::t1", "a.py::t2", "a.py::t3"])
    collector.add(PhaseReport("a.py::t3", "setup", "passed", meta={**META, "check_id": "C3"}))
    collector.add(
        PhaseReport(
            "a.py::t3",
            "call",
            "passed",
            duration=0.5,
            meta={**META, "check_id": "C3", "evidence": [{"name": "n", "value": 1}]},
        )
    )
    collector.add(PhaseReport("a.py::t1", "???", "failed", message="worker 'gw0' crashed"))
    items = collector.build()
    assert [i.nodeid for i in items] == ["a.py::t1", "a.py::t2", "a.py::t3"]
    crashed, missing, passed = items
    # No metadata ever arrived: fail closed (undeclared severity is blocking).
    assert (crashed.outcome, crashed.check_id, crashed.severity, crashed.blocking) == (
        Outcome.ERROR,
        "a.py::t1",
        None,
        True,
    )
    assert crashed.section == "other"
    assert missing.outcome is Outcome.NOT_RUN
    assert (passed.outcome, passed.check_id, passed.duration) == (Outcome.PASSED, "C3", 0.5)
    assert passed.evidence == [{"name": "n", "value": 1}]


def test_collection_metadata_is_used_until_a_report_brings_its_own() -> None:
    collector = ReportCollector()
    collector.describe(NODE, {**META, "title": "from collection"})
    assert collector.build()[0].title == "from collection"
    collector.add(phase("setup", meta={**META, "title": "from report"}))
    assert collector.build()[0].title == "from report"


def test_marker_error_never_passes() -> None:
    collector = ReportCollector()
    bad = {**META, "error": "@pytest.mark.check on x: unknown severity 'hgh'"}
    collector.add(phase("setup", meta=bad))
    collector.add(phase("call", meta=bad))
    result = collector.build()[0]
    assert result.outcome is Outcome.ERROR
    assert result.reason is not None
    assert "unknown severity" in result.reason


def test_not_applicable_skip_reason_becomes_its_own_outcome() -> None:
    from pytest_deployverify.signoff.collect import PhaseReport, resolve_outcome
    from pytest_deployverify.signoff.model import Outcome

    def phases(message: str) -> list[PhaseReport]:
        return [
            PhaseReport("t::a", "setup", "skipped", 0.0, None, message, None),
        ]

    outcome, reason, _ = resolve_outcome(
        phases("not applicable: redis is not configured for environment x")
    )
    assert (outcome, reason) == (
        Outcome.NOT_APPLICABLE,
        "redis is not configured for environment x",
    )
    outcome, reason, _ = resolve_outcome(phases("no token in the profile"))
    assert (outcome, reason) == (Outcome.SKIPPED, "no token in the profile")
