"""The cluster the Kubernetes checklist tests run against, and the defects they inject.

A fresh ``KubeEmulator`` per test (starting one costs a few milliseconds), loaded with the
sandbox fixtures plus ``BASELINE_FIXES``: the changes the sandbox fixtures need to pass the whole
checklist (reported to the sandbox owner; once applied there, they are no-ops here). Each defect
changes exactly one thing, the way it would reach a cluster: a chart defect changes the live
Deployment *and* the Helm release's rendered manifest (it was deployed), a manual change touches
only the live object.

Imported explicitly by the test modules (no conftest.py): ``from tests.kube_checklist.cluster
import cluster``.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_deployverify.components.catalog import profile_from_dict
from pytest_deployverify.profile.model import Profile
from sandbox.kube import KubeEmulator, decode_release, release_secret

REPO = Path(__file__).resolve().parents[2]
CHECKLIST = REPO / "src" / "pytest_deployverify" / "checklist"
VERIFY_FILES = ("test_kubernetes_infra.py", "test_kubernetes_security.py")
NS = "api-gateway"
APP = "api-gateway"
RELEASE_SECRET = "sh.helm.release.v1.api-gateway.v3"
# For profiles that name a kubeconfig but never connect (pre-deploy mode, declarations).
UNUSED_KUBECONFIG = Path(__file__).with_name("unused-kubeconfig.yaml")

# The [kubernetes.expect] table of the sandbox profile (what the report recommends).
SANDBOX_EXPECT = """\
[kubernetes.expect]
container = "api-gateway"
required_env = ["NODE_ENV", "PORT", "JWT_SECRET", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "CORS_ORIGIN", "AUTH_SERVICE_URL"]
expected_env = { NODE_ENV = "production", LOG_LEVEL = "info", REDIS_TLS = "true" }
forbidden_env = { CORS_ORIGIN = ["*"], LOG_LEVEL = ["debug", "trace"] }
secret_min_length = { "api-gateway-secrets/JWT_SECRET" = 32, "api-gateway-secrets/REDIS_PASSWORD" = 24 }
external_refs = ["api-gateway-secrets"]
min_replicas = 2
service = "api-gateway"
ingress = "api-gateway"
public_host = "api.example.com"
resolve = { "api.example.com" = ["127.0.0.1"] }
storage_classes = ["fast-ssd"]
require_default_storage_class = true
image_size_limit_mb = 500
capacity_margin = 0.1

[kubernetes.expect.helm]
release = "api-gateway"
chart = "api-gateway"
chart_version = "0.9.3"

[kubernetes.expect.vulnerabilities]
severity = "high"
max_report_age = "7d"
"""


def profile_text(kubeconfig: Path | str, expect: str = SANDBOX_EXPECT, *, extra: str = "") -> str:
    """A profile for the emulator: the sandbox's [kubernetes] table with ``expect``."""
    return (
        'version = "1.4.2"\n'
        f"{extra}\n"
        "[kubernetes]\n"
        f'kubeconfig = "{kubeconfig}"\n'
        'context = "emulator"\n'
        f'namespace = "{NS}"\n'
        f'workloads = ["{APP}"]\n'
        "timeout = 5\n\n"
        f"{expect}"
    )


def profile_from(text: str, name: str = "k8s") -> Profile:
    import tomllib

    return profile_from_dict({"name": name, **tomllib.loads(text)})


# ---- the cluster ----------------------------------------------------------------------------------


def apply_baseline_fixes(kube: KubeEmulator) -> None:
    """What the sandbox fixtures need to pass everything: imagePullPolicy Always on the gateway
    (Deployment, its ReplicaSets and pods, and the release's rendered Deployment)."""

    def always(workload: dict[str, Any]) -> None:
        for container in _pod_spec(workload).get("containers", []):
            container["imagePullPolicy"] = "Always"

    chart_change(kube, always)
    for obj_kind in ("ReplicaSet", "Pod"):
        for obj in kube.store.objects(obj_kind, NS):
            if obj["metadata"]["name"].startswith(APP):
                always(obj)
                kube.store.put(obj)


@dataclass
class Cluster:
    """A running emulator with the healthy sandbox, its kubeconfig and the test's folder."""

    kube: KubeEmulator
    kubeconfig: Path
    root: Path

    def get(self, obj_kind: str, name: str, namespace: str | None = NS) -> dict[str, Any]:
        found = self.kube.store.get(obj_kind, namespace, name)
        assert found is not None, f"{obj_kind} {namespace}/{name} is not in the fixtures"
        return found

    def edit(
        self,
        obj_kind: str,
        name: str,
        change: Callable[[dict[str, Any]], object],
        ns: str | None = NS,
    ) -> None:
        obj = self.get(obj_kind, name, ns)
        change(obj)
        self.kube.store.put(obj)


