"""``deployverify scan`` and ``pytest --manifests`` are one path: over the same manifests and
profile they fail the same items (ids and scopes as the sign-off has them) with the same
findings, word for word. Run for the healthy release and every case of ``cases.py``."""

from __future__ import annotations

import pytest

# Imported here so in-process runs reuse them (pytester drops modules first imported in a run).
import pytest_deployverify.checklist.kubernetes  # noqa: F401
from tests.scan.cases import CASES, Case, failing, release
from tests.scan.helpers import ENV, pytest_findings, scan, scan_findings, write_release


def _pytest(pytester: pytest.Pytester, case: Case | None, objects: list) -> dict[str, set[str]]:  # type: ignore[type-arg]
    write_release(pytester.path, objects, case)
    (pytester.path / "verify").mkdir(exist_ok=True)
    result = pytester.runpytest(
        "verify",
        "--env",
        ENV,
        "--env-dir",
        "envs",
        "--manifests",
        "rendered",
        "--checklist",
        "all",
        "-k",
        "test_kubernetes",
        "-p",
        "no:cacheprovider",
    )
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    assert not [r for r in reports if r.when == "setup" and r.failed], result.outlines[-20:]
    return pytest_findings(reports)


def test_the_healthy_release_passes_both_ways(pytester: pytest.Pytester) -> None:
    code, report = scan(pytester.path / "scan", release())
    assert code == 0
    assert scan_findings(report) == {}
    assert _pytest(pytester, None, release()) == {}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_scan_and_pytest_find_the_same(pytester: pytest.Pytester, case: Case) -> None:
    objects = failing(case)
    _, report = scan(pytester.path / "scan", objects, case, "--fail-on", "none")
    by_scan = scan_findings(report)
    assert by_scan, "the case must fail"
    assert _pytest(pytester, case, objects) == by_scan
