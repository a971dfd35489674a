"""The items of the Kubernetes checklist: ids, titles, the checks each owns, and results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.findings import Finding, Severity, summarize
from pytest_deployverify.checks.kube.catalog import CHECKS

PREDEPLOY_SKIP = (
    "live-only check skipped in pre-deploy mode (--manifests or [kubernetes.expect] manifests): "
    "rendered manifests have no cluster state; it runs against the live cluster after the deploy"
)

# ---- the items --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One checklist item: a stable id, the check ids it reports, and where it can run."""

    item_id: str
    title: str
    check_ids: tuple[str, ...]
    section: str = "infra"
    live_only: bool = False
    per_workload: bool = True

    @property
    def severity(self) -> Severity:
        """The most severe default severity among its checks (the catalog decides)."""
        order = list(Severity)
        return min((CHECKS[c].severity for c in self.check_ids), key=order.index)


def _item(item_id: str, title: str, checks: str, **where: Any) -> Item:
    return Item(item_id, title, tuple(checks.split()), **where)


ONCE = {"per_workload": False}
ITEMS: Mapping[str, Item] = {
    item.item_id: item
    for item in (
        _item(
            "K8S-ROLLOUT",
            "Rollout settled on the release with healthy pods",
            "rollout-generation-observed rollout-replicas rollout-progress-deadline "
            "rollout-image-version rollout-image-digest rollout-timeout pod-not-ready "
            "pod-pending pod-crash-loop pod-image-pull-error pod-create-error pod-restarts",
            live_only=True,
        ),
        _item(
            "K8S-RESOURCES",
            "CPU and memory requests and limits set",
            "cpu-requests-missing memory-requests-missing cpu-limits-missing memory-limits-missing",
        ),
        _item(
            "K8S-PROBES",
            "Liveness and readiness probes configured and distinct",
            "liveness-probe-missing readiness-probe-missing pod-probes-identical",
        ),
        _item("K8S-IMAGE-TAG", "Images pinned by version tag or digest", "container-image-tag"),
        _item("K8S-PULL-POLICY", "imagePullPolicy is Always", "container-image-pull-policy"),
        _item(
            "K8S-SECURITY-CONTEXT",
            "Pods run non-root, unprivileged, read-only, without host access",
            "run-as-root-allowed privilege-escalation-allowed not-read-only-root-filesystem "
            "run-as-privileged dangerous-capabilities insecure-capabilities host-network-set "
            "host-pid-set host-ipc-set host-port-set",
            section="security",
        ),
        _item("K8S-REPLICAS", "Enough replicas for availability", "deployment-missing-replicas"),
        _item(
            "K8S-PDB",
            "PodDisruptionBudget protects the pods and allows drains",
            "missing-pod-disruption-budget pdb-disruptions-is-zero",
        ),
        _item(
            "K8S-HPA",
            "HorizontalPodAutoscaler can scale the workload",
            "missing-hpa hpa-min-availability hpa-max-availability hpa-at-max-replicas "
            "hpa-missing-metrics",
        ),
        _item(
            "K8S-TOPOLOGY", "Replicas spread across nodes and zones", "topology-spread-constraint"
        ),
        _item("K8S-ENV-REQUIRED", "Required environment variables set", "env-var-missing", **ONCE),
        _item(
            "K8S-ENV-VALUES",
            "Environment variables hold production values",
            "env-var-missing env-var-value env-var-forbidden-value",
            **ONCE,
        ),
        _item(
            "K8S-SECRET-ENV",
            "Secrets come from Secrets, not literals or ConfigMaps",
            "sensitive-container-env-var sensitive-configmap-content",
            section="security",
        ),
        _item(
            "K8S-CONFIG-REFS",
            "Referenced ConfigMaps, Secrets and keys exist",
            "configmap-missing configmap-key-missing secret-missing secret-key-missing",
        ),
        _item(
            "K8S-SECRET-LENGTH",
            "Secrets are long enough",
            "secret-too-short secret-missing secret-key-missing",
            section="security",
            **ONCE,
        ),
        _item(
            "K8S-SERVICE",
            "Service selects the pods and has ready endpoints",
            "service-targets-pod service-no-ready-endpoints service-endpoints-mismatch",
        ),
        _item(
            "K8S-INGRESS",
            "Ingress serves the public host over TLS with an address",
            "ingress-host-missing ingress-tls-missing ingress-no-address ingress-targets-service",
            **ONCE,
        ),
        _item(
            "K8S-NETWORK-POLICY",
            "NetworkPolicies isolate the pods (default deny)",
            "pod-networkpolicy networkpolicy-default-deny-missing",
            section="security",
        ),
        _item(
            "K8S-DNS",
            "Public host resolves to the load balancer",
            "dns-resolution-failed dns-record-mismatch",
            **ONCE,
        ),
        _item(
            "K8S-NAMESPACE",
            "Namespace exists and is active",
            "namespace-missing",
            live_only=True,
            **ONCE,
        ),
        _item(
            "K8S-SERVICE-ACCOUNT",
            "Workload service account is not cluster-admin or wildcard",
            "service-account-cluster-admin service-account-wildcard-role",
            section="security",
        ),
        _item(
            "K8S-VERIFIER-READ-ONLY",
            "Verifier credentials are read-only",
            "verifier-can-mutate verifier-access-unknown",
            section="security",
            live_only=True,
            **ONCE,
        ),
        _item(
            "K8S-STORAGE-CLASS",
            "Required StorageClasses exist",
            "storage-class-missing storage-class-default-missing",
            live_only=True,
        ),
        _item(
            "K8S-NODE-CAPACITY",
            "Nodes have room for the workload's requests",
            "insufficient-node-capacity",
            live_only=True,
        ),
        _item(
            "K8S-IMAGE-SIZE",
            "Image size within the limit",
            "image-too-large image-size-unknown",
            live_only=True,
        ),
        _item(
            "K8S-HELM-RELEASE",
            "Helm release deployed at the expected chart and app version",
            "helm-release-missing helm-release-status helm-chart-version helm-app-version",
            live_only=True,
            **ONCE,
        ),
        _item(
            "K8S-HELM-DRIFT",
            "Live objects match the Helm release",
            "helm-drift helm-drift-missing-object",
            live_only=True,
            **ONCE,
        ),
    )
}
HYGIENE_ITEMS = frozenset(
    {
        "K8S-RESOURCES",
        "K8S-PROBES",
        "K8S-IMAGE-TAG",
        "K8S-PULL-POLICY",
        "K8S-SECURITY-CONTEXT",
        "K8S-REPLICAS",
        "K8S-PDB",
        "K8S-HPA",
        "K8S-TOPOLOGY",
    }
)
_BODIES = {
    "K8S-ROLLOUT": "_rollout",
    "K8S-ENV-REQUIRED": "_required_env",
    "K8S-ENV-VALUES": "_env_values",
    "K8S-SECRET-ENV": "_secret_env",
    "K8S-CONFIG-REFS": "_config_refs",
    "K8S-SECRET-LENGTH": "_secret_length",
    "K8S-SERVICE": "_service",
    "K8S-INGRESS": "_ingress",
    "K8S-NETWORK-POLICY": "_network_policy",
    "K8S-DNS": "_dns",
    "K8S-NAMESPACE": "_namespace",
    "K8S-SERVICE-ACCOUNT": "_service_account",
    "K8S-VERIFIER-READ-ONLY": "_verifier",
    "K8S-STORAGE-CLASS": "_storage_class",
    "K8S-NODE-CAPACITY": "_node_capacity",
    "K8S-IMAGE-SIZE": "_image_size",
    "K8S-HELM-RELEASE": "_helm_release",
    "K8S-HELM-DRIFT": "_helm_drift",
}


@dataclass(frozen=True)
class ItemResult:
    """What one item found. ``passed`` only when nothing was found, skipped or broken."""

    item: Item
    findings: tuple[Finding, ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()
    skipped: str | None = None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not (self.findings or self.skipped or self.error)

    @property
    def message(self) -> str:
        """The assertion message: the read error, else one line per finding (object + fix)."""
        if self.error:
            return f"{self.item.item_id}: {self.error}"
        return summarize(self.findings)

    @property
    def check_ids(self) -> set[str]:
        return {f.check_id for f in self.findings}


class ChecklistError(Exception):
    """The item cannot be judged (a workload is missing, a manifest or release is unreadable)."""


class _Skip(Exception):
    pass


class _NotApplicable(_Skip):
    """The profile does not ask for this item, or it cannot apply to the workload's kind."""


@dataclass
class _Record:
    findings: list[Finding] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def observe(self, name: str, value: Any, **extra: Any) -> None:
        """One evidence entry; keyword names follow ``Evidence.record``."""
        self.evidence.append({"name": name, "value": value, **extra})
