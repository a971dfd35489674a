"""The same checks against the sandbox's live cluster (the API emulator) and against its objects
as manifests (the emulator's fixtures are manifests too) agree, finding for finding, on the
objects both judge: the profile's namespace.

Defects are planted in the emulator's store, so the live cluster and the exported manifests hold
the same objects: a Job without limits running as root, a CronJob mounting a host path, a Role
allowing pods/exec bound to a user, an Ingress without TLS, a ConfigMap holding a private key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_deployverify.checklist.kubernetes import KubeChecklist
from pytest_deployverify.cli import main
from pytest_deployverify.cli.scan_command import item_label
from pytest_deployverify.components.kubernetes.reader import build_kube_reader
from sandbox.kube import KubeEmulator
from tests.kube_checklist.cluster import (
    NS,
    apply_baseline_fixes,
    disable_nagle,
    profile_from,
    profile_text,
)
from tests.scan.cases import PEM

_SUBJECT = re.compile(r"^\[[a-z0-9-]+\] (?P<kind>[A-Za-z]+) (?P<ns>[^/\s]+)/")


def _pod(name: str) -> dict[str, Any]:
    return {
        "serviceAccountName": "api-gateway",
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": name,
                "image": "registry.example.com/api-gateway:1.4.2",
                "command": ["node", "scripts/backfill.js"],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }


DEFECTS: list[dict[str, Any]] = [
    {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "backfill",
            "namespace": NS,
            "labels": {"app.kubernetes.io/instance": "backfill"},
        },
        "spec": {
            "template": {"metadata": {"labels": {"job": "backfill"}}, "spec": _pod("backfill")}
        },
    },
    {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "log-shipper",
            "namespace": NS,
            "labels": {"app.kubernetes.io/instance": "log-shipper"},
        },
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "metadata": {"labels": {"job": "log-shipper"}},
                        "spec": {
                            **_pod("ship"),
                            "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}],
                        },
                    }
                }
            },
        },
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "debugger", "namespace": NS},
        "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "jane-debug", "namespace": NS},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "debugger"},
        "subjects": [{"kind": "User", "name": "jane@example.com"}],
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "admin", "namespace": NS},
        "spec": {
            "rules": [
                {
                    "host": "admin.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": "api-gateway", "port": {"name": "http"}}
                                },
                            }
                        ]
                    },
                }
            ]
        },
    },
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "legacy-bundle", "namespace": NS},
        "data": {"bundle": PEM},
    },
]


@pytest.fixture
def emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[KubeEmulator, Path]]:
    disable_nagle(monkeypatch)
    kube = KubeEmulator()
    apply_baseline_fixes(kube)
    kube.store.put_many(DEFECTS)
    with kube:
        yield kube, kube.write_kubeconfig(tmp_path / "kubeconfig", context_name="emulator")


def _in_namespace(findings: dict[str, set[str]]) -> dict[str, set[str]]:
    kept: dict[str, set[str]] = {}
    for item, lines in findings.items():
        mine = {line for line in lines if (m := _SUBJECT.match(line)) and m["ns"] == NS}
        if mine:
            kept[item] = mine
    return kept


def test_live_and_manifest_findings_agree_on_the_same_objects(
    emulator: tuple[KubeEmulator, Path], tmp_path: Path
) -> None:
    kube, kubeconfig = emulator
    text = profile_text(kubeconfig)
    # The emulator's objects, as manifests: the same objects the live cluster serves.
    manifests = tmp_path / "cluster.yaml"
    manifests.write_text(yaml.safe_dump_all(kube.store.export(), sort_keys=False), encoding="utf-8")
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "k8s.toml").write_text(text, encoding="utf-8")
    out = tmp_path / "scan.json"
    main(
        [
            "scan",
            str(manifests),
            "--env",
            "k8s",
            "--env-dir",
            str(envs),
            "--format",
            "json",
            "-o",
            str(out),
            "--fail-on",
            "none",
        ]
    )
    report = json.loads(out.read_text())
    by_scan = {
        i["id"]: {f["text"] for f in i["findings"]} for i in report["items"] if i["findings"]
    }

    profile = profile_from(text)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        checklist = KubeChecklist.live(reader, profile)
        results = checklist.run_all(spec_only=True)
    by_live = {
        item_label(r, checklist.workloads): {str(f) for f in r.findings}
        for r in results
        if r.findings
    }

    live, rendered = _in_namespace(by_live), _in_namespace(by_scan)
    assert live == rendered
    # Every planted defect was found, the same way in both.
    found = {line.split("]")[0][1:] for lines in live.values() for line in lines}
    assert {
        "cpu-limits-missing",
        "memory-limits-missing",
        "run-as-root-allowed",
        "host-path-set",
        "rolebinding-role-pod-exec-attach",
        "role-pod-exec-attach",
        "tls-settings-missing",
        "sensitive-configmap-content",
    } <= found, found
    # The manifests also hold other namespaces, which the live run (one namespace) never reads:
    # the scan judges them (the redis StatefulSet has no NetworkPolicy).
    assert any(" redis/" in line for lines in by_scan.values() for line in lines)
