"""Workload hygiene: a healthy Deployment is clean; each single defect gives exactly its check id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_deployverify.checks.findings import Severity, summarize
from pytest_deployverify.checks.kube.expectations import PullPolicy
from pytest_deployverify.checks.kube.objects import selector_matches
from pytest_deployverify.checks.kube.workloads import workload_findings

from .test_kube_builders import APP, Obj, deployment, hpa, ids, manifest_of, pdb

Defect = Callable[[Obj, list[Obj], list[Obj]], dict[str, Any] | None]


def _main(dep: Obj) -> Obj:
    container: Obj = dep["spec"]["template"]["spec"]["containers"][0]
    return container


def _pod(dep: Obj) -> Obj:
    spec: Obj = dep["spec"]["template"]["spec"]
    return spec


def _set(path: str, value: object) -> Defect:
    """A defect that sets a dotted path under the main container (``c.``) or pod spec (``p.``)."""

    def apply(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        root, *keys = path.split(".")
        target = _main(dep) if root == "c" else _pod(dep)
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value

    return apply


def _strict_pull(path: str, value: object) -> Defect:
    """A pull-policy defect judged by kube-score's strict rule, which profiles opt into
    (``pull_policy = "always"``): by default IfNotPresent on a pinned tag is healthy."""
    change = _set(path, value)

    def apply(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> dict[str, Any]:
        change(dep, pdbs, hpas)
        return {"pull_policy": PullPolicy.ALWAYS}

    return apply


def _no_pod_user(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
    _pod(dep)["securityContext"] = {}


def _single_replica(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> dict[str, Any]:
    hpas.clear()
    dep["spec"]["replicas"] = 1
    return {"require_hpa": False}


def _identical_probes(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
    _main(dep)["livenessProbe"] = dict(_main(dep)["readinessProbe"])


def _hpa(**changes: object) -> Defect:
    def apply(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        for dotted, value in changes.items():
            target = hpas[0]
            *keys, last = dotted.split("__")
            for key in keys:
                target = target[key]
            if value is None:
                del target[last]
            else:
                target[last] = value

    return apply


def _pdb_spec(spec: Obj) -> Defect:
    def apply(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        pdbs[0]["spec"] = {**spec, "selector": pdbs[0]["spec"]["selector"]}

    return apply


def _hpa_is_manifest_with_max(maximum: int) -> Defect:
    def apply(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        del hpas[0]["status"]
        hpas[0]["spec"]["maxReplicas"] = maximum

    return apply


def _add_hostport(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
    _main(dep)["ports"][0]["hostPort"] = 3000


def _clear(which: str) -> Defect:
    def apply(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        (pdbs if which == "pdbs" else hpas).clear()

    return apply


# check id -> (defect, a fragment the message must carry: the fix or the observation)
DEFECTS: dict[str, list[tuple[Defect, str]]] = {
    "cpu-requests-missing": [(_set("c.resources.requests.cpu", None), "resources.requests.cpu")],
    "memory-requests-missing": [
        (_set("c.resources.requests.memory", None), "resources.requests.memory"),
        (_set("c.resources.requests.memory", "0"), "resources.requests.memory"),
    ],
    "cpu-limits-missing": [(_set("c.resources.limits.cpu", None), "resources.limits.cpu")],
    "memory-limits-missing": [(_set("c.resources.limits.memory", None), "resources.limits.memory")],
    "liveness-probe-missing": [(_set("c.livenessProbe", None), "add a livenessProbe")],
    "readiness-probe-missing": [(_set("c.readinessProbe", None), "add a readinessProbe")],
    "pod-probes-identical": [(_identical_probes, "/health/ready")],
    "container-image-tag": [
        (_set("c.image", "registry.example.com/api-gateway:latest"), "tag latest"),
        (_set("c.image", "registry.example.com/api-gateway"), "no tag"),
    ],
    "container-image-pull-policy": [
        (_strict_pull("c.imagePullPolicy", "IfNotPresent"), "imagePullPolicy: Always"),
        (_strict_pull("c.imagePullPolicy", None), "defaults to IfNotPresent"),
        (_set("c.imagePullPolicy", "Never"), "Never"),
    ],
    "run-as-root-allowed": [
        (_no_pod_user, "runAsNonRoot: true"),
        (_set("c.securityContext.runAsUser", 0), "runAsUser is 0"),
    ],
    "privilege-escalation-allowed": [
        (_set("c.securityContext.allowPrivilegeEscalation", None), "unset"),
        (
            _set("c.securityContext.allowPrivilegeEscalation", True),
            "allowPrivilegeEscalation: false",
        ),
    ],
    "not-read-only-root-filesystem": [
        (_set("c.securityContext.readOnlyRootFilesystem", False), "readOnlyRootFilesystem: true")
    ],
    "run-as-privileged": [(_set("c.securityContext.privileged", True), "privileged: true")],
    "dangerous-capabilities": [
        (_set("c.securityContext.capabilities.add", ["NET_ADMIN"]), "NET_ADMIN"),
        (_set("c.securityContext.capabilities.add", ["CAP_SYS_ADMIN"]), "SYS_ADMIN"),
    ],
    "insecure-capabilities": [(_set("c.securityContext.capabilities.drop", []), "drop: [ALL]")],
    "host-network-set": [(_set("p.hostNetwork", True), "hostNetwork")],
    "host-pid-set": [(_set("p.hostPID", True), "hostPID")],
    "host-ipc-set": [(_set("p.hostIPC", True), "hostIPC")],
    "host-port-set": [(_add_hostport, "through a Service")],
    "deployment-missing-replicas": [(_single_replica, "at least 2")],
    "missing-pod-disruption-budget": [(_clear("pdbs"), "add a PDB")],
    "pdb-disruptions-is-zero": [
        (_pdb_spec({"maxUnavailable": 0}), "maxUnavailable: 0"),
        (_pdb_spec({"maxUnavailable": "0%"}), "maxUnavailable: 0%"),
        (_pdb_spec({"minAvailable": "100%"}), "minAvailable: 100%"),
        # the HPA may shrink the Deployment to 3 pods: minAvailable 3 then blocks every drain
        (_pdb_spec({"minAvailable": 3}), "3 replica(s)"),
    ],
    "missing-hpa": [(_clear("hpas"), "HorizontalPodAutoscaler")],
    "hpa-min-availability": [(_hpa(spec__minReplicas=1), "minReplicas is 1")],
    "hpa-max-availability": [(_hpa_is_manifest_with_max(3), "raise maxReplicas")],
    "hpa-at-max-replicas": [(_hpa(status__currentReplicas=10), "raise maxReplicas")],
    "hpa-missing-metrics": [
        (_hpa(status__currentMetrics=None), "metrics-server"),
        (_hpa(status__currentMetrics=[]), "metrics-server"),
    ],
    "topology-spread-constraint": [(_set("p.topologySpreadConstraints", None), "topologyKey")],
}
CASES = [
    pytest.param(check_id, defect, fragment, id=f"{check_id}-{n}")
    for check_id, variants in DEFECTS.items()
    for n, (defect, fragment) in enumerate(variants)
]


def _run(defect: Defect | None = None) -> list[Any]:
    dep, pdbs, hpas = deployment(), [pdb()], [hpa()]
    kwargs = (defect(dep, pdbs, hpas) if defect else None) or {}
    return workload_findings(dep, pdbs=pdbs, hpas=hpas, **kwargs)


def test_healthy_deployment_has_no_findings() -> None:
    found = _run()
    assert found == [], summarize(found)


def test_healthy_manifest_has_no_findings() -> None:
    found = workload_findings(
        manifest_of(deployment()), pdbs=[manifest_of(pdb())], hpas=[manifest_of(hpa())]
    )
    assert found == [], summarize(found)


@pytest.mark.parametrize(("check_id", "defect", "fragment"), CASES)
def test_one_defect_gives_exactly_its_check(check_id: str, defect: Defect, fragment: str) -> None:
    found = _run(defect)
    assert ids(found) == {check_id}, summarize(found)
    for finding in found:
        assert APP in finding.subject
        assert fragment in finding.message, finding.message


def test_container_findings_name_the_container() -> None:
    found = _run(_set("c.resources.requests.cpu", None))
    assert [f.subject for f in found] == [f"Deployment production/{APP} container gateway"]


def test_pull_policy_never_is_blocking_and_ifnotpresent_advisory() -> None:
    never = _run(_set("c.imagePullPolicy", "Never"))
    lenient = _run(_strict_pull("c.imagePullPolicy", "IfNotPresent"))
    assert [f.severity for f in never] == [Severity.HIGH]
    assert [f.severity for f in lenient] == [Severity.MEDIUM]


@pytest.mark.parametrize("policy", ["IfNotPresent", None])
def test_if_not_present_on_a_pinned_image_is_healthy_by_default(policy: str | None) -> None:
    # kube-score and Polaris do not fail it: a version tag or digest cannot move.
    assert _run(_set("c.imagePullPolicy", policy)) == []
    digest = "registry.example.com/api-gateway@sha256:" + "c" * 64

    def pinned_by_digest(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        _main(dep).update(image=digest, imagePullPolicy="IfNotPresent")

    assert _run(pinned_by_digest) == []


def test_if_not_present_on_an_unpinned_image_is_reported() -> None:
    def unpinned(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        _main(dep).update(image="registry.example.com/api-gateway:latest")
        _main(dep)["imagePullPolicy"] = "IfNotPresent"

    found = [f for f in _run(unpinned) if f.check_id == "container-image-pull-policy"]
    assert len(found) == 1
    assert "unpinned image" in found[0].message
    assert "set imagePullPolicy: Always, or pin a version tag or digest" in found[0].message
    assert found[0].severity is Severity.MEDIUM


def test_pull_policy_off_judges_no_policy() -> None:
    def never_but_off(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> dict[str, Any]:
        _main(dep)["imagePullPolicy"] = "Never"
        return {"pull_policy": PullPolicy.OFF}

    assert _run(never_but_off) == []


def test_spread_is_judged_from_a_profile_chosen_replica_count() -> None:
    def no_spread(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> dict[str, Any]:
        del _pod(dep)["topologySpreadConstraints"]
        return {"spread_min_replicas": 4}  # the HPA keeps 3: small enough to relax

    assert _run(no_spread) == []
    found = _run(_set("p.topologySpreadConstraints", None))
    assert ids(found) == {"topology-spread-constraint"}
    assert "3 replicas" in found[0].message


def test_unset_pull_policy_with_latest_tag_reports_only_the_tag() -> None:
    # Kubernetes defaults the policy to Always for :latest, as kube-score accepts.
    def latest_unset(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        _main(dep)["image"] = "nginx:latest"
        del _main(dep)["imagePullPolicy"]

    assert ids(_run(latest_unset)) == {"container-image-tag"}


def test_digest_pinned_image_needs_no_tag() -> None:
    found = _run(_set("c.image", "registry.example.com/api-gateway@sha256:" + "c" * 64))
    assert found == [], summarize(found)


def test_container_level_runasnonroot_satisfies_without_pod_level() -> None:
    def container_level(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        _pod(dep)["securityContext"] = {}
        _main(dep)["securityContext"]["runAsNonRoot"] = True

    assert _run(container_level) == []


def test_container_runasnonroot_false_overrides_pod_level() -> None:
    def override(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        _pod(dep)["securityContext"] = {"runAsNonRoot": True}
        _main(dep)["securityContext"]["runAsNonRoot"] = False

    assert ids(_run(override)) == {"run-as-root-allowed"}


def test_pod_anti_affinity_counts_as_spread() -> None:
    def anti_affinity(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        del _pod(dep)["topologySpreadConstraints"]
        term = {
            "labelSelector": {"matchLabels": {"app": APP}},
            "topologyKey": "kubernetes.io/hostname",
        }
        _pod(dep)["affinity"] = {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": term}
                ]
            }
        }

    assert _run(anti_affinity) == []


def test_spread_on_other_labels_does_not_count() -> None:
    constraint = {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "other"}}}
    found = _run(_set("p.topologySpreadConstraints", [constraint]))
    assert ids(found) == {"topology-spread-constraint"}


def test_pdb_and_hpa_in_other_namespace_do_not_count() -> None:
    dep, other_pdb, other_hpa = deployment(), pdb(), hpa()
    other_pdb["metadata"]["namespace"] = "staging"
    other_hpa["metadata"]["namespace"] = "staging"
    found = workload_findings(dep, pdbs=[other_pdb], hpas=[other_hpa])
    assert ids(found) == {"missing-pod-disruption-budget", "missing-hpa"}


def test_hpa_targeting_another_kind_does_not_count() -> None:
    wrong = hpa()
    wrong["spec"]["scaleTargetRef"]["kind"] = "StatefulSet"
    found = workload_findings(deployment(), pdbs=[pdb()], hpas=[wrong])
    assert ids(found) == {"missing-hpa"}


def test_autoscaling_v1_cpu_status_counts_as_metrics() -> None:
    def v1(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        del hpas[0]["status"]["currentMetrics"]
        hpas[0]["status"]["currentCPUUtilizationPercentage"] = 40

    assert _run(v1) == []


def test_min_replicas_is_configurable() -> None:
    found = workload_findings(deployment(), pdbs=[pdb()], hpas=[hpa()], min_replicas=4)
    assert ids(found) == {"hpa-min-availability"}


def test_daemonset_gets_container_checks_but_no_availability_checks() -> None:
    dep = deployment()
    daemonset = {
        "kind": "DaemonSet",
        "metadata": {"name": "log-agent", "namespace": "production"},
        "spec": {"selector": dep["spec"]["selector"], "template": dep["spec"]["template"]},
    }
    assert workload_findings(daemonset) == []
    _main(daemonset)["readinessProbe"] = None
    assert ids(workload_findings(daemonset)) == {"readiness-probe-missing"}


def test_init_containers_need_resources_but_not_probes() -> None:
    def init(dep: Obj, pdbs: list[Obj], hpas: list[Obj]) -> None:
        main = _main(dep)
        _pod(dep)["initContainers"] = [
            {
                "name": "migrate",
                "image": main["image"],
                "imagePullPolicy": "Always",
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                "securityContext": main["securityContext"],
            }
        ]

    found = _run(init)
    assert ids(found) == {"cpu-limits-missing", "memory-limits-missing"}
    assert all("container migrate" in f.subject for f in found)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {"app": "x"}, True),
        (None, {"app": "x"}, False),
        ({"matchLabels": {"app": "x"}}, {"app": "x", "tier": "web"}, True),
        ({"matchLabels": {"app": "y"}}, {"app": "x"}, False),
        (
            {"matchExpressions": [{"key": "app", "operator": "In", "values": ["x", "y"]}]},
            {"app": "x"},
            True,
        ),
        (
            {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["x"]}]},
            {"app": "x"},
            False,
        ),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["x"]}]}, {}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {"app": ""}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {"app": "x"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, {"app": "x"}, False),
    ],
)
def test_label_selector_semantics(selector: object, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector, labels) is expected
