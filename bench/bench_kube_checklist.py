"""Requests and wall time of the whole Kubernetes checklist over 10, 100 and 1,000 gateway pods.

The emulator serves the sandbox cluster scaled coherently: the gateway Deployment at N replicas
(N ready pods from ``make_pods``, EndpointSlices of 100 endpoints, enough nodes), so every item
still passes. Per size:

* in-process: ``KubeChecklist.live(...).run_all()`` with one reader, the checklist run 1x and 5x;
* the same 1x with every request answered ``--latency`` seconds late (default 0.05: a remote
  region): the reads are concurrent, so the run waits a few round trips, not one per kind;
* pytest: the shipped checklist in a fresh process (as a user runs it), each item repeated 1x
  and 5x by a plugin that parametrizes every test.

Requests are counted on the emulator's request log. They must not grow with the number of checks
(one LIST per kind and namespace per run, two self-reviews, and the bounded log tails of the
workload's containers); they grow with pods only by pages of ``page_size`` and by the logs of at
most ``[kubernetes.expect.pod_logs] max_pods`` pods.

    python bench/bench_kube_checklist.py [--sizes 10 100 1000] [--latency 0.05] [--no-pytest]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pytest_deployverify.checklist.kubernetes import KubeChecklist  # noqa: E402
from pytest_deployverify.components.kubernetes.reader import build_kube_reader  # noqa: E402
from sandbox.kube import KubeEmulator, make_pods, server  # noqa: E402
from tests.kube_checklist.cluster import (  # noqa: E402
    APP,
    NS,
    apply_baseline_fixes,
    profile_from,
    profile_text,
)

PODS_PER_NODE = 14  # 3920m allocatable / 250m requested per gateway pod, leaving headroom
SLICE_SIZE = 100
PYTEST_ARGS = (
    "verify",
    "--env",
    "k8s",
    "--env-dir",
    "envs",
    "--checklist",
    "all",
    "-k",
    "test_kubernetes",
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "bench_repeat",
)  # the EndpointSlice controller's default maxEndpointsPerSlice

# A plugin (-p bench_repeat), not a conftest: the checklist modules ship in the package, outside
# any conftest's folder.
REPEAT_PLUGIN = """\
import os
import pytest

REPEAT = int(os.environ["KUBE_BENCH_REPEAT"])


@pytest.fixture(autouse=True)
def _bench_repeat(request):
    return getattr(request, "param", 0)


def pytest_generate_tests(metafunc):
    if REPEAT > 1 and "_bench_repeat" in metafunc.fixturenames:
        metafunc.parametrize("_bench_repeat", range(REPEAT), indirect=True)
