"""Small typed accessors over Kubernetes objects held as plain dicts (API JSON or YAML manifests).

Every check in this package reads objects through these helpers so that a missing key, ``None`` or
an unexpected type never raises: Kubernetes omits empty fields, and manifests omit defaulted ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

KubeObject = Mapping[str, Any]
"""One Kubernetes object as a plain mapping with camelCase keys."""

POD_TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}
)
# Workloads that run their pods to completion: judged by how their runs ended, never by the rules
# of long-running replicas (probes, replicas, PDB, HPA, spread, Services, rolling updates).
RUN_TO_COMPLETION_KINDS = frozenset({"Job", "CronJob"})
# Kinds whose objects live outside namespaces: never given a default namespace.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "RuntimeClass",
        "StorageClass",
        "ValidatingWebhookConfiguration",
    }
)


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (Kubernetes omits empty fields)."""
    return value if isinstance(value, Mapping) else {}


def sequence(value: object) -> list[Any]:
    """``value`` as a list when it is a list or tuple, else an empty list."""
    return list(value) if isinstance(value, list | tuple) else []


def dig(obj: object, *path: str) -> Any:
    """The value at ``path`` inside nested mappings, or ``None`` when any step is missing."""
    current: Any = obj
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def kind(obj: KubeObject) -> str:
    return str(obj.get("kind") or "")


def name(obj: KubeObject) -> str:
    return str(dig(obj, "metadata", "name") or "")


def namespace(obj: KubeObject, default: str = "") -> str:
    return str(dig(obj, "metadata", "namespace") or default)


def labels(obj: KubeObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping(dig(obj, "metadata", "labels")).items()}


def annotations_of(obj: KubeObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping(dig(obj, "metadata", "annotations")).items()}


def has_status(obj: KubeObject) -> bool:
    """True for objects read from the API; rendered manifests carry no ``status``."""
    return isinstance(obj.get("status"), Mapping)


def is_terminating(obj: KubeObject) -> bool:
    return bool(dig(obj, "metadata", "deletionTimestamp"))


def subject(obj: KubeObject, container: str | None = None, *, default_kind: str = "") -> str:
    """``Deployment prod/api-gateway container gateway``: how findings name what they are about."""
    text = kind(obj) or default_kind or "object"
    ns, nm = namespace(obj), name(obj) or "<unnamed>"
    text += f" {ns}/{nm}" if ns else f" {nm}"
    if container:
        text += f" container {container}"
    return text


def same_namespace(a: KubeObject, b: KubeObject) -> bool:
    """Objects without a namespace (bare pod specs, manifests before defaulting) match any."""
    na, nb = namespace(a), namespace(b)
    return not na or not nb or na == nb


def pod_template(workload: KubeObject) -> Mapping[str, Any]:
    """The pod template (``metadata`` + ``spec``) of a workload, a Pod, or a bare pod spec."""
    k = kind(workload)
    if k == "Pod":
        return workload
    if k == "CronJob":
        return mapping(dig(workload, "spec", "jobTemplate", "spec", "template"))
    if k == "PodTemplate":
        return mapping(workload.get("template"))
    if k in POD_TEMPLATE_KINDS:
        return mapping(dig(workload, "spec", "template"))
    if "containers" in workload:
        return {"spec": workload}
    return mapping(dig(workload, "template"))


def pod_spec(workload: KubeObject) -> Mapping[str, Any]:
    """The pod spec of a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod)."""
    return mapping(pod_template(workload).get("spec"))


def template_labels(workload: KubeObject) -> dict[str, str]:
    """Labels the workload's pods carry (the pod template's, or the Pod's own)."""
    return labels(pod_template(workload))


def containers(spec: Mapping[str, Any], *, init: bool = True) -> list[Mapping[str, Any]]:
    """Regular containers, preceded by init containers when ``init`` is true."""
    found = sequence(spec.get("initContainers")) if init else []
    found += sequence(spec.get("containers"))
    return [mapping(c) for c in found if isinstance(c, Mapping)]


