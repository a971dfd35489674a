"""Pre-deploy mode: ``--manifests PATH`` (or ``[kubernetes.expect] manifests``) runs the spec-level
items on rendered YAML, skips the live-only ones with the reason, and never calls the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

import pytest_deployverify.checklist.kubernetes  # noqa: F401 - kept across in-process runs
from pytest_deployverify.checklist.kubernetes import PREDEPLOY_SKIP
from tests.kube_checklist.cluster import (
    NOT_APPLICABLE_HERE,
    Cluster,
    cluster,
    copy_verify_files,
    failed_items,
    item_counts,
    literal,
    profile_text,
    rendered_manifests,
    run_args,
    write_manifests,
    write_profile,
)
from tests.kube_checklist.defects import RENDERED_DEFECTS, Defect

__all__ = ["cluster"]

COUNTS = item_counts()
LIVE_ONLY = COUNTS["live_only"]
# The Secret checked for length is created outside the release, so it is not among the manifests;
# the sandbox's image reports are the cluster's VulnerabilityReports (read live: the profile names
# no report file); the release holds only the gateway, so the other objects' tests are not
# applicable; and the items not applicable to the sandbox by design (NOT_APPLICABLE_HERE).
SKIPPED = LIVE_ONLY + 2 + COUNTS["other_objects"] + len(NOT_APPLICABLE_HERE)
ALL_ITEMS = COUNTS["tests"]


def _profile(cluster: Cluster, defect: Defect | None = None, *, extra: str = "") -> str:
    text = profile_text(cluster.kubeconfig).replace(
        "public_host =", 'dns_addresses = ["127.0.0.1"]\n' + extra + "public_host ="
    )
    return defect.expect(text) if defect else text


@pytest.fixture
def project(pytester: pytest.Pytester, cluster: Cluster) -> pytest.Pytester:
    copy_verify_files(pytester)
    write_profile(pytester, _profile(cluster))
    write_manifests(pytester.path / "rendered", rendered_manifests())
    return pytester


def test_healthy_manifests_pass_and_live_checks_skip_loudly(
    project: pytest.Pytester, cluster: Cluster
) -> None:
    cluster.kube.reset_counts()
    result = project.runpytest_subprocess(*run_args("--manifests", "rendered"))
    result.assert_outcomes(passed=ALL_ITEMS - SKIPPED, skipped=SKIPPED)
    result.stdout.fnmatch_lines(
        [f"SKIPPED [[]*[]] *test_kubernetes_infra.py:*: {literal(PREDEPLOY_SKIP)}"]
    )
    result.stdout.fnmatch_lines(
        ["*none of the Secrets in [[]kubernetes.expect[]] secret_min_length*"]
    )
    assert cluster.kube.count() == 0  # pre-deploy mode never touches the cluster


def test_the_profile_can_name_the_manifests(project: pytest.Pytester, cluster: Cluster) -> None:
    write_profile(project, _profile(cluster, extra='manifests = "rendered"\n'))
    result = project.runpytest(*run_args())
    result.assert_outcomes(passed=ALL_ITEMS - SKIPPED, skipped=SKIPPED)
    assert cluster.kube.count() == 0


@pytest.mark.parametrize("defect", RENDERED_DEFECTS, ids=lambda d: f"{d.item}:{d.check_id}")
def test_one_rendered_defect_fails_exactly_its_test(
    project: pytest.Pytester, cluster: Cluster, defect: Defect
) -> None:
    objects = rendered_manifests()
    assert defect.rendered is not None
    defect.rendered(objects)
    write_manifests(project.path / "rendered", objects)
    write_profile(project, _profile(cluster, defect))
    result = project.runpytest(*run_args("--manifests", "rendered"))
    assert failed_items(result) == {defect.test_id}
    (report,) = [r for r in result.reprec.getreports("pytest_runtest_logreport") if r.failed]  # type: ignore[attr-defined]
    for fragment in (f"[{defect.check_id}]", *defect.says):
        assert fragment in str(report.longrepr)


def test_a_broken_manifest_fails_every_check_naming_file_and_document(
    project: pytest.Pytester,
) -> None:
    broken = project.path / "rendered" / "99-broken.yaml"
    broken.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", encoding="utf-8")
    result = project.runpytest(*run_args("--manifests", str(Path("rendered"))))
    # Every test that reads the objects errors; only the opt-in item (gateway and other objects)
    # is not applicable before reading anything.
    result.assert_outcomes(errors=ALL_ITEMS - 2, skipped=2)
    result.stdout.fnmatch_lines(
        ["*pre-deploy manifests: *99-broken.yaml: document 1: ConfigMap has no metadata.name*"]
    )
