"""Rollout settled: Deployment status, release image/digest, pod health, and the wait loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.checks.kube.objects import KubeObject
from pytest_deployverify.checks.kube.rollout import (
    Progress,
    RolloutExpectations,
    current_replica_set,
    rollout_findings,
    rollout_progress,
    rollout_start,
    wait_for_rollout,
)

from .test_kube_builders import (
    APP,
    DIGEST,
    OTHER_DIGEST,
    ROLLOUT_START,
    VERSION,
    Obj,
    deployment,
    ids,
    pods,
    replica_set,
)

Mutation = Callable[[Obj, list[Obj]], None]


def _status(**values: object) -> Mutation:
    def apply(dep: Obj, pod_list: list[Obj]) -> None:
        dep["status"].update(values)

    return apply


def _waiting(reason: str) -> Mutation:
    def apply(dep: Obj, pod_list: list[Obj]) -> None:
        status = pod_list[1]["status"]
        status["containerStatuses"][0]["state"] = {"waiting": {"reason": reason, "message": "x"}}
        status["containerStatuses"][0]["ready"] = False
        status["conditions"][1]["status"] = "False"

    return apply


def _pending(dep: Obj, pod_list: list[Obj]) -> None:
    pod_list[2]["status"] = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient cpu.",
            }
        ],
    }


def _not_ready(dep: Obj, pod_list: list[Obj]) -> None:
    pod_list[0]["status"]["conditions"][1]["status"] = "False"
    pod_list[0]["status"]["containerStatuses"][0]["ready"] = False


def _restarted(finished_at: str) -> Mutation:
    def apply(dep: Obj, pod_list: list[Obj]) -> None:
        status = pod_list[0]["status"]["containerStatuses"][0]
        status["restartCount"] = 2
        status["lastState"] = {
            "terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": finished_at}
        }

    return apply


def _progress_deadline(dep: Obj, pod_list: list[Obj]) -> None:
    dep["status"]["conditions"][1] = {
        "type": "Progressing",
        "status": "False",
        "reason": "ProgressDeadlineExceeded",
        "message": 'ReplicaSet "api-gateway-7d9f" has timed out progressing.',
    }


def _template_image(image: str) -> Mutation:
    def apply(dep: Obj, pod_list: list[Obj]) -> None:
        dep["spec"]["template"]["spec"]["containers"][0]["image"] = image

    return apply


def _old_pod(dep: Obj, pod_list: list[Obj]) -> None:
    old = pod_list[0]
    old["spec"]["containers"][0]["image"] = f"registry.example.com/{APP}:0.9.0"


EXPECT: RolloutExpectations = {
    "expected_version": VERSION,
    "expected_digest": DIGEST,
    "since": ROLLOUT_START,
}

# check id -> (mutation, fragment of the message, fatal for a poller?)
DEFECTS: dict[str, list[tuple[Mutation, str, bool]]] = {
    "rollout-generation-observed": [(_status(observedGeneration=3), "observedGeneration 3", False)],
    "rollout-replicas": [
        (_status(updatedReplicas=2), "updated 2/3", False),
        (_status(availableReplicas=2), "available 2/3", False),
        (_status(unavailableReplicas=1), "1 unavailable", False),
        (_status(replicas=4), "1 old replica(s)", False),
    ],
    "rollout-progress-deadline": [(_progress_deadline, "rollout undo", True)],
    "rollout-image-version": [
        (_template_image(f"registry.example.com/{APP}:0.9.0"), "'0.9.0'", False),
        (_old_pod, "0.9.0", False),
    ],
    "container-image-tag": [
        (_template_image(f"registry.example.com/{APP}:latest"), "latest", False)
    ],
    "pod-crash-loop": [(_waiting("CrashLoopBackOff"), "kubectl logs --previous", True)],
    "pod-image-pull-error": [
        (_waiting("ImagePullBackOff"), "imagePullSecrets", True),
        (_waiting("ErrImagePull"), "imagePullSecrets", False),
    ],
    "pod-create-error": [
        (_waiting("CreateContainerConfigError"), "ConfigMaps/Secrets", True),
        (_waiting("RunContainerError"), "ConfigMaps/Secrets", False),
    ],
    "pod-pending": [(_pending, "Insufficient cpu", False)],
    "pod-not-ready": [(_not_ready, "unready containers: gateway", False)],
    "pod-restarts": [(_restarted("2025-11-13T10:05:00Z"), "OOMKilled", False)],
}
CASES = [
    pytest.param(check_id, mutation, fragment, fatal, id=f"{check_id}-{n}")
    for check_id, variants in DEFECTS.items()
    for n, (mutation, fragment, fatal) in enumerate(variants)
]


def _snapshot(mutation: Mutation | None = None) -> tuple[Obj, list[Obj]]:
    dep, pod_list = deployment(), pods()
    if mutation:
        mutation(dep, pod_list)
    return dep, pod_list


def test_healthy_rollout_is_settled() -> None:
    dep, pod_list = _snapshot()
    assert rollout_findings(dep, pod_list, **EXPECT) == []
    assert rollout_progress(dep, pod_list, **EXPECT) == Progress(True, None, ())


@pytest.mark.parametrize(("check_id", "mutation", "fragment", "fatal"), CASES)
def test_one_defect_gives_exactly_its_check(
    check_id: str, mutation: Mutation, fragment: str, fatal: bool
) -> None:
    dep, pod_list = _snapshot(mutation)
    progress = rollout_progress(dep, pod_list, **EXPECT)
    assert ids(progress.findings) == {check_id}, summarize(progress.findings)
    assert not progress.settled
    assert all(APP in f.subject for f in progress.findings)
    assert any(fragment in f.message for f in progress.findings), summarize(progress.findings)
    assert (progress.fatal is not None) is fatal
    if fatal:
        assert progress.fatal is not None
        assert progress.fatal.check_id == check_id


def test_digest_mismatch_is_read_from_container_status() -> None:
    dep, pod_list = _snapshot()
    found = rollout_findings(dep, pod_list, expected_digest=OTHER_DIGEST)
    assert ids(found) == {"rollout-image-digest"}
    assert len(found) == 3
    assert all(DIGEST in f.message and "container gateway" in f.subject for f in found)


def test_pinned_template_digest_is_compared_too() -> None:
    dep, pod_list = _snapshot(
        _template_image(f"registry.example.com/{APP}:{VERSION}@{OTHER_DIGEST}")
    )
    found = rollout_findings(dep, pod_list, expected_version=VERSION, expected_digest=DIGEST)
    assert ids(found) == {"rollout-image-digest"}
    assert [f.subject for f in found] == [f"Deployment production/{APP} container gateway"]


def test_restart_before_rollout_began_is_ignored() -> None:
    dep, pod_list = _snapshot(_restarted("2025-11-13T09:00:00Z"))
    assert rollout_findings(dep, pod_list, since=ROLLOUT_START) == []
    assert ids(rollout_findings(dep, pod_list)) == {"pod-restarts"}


def test_allowed_restarts() -> None:
    dep, pod_list = _snapshot(_restarted("2025-11-13T10:05:00Z"))
    assert rollout_findings(dep, pod_list, max_restarts=2) == []
    assert ids(rollout_findings(dep, pod_list, max_restarts=1)) == {"pod-restarts"}


def test_terminating_old_pod_is_ignored() -> None:
    dep, pod_list = _snapshot(_old_pod)
    pod_list[0]["metadata"]["deletionTimestamp"] = "2025-11-13T10:01:00Z"
    _not_ready(dep, pod_list)
    assert rollout_findings(dep, pod_list, **EXPECT) == []


def test_crash_looping_pod_is_not_also_reported_as_restarting() -> None:
    dep, pod_list = _snapshot(_waiting("CrashLoopBackOff"))
    pod_list[1]["status"]["containerStatuses"][0]["restartCount"] = 7
    assert ids(rollout_findings(dep, pod_list)) == {"pod-crash-loop"}


def test_named_container_is_the_release_container() -> None:
    dep, pod_list = _snapshot()
    sidecar = {"name": "envoy", "image": "envoyproxy/envoy:v1.31.0"}
    dep["spec"]["template"]["spec"]["containers"].insert(0, sidecar)
    assert ids(rollout_findings(dep, pod_list, expected_version=VERSION)) == {
        "rollout-image-version"
    }
    assert rollout_findings(dep, pod_list, expected_version=VERSION, container="gateway") == []


def test_rollout_start_from_current_replica_set() -> None:
    dep = deployment()
    old = replica_set()
    old["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "3"
    foreign = replica_set()
    foreign["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    assert current_replica_set(dep, [old, foreign]) is None
    assert current_replica_set(dep, [old, replica_set()]) == replica_set()
    assert rollout_start(dep, [old, replica_set()]) == datetime(2025, 11, 13, 10, tzinfo=UTC)


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _fetcher(
    snapshots: Sequence[tuple[Obj, list[Obj]]],
) -> Callable[[], tuple[KubeObject, Sequence[KubeObject]]]:
    remaining = list(snapshots)

    def fetch() -> tuple[KubeObject, Sequence[KubeObject]]:
        # the last snapshot repeats: the cluster stays as it is
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return fetch


def test_wait_returns_once_settled() -> None:
    fake = FakeTime()
    fetch = _fetcher(
        [_snapshot(_status(updatedReplicas=1)), _snapshot(_status(updatedReplicas=2)), _snapshot()]
    )
    progress = wait_for_rollout(
        fetch, timeout=60, interval=5, clock=fake.clock, sleep=fake.sleep, **EXPECT
    )
    assert progress.settled
    assert progress.findings == ()
    assert fake.sleeps == [5, 5]


def test_wait_fails_fast_on_fatal_state() -> None:
    fake = FakeTime()
    fetch = _fetcher([_snapshot(_waiting("ImagePullBackOff"))])
    progress = wait_for_rollout(fetch, timeout=600, interval=5, clock=fake.clock, sleep=fake.sleep)
    assert progress.fatal is not None
    assert progress.fatal.check_id == "pod-image-pull-error"
    assert fake.sleeps == []


def test_wait_times_out_with_last_findings() -> None:
    fake = FakeTime()
    fetch = _fetcher([_snapshot(_pending)])
    progress = wait_for_rollout(fetch, timeout=12, interval=5, clock=fake.clock, sleep=fake.sleep)
    assert not progress.settled
    assert progress.fatal is None
    assert ids(progress.findings) == {"pod-pending", "rollout-timeout"}
    assert fake.sleeps == [5, 5, 2]  # never sleeps past the deadline
    timeout = progress.findings[-1]
    assert "12s" in timeout.message
    assert "pod-pending" in timeout.message


def test_wait_rejects_nonsense_intervals() -> None:
    with pytest.raises(ValueError, match="interval"):
        wait_for_rollout(_fetcher([_snapshot()]), timeout=10, interval=0)
