"""Capacity: storage classes, room on the nodes for the workload's requests, its volumes, image
size.

Scheduling is approximated the way the scheduler's resource fit works: a node takes a pod when
its allocatable CPU, memory and pod count minus the requests of the pods already bound to it
cover the pod's requests. Cordoned, not-Ready and untolerated-tainted nodes, and nodes outside
the pod's ``nodeSelector``, are left out. Node affinity is not evaluated.

Room is judged for the current replicas and for the worst case the rollout and the autoscaler can
reach (``peak_replicas``: the HPA's maxReplicas, else spec.replicas, plus the rolling update's
maxSurge), optionally keeping a margin of each node's allocatable CPU and memory free. The
workload's PersistentVolumeClaims are judged as the API reports them (Bound, capacity against the
request, the StorageClass's allowVolumeExpansion); how full a volume is (kubelet volume stats) is
not read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.images import same_image
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    annotations_of,
    as_int,
    condition_true,
    dig,
    kind,
    labels,
    mapping,
    name,
    namespace,
    pod_spec,
    same_namespace,
    selector_matches,
    sequence,
    subject,
)
from pytest_deployverify.checks.kube.quantities import format_bytes, format_cpu, try_parse_quantity
from pytest_deployverify.checks.kube.workloads import targeting_hpas

DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
RESOURCES = ("cpu", "memory")


def storage_class_findings(
    storage_classes: Iterable[KubeObject],
    required: str | None = None,
    *,
    require_default: bool = False,
) -> list[Finding]:
    """The ``required`` StorageClass exists; with ``require_default``, one is marked default."""
    classes = list(storage_classes)
    found: list[Finding] = []
    if required and not any(name(c) == required for c in classes):
        known = ", ".join(sorted(name(c) for c in classes)) or "none"
        found.append(
            rules.STORAGE_CLASS(
                f"StorageClass {required}",
                f"not found (cluster has: {known}); create it or change the claim's "
                "storageClassName",
            )
        )
    if require_default and not any(_is_default(c) for c in classes):
        found.append(
            rules.STORAGE_CLASS_DEFAULT(
                "StorageClass <default>",
                "no StorageClass is annotated storageclass.kubernetes.io/is-default-class: "
                '"true"; claims without storageClassName stay Pending: mark one default',
            )
        )
    return found


def pod_requests(spec: Mapping[str, Any]) -> dict[str, Decimal]:
    """A pod's effective requests: the larger of its containers' sum and any init container's
    (sidecar init containers count with the regular ones), plus pod overhead.
    """
    totals: dict[str, Decimal] = {}
    for resource in RESOURCES:
        regular = sum((_request(c, resource) for c in sequence(spec.get("containers"))), Decimal(0))
        peak_init = Decimal(0)
        for init in sequence(spec.get("initContainers")):
            if mapping(init).get("restartPolicy") == "Always":
                regular += _request(init, resource)
            else:
                peak_init = max(peak_init, _request(init, resource))
        overhead = try_parse_quantity(dig(spec, "overhead", resource)) or Decimal(0)
        totals[resource] = max(regular, peak_init) + overhead
    return totals


def eligible_nodes(spec: Mapping[str, Any], nodes: Iterable[KubeObject]) -> list[KubeObject]:
    """Ready, schedulable nodes matching the pod's nodeSelector whose taints it tolerates."""
    selector = {str(k): str(v) for k, v in mapping(spec.get("nodeSelector")).items()}
    tolerations = [mapping(t) for t in sequence(spec.get("tolerations"))]
    chosen: list[KubeObject] = []
    for node in nodes:
        if dig(node, "spec", "unschedulable") is True or not condition_true(node, "Ready"):
            continue
        node_labels = labels(node)
        if any(node_labels.get(k) != v for k, v in selector.items()):
            continue
        taints = [
            mapping(t)
            for t in sequence(dig(node, "spec", "taints"))
            if mapping(t).get("effect") in {"NoSchedule", "NoExecute"}
        ]
        if all(_tolerates(tolerations, t) for t in taints):
            chosen.append(node)
    return chosen


@dataclass(frozen=True)
class Peak:
    """The most pods of a workload that can exist at once: ``replicas`` (the HPA's maxReplicas,
    else spec.replicas; for a DaemonSet, one per node) plus ``surge`` (a rolling update's
    maxSurge; for a DaemonSet, per node), and ``because`` says where the numbers come from."""

    replicas: int
    surge: int
    because: str

    @property
    def count(self) -> int:
        return self.replicas + self.surge