"""


def scaled_cluster(pods: int) -> KubeEmulator:
    """The sandbox with the gateway at ``pods`` ready replicas, consistently everywhere."""
    kube = KubeEmulator()
    apply_baseline_fixes(kube)
    store = kube.store
    for old in store.objects("Pod", NS):
        store.delete("Pod", NS, old["metadata"]["name"])
    template = store.get("Deployment", NS, APP)
    assert template is not None
    new_pods = make_pods(
        pods,
        template=template["spec"]["template"],
        replicaset="api-gateway-7d9f8b6c5d",
        labels={"pod-template-hash": "7d9f8b6c5d"},
        nodes=[f"worker-{i + 1}" for i in range(_node_count(pods))],
    )
    store.put_many(new_pods)
    _scale_workload(kube, pods)
    _endpoint_slices(kube, new_pods)
    _nodes(kube, _node_count(pods))
    return kube


def _node_count(pods: int) -> int:
    return max(2, math.ceil(pods / PODS_PER_NODE) + 1)


def _scale_workload(kube: KubeEmulator, pods: int) -> None:
    store = kube.store
    deployment = store.get("Deployment", NS, APP)
    assert deployment is not None
    deployment["spec"]["replicas"] = pods
    for key in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
        deployment["status"][key] = pods
    store.put(deployment)
    hpa = store.get("HorizontalPodAutoscaler", NS, APP)
    assert hpa is not None
    hpa["spec"]["minReplicas"] = min(3, pods)
    hpa["spec"]["maxReplicas"] = pods * 2
    hpa["status"]["currentReplicas"] = hpa["status"]["desiredReplicas"] = pods
    store.put(hpa)


def _endpoint_slices(kube: KubeEmulator, pods: list[dict[str, Any]]) -> None:
    base = kube.store.get("EndpointSlice", NS, "api-gateway-h7x2q")
    assert base is not None
    kube.store.delete("EndpointSlice", NS, "api-gateway-h7x2q")
    for start in range(0, len(pods), SLICE_SIZE):
        chunk = pods[start : start + SLICE_SIZE]
        slice_ = json.loads(json.dumps(base))
        slice_["metadata"]["name"] = f"api-gateway-{start // SLICE_SIZE:05d}"
        slice_["metadata"].pop("uid", None)
        slice_["endpoints"] = [
            {
                "addresses": [p["status"]["podIP"]],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "nodeName": p["spec"]["nodeName"],
                "targetRef": {"kind": "Pod", "namespace": NS, "name": p["metadata"]["name"]},
            }
            for p in chunk
        ]
        kube.store.put(slice_)


def _nodes(kube: KubeEmulator, count: int) -> None:
    base = kube.store.get("Node", None, "worker-1")
    assert base is not None
    for index in range(3, count + 1):
        node = json.loads(json.dumps(base))
        node["metadata"]["name"] = f"worker-{index}"
        node["metadata"].pop("uid", None)
        node["metadata"]["labels"]["kubernetes.io/hostname"] = f"worker-{index}"
        kube.store.put(node)


def in_process(kube: KubeEmulator, kubeconfig: Path, repeat: int) -> tuple[int, float, int]:
    """(requests, seconds, failed items) for ``repeat`` full checklists over one reader."""
    profile = profile_from(profile_text(kubeconfig))
    assert profile.kubernetes is not None
    kube.reset_counts()
    started = time.perf_counter()
    with build_kube_reader(profile.kubernetes) as reader:
        checklist = KubeChecklist.live(reader, profile)
        failed = 0
        for _ in range(repeat):
            failed = sum(1 for r in checklist.run_all() if not r.passed)
    return len(kube.requests), time.perf_counter() - started, failed


def with_pytest(kubeconfig: Path, folder: Path, repeat: int) -> tuple[int, float, str]:
    """(exit code, seconds, summary line) of a pytest process over the shipped checklist."""
    path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "KUBE_BENCH_REPEAT": str(repeat), "PYTHONPATH": path}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *PYTEST_ARGS],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    return done.returncode, seconds, summary


def project(root: Path, kubeconfig: Path) -> Path:
    folder = root / "project"
    (folder / "verify").mkdir(parents=True)  # the team's own tests: none
    (folder / "envs").mkdir()
    (folder / "bench_repeat.py").write_text(REPEAT_PLUGIN, encoding="utf-8")
    (folder / "envs" / "k8s.toml").write_text(profile_text(kubeconfig), encoding="utf-8")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds each request is answered late"
    )
    parser.add_argument("--no-pytest", action="store_true", help="in-process measurements only")
    args = parser.parse_args()
    # The emulator's handler writes headers and body separately; without TCP_NODELAY each
    # request waits ~40 ms for a delayed ACK (reported to the sandbox owner).
    server._Handler.disable_nagle_algorithm = True

    rows = []
    for size in args.sizes:
        kube = scaled_cluster(size)
        with kube, tempfile.TemporaryDirectory(prefix="bench-kube-") as tmp:
            root = Path(tmp)
            kubeconfig = kube.write_kubeconfig(root / "kubeconfig", context_name="emulator")
            in_process(kube, kubeconfig, 1)  # warm the client's lazily built validators
            req1, sec1, failed = in_process(kube, kubeconfig, 1)
            req5, sec5, _ = in_process(kube, kubeconfig, 5)
            kube.faults.set_latency(args.latency)
            _, slow, _ = in_process(kube, kubeconfig, 1)
            kube.faults.clear()
            row: dict[str, Any] = {
                "pods": size,
                "nodes": _node_count(size),
                "req 1x": req1,
                "req 5x": req5,
                "run 1x s": f"{sec1:.3f}",
                "run 5x s": f"{sec5:.3f}",
                f"1x at +{args.latency * 1000:g} ms s": f"{slow:.3f}",
                "round trips": f"{(slow - sec1) / args.latency:.1f}" if args.latency else "-",
                "failed items": failed,
            }
            if not args.no_pytest:
                folder = project(root, kubeconfig)
                kube.reset_counts()
                code1, wall1, summary1 = with_pytest(kubeconfig, folder, 1)
                preq1 = len(kube.requests)
                kube.reset_counts()
                code5, wall5, summary5 = with_pytest(kubeconfig, folder, 5)
                preq5 = len(kube.requests)
                mutating = kube.count(mutating=True)
                row |= {
                    "pytest req 1x": preq1,
                    "pytest req 5x": preq5,
                    "pytest 1x s": f"{wall1:.2f}",
                    "pytest 5x s": f"{wall5:.2f}",
                    "writes": mutating,
                }
                row["pytest"] = f"1x: {summary1} | 5x: {summary5}"
                if code1 or code5:
                    row["pytest"] += f" (exit codes {code1}/{code5})"
            rows.append(row)
    _print(rows)


def _print(rows: list[dict[str, Any]]) -> None:
    notes = [row.pop("pytest", None) for row in rows]
    headers = list(rows[0])
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in headers]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[h]).rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row, note in zip(rows, notes, strict=True):
        if note:
            print(f"{row['pods']} pods, pytest: {note}")


if __name__ == "__main__":
    main()
