"""``verify/test_*_kubernetes.py`` run by pytest against the emulator, as a user runs them.

The healthy and RBAC runs use ``runpytest_subprocess`` (a separate process, the plugin loaded from
its entry point); the one-defect-per-item matrix runs in-process for speed (27 runs), reading each
failed item's check id from the reports.
"""

from __future__ import annotations

import pytest

# Imported here so in-process runs reuse them: pytester drops modules first imported inside a run,
# and re-importing the kubernetes client costs seconds per run.
from tests.kube_checklist.cluster import (
    Cluster,
    cluster,
    copy_verify_files,
    failed_items,
    failed_items_from_output,
    profile_text,
    run_args,
    write_profile,
)
from tests.kube_checklist.defects import LIVE_DEFECTS, Defect

__all__ = ["cluster"]

ALL_ITEMS = 27  # one workload: every item runs once


@pytest.fixture
def project(pytester: pytest.Pytester, cluster: Cluster) -> pytest.Pytester:
    copy_verify_files(pytester)
    write_profile(pytester, profile_text(cluster.kubeconfig))
    return pytester


def test_the_healthy_sandbox_is_go_and_the_run_only_reads(
    project: pytest.Pytester, cluster: Cluster
) -> None:
    cluster.kube.reset_counts()
    result = project.runpytest_subprocess(*run_args())
    result.assert_outcomes(passed=ALL_ITEMS)
    result.stdout.fnmatch_lines(["*deployverify sign-off: GO (environment k8s)*"])
    requests = cluster.kube.requests
    assert {r.method for r in requests} == {"GET", "POST"}
    posts = sorted(r.path for r in requests if r.method == "POST")
    assert posts == [
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
    ]
    assert cluster.kube.count(mutating=True) == 0
    # One LIST per kind and namespace, whatever the number of checks reading it.
    lists = [(r.resource, r.namespace) for r in requests if r.verb == "list"]
    assert len(lists) == len(set(lists)), lists


@pytest.mark.parametrize("defect", LIVE_DEFECTS, ids=lambda d: f"{d.item}:{d.check_id}")
def test_one_defect_fails_exactly_its_test(
    project: pytest.Pytester, cluster: Cluster, defect: Defect
) -> None:
    assert defect.live is not None
    defect.live(cluster)
    write_profile(project, defect.expect(profile_text(cluster.kubeconfig)))
    result = project.runpytest(*run_args())
    assert failed_items(result) == {defect.test_id}
    result.assert_outcomes(passed=ALL_ITEMS - 1, failed=1)
    (report,) = [r for r in result.reprec.getreports("pytest_runtest_logreport") if r.failed]  # type: ignore[attr-defined]
    message = str(report.longrepr)
    assert f"[{defect.check_id}]" in message
    for fragment in defect.says:
        assert fragment in message


def test_a_forbidden_kind_fails_the_checks_that_need_it_and_no_other(
    project: pytest.Pytester, cluster: Cluster
) -> None:
    cluster.kube.access.forbid("secrets", "api-gateway")
    result = project.runpytest_subprocess(*run_args())
    assert failed_items_from_output(result) == {
        "test_config_references[api-gateway]",
        "test_secret_length",
        "test_helm_release",
        "test_helm_drift",
    }
    result.assert_outcomes(passed=ALL_ITEMS - 4, failed=4)
    result.stdout.fnmatch_lines(
        [
            "*K8S-CONFIG-REFS: could not read what this check needs: kubernetes at "
            "https://127.0.0.1:* (context emulator) forbids list secrets in namespace api-gateway "
            "(403 Forbidden: *); fix: grant the verifier a Role in namespace api-gateway with verbs "
            "[[]get, list[]] on secrets (bound by a RoleBinding)*",
        ]
    )
    result.stdout.fnmatch_lines(["*deployverify sign-off: NO-GO*"])


def test_an_unreachable_cluster_fails_every_live_check_with_one_message(
    project: pytest.Pytester, cluster: Cluster
) -> None:
    cluster.kube.faults.drop()
    result = project.runpytest_subprocess(*run_args())
    result.assert_outcomes(errors=ALL_ITEMS)
    line = "kubernetes at https://127.0.0.1:* (context emulator) is unreachable*"
    result.stdout.fnmatch_lines(["*ERROR at setup of test_rollout_settled*", line])
    # Remembered after the first attempt: one connection for the whole run, not one per check.
    assert cluster.kube.count() == 1


def test_no_workloads_is_a_loud_skip(project: pytest.Pytester, cluster: Cluster) -> None:
    text = profile_text(cluster.kubeconfig).replace('workloads = ["api-gateway"]', "workloads = []")
    write_profile(project, text)
    result = project.runpytest(*run_args())
    skipped = [r for r in result.reprec.getreports("pytest_runtest_logreport") if r.skipped]  # type: ignore[attr-defined]
    assert skipped
    assert all("list them in [kubernetes] workloads" in str(r.longrepr) for r in skipped)
    assert not failed_items(result)