def disable_nagle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work around the emulator answering each request ~40 ms late on Linux: its handler sends
    the headers and the body in two small writes, so Nagle's algorithm waits for the client's
    delayed ACK. ``disable_nagle_algorithm`` is socketserver's own switch for that; reported to
    the sandbox owner, and a no-op here once the handler sets it."""
    from sandbox.kube import server

    monkeypatch.setattr(server._Handler, "disable_nagle_algorithm", True)


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    disable_nagle(monkeypatch)
    kube = KubeEmulator()
    apply_baseline_fixes(kube)
    with kube:
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", context_name="emulator")
        yield Cluster(kube, kubeconfig, tmp_path)


def chart_change(kube: KubeEmulator, change: Callable[[dict[str, Any]], object]) -> None:
    """A change made in the chart and deployed: the live Deployment and the rendered one."""
    live = kube.store.get("Deployment", NS, APP)
    assert live is not None
    change(live)
    kube.store.put(live)
    secret = kube.store.get("Secret", NS, RELEASE_SECRET)
    assert secret is not None
    release = decode_release(secret["data"]["release"])
    documents = list(yaml.safe_load_all(release["manifest"]))
    for doc in documents:
        if doc and doc.get("kind") == "Deployment":
            change(doc)
    release["manifest"] = yaml.safe_dump_all([d for d in documents if d], sort_keys=False)
    kube.store.put(release_secret(release, namespace=NS))


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
    return spec


def app_container(workload: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = _pod_spec(workload)["containers"][0]
    return container


# ---- manifests (pre-deploy mode) ----------------------------------------------------------------


def rendered_manifests() -> list[dict[str, Any]]:
    """What ``helm template`` of the healthy release renders: the gateway's spec-level objects
    from the sandbox fixtures, stripped of cluster state (status, uid, resourceVersion...)."""
    wanted = {
        ("Deployment", APP),
        ("Service", APP),
        ("Ingress", APP),
        ("HorizontalPodAutoscaler", APP),
        ("PodDisruptionBudget", APP),
        ("NetworkPolicy", "default-deny-all"),
        ("NetworkPolicy", "api-gateway-allow"),
        ("ConfigMap", "api-gateway-config"),
        ("ServiceAccount", APP),
        ("Role", APP),
        ("RoleBinding", APP),
    }
    kube = KubeEmulator()
    apply_baseline_fixes(kube)
    objects: list[dict[str, Any]] = []
    for obj_kind, name in sorted(wanted):
        live = kube.store.get(obj_kind, NS, name)
        assert live is not None, f"{obj_kind} {NS}/{name} is not in the sandbox fixtures"
        objects.append(_as_rendered(live))
    return objects


def _as_rendered(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out["metadata"]
    for key in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
        meta.pop(key, None)
    for key in ("clusterIP", "clusterIPs"):
        out.get("spec", {}).pop(key, None)
    return out


def write_manifests(folder: Path, objects: list[dict[str, Any]]) -> Path:
    """One YAML file per object, as a chart's templates/ folder renders them."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for index, obj in enumerate(objects):
        file = folder / f"{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        file.write_text(yaml.safe_dump(obj, sort_keys=False), encoding="utf-8")
    return folder


def find(objects: list[dict[str, Any]], obj_kind: str, name: str) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == obj_kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"{obj_kind} {name} is not among the manifests")


# ---- what a run collects -------------------------------------------------------------------------


def item_counts() -> dict[str, int]:
    """Tests of one run with one workload: every item once, plus one ``other-objects`` test per
    item that judges every object; and which are not applicable by design on the sandbox."""
    from pytest_deployverify.checklist.kubernetes import ITEMS

    scoped = sum(1 for i in ITEMS.values() if i.per_workload and i.plan.scans)
    return {
        "tests": len(ITEMS) + scoped,
        "other_objects": scoped,
        "live_only": sum(1 for i in ITEMS.values() if i.live_only),
    }


# Not applicable on the sandbox by design, whatever the mode: the priority class check is opt-in
# and the only Ingress is the public host's (judged by K8S-INGRESS, not K8S-INGRESS-TLS).
NOT_APPLICABLE_HERE = ("K8S-PRIORITY-CLASS", "K8S-INGRESS-TLS")
# ...and live: objects read from the API server were validated by it (K8S-SCHEMA).
NOT_APPLICABLE_LIVE = (*NOT_APPLICABLE_HERE, "K8S-SCHEMA")


# ---- running verify/ with pytester ---------------------------------------------------------------


def copy_verify_files(pytester: pytest.Pytester) -> Path:
    """A folder for the team's own tests (empty): the Kubernetes items come from the shipped
    checklist, selected with -k."""
    folder = pytester.path / "verify"
    folder.mkdir(exist_ok=True)
    return folder


def write_profile(pytester: pytest.Pytester, text: str, name: str = "k8s") -> None:
    envs = pytester.path / "envs"
    envs.mkdir(exist_ok=True)
    (envs / f"{name}.toml").write_text(text, encoding="utf-8")


def run_args(*extra: str) -> tuple[str, ...]:
    return (
        "verify",
        "--env",
        "k8s",
        "--env-dir",
        "envs",
        "-p",
        "no:cacheprovider",
        "-rfEs",
        "--checklist",
        "all",
        "-k",
        "test_kubernetes",
        *extra,
    )


def failed_items(result: pytest.RunResult) -> set[str]:
    """Check ids of the failed tests, e.g. {"K8S-RESOURCES[api-gateway]"}, from the reports."""
    failed: set[str] = set()
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        data = getattr(report, "deployverify", None)
        if report.failed and data is not None:
            failed.add(data["check_id"])
    return failed


def failed_items_from_output(result: pytest.RunResult) -> set[str]:
    """The same from a subprocess run's ``-rf`` summary (FAILED verify/...::test_x[wl] - ...)."""
    names: set[str] = set()
    for line in result.outlines:
        if line.startswith("FAILED "):
            names.add(line.split()[1].split("::", 1)[1])
    return names


def literal(text: str) -> str:
    """``text`` as an fnmatch pattern matching itself (brackets are character classes there)."""
    return "".join({"[": "[[]", "]": "[]]", "*": "[*]", "?": "[?]"}.get(c, c) for c in text)