def conditions(obj: KubeObject) -> dict[str, Mapping[str, Any]]:
    """``status.conditions`` keyed by type."""
    found: dict[str, Mapping[str, Any]] = {}
    for cond in sequence(dig(obj, "status", "conditions")):
        if isinstance(cond, Mapping) and cond.get("type"):
            found[str(cond["type"])] = cond
    return found


def condition_true(obj: KubeObject, cond_type: str) -> bool:
    return str(mapping(conditions(obj).get(cond_type)).get("status")) == "True"


def as_int(value: object, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return default


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp as Kubernetes writes it (``2025-11-13T10:00:00Z``), or ``None``."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def selector_matches(selector: object, pod_labels: Mapping[str, str]) -> bool:
    """Kubernetes LabelSelector semantics: ``matchLabels`` and ``matchExpressions`` all hold.

    An empty selector (``{}``) selects everything; a missing one (``None``) selects nothing.
    """
    if not isinstance(selector, Mapping):
        return False
    for key, value in mapping(selector.get("matchLabels")).items():
        if pod_labels.get(str(key)) != str(value):
            return False
    for expr in sequence(selector.get("matchExpressions")):
        if not _expression_matches(mapping(expr), pod_labels):
            return False
    return True


def _expression_matches(expr: Mapping[str, Any], pod_labels: Mapping[str, str]) -> bool:
    key = str(expr.get("key", ""))
    operator = str(expr.get("operator", ""))
    values = {str(v) for v in sequence(expr.get("values"))}
    if operator == "In":
        return key in pod_labels and pod_labels[key] in values
    if operator == "NotIn":
        return key not in pod_labels or pod_labels[key] not in values
    if operator == "Exists":
        return key in pod_labels
    if operator == "DoesNotExist":
        return key not in pod_labels
    return False  # an unknown operator is rejected by the API; never match by accident


def map_selector_matches(selector: object, pod_labels: Mapping[str, str]) -> bool:
    """A Service-style plain ``{key: value}`` selector; an empty one selects nothing."""
    if not isinstance(selector, Mapping) or not selector:
        return False
    return all(pod_labels.get(str(k)) == str(v) for k, v in selector.items())


def by_key(objects: Iterable[KubeObject]) -> dict[tuple[str, str, str], KubeObject]:
    """Objects indexed by ``(kind, namespace, name)``; the last one wins."""
    return {(kind(o), namespace(o), name(o)): o for o in objects}


def pod_from_template(workload: KubeObject) -> dict[str, Any]:
    """A Pod-shaped dict built from a workload's pod template, for selector checks pre-deploy."""
    return {
        "kind": "Pod",
        "metadata": {
            "name": f"{name(workload)}-template",
            "namespace": namespace(workload),
            "labels": template_labels(workload),
        },
        "spec": dict(pod_spec(workload)),
    }


# Labels the Job controller puts on its pods (the short one before Kubernetes 1.27, both since).
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")


def owned_by(obj: KubeObject, owner: KubeObject) -> bool:
    """``obj`` names ``owner`` among its ownerReferences (by uid when both carry one, else by
    kind and name), in the same namespace."""
    uid = dig(owner, "metadata", "uid")
    for ref in sequence(dig(obj, "metadata", "ownerReferences")):
        ref = mapping(ref)
        if uid and ref.get("uid"):
            if ref.get("uid") == uid:
                return True
        elif ref.get("kind") == kind(owner) and ref.get("name") == name(owner):
            return same_namespace(obj, owner)
    return False


def is_job_pod(pod: KubeObject, job: KubeObject) -> bool:
    """A pod the Job created: it carries the job-name label, or names the Job as its owner."""
    if not same_namespace(pod, job):
        return False
    pod_labels = labels(pod)
    if any(pod_labels.get(label) == name(job) for label in JOB_NAME_LABELS):
        return True
    return owned_by(pod, job)


def with_kind(objects: Iterable[KubeObject], obj_kind: str) -> list[dict[str, Any]]:
    """Copies of list-response items with ``kind`` set (the API omits it on list items)."""
    return [{**obj, "kind": obj.get("kind") or obj_kind} for obj in objects]