def surge_of(value: object, replicas: int, default: str = "25%") -> int:
    """A maxSurge (an int or a percentage of ``replicas``, rounded up as Kubernetes does)."""
    raw = default if value is None else value
    text = str(raw).strip()
    if text.endswith("%"):
        try:
            return math.ceil(float(text[:-1]) * replicas / 100)
        except ValueError:
            return 0
    return max(0, as_int(raw))


def pods_at_once(workload: KubeObject) -> int:
    """How many pods the workload runs at once: spec.replicas; for a Job (a CronJob's Jobs) its
    parallelism, no more than its completions."""
    if kind(workload) in ("Job", "CronJob"):
        spec = mapping(
            dig(workload, "spec", "jobTemplate", "spec")
            if kind(workload) == "CronJob"
            else workload.get("spec")
        )
        parallel = as_int(spec.get("parallelism"), 1)
        completions = spec.get("completions")
        return min(parallel, as_int(completions, parallel)) if completions is not None else parallel
    return as_int(dig(workload, "spec", "replicas"), 1)


def peak_replicas(workload: KubeObject, hpas: Iterable[KubeObject] = ()) -> Peak:
    """The worst case the rollout and the autoscaler can reach (see ``Peak``)."""
    workload_kind = kind(workload)
    if workload_kind in ("Job", "CronJob"):
        count = pods_at_once(workload)
        return Peak(count, 0, f"{count} pod(s) at once (parallelism; no rolling update)")
    strategy = mapping(
        dig(workload, "spec", "strategy" if workload_kind == "Deployment" else "updateStrategy")
    )
    if workload_kind == "DaemonSet":
        surge_value = dig(strategy, "rollingUpdate", "maxSurge")
        rolling = (strategy.get("type") or "RollingUpdate") == "RollingUpdate"
        surge = 1 if rolling and surge_of(surge_value, 1, default="0") > 0 else 0
        because = "one pod per eligible node" + (
            f", plus one more during a rolling update (maxSurge {surge_value})" if surge else ""
        )
        return Peak(1, surge, because)
    scalers = targeting_hpas(workload, hpas)
    if scalers:
        top = max(scalers, key=lambda h: as_int(dig(h, "spec", "maxReplicas"), 1))
        replicas = as_int(dig(top, "spec", "maxReplicas"), 1)
        because = f"HPA {name(top)} maxReplicas {replicas}"
    else:
        replicas = as_int(dig(workload, "spec", "replicas"), 1)
        because = f"spec.replicas {replicas}"
    surge = 0
    rolling = (strategy.get("type") or "RollingUpdate") == "RollingUpdate"
    if workload_kind == "Deployment" and rolling:
        raw = dig(strategy, "rollingUpdate", "maxSurge")
        surge = surge_of(raw, replicas)
        if surge:
            shown = raw if raw is not None else "25%"
            because += f", plus maxSurge {shown} ({surge}) during a rolling update"
    return Peak(replicas, surge, because)


def node_room(
    workload: KubeObject,
    nodes: Iterable[KubeObject],
    pods: Iterable[KubeObject],
    *,
    margin: float = 0.0,
) -> dict[str, int]:
    """How many more pods of the workload each eligible node takes, beside everything else bound
    to it (the workload's own pods are not load), keeping ``margin`` of its allocatable CPU and
    memory free."""
    spec = pod_spec(workload)
    need = pod_requests(spec)
    own_selector = dig(workload, "spec", "selector")
    others = [
        p
        for p in pods
        if not (same_namespace(p, workload) and selector_matches(own_selector, labels(p)))
        and dig(p, "status", "phase") not in {"Succeeded", "Failed"}
    ]
    return {name(n): _fit(n, need, others, margin) for n in eligible_nodes(spec, nodes)}


