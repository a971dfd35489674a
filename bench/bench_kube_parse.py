"""Reading a 5,000-pod list: the official client's model objects versus raw JSON into dicts.

Two measurements, each the median of several rounds:
  1. parsing only: the same response body through ``ApiClient.deserialize(..., "V1PodList")``
     versus ``json.loads``;
  2. end to end against the emulator: ``list_namespaced_pod`` (models) versus the same call with
     ``_preload_content=False`` + ``json.loads`` (what ``KubeReader`` does).

    python bench/bench_kube_parse.py [--pods 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import kubernetes.client as k8s
from kubernetes.config import load_kube_config

from sandbox.kube import KubeEmulator, make_pods

NAMESPACE = "bench"


def median_seconds(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report(label: str, models: float, raw: float) -> None:
    print(f"{label}")
    print(f"  model objects (V1PodList)  {models * 1000:9.1f} ms")
    print(f"  raw dicts (json.loads)     {raw * 1000:9.1f} ms")
    print(f"  ratio models / raw         {models / raw:9.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    emulator = KubeEmulator(fixtures_dir=None)
    emulator.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    emulator.store.put_many(make_pods(args.pods, namespace=NAMESPACE))
    with emulator, tempfile.TemporaryDirectory() as folder:
        kubeconfig = emulator.write_kubeconfig(Path(folder) / "config", context_name="bench")
        configuration = type.__call__(k8s.Configuration)
        load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig), context="bench", client_configuration=configuration
        )
        api_client = k8s.ApiClient(configuration)
        core: Any = k8s.CoreV1Api(api_client)  # raw responses are untyped

        response = core.list_namespaced_pod(NAMESPACE, _preload_content=False)
        body = response.data.decode("utf-8")
        print(f"{args.pods} pods, response body {len(body) / 1e6:.1f} MB, {args.rounds} rounds")

        models = median_seconds(
            lambda: api_client.deserialize(body, "V1PodList", "application/json"), args.rounds
        )
        raw = median_seconds(lambda: json.loads(body), args.rounds)
        report("parsing only:", models, raw)

        def with_models() -> int:
            return len(core.list_namespaced_pod(NAMESPACE).items)

        def with_dicts() -> int:
            response = core.list_namespaced_pod(NAMESPACE, _preload_content=False)
            return len(json.loads(response.data)["items"])

        assert with_models() == with_dicts() == args.pods
        models = median_seconds(with_models, args.rounds)
        raw = median_seconds(with_dicts, args.rounds)
        report("end to end (one LIST against the emulator):", models, raw)
        api_client.close()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
