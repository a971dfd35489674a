"""Every kind of Kubernetes finding, as a ``Rule``: stable id, default severity, what it guards.

Ids are stable: reports, waivers and sign-offs refer to them. They follow the Polaris check name
(in kebab case) or the kube-score id where one exists, so people who know those tools recognise
them (``EQUIVALENTS``). A check function makes a finding by calling its rule:
``MEMORY_LIMITS(subject, message)``; a finding may carry another severity when the same rule is
broken more or less badly (``PULL_POLICY(..., Severity.HIGH)`` for ``Never``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pytest_deployverify.checks.findings import Rule, Severity

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

# ---- rollout.py ------------------------------------------------------------------------------------
ROLLOUT_GENERATION = Rule(
    "rollout-generation-observed", H, "controller observed the latest spec generation"
)
ROLLOUT_REPLICAS = Rule(
    "rollout-replicas", H, "updated/ready/available replicas equal spec.replicas"
)
ROLLOUT_DEADLINE = Rule(
    "rollout-progress-deadline", C, "Progressing condition not ProgressDeadlineExceeded"
)
ROLLOUT_IMAGE_VERSION = Rule("rollout-image-version", H, "running image tag is the release version")
ROLLOUT_IMAGE_DIGEST = Rule("rollout-image-digest", H, "running image digest equals the pinned one")
ROLLOUT_TIMEOUT = Rule("rollout-timeout", H, "rollout settled before the wait timed out")
POD_NOT_READY = Rule("pod-not-ready", H, "every pod of the workload is Ready")
POD_PENDING = Rule("pod-pending", H, "no pod is stuck Pending (unschedulable, volumes, ...)")
POD_CRASH_LOOP = Rule("pod-crash-loop", C, "no container waiting in CrashLoopBackOff")
POD_IMAGE_PULL = Rule("pod-image-pull-error", C, "no container in ImagePullBackOff/ErrImagePull")
POD_CREATE = Rule("pod-create-error", C, "no CreateContainerConfigError/InvalidImageName/...")
POD_RESTARTS = Rule("pod-restarts", H, "no container restarts since the rollout began")

# ---- jobs.py -----------------------------------------------------------------------------------------
JOB_FAILED = Rule(
    "job-failed", C, "the Job, or a CronJob's most recent run, has not failed (Failed condition)"
)
JOB_NOT_COMPLETE = Rule("job-not-complete", H, "the Job has completed (Complete condition)")
CRONJOB_SUSPENDED = Rule(
    "cronjob-suspended", H, "the CronJob is not suspended (unless the profile expects it)"
)

# ---- workloads.py, containers.py, security.py -----------------------------------------------------
CPU_REQUESTS = Rule("cpu-requests-missing", M, "CPU request set (resources.requests.cpu)")
MEMORY_REQUESTS = Rule(
    "memory-requests-missing", M, "memory request set (resources.requests.memory)"
)
CPU_LIMITS = Rule("cpu-limits-missing", M, "CPU limit set (resources.limits.cpu)")
MEMORY_LIMITS = Rule("memory-limits-missing", H, "memory limit set (resources.limits.memory)")
LIVENESS_PROBE = Rule("liveness-probe-missing", M, "livenessProbe configured")
READINESS_PROBE = Rule("readiness-probe-missing", H, "readinessProbe configured")
PROBES_IDENTICAL = Rule("pod-probes-identical", M, "liveness and readiness probes differ")
IMAGE_TAG = Rule(
    "container-image-tag", H, "image has an explicit tag that is not latest (or a digest)"
)
PULL_POLICY = Rule(
    "container-image-pull-policy",
    M,
    "unpinned images are pulled Always; IfNotPresent is fine for a version tag or digest "
    "(Never is high)",
)
RUN_AS_ROOT = Rule(
    "run-as-root-allowed", H, "runAsNonRoot true or a non-zero runAsUser (pod or container)"
)
PRIVILEGE_ESCALATION = Rule(
    "privilege-escalation-allowed", H, "allowPrivilegeEscalation explicitly false"
)
WRITABLE_ROOT = Rule("not-read-only-root-filesystem", M, "readOnlyRootFilesystem true")
PRIVILEGED = Rule("run-as-privileged", C, "privileged not true")
DANGEROUS_CAPABILITIES = Rule("dangerous-capabilities", H, "no SYS_ADMIN/NET_ADMIN/ALL/... added")
INSECURE_CAPABILITIES = Rule("insecure-capabilities", M, "capabilities.drop contains ALL")
HOST_NETWORK = Rule("host-network-set", H, "hostNetwork not true")
HOST_PID = Rule("host-pid-set", H, "hostPID not true")
HOST_IPC = Rule("host-ipc-set", H, "hostIPC not true")
HOST_PORT = Rule("host-port-set", M, "no container hostPort")
HOST_PATH = Rule("host-path-set", M, "no hostPath volume")
HOST_PROCESS = Rule("host-process", H, "no Windows hostProcess container (pod or container)")
PROC_MOUNT = Rule("proc-mount", M, "securityContext.procMount unset or Default")
LINUX_HARDENING = Rule(
    "linux-hardening",
    M,
    "seccomp (not Unconfined), SELinux options, AppArmor or dropped capabilities restrict the "
    "container",
)
AUTOMOUNT_TOKEN = Rule(
    "automount-service-account-token",
    M,
    "automountServiceAccountToken false on the pod or its ServiceAccount",
)
PRIORITY_CLASS = Rule("priority-class-not-set", M, "priorityClassName set on the pod spec")
INSTANCE_LABEL = Rule(
    "metadata-and-instance-mismatched", M, "label app.kubernetes.io/instance equals metadata.name"
)
REPLICAS = Rule(
    "deployment-missing-replicas", M, "replicas (or HPA minReplicas) >= the minimum (2)"
)
PDB_MISSING = Rule("missing-pod-disruption-budget", M, "a PDB selects the workload's pods")
PDB_BLOCKS = Rule("pdb-disruptions-is-zero", M, "the PDB allows at least one voluntary disruption")
HPA_MISSING = Rule("missing-hpa", M, "an HPA targets the workload (scaleTargetRef kind+name)")
HPA_MIN = Rule("hpa-min-availability", M, "HPA minReplicas >= the minimum (2)")
HPA_MAX = Rule("hpa-max-availability", M, "HPA maxReplicas > minReplicas")
HPA_AT_MAX = Rule("hpa-at-max-replicas", M, "HPA currentReplicas below maxReplicas (headroom)")
HPA_METRICS = Rule("hpa-missing-metrics", H, "a live HPA reports currentMetrics (it can scale)")
TOPOLOGY_SPREAD = Rule(
    "topology-spread-constraint",
    M,
    "topology spread constraints or pod anti-affinity on the pod's own labels",
)

# ---- config.py, env.py, sensitive.py ----------------------------------------------------------------
ENV_MISSING = Rule("env-var-missing", H, "required environment variables are set")
ENV_VALUE = Rule("env-var-value", H, "environment variables hold the expected production value")
ENV_FORBIDDEN = Rule(
    "env-var-forbidden-value", H, "no environment variable holds a forbidden value"
)
SENSITIVE_ENV = Rule(
    "sensitive-container-env-var",
    H,
    "secrets (by name or by value) come from a Secret, never a literal value",
)
SENSITIVE_CONFIGMAP = Rule(
    "sensitive-configmap-content", H, "secrets (by key name or by value) are not kept in ConfigMaps"
)
CONFIGMAP_MISSING = Rule(
    "configmap-missing", H, "every referenced ConfigMap exists (optional refs exempt)"
)
CONFIGMAP_KEY_MISSING = Rule("configmap-key-missing", H, "every referenced ConfigMap key exists")
SECRET_MISSING = Rule("secret-missing", H, "every referenced Secret exists (optional refs exempt)")
SECRET_KEY_MISSING = Rule("secret-key-missing", H, "every referenced Secret key exists")
SECRET_TOO_SHORT = Rule(
    "secret-too-short", H, "a secret value is at least N characters (value never shown)"
)

# ---- network.py ----------------------------------------------------------------------------------
SERVICE_TARGETS_POD = Rule("service-targets-pod", H, "the Service selector matches pods")
SERVICE_NO_ENDPOINTS = Rule(
    "service-no-ready-endpoints", H, "the Service has ready endpoints (EndpointSlices)"
)
SERVICE_ENDPOINTS_MISMATCH = Rule(
    "service-endpoints-mismatch", M, "ready endpoints equal the ready selected pods"
)
INGRESS_HOST = Rule("ingress-host-missing", H, "an Ingress rule serves the public host")
INGRESS_TLS = Rule("ingress-tls-missing", H, "an Ingress TLS entry covers the public host")
INGRESS_ADDRESS = Rule("ingress-no-address", H, "the Ingress has a load-balancer ip or hostname")
INGRESS_BACKEND = Rule("ingress-targets-service", H, "Ingress backends name existing Services")
NETWORK_POLICY = Rule(
    "pod-networkpolicy",
    H,
    "a NetworkPolicy selects the workload's pods for each direction judged (policyTypes)",
)
DEFAULT_DENY = Rule(
    "networkpolicy-default-deny-missing",
    M,
    "the namespace has a default-deny policy for each direction judged",
)
TLS_SETTINGS = Rule("tls-settings-missing", M, "every Ingress has a spec.tls entry")
DNS_RESOLUTION = Rule("dns-resolution-failed", H, "the public host resolves")
DNS_MISMATCH = Rule("dns-record-mismatch", H, "the public host resolves to the expected addresses")

# ---- rbac.py ---------------------------------------------------------------------------------------
NAMESPACE = Rule("namespace-missing", H, "the namespace exists and is Active")
SERVICE_ACCOUNT_MISSING = Rule(
    "service-account-missing",
    H,
    "the ServiceAccount a workload names exists (in the cluster, the manifests, or declared "
    "external)",
)
SA_CLUSTER_ADMIN = Rule(
    "service-account-cluster-admin",
    C,
    "the workload's service account is not bound to cluster-admin",
)
SA_WILDCARD = Rule(
    "service-account-wildcard-role",
    H,
    "the service account's roles have no wildcard verbs/resources/apiGroups",
)
CRB_CLUSTER_ADMIN = Rule(
    "clusterrolebinding-cluster-admin",
    H,
    "no ClusterRoleBinding to cluster-admin or a wildcard ClusterRole (any subject)",
)
RB_CLUSTER_ADMIN_CLUSTERROLE = Rule(
    "rolebinding-cluster-admin-clusterrole",
    H,
    "no RoleBinding to cluster-admin or a wildcard ClusterRole (any subject)",
)
RB_CLUSTER_ADMIN_ROLE = Rule(
    "rolebinding-cluster-admin-role", H, "no RoleBinding to a Role with wildcard permissions"
)
CLUSTERROLE_EXEC = Rule(
    "clusterrole-pod-exec-attach", H, "no ClusterRole allows pods/exec or pods/attach"
)
ROLE_EXEC = Rule("role-pod-exec-attach", H, "no Role allows pods/exec or pods/attach")
CRB_EXEC = Rule(
    "clusterrolebinding-pod-exec-attach",
    H,
    "no ClusterRoleBinding to a ClusterRole allowing pods/exec or pods/attach",
)
RB_CLUSTERROLE_EXEC = Rule(
    "rolebinding-clusterrole-pod-exec-attach",
    H,
    "no RoleBinding to a ClusterRole allowing pods/exec or pods/attach",
)
RB_ROLE_EXEC = Rule(
    "rolebinding-role-pod-exec-attach",
    H,
    "no RoleBinding to a Role allowing pods/exec or pods/attach",
)
VERIFIER_MUTATE = Rule("verifier-can-mutate", H, "the verifier's own credentials are read-only")
VERIFIER_UNKNOWN = Rule("verifier-access-unknown", M, "the verifier's access review is complete")

# ---- capacity.py -----------------------------------------------------------------------------------
STORAGE_CLASS = Rule("storage-class-missing", H, "the required StorageClass exists")
STORAGE_CLASS_DEFAULT = Rule("storage-class-default-missing", M, "a default StorageClass is marked")
NODE_CAPACITY = Rule("insufficient-node-capacity", H, "nodes have room for the workload's requests")
IMAGE_TOO_LARGE = Rule(
    "image-too-large", M, "the image is below the size limit (node status.images)"
)
IMAGE_SIZE_UNKNOWN = Rule("image-size-unknown", L, "the image size is known from some node")
VOLUME_NOT_BOUND = Rule(
    "volume-claim-not-bound", H, "every PersistentVolumeClaim the workload uses is Bound"
)
VOLUME_CAPACITY = Rule(
    "volume-capacity-short", H, "a bound volume provides at least the storage its claim requests"
)
VOLUME_EXPANSION = Rule(
    "volume-expansion-disabled",
    M,
    "the StorageClass of the workload's volumes allows expansion (opt-in: "
    "require_volume_expansion)",
)

# ---- vulns.py --------------------------------------------------------------------------------------
IMAGE_VULNERABLE = Rule(
    "image-vulnerable",
    C,
    "no running image has a vulnerability at or above the severity threshold (ignore entries "
    "in force excepted)",
)
IMAGE_SCAN_MISSING = Rule(
    "image-scan-missing", H, "every running image has a vulnerability report (matched by digest)"
)
IMAGE_SCAN_STALE = Rule(
    "image-scan-stale", H, "the vulnerability report of a running image is recent enough"
)

# ---- helm.py, drift.py ------------------------------------------------------------------------------
HELM_RELEASE_MISSING = Rule("helm-release-missing", H, "a Helm release record exists")
HELM_RELEASE_STATUS = Rule("helm-release-status", H, "the latest Helm revision is deployed")
HELM_CHART_VERSION = Rule("helm-chart-version", H, "chart name/version as expected")
HELM_APP_VERSION = Rule("helm-app-version", H, "chart appVersion as expected")
HELM_DRIFT = Rule("helm-drift", M, "live objects equal the release's rendered manifest")
HELM_DRIFT_MISSING = Rule("helm-drift-missing-object", H, "every rendered object exists live")

# ---- manifests ------------------------------------------------------------------------------------
SCHEMA_INVALID = Rule(
    "manifest-schema-invalid",
    H,
    "the manifest validates against the Kubernetes OpenAPI schema (no unknown field, right types "
    "and values)",
)
SCHEMA_UNKNOWN = Rule(
    "manifest-api-unknown",
    H,
    "the apiVersion serves the kind in the Kubernetes version validated against",
)

# ---- logs.py -------------------------------------------------------------------------------------
POD_LOG_SECRET = Rule(
    "pod-log-secret", C, "no secret value in the containers' logs (recent and previous)"
)

RULES: tuple[Rule, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Rule))
"""Every rule, in declaration order."""

BY_ID: Mapping[str, Rule] = MappingProxyType({r.id: r for r in RULES})
"""Rule id -> rule; read-only."""

if len(BY_ID) != len(RULES):  # pragma: no cover - a duplicated id is a programming error
    raise RuntimeError("duplicate rule id in checks.kube.rules")

EQUIVALENTS: Mapping[str, str] = MappingProxyType(
    {
        CPU_REQUESTS.id: "Polaris cpuRequestsMissing; kube-score container-resources",
        MEMORY_REQUESTS.id: "Polaris memoryRequestsMissing; kube-score container-resources",
        CPU_LIMITS.id: "Polaris cpuLimitsMissing; kube-score container-resources",
        MEMORY_LIMITS.id: "Polaris memoryLimitsMissing; kube-score container-resources",
        LIVENESS_PROBE.id: "Polaris livenessProbeMissing",
        READINESS_PROBE.id: "Polaris readinessProbeMissing",
        PROBES_IDENTICAL.id: "kube-score pod-probes-identical",
        IMAGE_TAG.id: "kube-score container-image-tag; Polaris tagNotSpecified",
        PULL_POLICY.id: "kube-score container-image-pull-policy; Polaris pullPolicyNotAlways",
        RUN_AS_ROOT.id: "Polaris runAsRootAllowed; "
        "kube-score container-security-context-user-group-id",
        PRIVILEGE_ESCALATION.id: "Polaris privilegeEscalationAllowed",
        WRITABLE_ROOT.id: "Polaris notReadOnlyRootFilesystem; "
        "kube-score container-security-context-readonlyrootfilesystem",
        PRIVILEGED.id: "Polaris runAsPrivileged; kube-score container-security-context-privileged",
        DANGEROUS_CAPABILITIES.id: "Polaris dangerousCapabilities",
        INSECURE_CAPABILITIES.id: "Polaris insecureCapabilities",
        HOST_NETWORK.id: "Polaris hostNetworkSet",
        HOST_PID.id: "Polaris hostPIDSet",
        HOST_IPC.id: "Polaris hostIPCSet",
        HOST_PORT.id: "Polaris hostPortSet",
        REPLICAS.id: "Polaris deploymentMissingReplicas; kube-score deployment-replicas",
        PDB_MISSING.id: "Polaris missingPodDisruptionBudget; "
        "kube-score deployment-has-poddisruptionbudget",
        PDB_BLOCKS.id: "Polaris pdbDisruptionsIsZero / pdbMinAvailableGreaterThanHPAMinReplicas; "
        "kube-score poddisruptionbudget-has-policy",
        HPA_MIN.id: "Polaris hpaMinAvailability; kube-score horizontalpodautoscaler-replicas",
        HPA_MAX.id: "Polaris hpaMaxAvailability",
        TOPOLOGY_SPREAD.id: "Polaris topologySpreadConstraint; "
        "kube-score deployment-has-host-podantiaffinity",
        SENSITIVE_ENV.id: "Polaris sensitiveContainerEnvVar",
        SENSITIVE_CONFIGMAP.id: "Polaris sensitiveConfigmapContent",
        SERVICE_TARGETS_POD.id: "kube-score service-targets-pod",
        INGRESS_BACKEND.id: "kube-score ingress-targets-service",
        NETWORK_POLICY.id: "kube-score pod-networkpolicy; Polaris missingNetworkPolicy",
        SA_CLUSTER_ADMIN.id: "Polaris clusterrolebindingClusterAdmin / "
        "rolebindingClusterAdminClusterRole (for the workload's own service account)",
        HOST_PATH.id: "Polaris hostPathSet",
        HOST_PROCESS.id: "Polaris hostProcess",
        PROC_MOUNT.id: "Polaris procMount",
        LINUX_HARDENING.id: "Polaris linuxHardening",
        AUTOMOUNT_TOKEN.id: "Polaris automountServiceAccountToken",
        PRIORITY_CLASS.id: "Polaris priorityClassNotSet",
        INSTANCE_LABEL.id: "Polaris metadataAndInstanceMismatched",
        TLS_SETTINGS.id: "Polaris tlsSettingsMissing",
        CRB_CLUSTER_ADMIN.id: "Polaris clusterrolebindingClusterAdmin",
        RB_CLUSTER_ADMIN_CLUSTERROLE.id: "Polaris rolebindingClusterAdminClusterRole",
        RB_CLUSTER_ADMIN_ROLE.id: "Polaris rolebindingClusterAdminRole",
        CLUSTERROLE_EXEC.id: "Polaris clusterrolePodExecAttach",
        ROLE_EXEC.id: "Polaris rolePodExecAttach",
        CRB_EXEC.id: "Polaris clusterrolebindingPodExecAttach",
        RB_CLUSTERROLE_EXEC.id: "Polaris rolebindingClusterRolePodExecAttach",
        RB_ROLE_EXEC.id: "Polaris rolebindingRolePodExecAttach",
        SCHEMA_INVALID.id: "kubeconform / kubeval (schema validation)",
    }
)
"""Rule id -> the Polaris / kube-score check it mirrors, where one exists."""

POLARIS: Mapping[str, str] = MappingProxyType(
    {
        "cpuRequestsMissing": CPU_REQUESTS.id,
        "memoryRequestsMissing": MEMORY_REQUESTS.id,
        "cpuLimitsMissing": CPU_LIMITS.id,
        "memoryLimitsMissing": MEMORY_LIMITS.id,
        "livenessProbeMissing": LIVENESS_PROBE.id,
        "readinessProbeMissing": READINESS_PROBE.id,
        "tagNotSpecified": IMAGE_TAG.id,
        "pullPolicyNotAlways": PULL_POLICY.id,
        "runAsRootAllowed": RUN_AS_ROOT.id,
        "privilegeEscalationAllowed": PRIVILEGE_ESCALATION.id,
        "notReadOnlyRootFilesystem": WRITABLE_ROOT.id,
        "runAsPrivileged": PRIVILEGED.id,
        "dangerousCapabilities": DANGEROUS_CAPABILITIES.id,
        "insecureCapabilities": INSECURE_CAPABILITIES.id,
        "hostNetworkSet": HOST_NETWORK.id,
        "hostPIDSet": HOST_PID.id,
        "hostIPCSet": HOST_IPC.id,
        "hostPortSet": HOST_PORT.id,
        "hostPathSet": HOST_PATH.id,
        "hostProcess": HOST_PROCESS.id,
        "procMount": PROC_MOUNT.id,
        "linuxHardening": LINUX_HARDENING.id,
        "automountServiceAccountToken": AUTOMOUNT_TOKEN.id,
        "priorityClassNotSet": PRIORITY_CLASS.id,
        "metadataAndInstanceMismatched": INSTANCE_LABEL.id,
        "deploymentMissingReplicas": REPLICAS.id,
        "missingPodDisruptionBudget": PDB_MISSING.id,
        "pdbDisruptionsIsZero": PDB_BLOCKS.id,
        "pdbMinAvailableGreaterThanHPAMinReplicas": PDB_BLOCKS.id,
        "hpaMinAvailability": HPA_MIN.id,
        "hpaMaxAvailability": HPA_MAX.id,
        "topologySpreadConstraint": TOPOLOGY_SPREAD.id,
        "sensitiveContainerEnvVar": SENSITIVE_ENV.id,
        "sensitiveConfigmapContent": SENSITIVE_CONFIGMAP.id,
        "missingNetworkPolicy": NETWORK_POLICY.id,
        "tlsSettingsMissing": TLS_SETTINGS.id,
        "clusterrolebindingClusterAdmin": CRB_CLUSTER_ADMIN.id,
        "rolebindingClusterAdminClusterRole": RB_CLUSTER_ADMIN_CLUSTERROLE.id,
        "rolebindingClusterAdminRole": RB_CLUSTER_ADMIN_ROLE.id,
        "clusterrolePodExecAttach": CLUSTERROLE_EXEC.id,
        "rolePodExecAttach": ROLE_EXEC.id,
        "clusterrolebindingPodExecAttach": CRB_EXEC.id,
        "rolebindingClusterRolePodExecAttach": RB_CLUSTERROLE_EXEC.id,
        "rolebindingRolePodExecAttach": RB_ROLE_EXEC.id,
    }
)
"""Polaris built-in check name -> our rule id (see POLARIS.md for the differences)."""