def node_headroom_findings(
    workload: KubeObject,
    nodes: Iterable[KubeObject],
    pods: Iterable[KubeObject],
    *,
    replicas: int | None = None,
    peak: Peak | None = None,
    margin: float = 0.0,
) -> list[Finding]:
    """Could ``replicas`` pods of the workload (default spec.replicas) be scheduled now, and, with
    ``peak``, the worst case the rollout and autoscaler can reach?

    Pods of the workload itself are not counted as load: the question is whether all its
    replicas fit beside everything else. A DaemonSet needs room for one pod on every node (two
    while a surging rolling update replaces it). ``margin`` keeps that fraction of each node's
    allocatable CPU and memory free.
    """
    spec = pod_spec(workload)
    need = pod_requests(spec)
    fits = node_room(workload, nodes, pods, margin=margin)
    daemon = kind(workload) == "DaemonSet"
    wanted = len(fits) if daemon else (replicas if replicas is not None else pods_at_once(workload))
    total = sum(fits.values())
    per_node = ", ".join(f"{n}: {fit}" for n, fit in sorted(fits.items())) or "no eligible node"
    requesting = f"requesting cpu {format_cpu(need['cpu'])}, memory {format_bytes(need['memory'])}"
    kept = f", keeping {margin:.0%} of each node free" if margin else ""
    daemon_short = [n for n, fit in fits.items() if fit < 1] if daemon else []
    if not (total >= wanted and not daemon_short and (fits or wanted == 0)):
        return [
            rules.NODE_CAPACITY(
                subject(workload),
                f"room for {total} of {wanted} pod(s) {requesting} (per node: {per_node}{kept}); "
                "add nodes, lower the requests, or free capacity",
            )
        ]
    if peak is None:
        return []
    if daemon:
        short = [n for n, fit in sorted(fits.items()) if fit < peak.count]
        if not short:
            return []
        problem = f"no room for {peak.count} pods on node(s) {', '.join(short)}"
    else:
        if total >= peak.count:
            return []
        problem = f"room for {total} of {peak.count} pod(s)"
    return [
        rules.NODE_CAPACITY(
            subject(workload),
            f"{problem} at the worst case the rollout and autoscaler can reach ({peak.because}), "
            f"{requesting} (per node: {per_node}{kept}); add nodes, lower the requests or the "
            "maximum, or free capacity ([kubernetes.expect] capacity_worst_case = false when a "
            "cluster autoscaler adds nodes on demand)",
        )
    ]


# ---- the workload's volumes -------------------------------------------------------------------------


def claimed_volumes(workload: KubeObject) -> list[str]:
    """Names of the PersistentVolumeClaims the workload's pods use: its volumes' claims, and a
    StatefulSet's claims from its templates (``<template>-<name>-<ordinal>``)."""
    found = [
        str(dig(v, "persistentVolumeClaim", "claimName"))
        for v in sequence(pod_spec(workload).get("volumes"))
        if dig(v, "persistentVolumeClaim", "claimName")
    ]
    if kind(workload) == "StatefulSet":
        replicas = as_int(dig(workload, "spec", "replicas"), 1)
        for template in sequence(dig(workload, "spec", "volumeClaimTemplates")):
            base = dig(template, "metadata", "name")
            if base:
                found += [f"{base}-{name(workload)}-{i}" for i in range(replicas)]
    return list(dict.fromkeys(found))


def _claim_class(
    claim: KubeObject, classes: Mapping[str, KubeObject]
) -> tuple[str | None, KubeObject | None]:
    wanted = dig(claim, "spec", "storageClassName")
    if wanted:
        return str(wanted), classes.get(str(wanted))
    default = next((c for c in classes.values() if _is_default(c)), None)
    return (name(default) if default else None), default


def volume_summary(
    workload: KubeObject, claims: Iterable[KubeObject], storage_classes: Iterable[KubeObject]
) -> dict[str, Any]:
    """Per claim the workload uses: phase, requested and provided storage, class, expandable."""
    by_name = {name(c): c for c in claims if same_namespace(c, workload)}
    classes = {name(c): c for c in storage_classes}
    out: dict[str, Any] = {}
    for claim_name in claimed_volumes(workload):
        claim = by_name.get(claim_name)
        if claim is None:
            out[claim_name] = "absent"
            continue
        class_name, storage_class = _claim_class(claim, classes)
        out[claim_name] = {
            "phase": dig(claim, "status", "phase"),
            "requested": dig(claim, "spec", "resources", "requests", "storage"),
            "capacity": dig(claim, "status", "capacity", "storage"),
            "storageClass": class_name,
            "allowVolumeExpansion": bool(
                storage_class and storage_class.get("allowVolumeExpansion")
            ),
        }
    return out


