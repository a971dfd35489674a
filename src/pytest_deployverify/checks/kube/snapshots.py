"""What the Kubernetes component reads, as plain data the checks judge.

``KubeObjects`` holds every kind the checklist needs, read once per run: LISTed concurrently from
the live cluster (the profile's namespace plus the cluster-scoped kinds), or loaded from rendered
manifests (pre-deploy mode). A kind that could not be read (403 on Secrets, an API group the
server does not serve) is kept as its problem, so only the items that need it fail.
``VerifierAccess`` is what the verifier's own credentials may do; ``PodLogs`` the tails of the
workloads' container logs. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.kube.objects import (
    CLUSTER_SCOPED_KINDS,
    KubeObject,
    dig,
    is_job_pod,
    kind,
    labels,
    name,
    namespace,
    owned_by,
    pod_from_template,
    selector_matches,
)

WORKLOAD_KINDS = {
    "deployment": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "ds": "DaemonSet",
    "cronjob": "CronJob",
    "cj": "CronJob",
    "job": "Job",
}
# The kinds a ``[kubernetes] workloads`` entry may name, as messages list them.
WORKLOAD_KIND_NAMES = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job")

# What the checklist reads, per namespace (the profile's) and cluster-wide.
NAMESPACED_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "Service",
    "EndpointSlice",
    "Ingress",
    "NetworkPolicy",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "PersistentVolumeClaim",
)
CLUSTER_KINDS = ("Node", "StorageClass", "ClusterRole", "ClusterRoleBinding")

Scope = tuple[str, str | None]  # (Kind, namespace); None: cluster-scoped, or every namespace
ObjectKey = tuple[str, str, str]  # (Kind, namespace or "", name)
# Where a rendered object was read: (file, 1-based line of its document or List item).
Origin = tuple[str, int]


class ObjectsUnavailable(Exception):
    """A kind the check needs could not be read; the message says why and how to fix it."""


class WorkloadError(ValueError):
    """A ``[kubernetes] workloads`` entry is malformed or names nothing that exists."""


def parse_workload_ref(ref: str) -> tuple[str, str]:
    """``api-gateway`` (a Deployment) or ``KIND/NAME`` -> (kind, name); KIND is one of
    ``WORKLOAD_KIND_NAMES`` or an alias (deploy, sts, ds, cj, job), in any case."""
    head, sep, tail = ref.partition("/")
    if not sep and ref:
        return "Deployment", ref
    obj_kind = WORKLOAD_KINDS.get(head.lower())
    if obj_kind is None or not tail or "/" in tail:
        kinds = ", ".join(WORKLOAD_KIND_NAMES)
        if obj_kind is not None and not tail:
            problem = f"no {obj_kind} name after the '/'"
        elif obj_kind is None and sep:
            problem = f"{head!r} is not a workload kind"
        else:
            problem = "not NAME or KIND/NAME"
        raise WorkloadError(
            f"[kubernetes] workloads entry {ref!r}: {problem}; write NAME (a Deployment) or "
            f"KIND/NAME with KIND one of {kinds} (aliases deploy, sts, ds, cj, job)"
        )
    return obj_kind, tail


def scope_of(obj_kind: str, obj_namespace: str | None) -> Scope:
    return (obj_kind, None if obj_kind in CLUSTER_SCOPED_KINDS else obj_namespace)


@dataclass(frozen=True)
class KubeObjects:
    """Objects by kind, read once: live (``lists`` by scope) or rendered (``manifests``).

    Cached dicts are shared with the reader: treat them as read-only."""

    where: str
    namespace: str
    live: bool = True
    lists: Mapping[Scope, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    problems: Mapping[Scope, str] = field(default_factory=dict)
    manifests: tuple[dict[str, Any], ...] = ()
    origins: Mapping[ObjectKey, Origin] = field(default_factory=dict)
    # Kinds the API server does not serve (404 on the list): none of them can exist.
    not_served: frozenset[str] = frozenset()

    @classmethod
    def rendered(
        cls,
        objects: Iterable[dict[str, Any]],
        where: str,
        namespace: str,
        origins: Mapping[ObjectKey, Origin] | None = None,
    ) -> KubeObjects:
        return cls(
            where=where,
            namespace=namespace,
            live=False,
            manifests=tuple(objects),
            origins=dict(origins or {}),
        )

    def scanned(self, obj_kind: str) -> list[dict[str, Any]]:
        """Every object of ``obj_kind`` the checklist judges: in pre-deploy mode every rendered
        one, whatever its namespace; live, the profile's namespace (or the cluster, for a
        cluster-scoped kind). ``ObjectsUnavailable`` when it could not be read."""
        if not self.live:
            return [obj for obj in self.manifests if kind(obj) == obj_kind]
        if obj_kind in self.not_served:
            return []
        if obj_kind in CLUSTER_SCOPED_KINDS:
            return self.objects(obj_kind, None)
        return self.objects(obj_kind)

    def inventory(self) -> dict[str, int]:
        """Objects read, by kind (live: the profile's namespace and the cluster-scoped kinds)."""
        counts: dict[str, int] = {}
        if not self.live:
            for obj in self.manifests:
                counts[kind(obj)] = counts.get(kind(obj), 0) + 1
            return dict(sorted(counts.items()))
        for (obj_kind, ns), found in self.lists.items():
            if obj_kind == "Namespace" or (ns is None and obj_kind not in CLUSTER_SCOPED_KINDS):
                continue  # the namespace itself; every namespace's pods (node capacity)
            counts[obj_kind] = counts.get(obj_kind, 0) + len(found)
        return dict(sorted(counts.items()))

    def unreadable(self) -> dict[str, str]:
        """Kinds that could not be read, with the problem (live only)."""
        return {
            scope[0]: problem
            for scope, problem in self.problems.items()
            if scope[1] in (None, self.namespace)
        }

    def origin(self, obj: KubeObject) -> Origin | None:
        """The file and line a rendered object came from."""
        return self.origins.get((kind(obj), namespace(obj), name(obj)))

    def objects(self, obj_kind: str, obj_namespace: str | None = "") -> list[dict[str, Any]]:
        """Objects of ``obj_kind`` in ``obj_namespace`` (default: the profile's; None: every
        namespace, or the cluster-scoped kind). ``ObjectsUnavailable`` when it could not be
        read."""
        ns = self.namespace if obj_namespace == "" else obj_namespace
        if not self.live:
            return [
                obj
                for obj in self.manifests
                if kind(obj) == obj_kind
                and (ns is None or obj_kind in CLUSTER_SCOPED_KINDS or namespace(obj) == ns)
            ]
        scope = scope_of(obj_kind, ns)
        problem = self.problems.get(scope)
        if problem is not None:
            raise ObjectsUnavailable(problem)
        found = self.lists.get(scope)
        if found is None and scope[1] is not None:
            everywhere = self.lists.get((obj_kind, None))
            if everywhere is not None:
                found = tuple(o for o in everywhere if namespace(o) == scope[1])
        if found is None:
            where = f" in namespace {scope[1]}" if scope[1] else ""
            raise ObjectsUnavailable(
                f"{obj_kind} objects{where} were not read from {self.where} (the checklist reads "
                f"the namespace of [kubernetes] namespace, {self.namespace}, and the "
                "cluster-scoped kinds)"
            )
        return list(found)

    def namespace_object(self) -> dict[str, Any] | None:
        """The profile's Namespace (read live by name), None when it does not exist."""
        scope = ("Namespace", self.namespace)
        if scope in self.problems:
            raise ObjectsUnavailable(self.problems[scope])
        if scope not in self.lists:
            raise ObjectsUnavailable(f"Namespace {self.namespace} was not read from {self.where}")
        found = self.lists[scope]
        return found[0] if found else None

    def workload(self, ref: str) -> dict[str, Any]:
        """The workload a ``[kubernetes] workloads`` entry names; ``WorkloadError`` naming what
        exists and the fix when it is absent."""
        obj_kind, obj_name = parse_workload_ref(ref)
        candidates = self.objects(obj_kind)
        for obj in candidates:
            if name(obj) == obj_name:
                return obj
        present = ", ".join(sorted(name(o) for o in candidates)) or "none"
        raise WorkloadError(
            f"{obj_kind} {self.namespace}/{obj_name} not found in {self.where} "
            f"({obj_kind}s there: {present}); deploy it, or fix [kubernetes] workloads/namespace "
            "in the profile"
        )

    def pods_of(self, workload: KubeObject) -> list[dict[str, Any]]:
        """The workload's pods (its selector over the namespace's pods; a Job's by its job-name
        label or owner; a CronJob's, those of the Jobs it owns); in pre-deploy mode, one pod
        built from its template."""
        if not self.live:
            return [pod_from_template(workload)]
        if kind(workload) == "Job":
            return [p for p in self.objects("Pod") if is_job_pod(p, workload)]
        if kind(workload) == "CronJob":
            jobs = self.jobs_of(workload)
            return [p for p in self.objects("Pod") if any(is_job_pod(p, j) for j in jobs)]
        selector = dig(workload, "spec", "selector")
        return [p for p in self.objects("Pod") if selector_matches(selector, labels(p))]

    def jobs_of(self, cronjob: KubeObject) -> list[dict[str, Any]]:
        """The Jobs a CronJob owns (ownerReferences), as read (live only: none before a
        deploy)."""
        if not self.live:
            return []
        return [j for j in self.objects("Job", namespace(cronjob) or "") if owned_by(j, cronjob)]


@dataclass(frozen=True)
class SchemaProblem:
    """One way a manifest does not validate against the Kubernetes OpenAPI schema."""

    key: ObjectKey
    path: str
    message: str
    unknown_api: bool = False


@dataclass(frozen=True)
class SchemaReport:
    """Every rendered object validated against the schemas of one Kubernetes version (strict:
    unknown fields are errors). Kinds without a schema (custom resources) are listed, not
    judged."""

    version: str
    validated: int
    problems: tuple[SchemaProblem, ...] = ()
    not_validated: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifierAccess:
    """What the verifier's credentials may do in the namespace: the SelfSubjectRulesReview's
    status and the SelfSubjectAccessReviews asked (each ``{"spec": ..., "status": ...}``)."""

    who: str
    namespace: str
    rules: Mapping[str, Any]
    reviews: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class ContainerLog:
    """The tail of one container's log (``previous``: of its instance before the last restart)."""

    workload: str
    namespace: str
    pod: str
    container: str
    previous: bool = False
    lines: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def source(self) -> str:
        """``Pod ns/name container c (previous)``: how findings and evidence name it."""
        text = f"Pod {self.namespace}/{self.pod} container {self.container}"
        return text + (" (previous instance)" if self.previous else "")


@dataclass(frozen=True)
class PodLogs:
    """Log tails of the workloads' containers; ``tail_lines`` bounds each."""

    namespace: str
    tail_lines: int
    logs: tuple[ContainerLog, ...] = ()
    # Per workload entry: why its logs were not read (no pods, the workload is missing...).
    skipped: Mapping[str, str] = field(default_factory=dict)

    def of(self, workload: str) -> list[ContainerLog]:
        return [log for log in self.logs if log.workload == workload]
