"""One defect per checklist item: how it reaches the cluster (or the rendered manifests), which
check id reports it, and what the failure message must say (the object and the fix)."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.kube import decode_release, release_secret
from tests.kube_checklist.cluster import (
    APP,
    NS,
    RELEASE_SECRET,
    Cluster,
    app_container,
    chart_change,
    find,
)

Objects = list[dict[str, Any]]
Change = Callable[[dict[str, Any]], object]
GATEWAY = "Deployment api-gateway/api-gateway"
CONTAINER = f"{GATEWAY} container api-gateway"
POD = "api-gateway-7d9f8b6c5d-x2k4p"
RESTARTED = "api-gateway-7d9f8b6c5d-m8v7q"
# Secret values the defects plant; the tests check none of them reaches a report.
LOGGED_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwidGVuYW50IjoiYWNtZSJ9."
    "q2Vq1m1yJx0W8c4mS9n5dQ7oP3rZ6tU1vB8kL0aE2fY"
)
LOGGED_TOKEN = (
    '{"level":"debug","msg":"calling auth-service","headers":{"authorization":"Bearer '
    + LOGGED_JWT
    + '"}}'
)
LOGGED_PASSWORD = "R3dis-Pa55w0rd-prod-7731"
PRIVATE_KEY = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBx7v3Jq0m5QfJ2k9nR8sT4uV6wX1yZ3aB5cD7eF9gHoAoGCCqGSM49\n"
    "-----END EC PRIVATE KEY-----\n"
)


@dataclass(frozen=True)
class Defect:
    """``live`` breaks the running emulator, ``rendered`` the manifest list; ``says`` are the
    fragments the failure message must contain; ``expect`` adjusts the profile's expect table."""

    item: str
    check_id: str
    says: tuple[str, ...]
    live: Callable[[Cluster], object] | None = None
    rendered: Callable[[Objects], object] | None = None
    expect: Callable[[str], str] = lambda text: text
    per_workload: bool = True

    @property
    def test_id(self) -> str:
        return f"{self.item}[{APP}]" if self.per_workload else self.item


# ---- changes to the gateway's pod template (made in the chart, so live and rendered alike) -----


def _deployment(change: Change) -> tuple[Callable[[Cluster], None], Callable[[Objects], None]]:
    def live(cluster: Cluster) -> None:
        chart_change(cluster.kube, change)

    def rendered(objects: Objects) -> None:
        change(find(objects, "Deployment", APP))

    return live, rendered


def _in_container(change: Callable[[dict[str, Any]], object]) -> Change:
    return lambda workload: change(app_container(workload))


def _no_memory_limit(container: dict[str, Any]) -> None:
    del container["resources"]["limits"]["memory"]


def _identical_probes(container: dict[str, Any]) -> None:
    container["readinessProbe"] = copy.deepcopy(container["livenessProbe"])


def _escalation(container: dict[str, Any]) -> None:
    container["securityContext"]["allowPrivilegeEscalation"] = True


def _literal_token(container: dict[str, Any]) -> None:
    container["env"].append({"name": "API_TOKEN", "value": "tok-literal-9f8e7d6c5b4a"})


def _missing_cm_key(container: dict[str, Any]) -> None:
    ref = {"name": "api-gateway-config", "key": "FEATURE_FLAGS"}
    container["env"].append({"name": "FEATURE_FLAGS", "valueFrom": {"configMapKeyRef": ref}})


def _no_spread(workload: dict[str, Any]) -> None:
    del workload["spec"]["template"]["spec"]["topologySpreadConstraints"]


def _one_replica(workload: dict[str, Any]) -> None:
    workload["spec"]["replicas"] = 1


def _latest_image(container: dict[str, Any]) -> None:
    container["image"] = "registry.example.com/api-gateway:latest"


def _never_pull(container: dict[str, Any]) -> None:
    # IfNotPresent on the pinned release tag is healthy (kube-score and Polaris accept it);
    # Never is not: a node without the image cannot start the pod.
    container["imagePullPolicy"] = "Never"