def volume_findings(
    workload: KubeObject,
    claims: Iterable[KubeObject],
    storage_classes: Iterable[KubeObject],
    *,
    require_expansion: bool = False,
) -> list[Finding]:
    """Every claim the workload uses exists and is Bound, provides at least the storage it
    requests, and (``require_expansion``) its StorageClass allows volume expansion."""
    by_name = {name(c): c for c in claims if same_namespace(c, workload)}
    classes = {name(c): c for c in storage_classes}
    ns = namespace(workload)
    found: list[Finding] = []
    for claim_name in claimed_volumes(workload):
        about = (
            f"PersistentVolumeClaim {ns}/{claim_name}"
            if ns
            else f"PersistentVolumeClaim {claim_name}"
        )
        claim = by_name.get(claim_name)
        if claim is None:
            found.append(
                rules.VOLUME_NOT_BOUND(
                    about,
                    f"does not exist, and {subject(workload)} mounts it: its pod cannot start; "
                    "create the claim (a StatefulSet creates its own from volumeClaimTemplates)",
                )
            )
            continue
        phase = dig(claim, "status", "phase")
        if phase != "Bound":
            found.append(
                rules.VOLUME_NOT_BOUND(
                    about,
                    f"is {phase or 'without a phase'}, not Bound: no volume was provisioned or "
                    "bound for it (check its StorageClass, provisioner and events)",
                )
            )
            continue
        requested_text = dig(claim, "spec", "resources", "requests", "storage")
        capacity_text = dig(claim, "status", "capacity", "storage")
        requested = try_parse_quantity(requested_text)
        provided = try_parse_quantity(capacity_text)
        if requested is not None and provided is not None and provided < requested:
            found.append(
                rules.VOLUME_CAPACITY(
                    about,
                    f"provides {capacity_text} but requests {requested_text}: the volume is "
                    "smaller than the workload asked for; expand it or bind a larger volume",
                )
            )
        class_name, storage_class = _claim_class(claim, classes)
        if require_expansion and not (
            storage_class is not None and storage_class.get("allowVolumeExpansion") is True
        ):
            why = (
                f"StorageClass {class_name} does not set allowVolumeExpansion: true"
                if storage_class is not None
                else f"its StorageClass {class_name or '(none)'} is not among the cluster's"
            )
            found.append(
                rules.VOLUME_EXPANSION(
                    about,
                    f"cannot grow when it fills: {why}; use an expandable class "
                    "([kubernetes.expect] require_volume_expansion)",
                )
            )
    return found


def image_size_findings(
    image: str, nodes: Iterable[KubeObject], max_bytes: int, *, about: str | None = None
) -> list[Finding]:
    """The image is at most ``max_bytes``, from the nodes' ``status.images`` (digest-aware)."""
    where = about or f"Image {image}"
    sizes = [
        as_int(mapping(entry).get("sizeBytes"))
        for node in nodes
        for entry in sequence(dig(node, "status", "images"))
        if any(same_image(str(n), image) for n in sequence(mapping(entry).get("names")))
    ]
    if not sizes:
        return [
            rules.IMAGE_SIZE_UNKNOWN(
                where,
                "no node lists this image in status.images (not pulled yet, or the list is "
                "truncated); check its size in the registry",
            )
        ]
    size = max(sizes)
    if size <= max_bytes:
        return []
    return [
        rules.IMAGE_TOO_LARGE(
            where,
            f"image is {format_bytes(Decimal(size))}, above the limit "
            f"{format_bytes(Decimal(max_bytes))}; slim it (multi-stage build, smaller base, "
            "no build tools)",
        )
    ]


def _fit(
    node: KubeObject, need: Mapping[str, Decimal], others: list[KubeObject], margin: float = 0.0
) -> int:
    allocatable = mapping(dig(node, "status", "allocatable"))
    bound = [p for p in others if dig(p, "spec", "nodeName") == name(node)]
    counts: list[int] = []
    keep = Decimal(1) - Decimal(str(margin))
    for resource in RESOURCES:
        have = (try_parse_quantity(allocatable.get(resource)) or Decimal(0)) * keep
        used = sum((pod_requests(pod_spec(p))[resource] for p in bound), Decimal(0))
        if need[resource] > 0:
            counts.append(max(0, int((have - used) // need[resource])))
    pod_slots = as_int(allocatable.get("pods"), 110) - len(bound)
    counts.append(max(0, pod_slots))
    return min(counts)


def _request(container: object, resource: str) -> Decimal:
    amount = try_parse_quantity(dig(container, "resources", "requests", resource))
    return amount if amount is not None else Decimal(0)


def _tolerates(tolerations: list[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        if (tol.get("operator") or "Equal") == "Exists":
            if not tol.get("key") or tol.get("key") == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and str(tol.get("value") or "") == str(
            taint.get("value") or ""
        ):
            return True
    return False


def _is_default(storage_class: KubeObject) -> bool:
    notes = annotations_of(storage_class)
    return any(notes.get(a) == "true" for a in DEFAULT_CLASS_ANNOTATIONS)
