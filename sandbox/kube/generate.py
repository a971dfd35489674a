"""Generating many realistic pods (for benchmarks with thousands of pods)."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.kube import fixture_yaml

_WORKLOAD_FIXTURE = Path(__file__).parent / "fixtures" / "20-api-gateway-workload.yaml"
# The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alike digits).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_UID_NAMESPACE = uuid.UUID("0b7f4c1e-5d2a-4e8b-b3c6-9a1f2e3d4c5b")


@functools.lru_cache(maxsize=1)
def _fixture_template() -> dict[str, Any]:
    for obj in fixture_yaml.load_file(_WORKLOAD_FIXTURE):
        if obj.get("kind") == "Deployment":
            template: dict[str, Any] = obj["spec"]["template"]
            return template
    raise LookupError(f"no Deployment in {_WORKLOAD_FIXTURE}")


def _copy(doc: Mapping[str, Any]) -> dict[str, Any]:
    # A JSON round trip is several times faster than copy.deepcopy for API-shaped data.
    copied: dict[str, Any] = json.loads(json.dumps(doc))
    return copied


def default_pod_template() -> dict[str, Any]:
    """A copy of the api-gateway Deployment's pod template from the default fixtures."""
    return _copy(_fixture_template())


def _suffix(index: int) -> str:
    chars = []
    for _ in range(5):
        index, digit = divmod(index, len(_SUFFIX_ALPHABET))
        chars.append(_SUFFIX_ALPHABET[digit])
    return "".join(reversed(chars))


def _template_hash(app: str, image: str) -> str:
    digest = hashlib.sha256(f"{app}|{image}".encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:10])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_pods(
    n: int,
    *,
    namespace: str = "api-gateway",
    app: str = "api-gateway",
    image: str = "registry.example.com/api-gateway:1.4.2",
    nodes: Sequence[str] = ("worker-1", "worker-2"),
    template: Mapping[str, Any] | None = None,
    replicaset: str | None = None,
    labels: Mapping[str, str] | None = None,
    start: int = 0,
    ready: bool = True,
    restart_count: int = 0,
) -> list[dict[str, Any]]:
    """`n` Running pods as a ReplicaSet would create them, named `<replicaset>-<suffix>`.

    The pod spec comes from `template` (default: the gateway's, see `default_pod_template`) with
    every container's image set to `image`. Pods are owned by `replicaset` (default derived from
    `app` and `image`); that ReplicaSet object is not created. `start` offsets the index so
    batches do not collide. Deterministic: same arguments, same pods.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not nodes:
        raise ValueError("nodes must name at least one node")
    base = _copy(template if template is not None else _fixture_template())
    pod_hash = _template_hash(app, image)
    rs_name = replicaset or f"{app}-{pod_hash}"
    rs_uid = str(uuid.uuid5(_UID_NAMESPACE, f"replicasets.apps/{namespace}/{rs_name}"))
    pod_labels = dict(base.get("metadata", {}).get("labels", {}))
    pod_labels.update(
        {"app": app, "app.kubernetes.io/name": app, "app.kubernetes.io/instance": app}
    )
    pod_labels["pod-template-hash"] = pod_hash
    pod_labels.update(labels or {})
    annotations = dict(base.get("metadata", {}).get("annotations", {}))
    spec_template: dict[str, Any] = base.get("spec", {})
    for container in spec_template.get("containers", []):
        container["image"] = image
    started = fixture_yaml.rfc3339(datetime.now(UTC) - timedelta(hours=1))
    image_id = f"{image.rsplit(':', 1)[0]}@sha256:{_digest(image)}"
    pods: list[dict[str, Any]] = []
    for i in range(start, start + n):
        name = f"{rs_name}-{_suffix(i)}"
        node = nodes[i % len(nodes)]
        pod_ip = f"10.{128 + (i >> 16) % 64}.{(i >> 8) & 255}.{i & 255}"
        spec = _copy(spec_template)
        spec.update(
            {
                "nodeName": node,
                "enableServiceLinks": True,
                "preemptionPolicy": "PreemptLowerPriority",
                "priority": 0,
            }
        )
        status = "True" if ready else "False"
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "generateName": f"{rs_name}-",
                    "namespace": namespace,
                    "uid": str(uuid.uuid5(_UID_NAMESPACE, f"pods/{namespace}/{name}")),
                    "creationTimestamp": started,
                    "labels": dict(pod_labels),
                    "annotations": dict(annotations),
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": rs_name,
                            "uid": rs_uid,
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": spec,
                "status": {
                    "phase": "Running",
                    "qosClass": "Burstable",
                    "podIP": pod_ip,
                    "podIPs": [{"ip": pod_ip}],
                    "startTime": started,
                    "conditions": [
                        {
                            "type": t,
                            "status": s,
                            "lastProbeTime": None,
                            "lastTransitionTime": started,
                        }
                        for t, s in (
                            ("PodReadyToStartContainers", "True"),
                            ("Initialized", "True"),
                            ("Ready", status),
                            ("ContainersReady", status),
                            ("PodScheduled", "True"),
                        )
                    ],
                    "containerStatuses": [
                        {
                            "name": c["name"],
                            "image": image,
                            "imageID": image_id,
                            "containerID": f"containerd://{_digest(name + c['name'])}",
                            "ready": ready,
                            "started": True,
                            "restartCount": restart_count,
                            "state": {"running": {"startedAt": started}},
                            "lastState": {},
                        }
                        for c in spec.get("containers", [])
                    ],
                },
            }
        )
    return pods
