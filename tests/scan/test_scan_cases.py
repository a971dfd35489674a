"""Every pre-deploy check, both ways, through ``deployverify scan``: the release of our own passes
every item; each case breaks exactly its rule(s), naming the object, and its healthy variant
passes. Every object kind the issue lists is among them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_deployverify.checks.kube.items import PLANS
from pytest_deployverify.checks.kube.rules import BY_ID
from tests.scan.cases import CASES, Case, failing, passing, release
from tests.scan.helpers import rules_found, scan, scan_findings

# Rules that need the live cluster (object status, nodes, Helm records, logs, DNS, the
# verifier's credentials) or a profile expectation of the app (env values, the public host,
# secret lengths): judged by the live defect matrix in tests/kube_checklist.
SCANNED_RULES = {rule.id for plan in PLANS.values() if plan.scans for rule in plan.rules}
LIVE_STATUS_RULES = {
    "service-no-ready-endpoints",
    "service-endpoints-mismatch",
    "hpa-at-max-replicas",
    "hpa-missing-metrics",
}
KINDS = {
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "ConfigMap",
    "Secret",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "NetworkPolicy",
    "Ingress",
    "Service",
}


def test_the_release_passes_every_item_and_reads_every_kind(tmp_path: Path) -> None:
    code, report = scan(tmp_path, release())
    assert code == 0
    assert scan_findings(report) == {}
    assert {i["outcome"] for i in report["items"]} <= {"passed", "not-applicable"}
    assert set(report["inventory"]["judged"]) >= KINDS
    assert report["inventory"]["out_of_scope"] == {}
    assert report["summary"]["blocking"] == []


def test_every_rule_judged_from_manifests_has_a_failing_case() -> None:
    covered = {rule for c in CASES for rule in c.rules}
    assert covered == SCANNED_RULES - LIVE_STATUS_RULES
    assert covered <= set(BY_ID)


def test_the_cases_cover_every_kind() -> None:
    touched = {about.split()[0] for about in (c.about for c in CASES)}
    # NetworkPolicy defects are reported on the pods they fail to cover (and the namespace),
    # Secret defects on the workload that references them.
    assert touched >= KINDS - {"NetworkPolicy", "Secret"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_defect_fails_exactly_its_rules(tmp_path: Path, case: Case) -> None:
    code, report = scan(tmp_path, failing(case), case, "--fail-on", "none")
    assert code == 0
    assert rules_found(report) == set(case.rules), scan_findings(report)
    failed_items = {i["check_id"] for i in report["items"] if i["outcome"] == "failed"}
    assert failed_items == set(case.items), failed_items
    subjects = {f["subject"] for i in report["items"] for f in i["findings"]}
    assert any(s.startswith(case.about) for s in subjects), subjects
    # Every finding points at the object's line in the manifest.
    for item in report["items"]:
        for finding in item["findings"]:
            assert finding["location"] is not None, finding


@pytest.mark.parametrize("case", [c for c in CASES if c.passes], ids=lambda c: c.id)
def test_the_healthy_variant_passes(tmp_path: Path, case: Case) -> None:
    code, report = scan(tmp_path, passing(case), case)
    assert code == 0
    assert scan_findings(report) == {}
