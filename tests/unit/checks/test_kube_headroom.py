"""Capacity headroom (issue 15): room on the nodes for the worst case the rollout and the
autoscaler can reach, with a margin, and the storage of the workload's bound volumes."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_deployverify.checks.kube.capacity import (
    claimed_volumes,
    node_headroom_findings,
    node_room,
    peak_replicas,
    surge_of,
    volume_findings,
    volume_summary,
)

from .test_kube_builders import NS, Obj, deployment, hpa, ids, nodes


def _hpa(max_replicas: int) -> Obj:
    found = hpa()
    found["spec"]["maxReplicas"] = max_replicas
    return found


def _rolling(dep: Obj, **update: Any) -> Obj:
    dep["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": update}
    return dep


# ---- the worst case ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "replicas", "surge"),
    [(None, 10, 3), ("25%", 10, 3), ("25%", 4, 1), ("50%", 3, 2), (2, 10, 2), ("0", 10, 0)],
)
def test_max_surge_rounds_percentages_up(value: Any, replicas: int, surge: int) -> None:
    assert surge_of(value, replicas) == surge


def test_the_worst_case_is_the_hpa_maximum_plus_the_surge() -> None:
    peak = peak_replicas(deployment(), [_hpa(10)])
    assert (peak.replicas, peak.surge, peak.count) == (10, 3, 13)
    assert (
        peak.because
        == "HPA api-gateway maxReplicas 10, plus maxSurge 25% (3) during a rolling update"
    )
    # Without an HPA: spec.replicas; an explicit surge; Recreate and StatefulSets add none.
    assert peak_replicas(_rolling(deployment(), maxSurge=1)).count == 4
    recreate = deployment()
    recreate["spec"]["strategy"] = {"type": "Recreate"}
    assert peak_replicas(recreate, [_hpa(10)]).count == 10
    stateful = deployment()
    stateful["kind"] = "StatefulSet"
    assert peak_replicas(stateful).because == "spec.replicas 3"
    assert peak_replicas(stateful).count == 3


def test_a_daemonset_surging_needs_two_pods_per_node() -> None:
    daemon = deployment()
    daemon["kind"] = "DaemonSet"
    assert peak_replicas(daemon).count == 1
    daemon["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
    peak = peak_replicas(daemon)
    assert peak.count == 2
    # Three 4-CPU nodes fit 16 gateway pods (250m) each: two per node is no problem...
    assert node_headroom_findings(daemon, nodes(), [], peak=peak) == []
    # ...unless a node is nearly full.
    busy = {
        "kind": "Pod",
        "metadata": {"name": "busy", "namespace": "batch"},
        "spec": {
            "nodeName": "node-2",
            "containers": [{"resources": {"requests": {"cpu": "3600m"}}}],
        },
        "status": {"phase": "Running"},
    }
    found = node_headroom_findings(daemon, nodes(), [busy], peak=peak)
    assert ids(found) == {"insufficient-node-capacity"}
    assert "no room for 2 pods on node(s) node-2" in found[0].message


def test_an_hpa_maximum_that_cannot_fit_on_the_nodes_fails() -> None:
    # Three nodes with 4 CPU each take 48 pods of 250m: 40 + 10 surging do not fit.
    peak = peak_replicas(deployment(), [_hpa(40)])
    found = node_headroom_findings(deployment(), nodes(), [], peak=peak)
    assert ids(found) == {"insufficient-node-capacity"}
    message = found[0].message
    assert message.startswith(
        "room for 48 of 50 pod(s) at the worst case the rollout and autoscaler can reach (HPA "
        "api-gateway maxReplicas 40, plus maxSurge 25% (10) during a rolling update)"
    )
    assert "per node: node-1: 16, node-2: 16, node-3: 16" in message
    assert "capacity_worst_case = false" in message
    # The current replicas fit: without the worst case the item holds.
    assert node_headroom_findings(deployment(), nodes(), []) == []


def test_an_hpa_maximum_that_fits_passes() -> None:
    peak = peak_replicas(deployment(), [_hpa(30)])
    assert peak.count == 38
    assert node_headroom_findings(deployment(), nodes(), [], peak=peak) == []


def test_the_margin_keeps_part_of_each_node_free() -> None:
    peak = peak_replicas(deployment(), [_hpa(30)])  # 38 pods at once
    assert node_room(deployment(), nodes(), [], margin=0.25) == {
        "node-1": 12,
        "node-2": 12,
        "node-3": 12,
    }
    found = node_headroom_findings(deployment(), nodes(), [], peak=peak, margin=0.25)
    assert "room for 36 of 38 pod(s)" in found[0].message
    assert "keeping 25% of each node free" in found[0].message
    assert node_headroom_findings(deployment(), nodes(), [], peak=peak, margin=0.15) == []


# ---- the workload's volumes ---------------------------------------------------------------------------


def _statefulset(replicas: int = 2) -> Obj:
    found = deployment(replicas)
    found["kind"] = "StatefulSet"
    found["metadata"]["name"] = "db"
    found["spec"]["volumeClaimTemplates"] = [
        {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "10Gi"}}}}
    ]
    return found


def _claim(
    name: str, *, phase: str = "Bound", capacity: str | None = "10Gi", cls: str = "ssd"
) -> Obj:
    status: dict[str, Any] = {"phase": phase}
    if capacity:
        status["capacity"] = {"storage": capacity}
    return {
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"storageClassName": cls, "resources": {"requests": {"storage": "10Gi"}}},
        "status": status,
    }


def _class(name: str = "ssd", *, expandable: bool = True) -> Obj:
    return {"kind": "StorageClass", "metadata": {"name": name}, "allowVolumeExpansion": expandable}


def test_the_claims_a_workload_uses() -> None:
    assert claimed_volumes(_statefulset()) == ["data-db-0", "data-db-1"]
    dep = deployment()
    dep["spec"]["template"]["spec"]["volumes"] = [
        {"name": "cache", "persistentVolumeClaim": {"claimName": "shared-cache"}},
        {"name": "tmp", "emptyDir": {}},
    ]
    assert claimed_volumes(dep) == ["shared-cache"]
    assert claimed_volumes(deployment()) == []


def test_bound_volumes_with_the_requested_capacity_pass() -> None:
    claims = [_claim("data-db-0"), _claim("data-db-1", capacity="20Gi")]
    assert volume_findings(_statefulset(), claims, [_class()], require_expansion=True) == []
    assert volume_summary(_statefulset(), claims, [_class()])["data-db-1"] == {
        "phase": "Bound",
        "requested": "10Gi",
        "capacity": "20Gi",
        "storageClass": "ssd",
        "allowVolumeExpansion": True,
    }


@pytest.mark.parametrize(
    ("claims", "rule", "says"),
    [
        ([_claim("data-db-0")], "volume-claim-not-bound", "data-db-1: does not exist"),
        (
            [_claim("data-db-0"), _claim("data-db-1", phase="Pending", capacity=None)],
            "volume-claim-not-bound",
            "data-db-1: is Pending, not Bound",
        ),
        (
            [_claim("data-db-0"), _claim("data-db-1", capacity="5Gi")],
            "volume-capacity-short",
            "provides 5Gi but requests 10Gi",
        ),
    ],
)
def test_a_volume_defect_fails_naming_the_claim(claims: list[Obj], rule: str, says: str) -> None:
    found = volume_findings(_statefulset(), claims, [_class()])
    assert ids(found) == {rule}
    assert says in "\n".join(f"{f.subject}: {f.message}" for f in found)


def test_expansion_is_judged_only_when_required() -> None:
    claims = [_claim("data-db-0"), _claim("data-db-1")]
    fixed = [_class(expandable=False)]
    assert volume_findings(_statefulset(), claims, fixed) == []
    found = volume_findings(_statefulset(), claims, fixed, require_expansion=True)
    assert ids(found) == {"volume-expansion-disabled"}
    assert "StorageClass ssd does not set allowVolumeExpansion: true" in found[0].message
