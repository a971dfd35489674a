"""The shipped Kubernetes checklist run by pytest against the emulator, as a user runs it.

The healthy and RBAC runs use ``runpytest_subprocess`` (a separate process, the plugin loaded from
its entry point); the one-defect-per-item matrix runs in-process for speed, reading each failed
item's check id from the reports.
"""

from __future__ import annotations

import pytest

# Imported here so in-process runs reuse them: pytester drops modules first imported inside a run,
# and re-importing the kubernetes client costs seconds per run.
from tests.kube_checklist.cluster import (
    NOT_APPLICABLE_LIVE,
    Cluster,
    cluster,
    copy_verify_files,
    failed_items,
    failed_items_from_output,
    item_counts,
    profile_text,
    run_args,
    write_profile,
)
from tests.kube_checklist.defects import LIVE_DEFECTS, Defect

__all__ = ["cluster"]

COUNTS = item_counts()
TESTS = COUNTS["tests"]  # one workload: every item once, and the objects outside it
# The sandbox's namespace holds only the gateway: the other objects' tests are not applicable,
# as are the items that do not apply live or to the sandbox (NOT_APPLICABLE_LIVE).
SKIPPED = COUNTS["other_objects"] + len(NOT_APPLICABLE_LIVE)
ALL_ITEMS = TESTS - SKIPPED  # the tests that judge something, and pass on the healthy sandbox


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
    result.assert_outcomes(passed=ALL_ITEMS, skipped=SKIPPED)
    # -k selects the Kubernetes items: the sign-off states that scope (a -k narrowing is not a
    # whole section, so the verdict is qualified as "the selected checks").
    result.stdout.fnmatch_lines(
        ["*deployverify sign-off: GO for the selected checks (environment k8s)*"]
    )
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
    result.assert_outcomes(passed=ALL_ITEMS - 1, failed=1, skipped=SKIPPED)
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
    result.assert_outcomes(passed=ALL_ITEMS - 4, failed=4, skipped=SKIPPED)
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
    # Every test that reads the cluster errors at once; only the opt-in item (for the gateway and
    # for the other objects) is not applicable.
    result.assert_outcomes(errors=TESTS - 2, skipped=2)
    line = "kubernetes at https://127.0.0.1:* (context emulator) is unreachable*"
    result.stdout.fnmatch_lines(["*ERROR at setup of test_rollout_settled*", line])
    # Remembered after the first attempt: one connection for the whole run, not one per check.
    assert cluster.kube.count() == 1


def test_no_workloads_is_a_loud_skip(project: pytest.Pytester, cluster: Cluster) -> None:
    text = profile_text(cluster.kubeconfig).replace('workloads = ["api-gateway"]', "workloads = []")
    write_profile(project, text)
    result = project.runpytest(*run_args())
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    skipped = [r for r in reports if r.skipped]
    assert skipped
    by_design = [
        r for r in skipped if r.deployverify["check_id"].split("[")[0] in NOT_APPLICABLE_LIVE
    ]
    assert {r.deployverify["check_id"].split("[")[0] for r in by_design} == set(NOT_APPLICABLE_LIVE)
    assert all(
        "list them in [kubernetes] workloads" in str(r.longrepr)
        for r in skipped
        if r not in by_design
    )
    assert not failed_items(result)
    # The listed workloads add expectations, they never hide other objects: without any, the
    # items that judge every object judge the gateway all the same.
    judged = {r.deployverify["check_id"] for r in reports if r.when == "call" and r.passed}
    assert {"K8S-RESOURCES[all-objects]", "K8S-SECURITY-CONTEXT[all-objects]"} <= judged
