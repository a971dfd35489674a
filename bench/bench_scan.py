"""How long ``deployverify scan`` takes on a rendered chart of realistic size (issue 13).

Generates a chart of about 1,000 objects (by default): 88 services, each a Deployment, Service,
ConfigMap, Secret, ServiceAccount, PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy,
Ingress, Role and RoleBinding, plus a few DaemonSets, CronJobs and a default-deny policy, all
healthy except a handful of planted defects; writes it as one ``helm template``-style stream and
times the whole command (reading, schema validation, every item, the report) in a fresh process,
as a pipeline runs it. Goal: under 2 s.

    .venv/bin/python bench/bench_scan.py [--objects 1000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

NS = "shop"
GOAL_SECONDS = 2.0


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def _pod_spec(name: str) -> dict[str, Any]:
    return {
        "serviceAccountName": name,
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "app",
                "image": f"registry.example.com/{name}:2.3.{len(name) % 10}",
                "ports": [{"name": "http", "containerPort": 8080}],
                "envFrom": [{"configMapRef": {"name": f"{name}-config"}}],
                "env": [
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": f"{name}-secrets", "key": "db"}},
                    }
                ],
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "256Mi"},
                },
                "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": _labels(name)},
            }
        ],
    }


def _meta(name: str, suffix: str = "") -> dict[str, Any]:
    return {"name": f"{name}{suffix}", "namespace": NS, "labels": _labels(name)}


def service_objects(name: str) -> list[dict[str, Any]]:
    """The 11 objects one service of the chart renders."""
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(name),
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": _labels(name)},
                "template": {"metadata": {"labels": _labels(name)}, "spec": _pod_spec(name)},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(name),
            "spec": {
                "selector": _labels(name),
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(name, "-config"),
            "data": {"LOG_LEVEL": "info", "PORT": "8080", "UPSTREAM_URL": f"http://{name}-up"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(name, "-secrets"),
            "type": "Opaque",
            "data": {"db": "c2VjcmV0LXZhbHVlLW5vdC1zaG93bg=="},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(name),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(name),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _labels(name)}},
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(name),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 3,
                "maxReplicas": 10,
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(name),
            "spec": {
                "podSelector": {"matchLabels": _labels(name)},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": 8080}]}],
                "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": _meta(name),
            "spec": {
                "tls": [{"hosts": [f"{name}.example.com"], "secretName": f"{name}-tls"}],
                "rules": [
                    {
                        "host": f"{name}.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": name, "port": {"name": "http"}}
                                    },
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
            "metadata": _meta(name),
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(name),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NS}],
        },
    ]


def chart(target: int = 1000) -> list[dict[str, Any]]:
    """About ``target`` objects: services, then a few node agents and batch jobs, a default-deny
    policy, and three planted defects (so the report has something to say)."""
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": NS},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        }
    ]
    index = 0
    while len(objects) + 11 <= target - 7:
        objects += service_objects(f"svc-{index:03d}")
        index += 1
    agents: list[str] = []
    for kind_name in ("DaemonSet", "CronJob"):
        for n in range(3):
            name = f"{kind_name.lower()}-{n}"
            agents.append(name)
            spec = _pod_spec(name)
            for container in spec["containers"]:
                container.pop("env")
                container.pop("envFrom")
            if kind_name == "DaemonSet":
                body = {
                    "selector": {"matchLabels": _labels(name)},
                    "template": {"metadata": {"labels": _labels(name)}, "spec": spec},
                }
                api = "apps/v1"
            else:
                spec = {**spec, "restartPolicy": "OnFailure"}
                spec["containers"] = [
                    {k: v for k, v in c.items() if not k.endswith("Probe")}
                    for c in spec["containers"]
                ]
                body = {
                    "schedule": "0 3 * * *",
                    "jobTemplate": {
                        "spec": {"template": {"metadata": {"labels": _labels(name)}, "spec": spec}}
                    },
                }
                api = "batch/v1"
            objects.append(
                {"apiVersion": api, "kind": kind_name, "metadata": _meta(name), "spec": body}
            )
    objects.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "agents", "namespace": NS},
            "spec": {
                "podSelector": {
                    "matchExpressions": [
                        {"key": "app.kubernetes.io/name", "operator": "In", "values": agents}
                    ]
                },
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": 8080}]}],
                "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
            },
        }
    )
    # Planted defects: a typo'd field, a privileged container, an Ingress without TLS.
    objects[1]["spec"]["replica"] = 3
    objects[12]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    del objects[9 + 11 * 2]["spec"]["tls"]
    return objects


def write_chart(folder: Path, target: int) -> Path:
    objects = chart(target)
    path = folder / "rendered.yaml"
    text = "".join(
        f"---\n# Source: shop/templates/{o['kind'].lower()}.yaml\n"
        + yaml.safe_dump(o, sort_keys=False)
        for o in objects
    )
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="write the chart here and keep it")
    args = parser.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-scan-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = write_chart(folder, args.objects)
    count = sum(1 for line in path.read_text().splitlines() if line == "---")
    times: list[float] = []
    command = [sys.executable, "-m", "pytest_deployverify.cli", "scan", "-", "--format", "sarif"]
    for _ in range(args.runs):
        started = time.perf_counter()
        with path.open("rb") as stdin:
            done = subprocess.run(command, stdin=stdin, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            sys.stderr.write(done.stderr.decode())
            return 2
    import json

    report = json.loads(done.stdout)
    results = report["runs"][0]["results"]
    best, median = min(times), statistics.median(times)
    print(f"objects: {count} ({path.stat().st_size // 1024} KiB of YAML)")
    print(f"findings: {len(results)} ({', '.join(sorted({r['ruleId'] for r in results}))})")
    print(
        f"deployverify scan - --format sarif: best {best:.2f} s, median {median:.2f} s of {args.runs}"
    )
    print(f"goal: under {GOAL_SECONDS:.0f} s: {'met' if median < GOAL_SECONDS else 'NOT met'}")
    return 0 if median < GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
