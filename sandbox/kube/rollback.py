"""The sandbox cluster after `helm rollback api-gateway 2`: release 1.4.2 failed and 1.4.1 runs again.

Test data for rollback verification (`pytest --rollback-to 1.4.1`), made from the default fixtures
the way Helm and the Deployment controller would change them:

- Helm revision 3 (1.4.2) becomes `superseded`; revision 4 is the rollback: description
  "Rollback to 2", `deployed`, chart 0.9.2 with appVersion 1.4.1, rendered from revision 3's
  manifest with the 1.4.1 image and labels (what revision 2 rendered), at the rollback time.
- The Deployment's template is the 1.4.1 one again (its ReplicaSet `api-gateway-5c6d8f9b7` scaled
  back to 3, revision annotation 4); the 1.4.2 ReplicaSet is scaled to 0 and its pods are gone,
  three 1.4.1 pods started at the rollback time serve instead.

`leftover` keeps that many 1.4.2 pods running (a rollback that left pods of the failed release).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.kube.fixture_yaml import rfc3339
from sandbox.kube.generate import make_pods
from sandbox.kube.helm import decode_release, release_secret
from sandbox.kube.store import ObjectStore

NAMESPACE = "api-gateway"
APP = "api-gateway"
FAILED, PREVIOUS = "1.4.2", "1.4.1"
FAILED_CHART, PREVIOUS_CHART = "0.9.3", "0.9.2"
FAILED_RS, PREVIOUS_RS = "api-gateway-7d9f8b6c5d", "api-gateway-5c6d8f9b7"
IMAGE = "registry.example.com/api-gateway"
RELEASE_SECRET = "sh.helm.release.v1.api-gateway.v{}"
ROLLBACK_AGO = timedelta(minutes=30)
# The digest of the 1.4.1 build, as the fixtures' vulnerability report of it records it: the
# rollback runs that very image again (its HIGH finding included).
PREVIOUS_DIGEST = "sha256:7e3c1f0b9a2d4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f"


def _get(store: ObjectStore, kind: str, name: str) -> dict[str, Any]:
    found = store.get(kind, NAMESPACE, name)
    if found is None:
        raise LookupError(f"{kind} {NAMESPACE}/{name} is not in the sandbox fixtures")
    return copy.deepcopy(found)


def _as_previous(text: str) -> str:
    """Revision 3's rendering turned into what revision 2 renders: the 1.4.1 image and labels."""
    return (
        text.replace(f"{IMAGE}:{FAILED}", f"{IMAGE}:{PREVIOUS}")
        .replace(f'version: "{FAILED}"', f'version: "{PREVIOUS}"')
        .replace(f"{APP}-{FAILED_CHART}", f"{APP}-{PREVIOUS_CHART}")
    )


def roll_back(store: ObjectStore, *, ago: timedelta = ROLLBACK_AGO, leftover: int = 0) -> datetime:
    """Apply the rollback to a store loaded with the default fixtures; returns its time."""
    at = datetime.now(UTC) - ago
    stamp = rfc3339(at)
    _helm(store, stamp)
    previous_rs = _get(store, "ReplicaSet", PREVIOUS_RS)
    failed_rs = _get(store, "ReplicaSet", FAILED_RS)

    deployment = _get(store, "Deployment", APP)
    template = copy.deepcopy(previous_rs["spec"]["template"])
    template["metadata"]["labels"].pop("pod-template-hash", None)
    deployment["spec"]["template"] = template
    labels = deployment["metadata"]["labels"]
    labels["app.kubernetes.io/version"] = PREVIOUS
    labels["helm.sh/chart"] = f"{APP}-{PREVIOUS_CHART}"
    deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "4"
    deployment["metadata"]["generation"] = deployment["metadata"].get("generation", 1) + 1
    status = deployment["status"]
    status["observedGeneration"] = deployment["metadata"]["generation"]
    for condition in status.get("conditions", []):
        condition["lastUpdateTime"] = stamp
        if condition["type"] == "Progressing":
            condition["message"] = f'ReplicaSet "{PREVIOUS_RS}" has successfully progressed.'
    store.put(deployment)

    for rs, replicas in ((previous_rs, 3), (failed_rs, 0)):
        rs["spec"]["replicas"] = replicas
        rs["status"] = {
            "observedGeneration": rs["metadata"].get("generation", 1) + 1,
            "replicas": replicas,
            **({"fullyLabeledReplicas": replicas, "readyReplicas": replicas} if replicas else {}),
            **({"availableReplicas": replicas} if replicas else {}),
        }
        rs["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
        annotations = rs["metadata"]["annotations"]
        if replicas:
            annotations["deployment.kubernetes.io/revision"] = "4"
        store.put(rs)

    failed_pods = sorted(
        (p for p in store.objects("Pod", NAMESPACE) if p["metadata"]["name"].startswith(FAILED_RS)),
        key=lambda p: p["metadata"]["name"],
    )
    for pod in failed_pods[leftover:]:
        store.delete("Pod", NAMESPACE, pod["metadata"]["name"])
    pods = make_pods(
        3,
        namespace=NAMESPACE,
        app=APP,
        image=f"{IMAGE}:{PREVIOUS}",
        template=previous_rs["spec"]["template"],
        replicaset=PREVIOUS_RS,
        labels={"pod-template-hash": PREVIOUS_RS.rsplit("-", 1)[1]},
        nodes=("worker-1", "worker-2"),
    )
    for pod in pods:
        pod["metadata"]["ownerReferences"][0]["uid"] = previous_rs["metadata"]["uid"]
        pod["metadata"]["creationTimestamp"] = stamp
        pod["status"]["startTime"] = stamp
        for container in pod["status"]["containerStatuses"]:
            container["state"] = {"running": {"startedAt": stamp}}
            container["imageID"] = f"{IMAGE}@{PREVIOUS_DIGEST}"
        for condition in pod["status"]["conditions"]:
            condition["lastTransitionTime"] = stamp
        store.put(pod)
    return at


def _helm(store: ObjectStore, stamp: str) -> None:
    failed = decode_release(_get(store, "Secret", RELEASE_SECRET.format(3))["data"]["release"])
    previous = decode_release(_get(store, "Secret", RELEASE_SECRET.format(2))["data"]["release"])
    superseded = copy.deepcopy(failed)
    superseded["info"]["status"] = "superseded"
    store.put(release_secret(superseded, namespace=NAMESPACE))
    rollback = copy.deepcopy(failed)
    rollback["version"] = 4
    rollback["chart"] = copy.deepcopy(previous["chart"])
    rollback["config"] = copy.deepcopy(previous["config"])
    rollback["manifest"] = _as_previous(failed["manifest"])
    rollback["info"] = {
        **failed["info"],
        "last_deployed": stamp,
        "description": "Rollback to 2",
        "status": "deployed",
        "notes": f"{APP} {PREVIOUS} is served at https://api.example.com\n",
    }
    store.put(release_secret(rollback, namespace=NAMESPACE))
