"""The Kubernetes kinds the reader serves, and which generated API methods read them."""

from __future__ import annotations

from dataclasses import dataclass

# Short plurals this reader accepts for kinds whose REST plural is long.
_REST_PLURALS = {"hpas": "horizontalpodautoscalers", "pdbs": "poddisruptionbudgets"}


@dataclass(frozen=True)
class Kind:
    """One readable kind: its REST identity and the generated client's method stem.

    The official client names its methods ``list_namespaced_<stem>``, ``list_<stem>_for_all_
    namespaces`` and ``read_namespaced_<stem>`` (cluster-scoped: ``list_<stem>``, ``read_<stem>``).
    """

    plural: str
    kind: str
    group: str  # "" for the core group
    version: str
    api_class: str  # attribute of ``kubernetes.client``
    stem: str
    namespaced: bool
    aliases: tuple[str, ...] = ()

    @property
    def custom(self) -> bool:
        """A custom resource: ``CustomObjectsApi`` takes group, version and plural as arguments."""
        return self.api_class == "CustomObjectsApi"

    def args(self, namespace: str | None, name: str | None = None) -> tuple[str, ...]:
        """The positional arguments of the list (``name`` None) or read method."""
        ns = (namespace,) if self.namespaced and namespace is not None else ()
        named = (name,) if name is not None else ()
        if self.custom:
            return (self.group, self.version, *ns, self.plural, *named)
        return (*named, *ns)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """The plural the API server uses in URLs and RBAC rules (``horizontalpodautoscalers``)."""
        return _REST_PLURALS.get(self.plural, self.plural)

    @property
    def group_resource(self) -> str:
        """How RBAC rules and error messages name it: ``pods``, ``deployments.apps``."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def list_method(self, all_namespaces: bool) -> str:
        if self.custom:
            if not self.namespaced:
                return "list_cluster_custom_object"
            if all_namespaces:
                return "list_custom_object_for_all_namespaces"
            return "list_namespaced_custom_object"
        if not self.namespaced:
            return f"list_{self.stem}"
        if all_namespaces:
            return f"list_{self.stem}_for_all_namespaces"
        return f"list_namespaced_{self.stem}"

    @property
    def read_method(self) -> str:
        if self.custom:
            return f"get_{'namespaced' if self.namespaced else 'cluster'}_custom_object"
        return f"read_namespaced_{self.stem}" if self.namespaced else f"read_{self.stem}"


def _k(
    plural: str,
    kind: str,
    group: str,
    version: str,
    api_class: str,
    stem: str,
    namespaced: bool = True,
    *aliases: str,
) -> Kind:
    return Kind(plural, kind, group, version, api_class, stem, namespaced, aliases)


KINDS: tuple[Kind, ...] = (
    _k("pods", "Pod", "", "v1", "CoreV1Api", "pod", True, "po"),
    _k("services", "Service", "", "v1", "CoreV1Api", "service", True, "svc"),
    _k("configmaps", "ConfigMap", "", "v1", "CoreV1Api", "config_map", True, "cm"),
    _k("secrets", "Secret", "", "v1", "CoreV1Api", "secret"),
    _k("serviceaccounts", "ServiceAccount", "", "v1", "CoreV1Api", "service_account", True, "sa"),
    _k(
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        "",
        "v1",
        "CoreV1Api",
        "persistent_volume_claim",
        True,
        "pvc",
    ),
    _k("nodes", "Node", "", "v1", "CoreV1Api", "node", False, "no"),
    _k("namespaces", "Namespace", "", "v1", "CoreV1Api", "namespace", False, "ns"),
    _k("events", "Event", "", "v1", "CoreV1Api", "event", True, "ev"),
    _k("deployments", "Deployment", "apps", "v1", "AppsV1Api", "deployment", True, "deploy"),
    _k("replicasets", "ReplicaSet", "apps", "v1", "AppsV1Api", "replica_set", True, "rs"),
    _k("statefulsets", "StatefulSet", "apps", "v1", "AppsV1Api", "stateful_set", True, "sts"),
    _k("daemonsets", "DaemonSet", "apps", "v1", "AppsV1Api", "daemon_set", True, "ds"),
    _k("jobs", "Job", "batch", "v1", "BatchV1Api", "job", True),
    _k("cronjobs", "CronJob", "batch", "v1", "BatchV1Api", "cron_job", True, "cj"),
    _k(
        "endpointslices",
        "EndpointSlice",
        "discovery.k8s.io",
        "v1",
        "DiscoveryV1Api",
        "endpoint_slice",
    ),
    _k(
        "hpas",
        "HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "AutoscalingV2Api",
        "horizontal_pod_autoscaler",
        True,
        "hpa",
    ),
    _k(
        "pdbs",
        "PodDisruptionBudget",
        "policy",
        "v1",
        "PolicyV1Api",
        "pod_disruption_budget",
        True,
        "pdb",
    ),
    _k(
        "ingresses", "Ingress", "networking.k8s.io", "v1", "NetworkingV1Api", "ingress", True, "ing"
    ),
    _k(
        "networkpolicies",
        "NetworkPolicy",
        "networking.k8s.io",
        "v1",
        "NetworkingV1Api",
        "network_policy",
        True,
        "netpol",
    ),
    _k("roles", "Role", "rbac.authorization.k8s.io", "v1", "RbacAuthorizationV1Api", "role"),
    _k(
        "rolebindings",
        "RoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "RbacAuthorizationV1Api",
        "role_binding",
    ),
    _k(
        "clusterroles",
        "ClusterRole",
        "rbac.authorization.k8s.io",
        "v1",
        "RbacAuthorizationV1Api",
        "cluster_role",
        False,
    ),
    _k(
        "clusterrolebindings",
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "RbacAuthorizationV1Api",
        "cluster_role_binding",
        False,
    ),
    _k(
        "storageclasses",
        "StorageClass",
        "storage.k8s.io",
        "v1",
        "StorageV1Api",
        "storage_class",
        False,
        "sc",
    ),
    # Trivy Operator's reports: a custom resource, read through CustomObjectsApi.
    _k(
        "vulnerabilityreports",
        "VulnerabilityReport",
        "aquasecurity.github.io",
        "v1alpha1",
        "CustomObjectsApi",
        "custom_object",
        True,
        "vuln",
        "vulns",
    ),
)

_BY_NAME: dict[str, Kind] = {}
for _kind in KINDS:
    for _name in (_kind.plural, _kind.kind, _kind.kind.lower(), *_kind.aliases):
        _BY_NAME[_name] = _kind
    _BY_NAME[_kind.resource] = _kind


def resolve_kind(name: str) -> Kind:
    """The kind for a plural (``pods``), a Kind (``Pod``) or a short name (``po``)."""
    kind = _BY_NAME.get(name) or _BY_NAME.get(name.lower())
    if kind is None:
        known = ", ".join(k.plural for k in KINDS)
        raise ValueError(f"the Kubernetes reader does not read {name!r}; kinds: {known}")
    return kind
