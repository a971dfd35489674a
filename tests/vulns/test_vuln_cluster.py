"""SEC-K8S-IMAGE-VULNS against the sandbox's API emulator, which serves Trivy Operator's
VulnerabilityReports (sandbox/kube/fixtures/90-vulnerability-reports.yaml), and with report files
of our own: each defect fails the item naming it, each healthy variant passes, and nothing but
the reports' LIST is asked of the cluster."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pytest_deployverify.checklist.kubernetes import ItemResult, KubeChecklist
from pytest_deployverify.components.kubernetes.reader import build_kube_reader
from tests.kube_checklist.cluster import NS, Cluster, cluster, profile_from, profile_text
from tests.kube_checklist.defects import CRITICAL_CVE, RUNNING_IMAGE, VULN_REPORT
from tests.vulns.reports import (
    CRITICAL,
    GATEWAY_DIGEST,
    LOW,
    OTHER_DIGEST,
    ago,
    ignore_toml,
    sarif,
    trivy_json,
)

__all__ = ["cluster"]

ITEM = "SEC-K8S-IMAGE-VULNS"
TODAY = dt.datetime.now(dt.UTC).date()


def run(cluster: Cluster, extra: str = "", *, vulns_table: str | None = None) -> ItemResult:
    text = profile_text(cluster.kubeconfig)
    if vulns_table is not None:
        head, _, _ = text.partition("[kubernetes.expect.vulnerabilities]")
        text = head + "[kubernetes.expect.vulnerabilities]\n" + vulns_table
    profile = profile_from(text + extra)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        return KubeChecklist.live(reader, profile).run(ITEM)


def images(result: ItemResult) -> list[dict[str, Any]]:
    entry = next(e for e in result.evidence if e["name"] == "images judged")
    value: list[dict[str, Any]] = entry["value"]
    return value


def _critical(report: dict[str, Any]) -> None:
    report["report"]["vulnerabilities"].append(dict(CRITICAL_CVE))


def test_the_healthy_sandbox_passes_matched_by_digest(cluster: Cluster) -> None:
    cluster.kube.reset_counts()
    result = run(cluster)
    assert result.passed, result.message
    (gateway,) = images(result)  # the previous release's image (with a HIGH) does not run
    assert gateway["matched_by"] == "digest"
    assert gateway["digest"] == GATEWAY_DIGEST
    assert gateway["report"] == f"VulnerabilityReport {NS}/{VULN_REPORT}"
    assert gateway["vulnerabilities"] == {"low": 1, "medium": 1}
    reads = next(e for e in result.evidence if e["name"] == "reports read")
    assert reads["value"] == ["2 VulnerabilityReport(s) in namespace api-gateway"]
    assert cluster.kube.count(mutating=True) == 0
    lists = [r.path for r in cluster.kube.requests if r.verb == "list"]
    assert f"/apis/aquasecurity.github.io/v1alpha1/namespaces/{NS}/vulnerabilityreports" in lists


def test_a_critical_cve_in_the_running_image_fails(cluster: Cluster) -> None:
    cluster.edit("VulnerabilityReport", VULN_REPORT, _critical)
    result = run(cluster)
    assert result.check_ids == {"image-vulnerable"}
    assert f"[image-vulnerable] {RUNNING_IMAGE}: 1 vulnerability at or above high" in result.message
    assert "CVE-2024-3094 (CRITICAL, xz-libs 5.6.0-r0, fixed in 5.6.1-r2)" in result.message
    assert "runs in Pod api-gateway/api-gateway-7d9f8b6c5d-" in result.message
    # An ignore entry in force accepts it, and the evidence shows it was applied.
    accepted = run(cluster, ignore_toml("CVE-2024-3094", expires=TODAY + dt.timedelta(days=14)))
    assert accepted.passed, accepted.message
    assert images(accepted)[0]["ignore entries"] == [
        "CVE-2024-3094: applied (the vulnerable code path is not reachable in our build)"
    ]
    # Past its expiry it is not applied, and the failure names it.
    expired = run(cluster, ignore_toml("CVE-2024-3094", expires=TODAY - dt.timedelta(days=3)))
    assert expired.check_ids == {"image-vulnerable"}
    assert "the ignore entry for CVE-2024-3094 is not applied: it expired on" in expired.message


def test_a_stale_report_fails(cluster: Cluster) -> None:
    def stale(report: dict[str, Any]) -> None:
        report["report"]["updateTimestamp"] = ago(days=12).strftime("%Y-%m-%dT%H:%M:%SZ")

    cluster.edit("VulnerabilityReport", VULN_REPORT, stale)
    result = run(cluster)
    assert result.check_ids == {"image-scan-stale"}
    assert "was made 12d ago, more than max_report_age 7d" in result.message
    assert run(cluster, vulns_table='max_report_age = "14d"\n').passed


def test_a_missing_report_fails_and_a_report_of_another_build_does_not_count(
    cluster: Cluster,
) -> None:
    def rebuilt(report: dict[str, Any]) -> None:
        report["report"]["artifact"]["digest"] = OTHER_DIGEST

    cluster.edit("VulnerabilityReport", VULN_REPORT, rebuilt)
    result = run(cluster)
    assert result.check_ids == {"image-scan-missing"}
    assert "are of another build (sha256:bbbbbbbbbbbb), not the running digest" in result.message
    cluster.kube.store.delete("VulnerabilityReport", NS, VULN_REPORT)
    result = run(cluster)
    assert result.check_ids == {"image-scan-missing"}
    assert "no report matches it (by digest sha256:10a26a2d0a50)" in result.message


def test_a_cluster_without_trivy_operator_has_no_report(cluster: Cluster) -> None:
    cluster.kube.faults.fail(r"/apis/aquasecurity\.github\.io/", status=404)
    result = run(cluster)
    assert result.check_ids == {"image-scan-missing"}
    assert "does not serve VulnerabilityReports" in result.message
    assert "Trivy Operator is not installed" in result.message


def test_reports_the_verifier_may_not_read_make_the_item_an_error(cluster: Cluster) -> None:
    cluster.kube.access.forbid("vulnerabilityreports", NS)
    result = run(cluster)
    assert result.error is not None
    assert "forbids list vulnerabilityreports.aquasecurity.github.io" in result.error
    assert "grant the verifier a Role in namespace api-gateway" in result.error


def test_report_files_are_judged_beside_or_instead_of_the_cluster(
    cluster: Cluster, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gateway.json").write_text(json.dumps(trivy_json(vulns=[LOW])), encoding="utf-8")
    (tmp_path / "gateway.sarif").write_text(
        json.dumps(sarif(vulns=[CRITICAL], scanned=ago(hours=1))), encoding="utf-8"
    )
    result = run(cluster, vulns_table='cluster = false\nreports = ["gateway.json"]\n')
    assert result.passed, result.message
    assert images(result)[0]["report"] == "gateway.json"
    # The newest report of the image is judged: the SARIF, one hour old, with a CRITICAL.
    both = run(cluster, vulns_table='reports = ["gateway.json", "gateway.sarif"]\n')
    assert both.check_ids == {"image-vulnerable"}
    assert "report gateway.sarif, scanned 1h ago" in both.message
    missing = run(cluster, vulns_table='cluster = false\nreports = ["absent.json"]\n')
    assert missing.error is not None
    assert "report file absent.json: reading a vulnerability report: does not exist" in (
        missing.error
    )