def _key_in_configmap(data: dict[str, str]) -> None:
    # A private key under a name that says nothing: found by its value.
    data["UPSTREAM_BUNDLE"] = PRIVATE_KEY


# ---- live-only changes ----------------------------------------------------------------------------


def _restarted_pod(cluster: Cluster) -> None:
    finished = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def change(pod: dict[str, Any]) -> None:
        status = pod["status"]["containerStatuses"][0]
        status["restartCount"] = 3
        status["lastState"] = {
            "terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": finished}
        }

    cluster.edit("Pod", "api-gateway-7d9f8b6c5d-x2k4p", change)


def _latest_known_to_nodes(cluster: Cluster) -> None:
    chart_change(cluster.kube, _in_container(_latest_image))
    # The nodes pulled :latest too (the same digest as 1.4.2), so the size stays known.
    for node in ("worker-1", "worker-2"):
        cluster.edit("Node", node, _tag_images("registry.example.com/api-gateway:latest"), ns=None)


def _tag_images(alias: str) -> Change:
    def change(node: dict[str, Any]) -> None:
        for image in node["status"]["images"]:
            if "registry.example.com/api-gateway:1.4.2" in image["names"]:
                image["names"].append(alias)

    return change


def _big_image(node: dict[str, Any]) -> None:
    for image in node["status"]["images"]:
        if "registry.example.com/api-gateway:1.4.2" in image["names"]:
            image["sizeBytes"] = 912_345_678


def _no_hpa_one_replica(cluster: Cluster) -> None:
    cluster.kube.store.delete("HorizontalPodAutoscaler", NS, APP)
    chart_change(cluster.kube, _one_replica)
    cluster.edit("PodDisruptionBudget", APP, _pdb_max_unavailable)


def _pdb_max_unavailable(pdb: dict[str, Any]) -> None:
    pdb["spec"].pop("minAvailable", None)
    pdb["spec"]["maxUnavailable"] = 1


def _hpa_without_metrics(hpa: dict[str, Any]) -> None:
    hpa["status"]["currentMetrics"] = []
    for condition in hpa["status"]["conditions"]:
        if condition["type"] == "ScalingActive":
            condition.update(
                status="False",
                reason="FailedGetResourceMetric",
                message="unable to get metrics for resource cpu: no metrics returned",
            )


def _hpa_no_room(hpa: dict[str, Any]) -> None:
    hpa["spec"]["maxReplicas"] = 3


def _cm(change: Callable[[dict[str, str]], object]) -> Change:
    return lambda configmap: change(configmap["data"])


def _short_jwt(secret: dict[str, Any]) -> None:
    secret["data"]["JWT_SECRET"] = base64.b64encode(b"short-secret-16c").decode()


def _terminating(namespace: dict[str, Any]) -> None:
    namespace["metadata"]["deletionTimestamp"] = "2026-11-21T10:00:00Z"
    namespace["status"]["phase"] = "Terminating"


def _no_tls(ingress: dict[str, Any]) -> None:
    del ingress["spec"]["tls"]


def _on_nodes(change: Change) -> Callable[[Cluster], None]:
    def apply(cluster: Cluster) -> None:
        for node in ("worker-1", "worker-2"):
            cluster.edit("Node", node, change, ns=None)

    return apply


def _cordon(node: dict[str, Any]) -> None:
    node["spec"]["unschedulable"] = True


def _wrong_selector(service: dict[str, Any]) -> None:
    service["spec"]["selector"] = {"app.kubernetes.io/name": "api-gw"}


ADMIN_BINDING: dict[str, Any] = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRoleBinding",
    "metadata": {"name": "api-gateway-admin"},
    "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "cluster-admin",
    },
    "subjects": [{"kind": "ServiceAccount", "name": APP, "namespace": NS}],
}


def _failed_upgrade(cluster: Cluster) -> None:
    current = cluster.get("Secret", RELEASE_SECRET)
    release = decode_release(current["data"]["release"])
    release["version"] = 4
    release["info"]["status"] = "failed"
    release["info"]["description"] = "Upgrade failed: timed out waiting for the condition"
    release["chart"]["metadata"]["version"] = "0.9.4"
    cluster.kube.store.put(release_secret(release, namespace=NS))


