"""Builders of healthy Kubernetes objects (as the API returns them) for the kube check tests.

Each builder returns a fresh dict, so a test applies one defect without touching other tests.
The tests at the bottom guard that promise.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterable
from typing import Any

from pytest_deployverify.checks.findings import Finding

NS = "production"
APP = "api-gateway"
VERSION = "1.0.0"
IMAGE = f"registry.example.com/{APP}:{VERSION}"
DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64
JWT_VALUE = "s3cr3t-" + "x" * 41  # 48 characters
REDIS_PASSWORD_VALUE = "redis-pa55word-value"
PUBLIC_HOST = "api.tickettoken.com"
LB_IP = "203.0.113.10"
ROLLOUT_START = "2025-11-13T10:00:00Z"

Obj = dict[str, Any]


def ids(findings: Iterable[Finding]) -> set[str]:
    return {f.check_id for f in findings}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def container() -> Obj:
    return {
        "name": "gateway",
        "image": IMAGE,
        "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": 3000, "protocol": "TCP"}],
        "env": [
            {"name": "NODE_ENV", "value": "production"},
            {"name": "LOG_LEVEL", "value": "info"},
            {
                "name": "JWT_SECRET",
                "valueFrom": {"secretKeyRef": {"name": "gateway-secrets", "key": "JWT_SECRET"}},
            },
        ],
        "envFrom": [
            {"configMapRef": {"name": "gateway-config"}},
            {"secretRef": {"name": "gateway-secrets"}},
        ],
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "livenessProbe": {"httpGet": {"path": "/health/live", "port": "http"}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/health/ready", "port": "http"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def pod_spec() -> Obj:
    return {
        "serviceAccountName": APP,
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container()],
        "imagePullSecrets": [{"name": "regcred"}],
        "volumes": [
            {"name": "tmp", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "gateway-config"}},
            {"name": "tls", "secret": {"secretName": "gateway-tls"}},
        ],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": APP}},
            }
        ],
    }


def deployment(replicas: int = 3) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": APP,
            "namespace": NS,
            "uid": "dep-uid",
            "generation": 4,
            "labels": {"app": APP, "app.kubernetes.io/instance": APP},
            "annotations": {"deployment.kubernetes.io/revision": "4"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": APP}},
            "template": {"metadata": {"labels": {"app": APP}}, "spec": pod_spec()},
        },
        "status": {
            "observedGeneration": 4,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }


def manifest_of(obj: Obj) -> Obj:
    """The same object as a rendered manifest: no status, no server-set metadata."""
    rendered = copy.deepcopy(obj)
    rendered.pop("status", None)
    for key in ("uid", "generation", "annotations", "creationTimestamp"):
        rendered["metadata"].pop(key, None)
    return rendered


def pod(index: int = 0) -> Obj:
    spec = pod_spec()
    spec["nodeName"] = f"node-{index % 3 + 1}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{APP}-7d9f-{index}",
            "namespace": NS,
            "labels": {"app": APP, "pod-template-hash": "7d9f"},
            "creationTimestamp": "2025-11-13T10:00:05Z",
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "True"},
            ],
            "containerStatuses": [
                {
                    "name": "gateway",
                    "ready": True,
                    "restartCount": 0,
                    "image": IMAGE,
                    "imageID": f"registry.example.com/{APP}@{DIGEST}",
                    "state": {"running": {"startedAt": "2025-11-13T10:00:10Z"}},
                }
            ],
        },
    }


def pods(count: int = 3) -> list[Obj]:
    return [pod(i) for i in range(count)]


def replica_set() -> Obj:
    return {
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{APP}-7d9f",
            "namespace": NS,
            "creationTimestamp": ROLLOUT_START,
            "annotations": {"deployment.kubernetes.io/revision": "4"},
            "ownerReferences": [{"kind": "Deployment", "name": APP, "uid": "dep-uid"}],
        },
    }


def pdb() -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": APP, "namespace": NS},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": APP}}},
        "status": {"disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2},
    }


def hpa() -> Obj:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": APP, "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP},
            "minReplicas": 3,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
        "status": {
            "currentReplicas": 3,
            "desiredReplicas": 3,
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": 35}},
                }
            ],
            "conditions": [
                {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"}
            ],
        },
    }


def configmap() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "gateway-config", "namespace": NS},
        "data": {
            "REDIS_HOST": "redis.production.svc",
            "REDIS_PORT": "6379",
            "CORS_ORIGIN": "https://app.tickettoken.com",
            "RATE_LIMIT_MAX": "100",
            "RATE_LIMIT_WINDOW_MS": "60000",
        },
    }


def secret() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "gateway-secrets", "namespace": NS},
        "data": {"JWT_SECRET": b64(JWT_VALUE), "REDIS_PASSWORD": b64(REDIS_PASSWORD_VALUE)},
    }


def secrets() -> list[Obj]:
    return [
        secret(),
        {
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "regcred", "namespace": NS},
            "data": {".dockerconfigjson": b64("{}")},
        },
        {
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": "gateway-tls", "namespace": NS},
            "data": {"tls.crt": b64("crt"), "tls.key": b64("key")},
        },
    ]


def service() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": APP, "namespace": NS},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": APP},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def endpoint_slice(count: int = 3, *, family: str = "IPv4") -> Obj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{APP}-{family.lower()}",
            "namespace": NS,
            "labels": {"kubernetes.io/service-name": APP},
        },
        "addressType": family,
        "endpoints": [
            {
                "addresses": [f"10.0.0.{i + 10}" if family == "IPv4" else f"fd00::{i + 10}"],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "targetRef": {"kind": "Pod", "name": f"{APP}-7d9f-{i}", "namespace": NS},
            }
            for i in range(count)
        ],
    }


def ingress() -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": APP, "namespace": NS},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": [PUBLIC_HOST], "secretName": "gateway-tls"}],
            "rules": [
                {
                    "host": PUBLIC_HOST,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": APP, "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": LB_IP}]}},
    }


def network_policies() -> list[Obj]:
    return [
        {
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": NS},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-gateway", "namespace": NS},
            "spec": {
                "podSelector": {"matchLabels": {"app": APP}},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                }
                            }
                        ],
                        "ports": [{"port": 53, "protocol": "UDP"}],
                    }
                ],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                                }
                            }
                        ],
                        "ports": [{"port": 3000}],
                    }
                ],
            },
        },
    ]


def node(index: int = 1, *, cpu: str = "4", memory: str = "16Gi") -> Obj:
    return {
        "kind": "Node",
        "metadata": {"name": f"node-{index}", "labels": {"kubernetes.io/os": "linux"}},
        "spec": {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
            "images": [
                {
                    "names": [f"registry.example.com/{APP}@{DIGEST}", IMAGE],
                    "sizeBytes": 180_000_000,
                },
                {"names": ["docker.io/library/nginx:1.27"], "sizeBytes": 70_000_000},
            ],
        },
    }


def nodes() -> list[Obj]:
    return [node(i) for i in (1, 2, 3)]


def namespace_obj(name: str = NS, phase: str = "Active") -> Obj:
    return {"kind": "Namespace", "metadata": {"name": name}, "status": {"phase": phase}}


def role_and_binding() -> tuple[Obj, Obj]:
    role = {
        "kind": "Role",
        "metadata": {"name": "gateway-reader", "namespace": NS},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
    }
    binding = {
        "kind": "RoleBinding",
        "metadata": {"name": "gateway-reader", "namespace": NS},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "gateway-reader",
        },
        "subjects": [{"kind": "ServiceAccount", "name": APP, "namespace": NS}],
    }
    return role, binding


def read_only_rules_review() -> Obj:
    return {
        "kind": "SelfSubjectRulesReview",
        "status": {
            "incomplete": False,
            "resourceRules": [
                {"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]},
                {
                    "verbs": ["create"],
                    "apiGroups": ["authorization.k8s.io"],
                    "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                },
            ],
        },
    }


# -- guards on the builders themselves ------------------------------------------------------


def test_builders_return_fresh_objects() -> None:
    first = deployment()
    first["spec"]["template"]["spec"]["containers"][0]["image"] = "mutated"
    assert deployment()["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE


def test_manifest_of_strips_server_fields_only() -> None:
    rendered = manifest_of(deployment())
    assert "status" not in rendered
    assert "uid" not in rendered["metadata"]
    assert rendered["spec"]["replicas"] == 3
    assert "status" in deployment()
