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
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.containers import (
    image_findings,
    probe_findings,
    resource_findings,
)
from pytest_deployverify.checks.kube.expectations import PullPolicy
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
    pull_policy: PullPolicy = PullPolicy.PINNED,
    spread: bool = True,
    spread_min_replicas: int = 2,
) -> list[Finding]:
    """Every hygiene check on one workload; availability checks only for replicated kinds.

    ``pdbs`` and ``hpas`` are the PodDisruptionBudgets and HorizontalPodAutoscalers to look in
    (any namespace; only those in the workload's count). ``require_hpa=False`` drops
    ``missing-hpa`` for workloads that are deliberately not autoscaled; ``pull_policy`` and
    ``spread``/``spread_min_replicas`` relax the opinionated rules (see ``image_findings`` and
    ``spread_findings``).
    """
    found = resource_findings(workload, require_cpu_limit=require_cpu_limit)
    found += probe_findings(workload)
    found += image_findings(workload, pull_policy=pull_policy)
    found += security_findings(workload)
    if kind(workload) in REPLICATED_KINDS:
        hpa_list, pdb_list = list(hpas), list(pdbs)
        found += replica_findings(workload, hpas=hpa_list, min_replicas=min_replicas)
        found += hpa_findings(
            workload, hpa_list, min_replicas=min_replicas, require_hpa=require_hpa
        )
        found += pdb_findings(workload, pdb_list, hpas=hpa_list)
        if spread:
            found += spread_findings(workload, hpas=hpa_list, min_replicas=spread_min_replicas)
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
        rules.REPLICAS(
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
            rules.PDB_MISSING(
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
                rules.PDB_BLOCKS(
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
            rules.HPA_MISSING(
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
            rules.HPA_MIN(
                where, f"minReplicas is {low}; set minReplicas to at least {min_replicas}"
            )
        )
    if high <= low:
        found.append(
            rules.HPA_MAX(
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
            rules.HPA_METRICS(
                where,
                f"status.currentMetrics is empty{why}: the HPA cannot scale; check that "
                "metrics-server (or the custom metrics adapter) serves the target's metrics",
            )
        )
    current = as_int(status.get("currentReplicas"), 0)
    if high and current >= high:
        limited = " (ScalingLimited)" if condition_true(hpa, "ScalingLimited") else ""
        found.append(
            rules.HPA_AT_MAX(
                where,
                f"currentReplicas {current} is at maxReplicas {high}{limited}: no headroom "
                "left for more load; raise maxReplicas or add capacity",
            )
        )
    return found


def spread_terms(workload: KubeObject) -> list[dict[str, Any]]:
    """The spread rules that select the pod's own labels: topologySpreadConstraints (maxSkew,
    topologyKey, whenUnsatisfiable) and podAntiAffinity terms (topologyKey, required or
    preferred), as small plain dicts for evidence."""
    spec, pod_labels = pod_spec(workload), template_labels(workload)
    found: list[dict[str, Any]] = []
    for constraint in sequence(spec.get("topologySpreadConstraints")):
        constraint = mapping(constraint)
        if selector_matches(constraint.get("labelSelector"), pod_labels):
            found.append(
                {
                    "kind": "topologySpreadConstraint",
                    "topologyKey": constraint.get("topologyKey"),
                    "maxSkew": constraint.get("maxSkew"),
                    "whenUnsatisfiable": constraint.get("whenUnsatisfiable", "DoNotSchedule"),
                }
            )
    anti = mapping(dig(spec, "affinity", "podAntiAffinity"))
    terms = [
        ("required", mapping(t))
        for t in sequence(anti.get("requiredDuringSchedulingIgnoredDuringExecution"))
    ]
    terms += [
        ("preferred", mapping(mapping(t).get("podAffinityTerm")))
        for t in sequence(anti.get("preferredDuringSchedulingIgnoredDuringExecution"))
    ]
    for strength, term in terms:
        if selector_matches(term.get("labelSelector"), pod_labels):
            found.append(
                {
                    "kind": f"podAntiAffinity ({strength})",
                    "topologyKey": term.get("topologyKey"),
                }
            )
    return found


def spread_findings(
    workload: KubeObject, *, hpas: Iterable[KubeObject] = (), min_replicas: int = 2
) -> list[Finding]:
    """Replicas spread by topologySpreadConstraints or pod anti-affinity on the pod's labels.

    Judged only when the workload runs at least ``min_replicas`` pods (an HPA's minReplicas
    when one manages it): below that the replica checks speak, and a profile may relax the rule
    for small workloads (``[kubernetes.expect] topology_spread_min_replicas``)."""
    replicas = effective_replicas(workload, hpas)
    if replicas < max(2, min_replicas):
        return []
    if spread_terms(workload):
        return []
    return [
        rules.TOPOLOGY_SPREAD(
            subject(workload),
            f"{replicas} replicas, but no topologySpreadConstraints or podAntiAffinity selects "
            "the pod's own labels, so all replicas may land on one node or zone; add a "
            "topologySpreadConstraint (topologyKey: topology.kubernetes.io/zone or "
            "kubernetes.io/hostname)",
        )
    ]


# ---- what was judged, as small plain data for evidence ---------------------------------------------


def pdb_summary(pdb: KubeObject) -> dict[str, Any]:
    """A PodDisruptionBudget as judged: its name, its policy and (live) what it allows now."""
    spec, status = mapping(pdb.get("spec")), mapping(pdb.get("status"))
    summary: dict[str, Any] = {"name": name(pdb)}
    for key in ("minAvailable", "maxUnavailable"):
        if spec.get(key) is not None:
            summary[key] = spec.get(key)
    if has_status(pdb):
        for key in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
            if status.get(key) is not None:
                summary[key] = status.get(key)
    return summary


def metric_summary(metric: object) -> str:
    """``cpu utilization 70%``, ``pods http_requests_per_second 100``: one HPA metric in words."""
    metric = mapping(metric)
    metric_type = str(metric.get("type") or "?")
    body = mapping(metric.get(metric_type[:1].lower() + metric_type[1:]))
    label = str(body.get("name") or dig(body, "metric", "name") or metric_type.lower())
    value = mapping(body.get("target") or body.get("current"))
    if value.get("averageUtilization") is not None:
        return f"{label} utilization {value['averageUtilization']}%"
    amount = value.get("averageValue") or value.get("value")
    return f"{label} {amount}" if amount is not None else label


def hpa_summary(hpa: KubeObject) -> dict[str, Any]:
    """An HorizontalPodAutoscaler as judged: bounds, (live) replicas, target and current metrics."""
    spec, status = mapping(hpa.get("spec")), mapping(hpa.get("status"))
    summary: dict[str, Any] = {
        "name": name(hpa),
        "minReplicas": as_int(spec.get("minReplicas"), 1),
        "maxReplicas": spec.get("maxReplicas"),
        "metrics": [metric_summary(m) for m in sequence(spec.get("metrics"))]
        or (
            [f"cpu utilization {spec['targetCPUUtilizationPercentage']}%"]
            if spec.get("targetCPUUtilizationPercentage") is not None
            else []
        ),
    }
    if has_status(hpa):
        summary["currentReplicas"] = status.get("currentReplicas")
        summary["desiredReplicas"] = status.get("desiredReplicas")
        summary["currentMetrics"] = [
            metric_summary(m) for m in sequence(status.get("currentMetrics"))
        ]
    return summary
