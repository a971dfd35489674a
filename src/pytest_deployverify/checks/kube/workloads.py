"""Workload hygiene: one entry point over a pod template, plus the availability checks.

``workload_findings`` runs the same on a live Deployment, StatefulSet or DaemonSet and on a
rendered manifest (pre-deploy mode). Availability means: enough replicas, a PodDisruptionBudget
that selects the pods without blocking every eviction, an HPA that can scale, and pods spread
across nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube.catalog import check
from pytest_deployverify.checks.kube.containers import (
    image_findings,
    probe_findings,
    resource_findings,
)
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    as_int,
    condition_true,
    conditions,
    dig,
    has_status,
    kind,
    mapping,
    name,
    namespace,
    pod_spec,
    same_namespace,
    selector_matches,
    sequence,
    subject,
    template_labels,
)
from pytest_deployverify.checks.kube.security import security_findings

REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})


def workload_findings(
    workload: KubeObject,
    *,
    pdbs: Iterable[KubeObject] = (),
    hpas: Iterable[KubeObject] = (),
    min_replicas: int = 2,
    require_hpa: bool = True,
    require_cpu_limit: bool = True,
) -> list[Finding]:
    """Every hygiene check on one workload; availability checks only for replicated kinds.

    ``pdbs`` and ``hpas`` are the PodDisruptionBudgets and HorizontalPodAutoscalers to look in
    (any namespace; only those in the workload's count). ``require_hpa=False`` drops
    ``missing-hpa`` for workloads that are deliberately not autoscaled.
    """
    found = resource_findings(workload, require_cpu_limit=require_cpu_limit)
    found += probe_findings(workload)
    found += image_findings(workload)
    found += security_findings(workload)
    if kind(workload) in REPLICATED_KINDS:
        hpa_list, pdb_list = list(hpas), list(pdbs)
        found += replica_findings(workload, hpas=hpa_list, min_replicas=min_replicas)
        found += hpa_findings(
            workload, hpa_list, min_replicas=min_replicas, require_hpa=require_hpa
        )
        found += pdb_findings(workload, pdb_list, hpas=hpa_list)
        found += spread_findings(workload, hpas=hpa_list)
    return found


def targeting_hpas(workload: KubeObject, hpas: Iterable[KubeObject]) -> list[KubeObject]:
    """HPAs whose ``scaleTargetRef`` names this workload (kind + name, same namespace)."""
    return [
        hpa
        for hpa in hpas
        if same_namespace(hpa, workload)
        and dig(hpa, "spec", "scaleTargetRef", "kind") == kind(workload)
        and dig(hpa, "spec", "scaleTargetRef", "name") == name(workload)
    ]


def selecting_pdbs(workload: KubeObject, pdbs: Iterable[KubeObject]) -> list[KubeObject]:
    """PDBs in the workload's namespace whose selector matches its pod template labels."""
    pod_labels = template_labels(workload)
    return [
        pdb
        for pdb in pdbs
        if same_namespace(pdb, workload)
        and selector_matches(dig(pdb, "spec", "selector"), pod_labels)
    ]


def effective_replicas(workload: KubeObject, hpas: Iterable[KubeObject] = ()) -> int:
    """The replica count the workload can drop to: an HPA's minReplicas, else spec.replicas."""
    targeting = targeting_hpas(workload, hpas)
    if targeting:
        return min(as_int(dig(h, "spec", "minReplicas"), 1) for h in targeting)
    return as_int(dig(workload, "spec", "replicas"), 1)


def replica_findings(
    workload: KubeObject, *, hpas: Iterable[KubeObject] = (), min_replicas: int = 2
) -> list[Finding]:
    """At least ``min_replicas``; left to ``hpa-min-availability`` when an HPA owns replicas."""
    if targeting_hpas(workload, hpas):
        return []
    replicas = as_int(dig(workload, "spec", "replicas"), 1)
    if replicas >= min_replicas:
        return []
    return [
        check("deployment-missing-replicas").finding(
            subject(workload),
            f"spec.replicas is {replicas}: one pod restart or node drain is an outage; "
            f"set replicas to at least {min_replicas} (or let an HPA with minReplicas "
            f">= {min_replicas} manage it)",
        )
    ]


def pdb_findings(
    workload: KubeObject, pdbs: Iterable[KubeObject], *, hpas: Iterable[KubeObject] = ()
) -> list[Finding]:
    """A PDB selects the pods, and it still lets at least one pod be evicted."""
    matching = selecting_pdbs(workload, pdbs)
    if not matching:
        return [
            check("missing-pod-disruption-budget").finding(
                subject(workload),
                f"no PodDisruptionBudget in namespace {namespace(workload) or '<any>'} selects "
                f"labels {template_labels(workload)}; add a PDB (e.g. maxUnavailable: 1) so "
                "node drains keep the service up",
            )
        ]
    replicas = effective_replicas(workload, hpas)
    found: list[Finding] = []
    for pdb in matching:
        blocked = _blocks_all_disruptions(mapping(pdb.get("spec")), replicas)
        if blocked:
            found.append(
                check("pdb-disruptions-is-zero").finding(
                    subject(pdb),
                    f"{blocked} with {replicas} replica(s) allows no voluntary disruption, so "
                    f"node drains hang on {kind(workload)} {name(workload)}; use "
                    "maxUnavailable: 1 or a minAvailable below the replica count",
                )
            )
    return found


def _blocks_all_disruptions(spec: Mapping[str, Any], replicas: int) -> str:
    """A description of the blocking setting, or ``""`` when some disruption is allowed."""
    max_unavailable = spec.get("maxUnavailable")
    if max_unavailable is not None:
        if str(max_unavailable).strip() in {"0", "0%"}:
            return f"maxUnavailable: {max_unavailable}"
        return ""
    min_available = spec.get("minAvailable")
    if min_available is None:
        return ""
    text = str(min_available).strip()
    if text.endswith("%"):
        percent = as_int(text[:-1], 0)
        # Kubernetes rounds minAvailable percentages up.
        needed = -(-percent * replicas // 100)
    else:
        needed = as_int(text, 0)
    return f"minAvailable: {min_available}" if needed >= replicas else ""


def hpa_findings(
    workload: KubeObject,
    hpas: Iterable[KubeObject],
    *,
    min_replicas: int = 2,
    require_hpa: bool = True,
) -> list[Finding]:
    """An HPA targets the workload, keeps enough replicas, has room to grow and reads metrics."""
    targeting = targeting_hpas(workload, hpas)
    if not targeting:
        if not require_hpa:
            return []
        return [
            check("missing-hpa").finding(
                subject(workload),
                f"no HorizontalPodAutoscaler has scaleTargetRef {kind(workload)}/"
                f"{name(workload)}; add one (minReplicas >= {min_replicas}) or pass "
                "require_hpa=False for a fixed-size workload",
            )
        ]
    found: list[Finding] = []
    for hpa in targeting:
        found += _one_hpa(hpa, min_replicas)
    return found


def _one_hpa(hpa: KubeObject, min_replicas: int) -> list[Finding]:
    where = subject(hpa)
    low = as_int(dig(hpa, "spec", "minReplicas"), 1)
    high = as_int(dig(hpa, "spec", "maxReplicas"), 0)
    found: list[Finding] = []
    if low < min_replicas:
        found.append(
            check("hpa-min-availability").finding(
                where, f"minReplicas is {low}; set minReplicas to at least {min_replicas}"
            )
        )
    if high <= low:
        found.append(
            check("hpa-max-availability").finding(
                where,
                f"maxReplicas {high} <= minReplicas {low}: the HPA can never scale out; "
                "raise maxReplicas",
            )
        )
    if not has_status(hpa):
        return found  # a rendered manifest: nothing observed yet
    status = mapping(hpa.get("status"))
    # autoscaling/v1 reports CPU only, in currentCPUUtilizationPercentage.
    has_metrics = bool(sequence(status.get("currentMetrics"))) or (
        status.get("currentCPUUtilizationPercentage") is not None
    )
    if not has_metrics:
        active = mapping(conditions(hpa).get("ScalingActive"))
        why = f" (ScalingActive: {active.get('reason')}: {active.get('message')})" if active else ""
        found.append(
            check("hpa-missing-metrics").finding(
                where,
                f"status.currentMetrics is empty{why}: the HPA cannot scale; check that "
                "metrics-server (or the custom metrics adapter) serves the target's metrics",
            )
        )
    current = as_int(status.get("currentReplicas"), 0)
    if high and current >= high:
        limited = " (ScalingLimited)" if condition_true(hpa, "ScalingLimited") else ""
        found.append(
            check("hpa-at-max-replicas").finding(
                where,
                f"currentReplicas {current} is at maxReplicas {high}{limited}: no headroom "
                "left for more load; raise maxReplicas or add capacity",
            )
        )
    return found


def spread_findings(workload: KubeObject, *, hpas: Iterable[KubeObject] = ()) -> list[Finding]:
    """Replicas spread by topologySpreadConstraints or pod anti-affinity on the pod's labels."""
    if effective_replicas(workload, hpas) < 2:
        return []  # the replica checks already report a single pod
    spec, pod_labels = pod_spec(workload), template_labels(workload)
    for constraint in sequence(spec.get("topologySpreadConstraints")):
        if selector_matches(mapping(constraint).get("labelSelector"), pod_labels):
            return []
    anti = mapping(dig(spec, "affinity", "podAntiAffinity"))
    terms = sequence(anti.get("requiredDuringSchedulingIgnoredDuringExecution"))
    terms += [
        mapping(t).get("podAffinityTerm")
        for t in sequence(anti.get("preferredDuringSchedulingIgnoredDuringExecution"))
    ]
    for term in terms:
        if selector_matches(mapping(term).get("labelSelector"), pod_labels):
            return []
    return [
        check("topology-spread-constraint").finding(
            subject(workload),
            "no topologySpreadConstraints or podAntiAffinity selects the pod's own labels, so "
            "all replicas may land on one node or zone; add a topologySpreadConstraint "
            "(topologyKey: topology.kubernetes.io/zone or kubernetes.io/hostname)",
        )
    ]