def _secret_before_a_restart(cluster: Cluster) -> None:
    """A pod that restarted once (allowed by the profile): its previous instance logged a
    password before it crashed."""
    finished = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def restarted(pod: dict[str, Any]) -> None:
        status = pod["status"]["containerStatuses"][0]
        status["restartCount"] = 1
        status["lastState"] = {
            "terminated": {"reason": "Error", "exitCode": 1, "finishedAt": finished}
        }

    cluster.edit("Pod", RESTARTED, restarted)
    cluster.kube.logs.set(
        NS,
        RESTARTED,
        APP,
        [
            '{"level":"info","msg":"server listening on :3000"}',
            '{"level":"error","msg":"redis connection refused","config":{"host":"redis",'
            f'"password": "{LOGGED_PASSWORD}"}}}}',
        ],
        previous=True,
    )


def _one_restart_allowed(text: str) -> str:
    return text.replace("min_replicas = 2", "min_replicas = 2\nmax_restarts = 1")


def _manual_memory_edit(workload: dict[str, Any]) -> None:
    app_container(workload)["resources"]["limits"]["memory"] = "1Gi"


def _pin(address: str) -> Callable[[str], str]:
    return lambda text: text.replace('["127.0.0.1"]', f'["{address}"]', 1)


def _objects(change: Callable[[Objects], object]) -> Callable[[Objects], None]:
    def apply(objects: Objects) -> None:
        change(objects)

    return apply


def _remove(obj_kind: str, name: str) -> Callable[[Objects], None]:
    return _objects(lambda objs: objs.remove(find(objs, obj_kind, name)))


def _edit(obj_kind: str, name: str, change: Change) -> Callable[[Objects], None]:
    return _objects(lambda objs: change(find(objs, obj_kind, name)))


def _no_hpa_rendered(objects: Objects) -> None:
    objects.remove(find(objects, "HorizontalPodAutoscaler", APP))
    _one_replica(find(objects, "Deployment", APP))
    _pdb_max_unavailable(find(objects, "PodDisruptionBudget", APP))


def _short_secret_rendered(objects: Objects) -> None:
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "api-gateway-secrets", "namespace": NS},
            "type": "Opaque",
            "stringData": {"JWT_SECRET": "short-secret-16c", "REDIS_PASSWORD": "x" * 32},
        }
    )


def _without_hpa_requirement(text: str) -> str:
    return text.replace("min_replicas = 2", "min_replicas = 2\nrequire_hpa = false")


# ---- issue 15: capacity headroom, service accounts, image vulnerabilities ------------------------

VULN_REPORT = "replicaset-api-gateway-7d9f8b6c5d-api-gateway"
RUNNING_IMAGE = "Image registry.example.com/api-gateway:1.4.2 (sha256:10a26a2d0a50)"
CRITICAL_CVE = {
    "vulnerabilityID": "CVE-2024-3094",
    "resource": "xz-libs",
    "installedVersion": "5.6.0-r0",
    "fixedVersion": "5.6.1-r2",
    "severity": "CRITICAL",
    "title": "xz: malicious code in distributed source",
    "primaryLink": "https://avd.aquasec.com/nvd/cve-2024-3094",
    "target": "registry.example.com/api-gateway:1.4.2 (alpine 3.20.3)",
    "links": [],
}


def _hpa_max(replicas: int) -> Change:
    def change(hpa: dict[str, Any]) -> None:
        hpa["spec"]["maxReplicas"] = replicas

    return change


def _critical_cve(report: dict[str, Any]) -> None:
    report["report"]["vulnerabilities"].append(copy.deepcopy(CRITICAL_CVE))
    report["report"]["summary"]["criticalCount"] = 1


