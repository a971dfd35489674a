"""Manifests of our own for every pre-deploy check: one healthy release that passes every item,
and, per rule, a change that breaks exactly that rule (and, where the rule has another way to
hold, a change that keeps it passing).

The release (namespace ``shop``) holds every kind the scanner judges: a Deployment, StatefulSet,
DaemonSet, top-level ReplicaSet, Job, CronJob and bare Pod, their ServiceAccounts, Services,
ConfigMaps, Secrets, PDBs, HPAs, NetworkPolicies, an Ingress, Roles, ClusterRoles and bindings.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NS = "shop"
Obj = dict[str, Any]
Objects = list[Obj]
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"


def labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def meta(name: str, **extra: Any) -> Obj:
    return {"name": name, "namespace": NS, "labels": labels(name), **extra}


def container(name: str, *, probes: bool = True) -> Obj:
    found: Obj = {
        "name": name,
        "image": f"registry.example.com/{name}:1.2.3",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080}],
        "envFrom": [{"configMapRef": {"name": "shop-config"}}],
        "env": [
            {
                "name": "DB_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "shop-secrets", "key": "db-password"}},
            }
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if probes:
        found["livenessProbe"] = {"httpGet": {"path": "/live", "port": "http"}}
        found["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}}
    return found


def pod_spec(name: str, *, probes: bool = True, restart: str | None = None) -> Obj:
    spec: Obj = {
        "serviceAccountName": "shop",
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container(name, probes=probes)],
    }
    if restart:
        spec["restartPolicy"] = restart
    return spec


def spread(name: str) -> list[Obj]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": labels(name)},
        }
    ]


def template(name: str, **options: Any) -> Obj:
    return {"metadata": {"labels": labels(name)}, "spec": pod_spec(name, **options)}


def release() -> Objects:
    """The healthy release: every item passes on it."""
    web = template("web")
    web["spec"]["topologySpreadConstraints"] = spread("web")
    db = template("db")
    db["spec"]["topologySpreadConstraints"] = spread("db")
    names = ["web", "db", "agent", "legacy", "migrate", "report", "debug"]
    objects: Objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta("web"),
            "spec": {"replicas": 3, "selector": {"matchLabels": labels("web")}, "template": web},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": meta("db"),
            "spec": {
                "replicas": 3,
                "serviceName": "db",
                "selector": {"matchLabels": labels("db")},
                "template": db,
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": meta("agent"),
            "spec": {"selector": {"matchLabels": labels("agent")}, "template": template("agent")},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": meta("legacy"),
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels("legacy")},
                "template": template("legacy"),
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta("migrate"),
            "spec": {"template": template("migrate", probes=False, restart="Never")},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta("report"),
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {
                    "spec": {"template": template("report", probes=False, restart="OnFailure")}
                },
            },
        },
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta("debug"), "spec": pod_spec("debug")},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta("shop"),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta("shop-config"),
            "data": {"LOG_LEVEL": "info", "CACHE_KEY_PREFIX": "shop:", "a_key": "enabled"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta("shop-secrets"),
            "type": "Opaque",
            "stringData": {"db-password": "value-never-printed-9f8e7d6c5b4a3928"},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta("web"),
            "spec": {"selector": labels("web"), "ports": [{"name": "http", "port": 80}]},
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta("web"),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels("web")}},
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta("db"),
            "spec": {"minAvailable": 2, "selector": {"matchLabels": labels("db")}},
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta("web"),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 3,
                "maxReplicas": 9,
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": NS},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "shop-allow", "namespace": NS},
            "spec": {
                "podSelector": {
                    "matchExpressions": [
                        {"key": "app.kubernetes.io/name", "operator": "In", "values": names}
                    ]
                },
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": 8080}]}],
                "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta("web"),
            "spec": {
                "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "web", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta("shop"),
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta("shop"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "shop"},
            "subjects": [{"kind": "ServiceAccount", "name": "shop", "namespace": NS}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "shop-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "shop-reader"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "shop-reader",
            },
            "subjects": [{"kind": "Group", "name": "shop-oncall"}],
        },
    ]
    return objects


# ---- editing the release --------------------------------------------------------------------------


def find(objects: Objects, kind: str, name: str) -> Obj:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"{kind} {name} is not in the release")


def spec_of(obj: Obj) -> Obj:
    if obj["kind"] == "Pod":
        return obj["spec"]  # type: ignore[no-any-return]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return obj["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def first(obj: Obj) -> Obj:
    return spec_of(obj)["containers"][0]  # type: ignore[no-any-return]


Change = Callable[[Objects], object]


def on(kind: str, name: str, change: Callable[[Obj], object]) -> Change:
    return lambda objects: change(find(objects, kind, name))


def in_container(kind: str, name: str, change: Callable[[Obj], object]) -> Change:
    return on(kind, name, lambda obj: change(first(obj)))


def in_spec(kind: str, name: str, change: Callable[[Obj], object]) -> Change:
    return on(kind, name, lambda obj: change(spec_of(obj)))


def add(*new: Obj) -> Change:
    return lambda objects: objects.extend(copy.deepcopy(list(new)))


def remove(kind: str, name: str) -> Change:
    return lambda objects: objects.remove(find(objects, kind, name))


def both(*changes: Change) -> Change:
    def apply(objects: Objects) -> None:
        for change in changes:
            change(objects)

    return apply


def sc(key: str, value: Any) -> Callable[[Obj], object]:
    return lambda c: c["securityContext"].__setitem__(key, value)


def binding(kind: str, name: str, ref_kind: str, ref_name: str, subject: Obj | None = None) -> Obj:
    metadata: Obj = {"name": name}
    if kind == "RoleBinding":
        metadata["namespace"] = NS
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
        "subjects": [subject or {"kind": "User", "name": "jane@example.com"}],
    }


def role(kind: str, name: str, rules: list[Obj]) -> Obj:
    metadata: Obj = {"name": name}
    if kind == "Role":
        metadata["namespace"] = NS
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "rules": rules,
    }


EXEC = [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]
WILDCARD = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
SHOP_SA = {"kind": "ServiceAccount", "name": "shop", "namespace": NS}


@dataclass(frozen=True)
class Case:
    """A change that makes ``rules`` fail (and nothing else), naming ``about``; ``passes`` is a
    change that keeps the rule passing another way; ``profile`` adds [kubernetes] keys."""

    rules: frozenset[str]
    items: frozenset[str]
    about: str
    fail: Change
    passes: Change | None = None
    table: str = ""  # lines of the profile's [kubernetes] table
    expect: str = ""  # lines of its [kubernetes.expect] table
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or "+".join(sorted(self.rules))


def case(
    rules: str | tuple[str, ...],
    items: str | tuple[str, ...],
    about: str,
    fail: Change,
    passes: Change | None = None,
    **extra: Any,
) -> Case:
    ids = frozenset({rules} if isinstance(rules, str) else rules)
    owners = frozenset({items} if isinstance(items, str) else items)
    return Case(ids, owners, about, fail, passes, **extra)


WEB = "Deployment shop/web"
LISTED = 'workloads = ["web"]\n'

CASES: tuple[Case, ...] = (
    # ---- resources, probes, images (every pod-template kind) -----------------------------------
    case(
        "cpu-requests-missing",
        "K8S-RESOURCES",
        "Job shop/migrate container migrate",
        in_container("Job", "migrate", lambda c: c["resources"]["requests"].pop("cpu")),
    ),
    case(
        "memory-requests-missing",
        "K8S-RESOURCES",
        "CronJob shop/report container report",
        in_container("CronJob", "report", lambda c: c["resources"]["requests"].pop("memory")),
    ),
    case(
        "cpu-limits-missing",
        "K8S-RESOURCES",
        "DaemonSet shop/agent container agent",
        in_container("DaemonSet", "agent", lambda c: c["resources"]["limits"].pop("cpu")),
    ),
    case(
        "memory-limits-missing",
        "K8S-RESOURCES",
        "StatefulSet shop/db container db",
        in_container("StatefulSet", "db", lambda c: c["resources"]["limits"].pop("memory")),
    ),
    case(
        "liveness-probe-missing",
        "K8S-PROBES",
        "Pod shop/debug container debug",
        in_container("Pod", "debug", lambda c: c.pop("livenessProbe")),
    ),
    case(
        "readiness-probe-missing",
        "K8S-PROBES",
        "ReplicaSet shop/legacy container legacy",
        in_container("ReplicaSet", "legacy", lambda c: c.pop("readinessProbe")),
    ),
    case(
        "pod-probes-identical",
        "K8S-PROBES",
        "Deployment shop/web container web",
        in_container(
            "Deployment", "web", lambda c: c.__setitem__("readinessProbe", c["livenessProbe"])
        ),
    ),
    case(
        "container-image-tag",
        "K8S-IMAGE-TAG",
        "ReplicaSet shop/legacy container legacy",
        in_container(
            "ReplicaSet",
            "legacy",
            lambda c: c.update(
                image="registry.example.com/legacy:latest", imagePullPolicy="Always"
            ),
        ),
        passes=in_container(
            "ReplicaSet",
            "legacy",
            lambda c: c.update(image="registry.example.com/legacy@sha256:" + "a" * 64),
        ),
    ),
    case(
        "container-image-pull-policy",
        "K8S-PULL-POLICY",
        "Pod shop/debug container debug",
        in_container("Pod", "debug", lambda c: c.update(imagePullPolicy="Never")),
    ),
    # ---- security context ----------------------------------------------------------------------
    case(
        "run-as-root-allowed",
        "K8S-SECURITY-CONTEXT",
        "Job shop/migrate container migrate",
        in_container("Job", "migrate", sc("runAsUser", 0)),
    ),
    case(
        "privilege-escalation-allowed",
        "K8S-SECURITY-CONTEXT",
        "CronJob shop/report container report",
        in_container("CronJob", "report", sc("allowPrivilegeEscalation", True)),
    ),
    case(
        "not-read-only-root-filesystem",
        "K8S-SECURITY-CONTEXT",
        "StatefulSet shop/db container db",
        in_container("StatefulSet", "db", sc("readOnlyRootFilesystem", False)),
    ),
    case(
        "run-as-privileged",
        "K8S-SECURITY-CONTEXT",
        "DaemonSet shop/agent container agent",
        in_container("DaemonSet", "agent", sc("privileged", True)),
    ),
    case(
        "dangerous-capabilities",
        "K8S-SECURITY-CONTEXT",
        "Deployment shop/web container web",
        # Capability names compare case-insensitively, with or without CAP_: "all" is ALL.
        in_container(
            "Deployment", "web", lambda c: c["securityContext"]["capabilities"].update(add=["all"])
        ),
        passes=in_container(
            "Deployment",
            "web",
            lambda c: c["securityContext"]["capabilities"].update(add=["cap_net_bind_service"]),
        ),
    ),
    case(
        "insecure-capabilities",
        "K8S-SECURITY-CONTEXT",
        "Pod shop/debug container debug",
        in_container(
            "Pod", "debug", lambda c: c["securityContext"]["capabilities"].update(drop=["NET_RAW"])
        ),
        # drop: [all] in lower case drops every capability too.
        passes=in_container(
            "Pod", "debug", lambda c: c["securityContext"]["capabilities"].update(drop=["all"])
        ),
    ),
    case(
        "host-network-set",
        "K8S-SECURITY-CONTEXT",
        "DaemonSet shop/agent",
        in_spec("DaemonSet", "agent", lambda s: s.update(hostNetwork=True)),
    ),
    case(
        "host-pid-set",
        "K8S-SECURITY-CONTEXT",
        "Pod shop/debug",
        in_spec("Pod", "debug", lambda s: s.update(hostPID=True)),
    ),
    case(
        "host-ipc-set",
        "K8S-SECURITY-CONTEXT",
        "Job shop/migrate",
        in_spec("Job", "migrate", lambda s: s.update(hostIPC=True)),
    ),
    case(
        "host-port-set",
        "K8S-SECURITY-CONTEXT",
        "DaemonSet shop/agent container agent",
        in_container("DaemonSet", "agent", lambda c: c["ports"][0].update(hostPort=9100)),
    ),
    case(
        "host-path-set",
        "K8S-SECURITY-CONTEXT",
        "DaemonSet shop/agent",
        in_spec(
            "DaemonSet",
            "agent",
            lambda s: s.update(volumes=[{"name": "logs", "hostPath": {"path": "/var/log"}}]),
        ),
    ),
    case(
        "host-process",
        "K8S-SECURITY-CONTEXT",
        "Deployment shop/web container web",
        in_container("Deployment", "web", sc("windowsOptions", {"hostProcess": True})),
    ),
    case(
        "proc-mount",
        "K8S-SECURITY-CONTEXT",
        "StatefulSet shop/db container db",
        in_container("StatefulSet", "db", sc("procMount", "Unmasked")),
        passes=in_container("StatefulSet", "db", sc("procMount", "Default")),
    ),
    case(
        ("linux-hardening", "insecure-capabilities"),
        "K8S-SECURITY-CONTEXT",
        "ReplicaSet shop/legacy container legacy",
        both(
            in_spec("ReplicaSet", "legacy", lambda s: s["securityContext"].pop("seccompProfile")),
            in_container(
                "ReplicaSet", "legacy", lambda c: c["securityContext"].pop("capabilities")
            ),
        ),
        # An AppArmor profile hardens it too (the capabilities are still kept: insecure only).
        name="linux-hardening",
    ),
    case(
        "automount-service-account-token",
        "K8S-SA-TOKEN",
        "Deployment shop/web",
        both(
            in_spec("Deployment", "web", lambda s: s.pop("automountServiceAccountToken")),
            on("ServiceAccount", "shop", lambda sa: sa.pop("automountServiceAccountToken")),
        ),
        # Unset on the pod, false on its ServiceAccount: no token either.
        passes=in_spec("Deployment", "web", lambda s: s.pop("automountServiceAccountToken")),
    ),
    case(
        "priority-class-not-set",
        "K8S-PRIORITY-CLASS",
        "Pod shop/debug",
        lambda objects: [
            spec_of(o).update(priorityClassName="shop-critical")
            for o in objects
            if o["kind"]
            in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
        ],
        passes=lambda objects: [
            spec_of(o).update(priorityClassName="shop-critical")
            for o in objects
            if o["kind"]
            in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
        ],
        expect="require_priority_class = true\n",
    ),
    case(
        "metadata-and-instance-mismatched",
        "K8S-INSTANCE-LABEL",
        "StatefulSet shop/db",
        on(
            "StatefulSet",
            "db",
            lambda o: o["metadata"]["labels"].update({"app.kubernetes.io/instance": "shop"}),
        ),
    ),
    # ---- availability (Deployments; a listed StatefulSet too) -----------------------------------
    case(
        "deployment-missing-replicas",
        "K8S-REPLICAS",
        WEB,
        both(
            remove("HorizontalPodAutoscaler", "web"),
            on("Deployment", "web", lambda d: d["spec"].update(replicas=1)),
        ),
    ),
    case(
        "missing-pod-disruption-budget",
        "K8S-PDB",
        WEB,
        remove("PodDisruptionBudget", "web"),
    ),
    case(
        "pdb-disruptions-is-zero",
        "K8S-PDB",
        "PodDisruptionBudget shop/orphan",
        add(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "orphan", "namespace": NS},
                "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"app": "gone"}}},
            }
        ),
        name="pdb-disruptions-is-zero (standalone PDB)",
    ),
    case(
        "pdb-disruptions-is-zero",
        "K8S-PDB",
        "PodDisruptionBudget shop/web",
        on(
            "PodDisruptionBudget",
            "web",
            lambda p: p.__setitem__("spec", {"minAvailable": 3, "selector": p["spec"]["selector"]}),
        ),
        name="pdbMinAvailableGreaterThanHPAMinReplicas",
    ),
    case(
        "hpa-min-availability",
        "K8S-HPA",
        "HorizontalPodAutoscaler shop/orphan",
        add(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "orphan", "namespace": NS},
                "spec": {
                    "scaleTargetRef": {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "elsewhere",
                    },
                    "minReplicas": 1,
                    "maxReplicas": 4,
                },
            }
        ),
        name="hpa-min-availability (HPA without its target)",
    ),
    case(
        "hpa-max-availability",
        "K8S-HPA",
        "HorizontalPodAutoscaler shop/web",
        on("HorizontalPodAutoscaler", "web", lambda h: h["spec"].update(maxReplicas=3)),
    ),
    case(
        "missing-hpa",
        "K8S-HPA",
        WEB,
        both(remove("HorizontalPodAutoscaler", "web")),
        table=LISTED,
    ),
    case(
        "topology-spread-constraint",
        "K8S-TOPOLOGY",
        "StatefulSet shop/db",
        in_spec("StatefulSet", "db", lambda s: s.pop("topologySpreadConstraints")),
        table='workloads = ["StatefulSet/db"]\n',
        name="topology-spread-constraint (listed StatefulSet)",
    ),
    # ---- configuration ---------------------------------------------------------------------------
    case(
        "sensitive-container-env-var",
        "K8S-SECRET-ENV",
        "CronJob shop/report container report",
        in_container(
            "CronJob",
            "report",
            lambda c: c["env"].append({"name": "UPSTREAM", "value": "AKIA" + "Q7ZL3NXW5RT2VB6M"}),
        ),
    ),
    case(
        "sensitive-configmap-content",
        "K8S-SECRET-ENV",
        "ConfigMap shop/unused-bundle",
        add(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "unused-bundle", "namespace": NS},
                "data": {"bundle": PEM},
            }
        ),
    ),
    case(
        "configmap-missing",
        "K8S-CONFIG-REFS",
        "Job shop/migrate",
        remove("ConfigMap", "shop-config"),
        name="configmap-missing",
        # (every workload reads it: one finding per workload)
    ),
    case(
        "configmap-key-missing",
        "K8S-CONFIG-REFS",
        "Pod shop/debug",
        in_container(
            "Pod",
            "debug",
            lambda c: c["env"].append(
                {
                    "name": "FLAGS",
                    "valueFrom": {"configMapKeyRef": {"name": "shop-config", "key": "FLAGS"}},
                }
            ),
        ),
    ),
    case(
        "secret-key-missing",
        "K8S-CONFIG-REFS",
        "DaemonSet shop/agent",
        in_container(
            "DaemonSet",
            "agent",
            lambda c: c["env"].append(
                {
                    "name": "TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "shop-secrets", "key": "token"}},
                }
            ),
        ),
    ),
    case(
        "secret-missing",
        "K8S-CONFIG-REFS",
        "ReplicaSet shop/legacy",
        in_spec("ReplicaSet", "legacy", lambda s: s.update(imagePullSecrets=[{"name": "regcred"}])),
        passes=both(
            in_spec(
                "ReplicaSet", "legacy", lambda s: s.update(imagePullSecrets=[{"name": "regcred"}])
            ),
            add(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "regcred", "namespace": NS},
                    "type": "kubernetes.io/dockerconfigjson",
                    "data": {".dockerconfigjson": "e30="},
                }
            ),
        ),
    ),
    # ---- network ---------------------------------------------------------------------------------
    case(
        "service-targets-pod",
        "K8S-SERVICE",
        "Service shop/web",
        on(
            "Service", "web", lambda s: s["spec"].update(selector={"app.kubernetes.io/name": "wbe"})
        ),
    ),
    case(
        "pod-networkpolicy",
        "K8S-NETWORK-POLICY",
        WEB,
        # An Egress-only policy selects the pods: it does not cover their ingress.
        both(
            on(
                "NetworkPolicy",
                "shop-allow",
                lambda p: p["spec"]["podSelector"]["matchExpressions"][0]["values"].remove("web"),
            ),
            add(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": {"name": "web-egress", "namespace": NS},
                    "spec": {
                        "podSelector": {"matchLabels": labels("web")},
                        "policyTypes": ["Egress"],
                        "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
                        "ingress": [{"ports": [{"port": 8080}]}],
                    },
                }
            ),
        ),
    ),
    case(
        "networkpolicy-default-deny-missing",
        "K8S-NETWORK-POLICY",
        "Namespace shop",
        # Egress only: ingress is not denied by default.
        on("NetworkPolicy", "default-deny", lambda p: p["spec"].update(policyTypes=["Egress"])),
        # Without policyTypes, Kubernetes takes Ingress, and Egress when egress rules are given.
        passes=on(
            "NetworkPolicy",
            "default-deny",
            lambda p: p.__setitem__("spec", {"podSelector": {}, "egress": []}),
        ),
    ),
    case(
        "networkpolicy-default-deny-missing",
        "K8S-NETWORK-POLICY",
        "Namespace shop",
        remove("NetworkPolicy", "default-deny"),
        # Egress is not judged when the profile relaxes it.
        passes=on(
            "NetworkPolicy", "default-deny", lambda p: p["spec"].update(policyTypes=["Ingress"])
        ),
        expect='network_policy_directions = ["ingress"]\n',
        name="default deny: egress relaxed by the profile",
    ),
    case(
        "tls-settings-missing",
        "K8S-INGRESS-TLS",
        "Ingress shop/web",
        on("Ingress", "web", lambda i: i["spec"].pop("tls")),
    ),
    # ---- RBAC: the workloads' own service account ---------------------------------------------------
    case(
        "service-account-cluster-admin",
        "K8S-SERVICE-ACCOUNT",
        "ServiceAccount shop/shop",
        add(binding("ClusterRoleBinding", "shop-admin", "ClusterRole", "cluster-admin", SHOP_SA)),
    ),
    case(
        "service-account-wildcard-role",
        "K8S-SERVICE-ACCOUNT",
        "ServiceAccount shop/shop",
        on(
            "Role",
            "shop",
            lambda r: r.update(
                rules=[{"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]}]
            ),
        ),
    ),
    case(
        ("rolebinding-role-pod-exec-attach", "role-pod-exec-attach"),
        ("K8S-SERVICE-ACCOUNT", "K8S-RBAC"),
        "RoleBinding shop/shop",
        # The binding of the workloads' account is judged with them; the Role itself by K8S-RBAC.
        on("Role", "shop", lambda r: r.update(rules=EXEC)),
        name="exec through the workloads' account",
    ),
    case(
        "service-account-missing",
        "K8S-SA-EXISTS",
        "Job shop/migrate",
        in_spec("Job", "migrate", lambda s: s.update(serviceAccountName="migrator")),
        # the release brings the account it names
        passes=both(
            in_spec("Job", "migrate", lambda s: s.update(serviceAccountName="migrator")),
            add(
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": meta("migrator"),
                    "automountServiceAccountToken": False,
                }
            ),
        ),
    ),
    case(
        "service-account-missing",
        "K8S-SA-EXISTS",
        "CronJob shop/report",
        in_spec("CronJob", "report", lambda s: s.update(serviceAccountName="reporter")),
        # an account created outside the release (by the platform team) is declared, not required
        passes=in_spec("CronJob", "report", lambda s: s.update(serviceAccountName="vault-agent")),
        expect='external_service_accounts = ["vault-agent"]\n',
        name="service-account-missing: external accounts declared in the profile",
    ),
    # ---- RBAC: every role and binding, any subject ----------------------------------------------
    case(
        "clusterrolebinding-cluster-admin",
        "K8S-RBAC",
        "ClusterRoleBinding oncall-admin",
        add(
            binding(
                "ClusterRoleBinding",
                "oncall-admin",
                "ClusterRole",
                "cluster-admin",
                {"kind": "Group", "name": "oncall"},
            )
        ),
        # the bootstrap binding and system: ones are Kubernetes' own
        passes=add(
            binding(
                "ClusterRoleBinding",
                "system:oncall",
                "ClusterRole",
                "cluster-admin",
                {"kind": "Group", "name": "oncall"},
            )
        ),
    ),
    case(
        "rolebinding-cluster-admin-clusterrole",
        "K8S-RBAC",
        "RoleBinding shop/jane-admin",
        add(binding("RoleBinding", "jane-admin", "ClusterRole", "cluster-admin")),
    ),
    case(
        # A wildcard role allows pods/exec too (as Polaris judges it).
        (
            "rolebinding-cluster-admin-role",
            "rolebinding-role-pod-exec-attach",
            "role-pod-exec-attach",
        ),
        "K8S-RBAC",
        "RoleBinding shop/jane-all",
        add(
            role("Role", "everything", WILDCARD),
            binding("RoleBinding", "jane-all", "Role", "everything"),
        ),
    ),
    case(
        "clusterrole-pod-exec-attach",
        "K8S-RBAC",
        "ClusterRole debugger",
        add(role("ClusterRole", "debugger", EXEC)),
    ),
    case(
        "role-pod-exec-attach",
        "K8S-RBAC",
        "Role shop/debugger",
        add(
            role(
                "Role",
                "debugger",
                [{"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["get"]}],
            )
        ),
    ),
    case(
        ("clusterrolebinding-pod-exec-attach", "clusterrole-pod-exec-attach"),
        "K8S-RBAC",
        "ClusterRoleBinding jane-debug",
        add(
            role("ClusterRole", "debugger", EXEC),
            binding("ClusterRoleBinding", "jane-debug", "ClusterRole", "debugger"),
        ),
        name="clusterrolebinding-pod-exec-attach",
    ),
    case(
        "rolebinding-clusterrole-pod-exec-attach",
        "K8S-RBAC",
        "RoleBinding shop/jane-edit",
        # the built-in edit role allows exec (it is not among the manifests)
        add(binding("RoleBinding", "jane-edit", "ClusterRole", "edit")),
        passes=add(binding("RoleBinding", "jane-view", "ClusterRole", "view")),
    ),
    case(
        ("rolebinding-role-pod-exec-attach", "role-pod-exec-attach"),
        "K8S-RBAC",
        "RoleBinding shop/jane-debug",
        add(
            role("Role", "debugger", EXEC), binding("RoleBinding", "jane-debug", "Role", "debugger")
        ),
        name="rolebinding-role-pod-exec-attach",
    ),
    # ---- the manifests themselves ----------------------------------------------------------------
    case(
        "manifest-schema-invalid",
        "K8S-SCHEMA",
        WEB,
        on("Deployment", "web", lambda d: d["spec"].update(replica=3)),
        name="manifest-schema-invalid (replica: 3)",
    ),
    case(
        "manifest-schema-invalid",
        "K8S-SCHEMA",
        WEB,
        in_container("Deployment", "web", lambda c: c.update(imagePullPolicy="always")),
        name="manifest-schema-invalid (imagePullPolicy: always)",
    ),
    case(
        "manifest-api-unknown",
        "K8S-SCHEMA",
        "Job shop/migrate",
        on("Job", "migrate", lambda j: j.update(apiVersion="batch/v2")),
    ),
)


def failing(c: Case) -> Objects:
    objects = release()
    c.fail(objects)
    return objects


def passing(c: Case) -> Objects:
    objects = release()
    if c.passes is not None:
        c.passes(objects)
    return objects


def profile_text(c: Case | None = None) -> str:
    """A profile for the release: the namespace, and the case's keys."""
    table = c.table if c else ""
    expect = c.expect if c else ""
    return f'version = "1.2.3"\n\n[kubernetes]\nnamespace = "{NS}"\n{table}\n[kubernetes.expect]\n{expect}'
