"""The Kubernetes checklist items, each declared once: id, title, section, severity, what it needs.

``CHECKS`` reaches the run through the Kubernetes component; ``checklist/test_kubernetes_*.py``
carry one ``@item(SPEC)`` test each. ``PLANS`` is the one table of what the runner needs beyond
the declaration, keyed by the item id: the rules (finding ids) an item owns, whether it needs the
live cluster, and whether it runs once per workload. No title or severity is written twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pytest_deployverify.checks.declarations import (
    Applies,
    CheckSpec,
    declare,
    flag,
    lookup,
    needs,
    needs_any,
)
from pytest_deployverify.checks.findings import Rule
from pytest_deployverify.checks.kube import rules as r
from pytest_deployverify.checks.kube.expectations import PullPolicy
from pytest_deployverify.profile.model import Profile

_K = ("kubernetes",)
OBJECTS = "kubernetes.objects"
ACCESS = "kubernetes.access"
POD_LOGS = "kubernetes.pod_logs"
SCHEMA_READ = "kubernetes.schema"
IMAGE_SCANS = "kubernetes.image_scans"
X = "kubernetes.expect"


def _all(*checks: Applies) -> Applies:
    """Applies when every one of ``checks`` does; else the first reason."""

    def applies(profile: Profile) -> str | None:
        for check in checks:
            reason = check(profile)
            if reason is not None:
                return reason
        return None

    return applies


def _pull_policy_judged(profile: Profile) -> str | None:
    if lookup(profile, f"{X}.pull_policy") == PullPolicy.OFF:
        return '[kubernetes.expect] pull_policy = "off"'
    return None


def _kube(
    id: str,
    *,
    title: str,
    section: str,
    severity: str,
    keys: tuple[str, ...] = (),
    reads: tuple[str, ...] = (OBJECTS,),
    applies: Applies | None = None,
    description: str = "",
) -> CheckSpec:
    return declare(
        id,
        title=title,
        section=section,
        severity=severity,
        components=_K,
        keys=("kubernetes.namespace", *keys),
        reads=reads,
        applies=applies,
        description=description,
    )


# ---- rollout and workload hygiene -------------------------------------------------------------------
ROLLOUT = _kube(
    "K8S-ROLLOUT",
    title="Rollout settled on the release with healthy pods",
    section="infra",
    severity="critical",
    keys=(
        "kubernetes.workloads",
        "version",
        f"{X}.app",
        f"{X}.container",
        f"{X}.image_digest",
        f"{X}.max_restarts",
        f"{X}.rollout",
        f"{X}.suspended_cronjobs",
    ),
    description="Every workload's rollout observed and complete, its pods Ready without "
    "restarts, the app container on the release version (and pinned digest). A Job has "
    "completed (not failed, not still running once the rollout wait is over); a CronJob is not "
    "suspended (unless suspended_cronjobs lists it) and its most recent run did not fail.",
)
RESOURCES = _kube(
    "K8S-RESOURCES",
    title="CPU and memory requests and limits set",
    section="infra",
    severity="high",
    keys=("kubernetes.workloads", f"{X}.require_cpu_limit"),
)
PROBES = _kube(
    "K8S-PROBES",
    title="Liveness and readiness probes configured and distinct",
    section="infra",
    severity="high",
    keys=("kubernetes.workloads",),
)
IMAGE_TAG = _kube(
    "K8S-IMAGE-TAG",
    title="Images pinned by version tag or digest",
    section="infra",
    severity="high",
    keys=("kubernetes.workloads",),
)
PULL_POLICY = _kube(
    "K8S-PULL-POLICY",
    title="imagePullPolicy is Always for unpinned images",
    section="infra",
    severity="medium",
    keys=("kubernetes.workloads", f"{X}.pull_policy"),
    applies=_pull_policy_judged,
    description="Images that can move (:latest, no tag) are pulled Always; IfNotPresent is "
    'fine on a version tag or digest. pull_policy = "always" asks Always of every image '
    '(kube-score\'s strict rule), "off" does not judge it.',
)
SECURITY_CONTEXT = _kube(
    "K8S-SECURITY-CONTEXT",
    title="Pods run non-root, unprivileged, read-only, without host access",
    section="security",
    severity="critical",
    keys=("kubernetes.workloads",),
)
REPLICAS = _kube(
    "K8S-REPLICAS",
    title="Enough replicas for availability",
    section="infra",
    severity="medium",
    keys=("kubernetes.workloads", f"{X}.min_replicas"),
    description="spec.replicas at least min_replicas; when an HPA owns the replica count the "
    "item defers to it (K8S-HPA judges its minReplicas) and says so.",
)
PDB = _kube(
    "K8S-PDB",
    title="PodDisruptionBudget protects the pods and allows drains",
    section="infra",
    severity="medium",
    keys=("kubernetes.workloads",),
)
HPA = _kube(
    "K8S-HPA",
    title="HorizontalPodAutoscaler can scale the workload",
    section="infra",
    severity="high",
    keys=("kubernetes.workloads", f"{X}.require_hpa", f"{X}.min_replicas"),
)
TOPOLOGY = _kube(
    "K8S-TOPOLOGY",
    title="Replicas spread across nodes and zones",
    section="infra",
    severity="medium",
    keys=(
        "kubernetes.workloads",
        f"{X}.topology_spread",
        f"{X}.topology_spread_min_replicas",
    ),
    applies=flag(f"{X}.topology_spread"),
    description="Workloads running at least topology_spread_min_replicas pods carry a "
    "topologySpreadConstraint or pod anti-affinity on their own labels.",
)

# ---- configuration ----------------------------------------------------------------------------------
ENV_REQUIRED = _kube(
    "K8S-ENV-REQUIRED",
    title="Required environment variables set",
    section="infra",
    severity="high",
    keys=(f"{X}.required_env", f"{X}.app", f"{X}.container"),
    applies=needs(f"{X}.required_env"),
)
ENV_VALUES = _kube(
    "K8S-ENV-VALUES",
    title="Environment variables hold production values",
    section="infra",
    severity="high",
    keys=(f"{X}.expected_env", f"{X}.forbidden_env", f"{X}.app", f"{X}.container"),
    applies=needs_any(f"{X}.expected_env", f"{X}.forbidden_env"),
)
SECRET_ENV = _kube(
    "K8S-SECRET-ENV",
    title="Secrets come from Secrets, not literals or ConfigMaps",
    section="security",
    severity="high",
    keys=("kubernetes.workloads", f"{X}.sensitive_env_allow"),
    description="No literal env value or ConfigMap entry the pods read is a secret, by name "
    "(PASSWORD, TOKEN, API_KEY...) or by value (a PEM private key, a recognisable token, a "
    "random value under a key-like name); values are never shown.",
)
CONFIG_REFS = _kube(
    "K8S-CONFIG-REFS",
    title="Referenced ConfigMaps, Secrets and keys exist",
    section="infra",
    severity="high",
    keys=("kubernetes.workloads", f"{X}.external_refs"),
)
SECRET_LENGTH = _kube(
    "K8S-SECRET-LENGTH",
    title="Secrets are long enough",
    section="security",
    severity="high",
    keys=(f"{X}.secret_min_length",),
    applies=needs(f"{X}.secret_min_length"),
)

# ---- network ----------------------------------------------------------------------------------------
SERVICE = _kube(
    "K8S-SERVICE",
    title="Service selects the pods and has ready endpoints",
    section="infra",
    severity="high",
    keys=("kubernetes.workloads", f"{X}.service"),
)
INGRESS = _kube(
    "K8S-INGRESS",
    title="Ingress serves the public host over TLS with an address",
    section="infra",
    severity="high",
    keys=(f"{X}.public_host", f"{X}.ingress"),
    applies=needs(f"{X}.public_host"),
)
NETWORK_POLICY = _kube(
    "K8S-NETWORK-POLICY",
    title="NetworkPolicies isolate the pods (default deny)",
    section="security",
    severity="high",
    keys=("kubernetes.workloads",),
)
DNS = _kube(
    "K8S-DNS",
    title="Public host resolves to the load balancer",
    section="infra",
    severity="high",
    keys=(f"{X}.public_host", f"{X}.dns_addresses", f"{X}.resolve", f"{X}.ingress"),
    applies=needs(f"{X}.public_host"),
)
NAMESPACE = _kube(
    "K8S-NAMESPACE",
    title="Namespace exists and is active",
    section="infra",
    severity="high",
)

# ---- RBAC --------------------------------------------------------------------------------------------
SERVICE_ACCOUNT = _kube(
    "K8S-SERVICE-ACCOUNT",
    title="Workload service account is not cluster-admin or wildcard",
    section="security",
    severity="critical",
    keys=("kubernetes.workloads",),
)
SA_EXISTS = _kube(
    "K8S-SA-EXISTS",
    title="Workload service accounts exist",
    section="security",
    severity="high",
    keys=("kubernetes.workloads", f"{X}.external_service_accounts"),
    description="The ServiceAccount every pod template names exists: in the cluster, or before "
    "a deploy among the manifests or in external_service_accounts ('default' always exists). "
    "Without it the controller cannot create the pods.",
)
VERIFIER_READ_ONLY = _kube(
    "K8S-VERIFIER-READ-ONLY",
    title="Verifier credentials are read-only",
    section="security",
    severity="high",
    keys=("kubernetes.kubeconfig", "kubernetes.context", "kubernetes.in_cluster"),
    reads=(ACCESS,),
)

# ---- capacity ----------------------------------------------------------------------------------------
STORAGE_CLASS = _kube(
    "K8S-STORAGE-CLASS",
    title="Required StorageClasses exist",
    section="infra",
    severity="high",
    keys=("kubernetes.workloads", f"{X}.storage_classes", f"{X}.require_default_storage_class"),
)
NODE_CAPACITY = _kube(
    "K8S-NODE-CAPACITY",
    title="Nodes have room for the workload's requests",
    section="infra",
    severity="high",
    keys=(
        "kubernetes.workloads",
        f"{X}.capacity_worst_case",
        f"{X}.capacity_margin",
        f"{X}.require_volume_expansion",
    ),
    description="The eligible nodes have room (allocatable CPU, memory and pod slots, less what "
    "other pods request and capacity_margin) for the current replicas and for the worst case "
    "the rollout and autoscaler can reach: the HPA's maxReplicas plus the rolling update's "
    "maxSurge (capacity_worst_case = false: the current replicas only). The workload's "
    "PersistentVolumeClaims are Bound with at least the storage they request (and an "
    "expandable StorageClass with require_volume_expansion); how full a volume is (kubelet "
    "volume stats) is not read.",
)
IMAGE_SIZE = _kube(
    "K8S-IMAGE-SIZE",
    title="Image size within the limit",
    section="infra",
    severity="medium",
    keys=("kubernetes.workloads", f"{X}.image_size_limit_mb"),
    applies=needs(f"{X}.image_size_limit_mb"),
)

# ---- Helm --------------------------------------------------------------------------------------------
HELM_RELEASE = _kube(
    "K8S-HELM-RELEASE",
    title="Helm release deployed at the expected chart and app version",
    section="infra",
    severity="high",
    keys=(f"{X}.helm", "version"),
    applies=needs(f"{X}.helm"),
)
HELM_DRIFT = _kube(
    "K8S-HELM-DRIFT",
    title="Live objects match the Helm release",
    section="infra",
    severity="high",
    keys=(f"{X}.helm.release", f"{X}.helm.drift"),
    applies=_all(needs(f"{X}.helm"), flag(f"{X}.helm.drift")),
)

# ---- logs --------------------------------------------------------------------------------------------
POD_LOG_SECRETS = _kube(
    "SEC-K8S-POD-LOGS",
    title="No secrets in the pods' logs",
    section="security",
    severity="critical",
    keys=("kubernetes.workloads", f"{X}.pod_logs"),
    reads=(OBJECTS, POD_LOGS),
    applies=flag(f"{X}.pod_logs.enabled"),
    description="The recent (and, after a restart, previous) log lines of every container of "
    "the workloads' pods, read through the API (a bounded tail), hold no secret: private keys, "
    "recognisable tokens, passwords. The evidence names the pod, container and line, never the "
    "value.",
)

IMAGE_VULNS = _kube(
    "SEC-K8S-IMAGE-VULNS",
    title="Running images scanned, no vulnerabilities at or above the threshold",
    section="security",
    severity="critical",
    keys=(f"{X}.vulnerabilities",),
    reads=(OBJECTS, IMAGE_SCANS),
    applies=needs(f"{X}.vulnerabilities"),
    description="Every image the namespace's pods run (before a deploy: the manifests' images) "
    "has a scanner report, matched by digest where known, else by repository and tag: Trivy "
    "Operator's VulnerabilityReports in the cluster and/or report files (Trivy JSON, SARIF "
    "2.1.0). No report, or one older than max_report_age, fails; so does a vulnerability at or "
    "above the severity threshold (high by default) that no ignore entry in force accepts "
    "(each with reason, approver and an expiry; an expired one is not applied and is named).",
)

# ---- every object (Polaris parity) --------------------------------------------------------------
SA_TOKEN = _kube(
    "K8S-SA-TOKEN",
    title="Pods mount no service account token they do not need",
    section="security",
    severity="medium",
    keys=("kubernetes.workloads",),
    description="automountServiceAccountToken is false on the pod spec or on its ServiceAccount "
    "(Polaris automountServiceAccountToken).",
)
PRIORITY_CLASS = _kube(
    "K8S-PRIORITY-CLASS",
    title="Pods carry a PriorityClass",
    section="infra",
    severity="medium",
    keys=("kubernetes.workloads", f"{X}.require_priority_class"),
    applies=flag(f"{X}.require_priority_class"),
    description="priorityClassName is set on every pod spec (Polaris priorityClassNotSet; "
    "opt-in with require_priority_class = true).",
)
INSTANCE_LABEL = _kube(
    "K8S-INSTANCE-LABEL",
    title="Controllers labelled with their instance",
    section="infra",
    severity="medium",
    keys=("kubernetes.workloads", f"{X}.instance_label"),
    applies=flag(f"{X}.instance_label"),
    description="Label app.kubernetes.io/instance equals metadata.name on every controller "
    "(Polaris metadataAndInstanceMismatched; instance_label = false turns it off).",
)
RBAC = _kube(
    "K8S-RBAC",
    title="Roles and bindings grant no cluster-admin, wildcard or pods/exec access",
    section="security",
    severity="high",
    keys=("kubernetes.exemptions",),
    description="Every Role and ClusterRole read allows neither pods/exec nor pods/attach, and "
    "no RoleBinding or ClusterRoleBinding, whatever its subject, grants cluster-admin, a "
    "wildcard role or such a role (Polaris's eight RBAC checks; system: and bootstrap objects "
    "exempt). Bindings of a workload's own service account are judged by K8S-SERVICE-ACCOUNT.",
)
INGRESS_TLS = _kube(
    "K8S-INGRESS-TLS",
    title="Every Ingress has TLS settings",
    section="security",
    severity="medium",
    description="Every Ingress read has a spec.tls entry (Polaris tlsSettingsMissing).",
)
SCHEMA = _kube(
    "K8S-SCHEMA",
    title="Manifests valid against the Kubernetes schemas",
    section="infra",
    severity="high",
    keys=(f"{X}.schema_version",),
    reads=(OBJECTS, SCHEMA_READ),
    description="Every rendered object validates against the Kubernetes OpenAPI schema of "
    "schema_version (strict: an unknown field such as 'replica' or a value outside an enum "
    "such as imagePullPolicy 'always' fails) before anything is applied; the report lists what "
    "was read by kind and what has no schema.",
)

CHECKS: tuple[CheckSpec, ...] = (
    ROLLOUT,
    RESOURCES,
    PROBES,
    IMAGE_TAG,
    PULL_POLICY,
    SECURITY_CONTEXT,
    REPLICAS,
    PDB,
    HPA,
    TOPOLOGY,
    ENV_REQUIRED,
    ENV_VALUES,
    SECRET_ENV,
    CONFIG_REFS,
    SECRET_LENGTH,
    SERVICE,
    INGRESS,
    NETWORK_POLICY,
    DNS,
    NAMESPACE,
    SERVICE_ACCOUNT,
    SA_EXISTS,
    VERIFIER_READ_ONLY,
    STORAGE_CLASS,
    NODE_CAPACITY,
    IMAGE_SIZE,
    HELM_RELEASE,
    HELM_DRIFT,
    POD_LOG_SECRETS,
    IMAGE_VULNS,
    SA_TOKEN,
    PRIORITY_CLASS,
    INSTANCE_LABEL,
    RBAC,
    INGRESS_TLS,
    SCHEMA,
)


@dataclass(frozen=True)
class Plan:
    """What the runner needs to know about an item beyond its declaration."""

    rules: tuple[Rule, ...]
    live_only: bool = False
    per_workload: bool = True
    # Judges every object read (``checks.kube.scan``): per workload items also run for the
    # objects outside [kubernetes] workloads.
    scans: bool = False

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(rule.id for rule in self.rules)


PLANS: Mapping[str, Plan] = MappingProxyType(
    {
        ROLLOUT.id: Plan(
            (
                r.ROLLOUT_GENERATION,
                r.ROLLOUT_REPLICAS,
                r.ROLLOUT_DEADLINE,
                r.ROLLOUT_IMAGE_VERSION,
                r.ROLLOUT_IMAGE_DIGEST,
                r.ROLLOUT_TIMEOUT,
                r.POD_NOT_READY,
                r.POD_PENDING,
                r.POD_CRASH_LOOP,
                r.POD_IMAGE_PULL,
                r.POD_CREATE,
                r.POD_RESTARTS,
                r.JOB_FAILED,
                r.JOB_NOT_COMPLETE,
                r.CRONJOB_SUSPENDED,
            ),
            live_only=True,
        ),
        RESOURCES.id: Plan(
            (r.CPU_REQUESTS, r.MEMORY_REQUESTS, r.CPU_LIMITS, r.MEMORY_LIMITS), scans=True
        ),
        PROBES.id: Plan((r.LIVENESS_PROBE, r.READINESS_PROBE, r.PROBES_IDENTICAL), scans=True),
        IMAGE_TAG.id: Plan((r.IMAGE_TAG,), scans=True),
        PULL_POLICY.id: Plan((r.PULL_POLICY,), scans=True),
        SECURITY_CONTEXT.id: Plan(
            (
                r.RUN_AS_ROOT,
                r.PRIVILEGE_ESCALATION,
                r.WRITABLE_ROOT,
                r.PRIVILEGED,
                r.DANGEROUS_CAPABILITIES,
                r.INSECURE_CAPABILITIES,
                r.HOST_NETWORK,
                r.HOST_PID,
                r.HOST_IPC,
                r.HOST_PORT,
                r.HOST_PATH,
                r.HOST_PROCESS,
                r.PROC_MOUNT,
                r.LINUX_HARDENING,
            ),
            scans=True,
        ),
        REPLICAS.id: Plan((r.REPLICAS,), scans=True),
        PDB.id: Plan((r.PDB_MISSING, r.PDB_BLOCKS), scans=True),
        HPA.id: Plan(
            (r.HPA_MISSING, r.HPA_MIN, r.HPA_MAX, r.HPA_AT_MAX, r.HPA_METRICS), scans=True
        ),
        TOPOLOGY.id: Plan((r.TOPOLOGY_SPREAD,), scans=True),
        ENV_REQUIRED.id: Plan((r.ENV_MISSING,), per_workload=False),
        ENV_VALUES.id: Plan((r.ENV_MISSING, r.ENV_VALUE, r.ENV_FORBIDDEN), per_workload=False),
        SECRET_ENV.id: Plan((r.SENSITIVE_ENV, r.SENSITIVE_CONFIGMAP), scans=True),
        CONFIG_REFS.id: Plan(
            (r.CONFIGMAP_MISSING, r.CONFIGMAP_KEY_MISSING, r.SECRET_MISSING, r.SECRET_KEY_MISSING),
            scans=True,
        ),
        SECRET_LENGTH.id: Plan(
            (r.SECRET_TOO_SHORT, r.SECRET_MISSING, r.SECRET_KEY_MISSING), per_workload=False
        ),
        SERVICE.id: Plan(
            (r.SERVICE_TARGETS_POD, r.SERVICE_NO_ENDPOINTS, r.SERVICE_ENDPOINTS_MISMATCH),
            scans=True,
        ),
        INGRESS.id: Plan(
            (r.INGRESS_HOST, r.INGRESS_TLS, r.INGRESS_ADDRESS, r.INGRESS_BACKEND),
            per_workload=False,
        ),
        NETWORK_POLICY.id: Plan((r.NETWORK_POLICY, r.DEFAULT_DENY), scans=True),
        DNS.id: Plan((r.DNS_RESOLUTION, r.DNS_MISMATCH), per_workload=False),
        NAMESPACE.id: Plan((r.NAMESPACE,), live_only=True, per_workload=False),
        SERVICE_ACCOUNT.id: Plan(
            (
                r.SA_CLUSTER_ADMIN,
                r.SA_WILDCARD,
                r.CRB_EXEC,
                r.RB_CLUSTERROLE_EXEC,
                r.RB_ROLE_EXEC,
            ),
            scans=True,
        ),
        SA_EXISTS.id: Plan((r.SERVICE_ACCOUNT_MISSING,), scans=True),
        VERIFIER_READ_ONLY.id: Plan(
            (r.VERIFIER_MUTATE, r.VERIFIER_UNKNOWN), live_only=True, per_workload=False
        ),
        STORAGE_CLASS.id: Plan((r.STORAGE_CLASS, r.STORAGE_CLASS_DEFAULT), live_only=True),
        NODE_CAPACITY.id: Plan(
            (r.NODE_CAPACITY, r.VOLUME_NOT_BOUND, r.VOLUME_CAPACITY, r.VOLUME_EXPANSION),
            live_only=True,
        ),
        IMAGE_SIZE.id: Plan((r.IMAGE_TOO_LARGE, r.IMAGE_SIZE_UNKNOWN), live_only=True),
        HELM_RELEASE.id: Plan(
            (
                r.HELM_RELEASE_MISSING,
                r.HELM_RELEASE_STATUS,
                r.HELM_CHART_VERSION,
                r.HELM_APP_VERSION,
            ),
            live_only=True,
            per_workload=False,
        ),
        HELM_DRIFT.id: Plan(
            (r.HELM_DRIFT, r.HELM_DRIFT_MISSING), live_only=True, per_workload=False
        ),
        POD_LOG_SECRETS.id: Plan((r.POD_LOG_SECRET,), live_only=True),
        IMAGE_VULNS.id: Plan(
            (r.IMAGE_VULNERABLE, r.IMAGE_SCAN_MISSING, r.IMAGE_SCAN_STALE), per_workload=False
        ),
        SA_TOKEN.id: Plan((r.AUTOMOUNT_TOKEN,), scans=True),
        PRIORITY_CLASS.id: Plan((r.PRIORITY_CLASS,), scans=True),
        INSTANCE_LABEL.id: Plan((r.INSTANCE_LABEL,), scans=True),
        RBAC.id: Plan(
            (
                r.CRB_CLUSTER_ADMIN,
                r.RB_CLUSTER_ADMIN_CLUSTERROLE,
                r.RB_CLUSTER_ADMIN_ROLE,
                r.CLUSTERROLE_EXEC,
                r.ROLE_EXEC,
                r.CRB_EXEC,
                r.RB_CLUSTERROLE_EXEC,
                r.RB_ROLE_EXEC,
            ),
            per_workload=False,
            scans=True,
        ),
        INGRESS_TLS.id: Plan((r.TLS_SETTINGS,), per_workload=False, scans=True),
        SCHEMA.id: Plan((r.SCHEMA_INVALID, r.SCHEMA_UNKNOWN), per_workload=False, scans=True),
    }
)
"""Item id -> what the runner needs: the rules it owns, live only, once or per workload, and
whether it judges every object read."""