def _scanned_days_ago(days: int) -> Change:
    def change(report: dict[str, Any]) -> None:
        moment = datetime.now(UTC) - timedelta(days=days)
        report["report"]["updateTimestamp"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    return change


def _edit_report(change: Change) -> Callable[[Cluster], None]:
    return lambda cluster: cluster.edit("VulnerabilityReport", VULN_REPORT, change)


def _expired_ignore(text: str) -> str:
    expired = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    return text + (
        "\n[[kubernetes.expect.vulnerabilities.ignore]]\n"
        'id = "CVE-2024-3094"\n'
        'reason = "backdoor needs sshd linked to liblzma; our image runs no sshd"\n'
        'approver = "Dana Security"\n'
        'ticket = "SEC-4711"\n'
        f"expires = {expired}\n"
    )


_resources = _deployment(_in_container(_no_memory_limit))
_probes = _deployment(_in_container(_identical_probes))
_escalate = _deployment(_in_container(_escalation))
_token = _deployment(_in_container(_literal_token))
_cm_key = _deployment(_in_container(_missing_cm_key))
_spread = _deployment(_no_spread)
_latest = _deployment(_in_container(_latest_image))
_pull = _deployment(_in_container(_never_pull))

DEFECTS: tuple[Defect, ...] = (
    Defect(
        "K8S-ROLLOUT",
        "pod-restarts",
        (
            "Pod api-gateway/api-gateway-7d9f8b6c5d-x2k4p container api-gateway",
            "OOMKilled",
            "kubectl logs --previous",
        ),
        live=_restarted_pod,
    ),
    Defect(
        "K8S-RESOURCES",
        "memory-limits-missing",
        (CONTAINER, "set resources.limits.memory"),
        *_resources,
    ),
    Defect(
        "K8S-PROBES",
        "pod-probes-identical",
        (CONTAINER, "point liveness at a check"),
        *_probes,
    ),
    Defect(
        "K8S-IMAGE-TAG",
        "container-image-tag",
        (CONTAINER, "tag latest", "use the release version tag"),
        live=_latest_known_to_nodes,
        rendered=_latest[1],
    ),
    Defect(
        "K8S-PULL-POLICY",
        "container-image-pull-policy",
        (CONTAINER, "imagePullPolicy is Never", "IfNotPresent", "set imagePullPolicy: Always"),
        *_pull,
    ),
    Defect(
        "K8S-SECURITY-CONTEXT",
        "privilege-escalation-allowed",
        (CONTAINER, "allowPrivilegeEscalation"),
        *_escalate,
    ),
    Defect(
        "K8S-REPLICAS",
        "deployment-missing-replicas",
        (GATEWAY, "spec.replicas is 1", "set replicas to at least 2"),
        live=_no_hpa_one_replica,
        rendered=_no_hpa_rendered,
        expect=_without_hpa_requirement,
    ),
    Defect(
        "K8S-PDB",
        "missing-pod-disruption-budget",
        (GATEWAY, "add a PDB"),
        live=lambda c: c.kube.store.delete("PodDisruptionBudget", NS, APP),
        rendered=_remove("PodDisruptionBudget", APP),
    ),
    Defect(
        "K8S-HPA",
        "hpa-missing-metrics",
        ("HorizontalPodAutoscaler api-gateway/api-gateway", "metrics-server"),
        live=lambda c: c.edit("HorizontalPodAutoscaler", APP, _hpa_without_metrics),
    ),
    Defect(
        "K8S-HPA",
        "hpa-max-availability",
        ("HorizontalPodAutoscaler api-gateway/api-gateway", "raise maxReplicas"),
        rendered=_edit("HorizontalPodAutoscaler", APP, _hpa_no_room),
    ),
    Defect(
        "K8S-TOPOLOGY",
        "topology-spread-constraint",
        (GATEWAY, "add a topologySpreadConstraint"),
        *_spread,
    ),
    Defect(
        "K8S-ENV-REQUIRED",
        "env-var-missing",
        (CONTAINER, "REDIS_HOST is not set", "add it to the container's env"),
        live=lambda c: c.edit(
            "ConfigMap", "api-gateway-config", _cm(lambda d: d.pop("REDIS_HOST"))
        ),
        rendered=_edit("ConfigMap", "api-gateway-config", _cm(lambda d: d.pop("REDIS_HOST"))),
        per_workload=False,
    ),
    Defect(
        "K8S-ENV-VALUES",
        "env-var-value",
        (CONTAINER, "NODE_ENV is 'development'", "expected 'production'", "fix the value"),
        live=lambda c: c.edit(
            "ConfigMap", "api-gateway-config", _cm(lambda d: d.update(NODE_ENV="development"))
        ),
        rendered=_edit(
            "ConfigMap", "api-gateway-config", _cm(lambda d: d.update(NODE_ENV="development"))
        ),
        per_workload=False,
    ),
    Defect(
        "K8S-SECRET-ENV",
        "sensitive-container-env-var",
        (CONTAINER, "API_TOKEN", "move it to a Secret"),
        *_token,
    ),
    Defect(
        "K8S-SECRET-ENV",
        "sensitive-configmap-content",
        ("UPSTREAM_BUNDLE", "its value is a PEM private key", "move", "values not shown"),
        live=lambda c: c.edit("ConfigMap", "api-gateway-config", _cm(_key_in_configmap)),
        rendered=_edit("ConfigMap", "api-gateway-config", _cm(_key_in_configmap)),
    ),
    Defect(
        "K8S-CONFIG-REFS",
        "configmap-key-missing",
        (GATEWAY, "FEATURE_FLAGS", "api-gateway-config", "add the key"),
        *_cm_key,
    ),
    Defect(
        "K8S-SECRET-LENGTH",
        "secret-too-short",
        ("Secret api-gateway/api-gateway-secrets", "'JWT_SECRET' is 16 characters", "openssl rand"),
        live=lambda c: c.edit("Secret", "api-gateway-secrets", _short_jwt),
        rendered=_short_secret_rendered,
        per_workload=False,
    ),
    Defect(
        "K8S-SERVICE",
        "service-no-ready-endpoints",
        ("Service api-gateway/api-gateway", "readiness probe"),
        live=lambda c: c.kube.store.delete("EndpointSlice", NS, "api-gateway-h7x2q"),
    ),
    Defect(
        "K8S-SERVICE",
        "service-targets-pod",
        ("Service api-gateway/api-gateway", "matches no pod", "pod template labels"),
        rendered=_edit("Service", APP, _wrong_selector),
    ),
    Defect(
        "K8S-INGRESS",
        "ingress-tls-missing",
        ("Ingress api-gateway/api-gateway", "api.example.com", "secretName"),
        live=lambda c: c.edit("Ingress", APP, _no_tls),
        rendered=_edit("Ingress", APP, _no_tls),
        per_workload=False,
    ),
    Defect(
        "K8S-NETWORK-POLICY",
        "networkpolicy-default-deny-missing",
        ("Namespace api-gateway", "add one so pods without their own policy are isolated"),
        live=lambda c: c.kube.store.delete("NetworkPolicy", NS, "default-deny-all"),
        rendered=_remove("NetworkPolicy", "default-deny-all"),
    ),
    Defect(
        "K8S-DNS",
        "dns-record-mismatch",
        ("DNS api.example.com", "10.20.30.40", "point the record at the load balancer"),
        live=lambda c: None,
        rendered=lambda objs: None,
        expect=_pin("10.20.30.40"),
        per_workload=False,
    ),
    Defect(
        "K8S-NAMESPACE",
        "namespace-missing",
        ("Namespace api-gateway", "Terminating", "re-create it"),
        live=lambda c: c.edit("Namespace", NS, _terminating, ns=None),
        per_workload=False,
    ),
    Defect(
        "K8S-SERVICE-ACCOUNT",
        "service-account-cluster-admin",
        (
            "ServiceAccount api-gateway/api-gateway",
            "ClusterRoleBinding api-gateway-admin",
            "bind a Role",
        ),
        live=lambda c: c.kube.store.put(copy.deepcopy(ADMIN_BINDING)),
        rendered=_objects(lambda objs: objs.append(copy.deepcopy(ADMIN_BINDING))),
    ),
    Defect(
        "K8S-VERIFIER-READ-ONLY",
        "verifier-can-mutate",
        ("Verifier kubeconfig context emulator", "read-only role"),
        live=lambda c: c.kube.access.allow_all(),
        per_workload=False,
    ),
    Defect(
        "K8S-STORAGE-CLASS",
        "storage-class-missing",
        ("StorageClass fast-ssd", "create it"),
        live=lambda c: c.kube.store.delete("StorageClass", None, "fast-ssd"),
    ),
    Defect(
        "K8S-NODE-CAPACITY",
        "insufficient-node-capacity",
        (GATEWAY, "room for 0 of 3 pod(s)", "add nodes"),
        live=_on_nodes(_cordon),
    ),
    Defect(
        "K8S-NODE-CAPACITY",
        "insufficient-node-capacity",
        (
            GATEWAY,
            "at the worst case the rollout and autoscaler can reach",
            "HPA api-gateway maxReplicas 40, plus maxSurge 25% (10) during a rolling update",
            "of 50 pod(s)",
            "keeping 10% of each node free",
            "add nodes",
        ),
        live=lambda c: c.edit("HorizontalPodAutoscaler", APP, _hpa_max(40)),
    ),
    Defect(
        "K8S-IMAGE-SIZE",
        "image-too-large",
        (CONTAINER, "870.1Mi", "slim it"),
        live=_on_nodes(_big_image),
    ),
    Defect(
        "K8S-HELM-RELEASE",
        "helm-release-status",
        ("HelmRelease api-gateway/api-gateway revision 4", "'failed'", "roll back the release"),
        live=_failed_upgrade,
        per_workload=False,
    ),
    Defect(
        "SEC-K8S-POD-LOGS",
        "pod-log-secret",
        (f"Pod {NS}/{POD} container api-gateway", "holds a JWT", "eyJh", "rotate that secret"),
        live=lambda c: c.kube.logs.append(NS, POD, APP, LOGGED_TOKEN),
    ),
    Defect(
        "SEC-K8S-POD-LOGS",
        "pod-log-secret",
        (
            f"Pod {NS}/{RESTARTED} container api-gateway (previous instance)",
            "holds a password",
            "rotate that secret",
        ),
        live=_secret_before_a_restart,
        expect=_one_restart_allowed,
    ),
    Defect(
        "K8S-SA-EXISTS",
        "service-account-missing",
        (GATEWAY, "names ServiceAccount api-gateway/api-gateway, which does not exist"),
        live=lambda c: c.kube.store.delete("ServiceAccount", NS, APP),
        rendered=_remove("ServiceAccount", APP),
    ),
    Defect(
        "SEC-K8S-IMAGE-VULNS",
        "image-vulnerable",
        (RUNNING_IMAGE, "CVE-2024-3094 (CRITICAL, xz-libs 5.6.0-r0, fixed in 5.6.1-r2)", "rebuild"),
        live=_edit_report(_critical_cve),
        per_workload=False,
    ),
    Defect(
        "SEC-K8S-IMAGE-VULNS",
        "image-scan-stale",
        (RUNNING_IMAGE, "more than max_report_age 7d", "scan the image again"),
        live=_edit_report(_scanned_days_ago(10)),
        per_workload=False,
    ),
    Defect(
        "SEC-K8S-IMAGE-VULNS",
        "image-scan-missing",
        (RUNNING_IMAGE, "not scanned", "1 VulnerabilityReport(s) in namespace api-gateway"),
        live=lambda c: c.kube.store.delete("VulnerabilityReport", NS, VULN_REPORT),
        per_workload=False,
    ),
    Defect(
        "SEC-K8S-IMAGE-VULNS",
        "image-vulnerable",
        (RUNNING_IMAGE, "the ignore entry for CVE-2024-3094 is not applied: it expired on"),
        live=_edit_report(_critical_cve),
        expect=_expired_ignore,
        per_workload=False,
    ),
    Defect(
        "K8S-HELM-DRIFT",
        "helm-drift",
        (
            GATEWAY,
            "resources.limits.memory: rendered '512Mi', live '1Gi'",
            "fold it into the chart",
        ),
        live=lambda c: c.edit("Deployment", APP, _manual_memory_edit),
        per_workload=False,
    ),
)
LIVE_DEFECTS = tuple(d for d in DEFECTS if d.live is not None)
RENDERED_DEFECTS = tuple(d for d in DEFECTS if d.rendered is not None)
