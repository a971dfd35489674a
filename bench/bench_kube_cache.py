"""Kubernetes requests made by 50 checks over 1,000 pods: the reader's per-run cache versus one
read per check, counted on the emulator's request log (wall time printed for information).

    python bench/bench_kube_cache.py [--pods 1000] [--checks 50] [--page-size 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_deployverify.components.catalog import profile_from_dict
from pytest_deployverify.components.kubernetes.reader import KubeReader
from sandbox.kube import KubeEmulator, make_pods

NAMESPACE = "bench"
# What 50 checks might ask for: the whole namespace, and a few label-selected slices of it.
SELECTORS = (None, None, "app=bench-app", "tier=web", "tier!=web", "app in (bench-app)")


def reader_for(kubeconfig: Path, page_size: int) -> KubeReader:
    profile = profile_from_dict(
        {
            "name": "bench",
            "kubernetes": {
                "kubeconfig": str(kubeconfig),
                "context": "bench",
                "timeout": 10.0,
                "page_size": page_size,
            },
        }
    )
    assert profile.kubernetes is not None
    return KubeReader.from_config(profile.kubernetes)


def run_checks(reader: KubeReader, checks: int, *, cached: bool) -> int:
    seen = 0
    for i in range(checks):
        selector = SELECTORS[i % len(SELECTORS)]
        seen += len(reader.list("pods", NAMESPACE, label_selector=selector, fresh=not cached))
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--checks", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()

    emulator = KubeEmulator(fixtures_dir=None)
    emulator.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    half = args.pods // 2
    emulator.store.put_many(
        make_pods(half, namespace=NAMESPACE, app="bench-app", labels={"tier": "web"})
        + make_pods(args.pods - half, namespace=NAMESPACE, app="bench-app", start=half)
    )
    with emulator, tempfile.TemporaryDirectory() as folder:
        kubeconfig = emulator.write_kubeconfig(Path(folder) / "config", context_name="bench")
        print(
            f"{args.checks} checks over {args.pods} pods in one namespace, "
            f"page size {args.page_size}, selectors cycling through {len(SELECTORS)} variants"
        )
        for label, cached in (("one read per check", False), ("per-run cache", True)):
            emulator.reset_counts()
            with reader_for(kubeconfig, args.page_size) as reader:
                started = time.perf_counter()
                seen = run_checks(reader, args.checks, cached=cached)
                elapsed = time.perf_counter() - started
            requests = emulator.count("GET", f"/api/v1/namespaces/{NAMESPACE}/pods")
            print(
                f"  {label:<20} {requests:>4} LIST requests (pages included)  "
                f"{elapsed * 1000:8.1f} ms  ({seen} pod dicts handed to checks)"
            )


if __name__ == "__main__":
    main()
