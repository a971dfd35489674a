"""Every Kubernetes check id in one place, with its default severity and Polaris/kube-score name.

Ids are stable: reports, waivers and sign-offs refer to them. They follow the Polaris check name
(in kebab case) or the kube-score id where one exists, so people who know those tools recognise
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pytest_deployverify.checks.findings import Finding, Severity


@dataclass(frozen=True)
class CheckSpec:
    """One check: its id, default severity, what it checks, and the equivalent elsewhere."""

    check_id: str
    severity: Severity
    summary: str
    equivalent: str = ""

    def finding(self, subject: str, message: str, *, severity: Severity | None = None) -> Finding:
        return Finding(self.check_id, severity or self.severity, subject, message)


C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

_SPECS = (
    # rollout.py
    CheckSpec("rollout-generation-observed", H, "controller observed the latest spec generation"),
    CheckSpec("rollout-replicas", H, "updated/ready/available replicas equal spec.replicas"),
    CheckSpec("rollout-progress-deadline", C, "Progressing condition not ProgressDeadlineExceeded"),
    CheckSpec("rollout-image-version", H, "running image tag equals the release version"),
    CheckSpec("rollout-image-digest", H, "running image digest equals the pinned digest"),
    CheckSpec("rollout-timeout", H, "rollout settled before the wait timed out"),
    CheckSpec("pod-not-ready", H, "every pod of the workload is Ready"),
    CheckSpec("pod-pending", H, "no pod is stuck Pending (unschedulable, volumes, ...)"),
    CheckSpec("pod-crash-loop", C, "no container waiting in CrashLoopBackOff"),
    CheckSpec("pod-image-pull-error", C, "no container in ImagePullBackOff/ErrImagePull"),
    CheckSpec("pod-create-error", C, "no CreateContainerConfigError/InvalidImageName/..."),
    CheckSpec("pod-restarts", H, "no container restarts since the rollout began"),
    # workloads.py, containers.py, security.py
    CheckSpec(
        "cpu-requests-missing",
        M,
        "CPU request set (resources.requests.cpu)",
        "Polaris cpuRequestsMissing; kube-score container-resources",
    ),
    CheckSpec(
        "memory-requests-missing",
        M,
        "memory request set (resources.requests.memory)",
        "Polaris memoryRequestsMissing; kube-score container-resources",
    ),
    CheckSpec(
        "cpu-limits-missing",
        M,
        "CPU limit set (resources.limits.cpu)",
        "Polaris cpuLimitsMissing; kube-score container-resources",
    ),
    CheckSpec(
        "memory-limits-missing",
        H,
        "memory limit set (resources.limits.memory)",
        "Polaris memoryLimitsMissing; kube-score container-resources",
    ),
    CheckSpec(
        "liveness-probe-missing", M, "livenessProbe configured", "Polaris livenessProbeMissing"
    ),
    CheckSpec(
        "readiness-probe-missing", H, "readinessProbe configured", "Polaris readinessProbeMissing"
    ),
    CheckSpec(
        "pod-probes-identical",
        M,
        "liveness and readiness probes differ",
        "kube-score pod-probes-identical",
    ),
    CheckSpec(
        "container-image-tag",
        H,
        "image has an explicit tag that is not latest (or a digest)",
        "kube-score container-image-tag; Polaris tagNotSpecified",
    ),
    CheckSpec(
        "container-image-pull-policy",
        M,
        "imagePullPolicy is Always (Never is high)",
        "kube-score container-image-pull-policy; Polaris pullPolicyNotAlways",
    ),
    CheckSpec(
        "run-as-root-allowed",
        H,
        "runAsNonRoot true or a non-zero runAsUser (pod or container)",
        "Polaris runAsRootAllowed; kube-score container-security-context-user-group-id",
    ),
    CheckSpec(
        "privilege-escalation-allowed",
        H,
        "allowPrivilegeEscalation explicitly false",
        "Polaris privilegeEscalationAllowed",
    ),
    CheckSpec(
        "not-read-only-root-filesystem",
        M,
        "readOnlyRootFilesystem true",
        "Polaris notReadOnlyRootFilesystem; "
        "kube-score container-security-context-readonlyrootfilesystem",
    ),
    CheckSpec(
        "run-as-privileged",
        C,
        "privileged not true",
        "Polaris runAsPrivileged; kube-score container-security-context-privileged",
    ),
    CheckSpec(
        "dangerous-capabilities",
        H,
        "no SYS_ADMIN/NET_ADMIN/ALL/... added",
        "Polaris dangerousCapabilities",
    ),
    CheckSpec(
        "insecure-capabilities", M, "capabilities.drop contains ALL", "Polaris insecureCapabilities"
    ),
    CheckSpec("host-network-set", H, "hostNetwork not true", "Polaris hostNetworkSet"),
    CheckSpec("host-pid-set", H, "hostPID not true", "Polaris hostPIDSet"),
    CheckSpec("host-ipc-set", H, "hostIPC not true", "Polaris hostIPCSet"),
    CheckSpec("host-port-set", M, "no container hostPort", "Polaris hostPortSet"),
    CheckSpec(
        "deployment-missing-replicas",
        M,
        "replicas (or HPA minReplicas) >= the minimum (2)",
        "Polaris deploymentMissingReplicas; kube-score deployment-replicas",
    ),
    CheckSpec(
        "missing-pod-disruption-budget",
        M,
        "a PDB selects the workload's pods",
        "Polaris missingPodDisruptionBudget; kube-score deployment-has-poddisruptionbudget",
    ),
    CheckSpec(
        "pdb-disruptions-is-zero",
        M,
        "the PDB allows at least one voluntary disruption",
        "Polaris pdbDisruptionsIsZero / pdbMinAvailableGreaterThanHPAMinReplicas; "
        "kube-score poddisruptionbudget-has-policy",
    ),
    CheckSpec("missing-hpa", M, "an HPA targets the workload (scaleTargetRef kind+name)"),
    CheckSpec(
        "hpa-min-availability",
        M,
        "HPA minReplicas >= the minimum (2)",
        "Polaris hpaMinAvailability; kube-score horizontalpodautoscaler-replicas",
    ),
    CheckSpec(
        "hpa-max-availability", M, "HPA maxReplicas > minReplicas", "Polaris hpaMaxAvailability"
    ),
    CheckSpec("hpa-at-max-replicas", M, "HPA currentReplicas below maxReplicas (headroom left)"),
    CheckSpec("hpa-missing-metrics", H, "a live HPA reports currentMetrics (it can scale)"),
    CheckSpec(
        "topology-spread-constraint",
        M,
        "topology spread constraints or pod anti-affinity on the pod's own labels",
        "Polaris topologySpreadConstraint; kube-score deployment-has-host-podantiaffinity",
    ),
    # config.py, env.py
    CheckSpec("env-var-missing", H, "required environment variables are set"),
    CheckSpec("env-var-value", H, "environment variables hold the expected production value"),
    CheckSpec("env-var-forbidden-value", H, "no environment variable holds a forbidden value"),
    CheckSpec(
        "sensitive-container-env-var",
        H,
        "secret-like variables come from a Secret, never a literal value",
        "Polaris sensitiveContainerEnvVar",
    ),
    CheckSpec(
        "sensitive-configmap-content",
        H,
        "secret-like keys are not kept in ConfigMaps",
        "Polaris sensitiveConfigmapContent",
    ),
    CheckSpec("configmap-missing", H, "every referenced ConfigMap exists (optional refs exempt)"),
    CheckSpec("configmap-key-missing", H, "every referenced ConfigMap key exists"),
    CheckSpec("secret-missing", H, "every referenced Secret exists (optional refs exempt)"),
    CheckSpec("secret-key-missing", H, "every referenced Secret key exists"),
    CheckSpec("secret-too-short", H, "a secret value is at least N characters (value never shown)"),
    # network.py
    CheckSpec(
        "service-targets-pod",
        H,
        "the Service selector matches pods",
        "kube-score service-targets-pod",
    ),
    CheckSpec("service-no-ready-endpoints", H, "the Service has ready endpoints (EndpointSlices)"),
    CheckSpec("service-endpoints-mismatch", M, "ready endpoints equal the ready selected pods"),
    CheckSpec("ingress-host-missing", H, "an Ingress rule serves the public host"),
    CheckSpec("ingress-tls-missing", H, "an Ingress TLS entry covers the public host"),
    CheckSpec("ingress-no-address", H, "the Ingress has a load-balancer ip or hostname"),
    CheckSpec(
        "ingress-targets-service",
        H,
        "Ingress backends name existing Services",
        "kube-score ingress-targets-service",
    ),
    CheckSpec(
        "pod-networkpolicy",
        H,
        "a NetworkPolicy selects the workload's pods",
        "kube-score pod-networkpolicy; Polaris missingNetworkPolicy",
    ),
    CheckSpec("networkpolicy-default-deny-missing", M, "the namespace has a default-deny policy"),
    CheckSpec("dns-resolution-failed", H, "the public host resolves"),
    CheckSpec("dns-record-mismatch", H, "the public host resolves to the expected addresses"),
    # rbac.py
    CheckSpec("namespace-missing", H, "the namespace exists and is Active"),
    CheckSpec(
        "service-account-cluster-admin",
        C,
        "the workload's service account is not bound to cluster-admin",
        "Polaris clusterrolebindingClusterAdmin / rolebindingClusterAdminClusterRole",
    ),
    CheckSpec(
        "service-account-wildcard-role",
        H,
        "the service account's roles have no wildcard verbs/resources/apiGroups",
    ),
    CheckSpec("verifier-can-mutate", H, "the verifier's own credentials are read-only"),
    CheckSpec("verifier-access-unknown", M, "the verifier's access review is complete"),
    # capacity.py
    CheckSpec("storage-class-missing", H, "the required StorageClass exists"),
    CheckSpec("storage-class-default-missing", M, "a default StorageClass is marked"),
    CheckSpec("insufficient-node-capacity", H, "nodes have room for the workload's requests"),
    CheckSpec("image-too-large", M, "the image is below the size limit (node status.images)"),
    CheckSpec("image-size-unknown", L, "the image size is known from some node"),
    # helm.py, drift.py
    CheckSpec("helm-release-missing", H, "a Helm release record exists"),
    CheckSpec("helm-release-status", H, "the latest Helm revision is deployed"),
    CheckSpec("helm-chart-version", H, "chart name/version as expected"),
    CheckSpec("helm-app-version", H, "chart appVersion as expected"),
    CheckSpec("helm-drift", M, "live objects equal the release's rendered manifest"),
    CheckSpec("helm-drift-missing-object", H, "every rendered object exists live"),
)

CHECKS: Mapping[str, CheckSpec] = MappingProxyType({s.check_id: s for s in _SPECS})
"""Check id -> spec; read-only."""

if len(CHECKS) != len(_SPECS):  # pragma: no cover - a duplicated id is a programming error
    raise RuntimeError("duplicate check id in kube catalog")


def check(check_id: str) -> CheckSpec:
    """The spec of a known check id; ``KeyError`` for an unknown one (a typo in a check)."""
    return CHECKS[check_id]
