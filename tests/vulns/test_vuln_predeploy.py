"""SEC-K8S-IMAGE-VULNS before a deploy: the images the manifests name, judged against report files
(Trivy JSON, SARIF 2.1.0) the pipeline wrote, by ``deployverify scan`` and ``pytest --manifests``
alike, finding for finding. Without report files the item waits for the live cluster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pytest_deployverify.checklist.kubernetes  # noqa: F401 - kept across in-process runs
from tests.scan.cases import Case, release
from tests.scan.helpers import ENV, pytest_findings, scan, scan_findings, write_release
from tests.vulns.reports import CRITICAL, LOW, MEDIUM, ago, sarif, trivy_json

ITEM = "SEC-K8S-IMAGE-VULNS"
NAMES = ("web", "db", "agent", "legacy", "migrate", "report", "debug")


def _image(name: str) -> str:
    return f"registry.example.com/{name}:1.2.3"


def _reports(folder: Path, **special: dict[str, Any] | None) -> list[str]:
    """One report per image of the release (a SARIF for ``db``); ``special`` replaces (or,
    with None, leaves out) an image's report."""
    written = []
    for name in NAMES:
        doc = special.get(name, _default(name))
        if doc is None:
            continue
        file = f"reports/{name}.{'sarif' if 'runs' in doc else 'json'}"
        (folder / file).parent.mkdir(exist_ok=True)
        (folder / file).write_text(json.dumps(doc), encoding="utf-8")
        written.append(file)
    return written


def _default(name: str) -> dict[str, Any]:
    if name == "db":
        return sarif(_image(name), digest=None, vulns=[LOW], scanned=ago(hours=2))
    return trivy_json(_image(name), digest=None, vulns=[MEDIUM])


def _case(files: list[str]) -> Case:
    listed = ", ".join(f'"{f}"' for f in files)
    table = f"\n[kubernetes.expect.vulnerabilities]\ncluster = false\nreports = [{listed}]\n"
    return Case(frozenset(), frozenset(), "", lambda objects: None, expect=table, name="vulns")


def _both(pytester: pytest.Pytester, case: Case) -> tuple[dict[str, set[str]], dict[str, Any]]:
    code, report = scan(pytester.path / "scan", release(), case, "--fail-on", "none")
    assert code == 0
    write_release(pytester.path, release(), case)
    (pytester.path / "verify").mkdir(exist_ok=True)
    result = pytester.runpytest(
        "verify", "--env", ENV, "--env-dir", "envs", "--manifests", "rendered",
        "--checklist", "all", "-k", "test_image_vulnerabilities", "-p", "no:cacheprovider",
    )  # fmt: skip
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 1, outcomes  # the item ran
    by_pytest = pytest_findings(result.reprec.getreports("pytest_runtest_logreport"))  # type: ignore[attr-defined]
    by_scan = scan_findings(report)
    assert by_pytest == by_scan
    item = next(i for i in report["items"] if i["check_id"] == ITEM)
    return by_scan, item


def test_the_release_with_clean_reports_passes_both_ways(pytester: pytest.Pytester) -> None:
    found, item = _both(pytester, _case(_reports(pytester.path)))
    assert found == {}
    assert item["outcome"] == "passed"


def test_a_critical_cve_fails_both_ways_pointing_at_the_manifest(
    pytester: pytest.Pytester,
) -> None:
    files = _reports(pytester.path, web=trivy_json(_image("web"), digest=None, vulns=[CRITICAL]))
    found, item = _both(pytester, _case(files))
    (line,) = found[ITEM]
    assert line.startswith(
        "[image-vulnerable] Image registry.example.com/web:1.2.3: 1 vulnerability at or above "
        "high: CVE-2024-3094 (CRITICAL"
    )
    assert "runs in Deployment shop/web container web" in line
    (finding,) = item["findings"]
    assert finding["location"]["file"].endswith("release.yaml")  # the Deployment's document


def test_an_image_without_a_report_fails_both_ways(pytester: pytest.Pytester) -> None:
    found, _ = _both(pytester, _case(_reports(pytester.path, legacy=None)))
    (line,) = found[ITEM]
    assert line.startswith(
        "[image-scan-missing] Image registry.example.com/legacy:1.2.3: not scanned: no report "
        "matches it (by repository and tag)"
    )


def test_without_report_files_the_item_waits_for_the_cluster(tmp_path: Path) -> None:
    case = Case(
        frozenset(),
        frozenset(),
        "",
        lambda objects: None,
        expect='\n[kubernetes.expect.vulnerabilities]\nseverity = "critical"\n',
    )
    _, report = scan(tmp_path, release(), case)
    item = next(i for i in report["items"] if i["check_id"] == ITEM)
    assert item["outcome"] == "not-applicable"
    assert "judged live" in item["reason"]
