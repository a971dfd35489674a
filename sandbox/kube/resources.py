"""The resource types the emulator serves, with the discovery facts the real API reports."""

from __future__ import annotations

from dataclasses import dataclass

READ_VERBS: tuple[str, ...] = ("get", "list", "watch")
# What a real apiserver advertises for ordinary read-write resources.
CRUD_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


@dataclass(frozen=True)
class ResourceType:
    """One served resource: where it lives in the URL space and what discovery says about it."""

    group: str  # "" for the core group
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = CRUD_VERBS
    # Extra field-selector labels beyond metadata.name/metadata.namespace, as the real API allows.
    field_labels: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """How error messages name the resource: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)
_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        False,
        ("ns",),
        field_labels=("status.phase",),
    ),
    ResourceType("", "v1", "pods", "pod", "Pod", True, ("po",), field_labels=_POD_FIELDS),
    ResourceType("", "v1", "services", "service", "Service", True, ("svc",)),
    ResourceType("", "v1", "endpoints", "endpoints", "Endpoints", True, ("ep",)),
    ResourceType("", "v1", "configmaps", "configmap", "ConfigMap", True, ("cm",)),
    ResourceType("", "v1", "secrets", "secret", "Secret", True, field_labels=("type",)),
    ResourceType("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ("sa",)),
    ResourceType(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        True,
        ("pvc",),
    ),
    ResourceType(
        "", "v1", "nodes", "node", "Node", False, ("no",), field_labels=("spec.unschedulable",)
    ),
    ResourceType("", "v1", "events", "event", "Event", True, ("ev",), field_labels=_EVENT_FIELDS),
    ResourceType("apps", "v1", "deployments", "deployment", "Deployment", True, ("deploy",)),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        True,
        ("rs",),
        field_labels=("status.replicas",),
    ),
    ResourceType("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True, ("sts",)),
    ResourceType("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, ("ds",)),
    ResourceType("batch", "v1", "jobs", "job", "Job", True),
    ResourceType("batch", "v1", "cronjobs", "cronjob", "CronJob", True, ("cj",)),
    ResourceType(
        "discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", True
    ),
    ResourceType(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        True,
        ("hpa",),
    ),
    ResourceType(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        True,
        ("pdb",),
    ),
    ResourceType("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", True, ("ing",)),
    ResourceType(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        True,
        ("netpol",),
    ),
    ResourceType("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True),
    ResourceType(
        "rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", True
    ),
    ResourceType(
        "rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", False
    ),
    ResourceType(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        False,
    ),
    ResourceType(
        "storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", False, ("sc",)
    ),
    # Trivy Operator's custom resource (its CRD installed): the reports of the running images.
    ResourceType(
        "aquasecurity.github.io",
        "v1alpha1",
        "vulnerabilityreports",
        "vulnerabilityreport",
        "VulnerabilityReport",
        True,
        ("vuln", "vulns"),
    ),
)

# Create-only review resources: answered, never stored.
REVIEW_RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        "SelfSubjectRulesReview",
        False,
        verbs=("create",),
    ),
    ResourceType(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "selfsubjectreview",
        "SelfSubjectReview",
        False,
        verbs=("create",),
    ),
)

ALL_RESOURCES: tuple[ResourceType, ...] = RESOURCES + REVIEW_RESOURCES

_BY_PATH: dict[tuple[str, str, str], ResourceType] = {
    (r.group, r.version, r.plural): r for r in ALL_RESOURCES
}
_BY_API_KIND: dict[tuple[str, str], ResourceType] = {(r.api_version, r.kind): r for r in RESOURCES}
_BY_NAME: dict[str, ResourceType] = {}
for _r in RESOURCES:
    for _name in (_r.kind, _r.plural, _r.singular, *_r.short_names):
        _BY_NAME.setdefault(_name.lower(), _r)


class UnknownResourceError(KeyError):
    """Raised for a kind/resource name the emulator does not serve."""


def by_path(group: str, version: str, plural: str) -> ResourceType | None:
    """The resource served at /api(s)/<group>/<version>/<plural>, if any."""
    return _BY_PATH.get((group, version, plural))


def by_api_kind(api_version: str, kind: str) -> ResourceType:
    """The resource for an object's apiVersion and kind (as found in YAML)."""
    try:
        return _BY_API_KIND[(api_version, kind)]
    except KeyError:
        raise UnknownResourceError(f"the emulator does not serve {api_version} {kind}") from None


def resolve(name: str) -> ResourceType:
    """Look a resource up by kind, plural, singular or short name, case-insensitively."""
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise UnknownResourceError(
            f"the emulator does not serve a resource named {name!r}"
        ) from None


def group_versions() -> list[tuple[str, str]]:
    """Every (group, version) served, core first, in a stable order."""
    seen: list[tuple[str, str]] = []
    for r in ALL_RESOURCES:
        if (r.group, r.version) not in seen:
            seen.append((r.group, r.version))
    return seen
