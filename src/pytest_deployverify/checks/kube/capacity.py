"""Capacity: storage classes, room on the nodes for the workload's requests, image size.

Scheduling is approximated the way the scheduler's resource fit works: a node takes a pod when
its allocatable CPU, memory and pod count minus the requests of the pods already bound to it
cover the pod's requests. Cordoned, not-Ready and untolerated-tainted nodes, and nodes outside
the pod's ``nodeSelector``, are left out. Node affinity is not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    pod_spec,
    same_namespace,
    selector_matches,
    sequence,
    subject,
)
from pytest_deployverify.checks.kube.quantities import format_bytes, format_cpu, try_parse_quantity

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


def node_headroom_findings(
    workload: KubeObject,
    nodes: Iterable[KubeObject],
    pods: Iterable[KubeObject],
    *,
    replicas: int | None = None,
) -> list[Finding]:
    """Could ``replicas`` pods of the workload (default spec.replicas) be scheduled now?

    Pods of the workload itself are not counted as load: the question is whether all its
    replicas fit beside everything else. A DaemonSet needs room for one pod on every node.
    """
    spec = pod_spec(workload)
    need = pod_requests(spec)
    candidates = eligible_nodes(spec, nodes)
    own_selector = dig(workload, "spec", "selector")
    others = [
        p
        for p in pods
        if not (same_namespace(p, workload) and selector_matches(own_selector, labels(p)))
        and dig(p, "status", "phase") not in {"Succeeded", "Failed"}
    ]
    fits = {name(n): _fit(n, need, others) for n in candidates}
    wanted = (
        len(candidates)
        if kind(workload) == "DaemonSet"
        else (replicas if replicas is not None else as_int(dig(workload, "spec", "replicas"), 1))
    )
    total = sum(fits.values())
    daemon_short = (
        [n for n, fit in fits.items() if fit < 1] if kind(workload) == "DaemonSet" else []
    )
    if total >= wanted and not daemon_short and (candidates or wanted == 0):
        return []
    per_node = ", ".join(f"{n}: {fit}" for n, fit in sorted(fits.items())) or "no eligible node"
    return [
        rules.NODE_CAPACITY(
            subject(workload),
            f"room for {total} of {wanted} pod(s) requesting cpu {format_cpu(need['cpu'])}, "
            f"memory {format_bytes(need['memory'])} (per node: {per_node}); add nodes, "
            "lower the requests, or free capacity",
        )
    ]


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


def _fit(node: KubeObject, need: Mapping[str, Decimal], others: list[KubeObject]) -> int:
    allocatable = mapping(dig(node, "status", "allocatable"))
    bound = [p for p in others if dig(p, "spec", "nodeName") == name(node)]
    counts: list[int] = []
    for resource in RESOURCES:
        have = try_parse_quantity(allocatable.get(resource)) or Decimal(0)
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
