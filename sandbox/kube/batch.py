"""Jobs and CronJobs shaped as a v1.32 API server serves them, with the pods the Job controller
creates: for tests that put run-to-completion workloads into the emulator's store.

* ``make_job`` -> ``[Job, *pods]``: a Job (``batch/v1``) as the API defaults it (selector on
  ``batch.kubernetes.io/controller-uid``, the four job labels on its pod template, backoffLimit 6,
  NonIndexed, podReplacementPolicy TerminatingOrFailed) with the status the Job controller writes
  for its ``state``: ``complete`` (``SuccessCriteriaMet`` then ``Complete``, reason
  CompletionsReached), ``failed`` (``FailureTarget`` then ``Failed``, reason
  BackoffLimitExceeded), ``running``, ``suspended`` or ``pending``; and its pods (Succeeded,
  Failed for each retry, Running), named ``<job>-<suffix>``, labelled ``job-name`` and
  ``batch.kubernetes.io/job-name``, owned by the Job.
* ``make_cronjob`` -> ``[CronJob, *jobs, *pods]``: a CronJob and the runs it made, oldest first:
  each Job named ``<cronjob>-<scheduled minute since the epoch>``, annotated
  ``batch.kubernetes.io/cronjob-scheduled-timestamp``, owned by the CronJob; the CronJob's
  ``status`` (lastScheduleTime, lastSuccessfulTime, active) agrees with them.
* ``batch_network_policy``: egress for the batch pods (DNS and Redis), beside the sandbox's
  default deny.

The pod template is the gateway's hardened one from the default fixtures (its service account,
security context, resources, ConfigMap and Secret references) without probes, ports or spread
constraints, ``restartPolicy: Never``, and the batch labels below. Deterministic but for the
timestamps, which move with the clock like the fixtures' ``!ago``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.kube.fixture_yaml import rfc3339
from sandbox.kube.generate import default_pod_template

NAMESPACE = "api-gateway"
IMAGE = "registry.example.com/api-gateway:1.4.2"
# The digest the fixtures' gateway pods run for IMAGE (its VulnerabilityReport matches it).
_KNOWN_DIGESTS = {
    IMAGE: "sha256:10a26a2d0a500aeb34b75e8cae12b20e06b2776c0b5af5ab16134bed536019a1",
}
STATES = ("complete", "failed", "running", "suspended", "pending")
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_UID_NAMESPACE = uuid.UUID("2c0b8f5e-31a4-4d0e-8f7b-6a1d9c3e5b20")
_NODES = ("worker-1", "worker-2")


def batch_labels(name: str) -> dict[str, str]:
    """The labels of a batch workload and its pods (not the gateway's: its Service and
    Deployment never select them)."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "batch",
        "app.kubernetes.io/part-of": "platform",
    }


def batch_pod_template(name: str, image: str = IMAGE) -> dict[str, Any]:
    """A hardened pod template for a batch container named ``name`` running ``image``."""
    template = default_pod_template()
    spec = template["spec"]
    spec.pop("topologySpreadConstraints", None)
    spec["restartPolicy"] = "Never"
    container = spec["containers"][0]
    for key in ("livenessProbe", "readinessProbe", "startupProbe", "ports"):
        container.pop(key, None)
    container["name"] = name
    container["image"] = image
    container["command"] = ["node", f"jobs/{name}.js"]
    return {"metadata": {"labels": batch_labels(name)}, "spec": spec}


def _uid(what: str, namespace: str, name: str) -> str:
    return str(uuid.uuid5(_UID_NAMESPACE, f"{what}/{namespace}/{name}"))


def _suffix(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:5])


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def make_job(
    name: str,
    *,
    state: str = "complete",
    namespace: str = NAMESPACE,
    image: str = IMAGE,
    template: Mapping[str, Any] | None = None,
    completions: int = 1,
    parallelism: int = 1,
    backoff_limit: int = 6,
    retries: int = 0,
    started: datetime | None = None,
    owner: Mapping[str, Any] | None = None,
    scheduled: datetime | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """``[Job, *pods]`` in ``state`` (see the module doc). ``retries``: pods that failed before
    the Job reached its state (a ``failed`` Job has ``backoff_limit + 1`` failed pods).
    ``owner``: the CronJob that made it, ``scheduled`` the time it was scheduled for."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    now = datetime.now(UTC)
    began = started or now - timedelta(minutes=30)
    uid = _uid("jobs.batch", namespace, name)
    job_labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }
    pod_template = _copy(template) if template is not None else batch_pod_template(name, image)
    if template is not None:
        for container in pod_template["spec"].get("containers", []):
            container["image"] = image
    pod_template.setdefault("metadata", {}).setdefault("labels", {}).update(job_labels)
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "generation": 1,
        "creationTimestamp": rfc3339(began),
        "labels": dict(labels) if labels is not None else batch_labels(name),
        "annotations": {},
    }
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        if scheduled is not None:
            meta["annotations"][SCHEDULED_ANNOTATION] = rfc3339(scheduled)
    if not meta["annotations"]:
        del meta["annotations"]
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "backoffLimit": backoff_limit,
            "completionMode": "NonIndexed",
            "completions": completions,
            "manualSelector": False,
            "parallelism": parallelism,
            "podReplacementPolicy": "TerminatingOrFailed",
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
            "suspend": state == "suspended",
            "template": pod_template,
        },
    }
    pods: list[dict[str, Any]] = []
    failed = backoff_limit + 1 if state == "failed" else retries
    step = timedelta(minutes=1)
    moment = began
    for attempt in range(failed):
        pods.append(_pod(job, attempt, "Failed", image, moment, moment + step))
        moment += step + timedelta(seconds=10 * 2**attempt)
    succeeded = completions if state == "complete" else 0
    for index in range(succeeded):
        pods.append(_pod(job, failed + index, "Succeeded", image, moment, moment + step))
    active = min(parallelism, completions) if state == "running" else 0
    for index in range(active):
        pods.append(_pod(job, failed + index, "Running", image, moment, None))
    finished = moment + step
    status: dict[str, Any] = {}
    if state != "pending":
        status["startTime"] = rfc3339(began)
    if state == "complete":
        status["completionTime"] = rfc3339(finished)
        status["conditions"] = _conditions(
            ("SuccessCriteriaMet", "Complete"),
            "CompletionsReached",
            "Reached expected number of succeeded pods",
            finished,
        )
    elif state == "failed":
        status["conditions"] = _conditions(
            ("FailureTarget", "Failed"),
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            moment,
        )
    elif state == "suspended":
        status = {
            "conditions": _conditions(
                ("Suspended",), "JobSuspended", "Job suspended", began + timedelta(seconds=1)
            )
        }
    if active:
        status["active"] = active
    if succeeded:
        status["succeeded"] = succeeded
    if failed:
        status["failed"] = failed
    status["ready"] = active
    status["terminating"] = 0
    status["uncountedTerminatedPods"] = {}
    job["status"] = status
    return [job, *pods]


def _conditions(
    types: Sequence[str], reason: str, message: str, at: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "type": cond_type,
            "status": "True",
            "reason": reason,
            "message": message,
            "lastProbeTime": rfc3339(at),
            "lastTransitionTime": rfc3339(at),
        }
        for cond_type in types
    ]


def _pod(
    job: Mapping[str, Any],
    index: int,
    phase: str,
    image: str,
    began: datetime,
    ended: datetime | None,
) -> dict[str, Any]:
    job_meta = job["metadata"]
    template = job["spec"]["template"]
    name = f"{job_meta['name']}-{_suffix(job_meta['name'] + str(index))}"
    namespace = job_meta["namespace"]
    spec = _copy(template["spec"])
    node = _NODES[index % len(_NODES)]
    spec.update(
        {
            "nodeName": node,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
        }
    )
    digest = _KNOWN_DIGESTS.get(image) or f"sha256:{hashlib.sha256(image.encode()).hexdigest()}"
    image_id = f"{image.rsplit(':', 1)[0]}@{digest}"
    container_id = f"containerd://{hashlib.sha256(name.encode()).hexdigest()}"
    done = phase in ("Succeeded", "Failed")
    if done:
        assert ended is not None
        exit_code = 0 if phase == "Succeeded" else 1
        state: dict[str, Any] = {
            "terminated": {
                "exitCode": exit_code,
                "reason": "Completed" if exit_code == 0 else "Error",
                "startedAt": rfc3339(began),
                "finishedAt": rfc3339(ended),
                "containerID": container_id,
            }
        }
        ready = "False"
        ready_reason: dict[str, str] = {"reason": "PodCompleted" if exit_code == 0 else "PodFailed"}
    else:
        state = {"running": {"startedAt": rfc3339(began)}}
        ready, ready_reason = "True", {}
    started = rfc3339(began)
    pod_ip = f"10.244.{3 + index % 2}.{40 + index}"
    status: dict[str, Any] = {
        "phase": phase,
        "qosClass": "Burstable",
        "hostIP": "10.0.1.11" if node == "worker-1" else "10.0.2.12",
        "startTime": started,
        "conditions": [
            {
                "type": cond_type,
                "status": value,
                "lastProbeTime": None,
                "lastTransitionTime": started,
                **extra,
            }
            for cond_type, value, extra in (
                ("PodReadyToStartContainers", "False" if done else "True", {}),
                ("Initialized", "True", {}),
                ("Ready", ready, ready_reason),
                ("ContainersReady", ready, ready_reason),
                ("PodScheduled", "True", {}),
            )
        ],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": image,
                "imageID": image_id,
                "containerID": container_id,
                "ready": not done,
                "started": not done,
                "restartCount": 0,
                "state": state,
                "lastState": {},
            }
            for c in spec.get("containers", [])
        ],
    }
    if not done:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    meta: dict[str, Any] = {
        "name": name,
        "generateName": f"{job_meta['name']}-",
        "namespace": namespace,
        "uid": _uid("pods", namespace, name),
        "creationTimestamp": started,
        "labels": dict(template["metadata"]["labels"]),
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": job_meta["name"],
                "uid": job_meta["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if not done:  # the Job controller removes its tracking finalizer once it counted the pod
        meta["finalizers"] = ["batch.kubernetes.io/job-tracking"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def make_cronjob(
    name: str,
    *,
    runs: Sequence[str] = (),
    namespace: str = NAMESPACE,
    image: str = IMAGE,
    schedule: str = "0 2 * * *",
    time_zone: str | None = "Etc/UTC",
    suspend: bool = False,
    template: Mapping[str, Any] | None = None,
    retries: Mapping[int, int] | None = None,
) -> list[dict[str, Any]]:
    """``[CronJob, *jobs, *pods]``: ``runs`` are the states of the Jobs it made (see
    ``make_job``), oldest first, one a day; ``retries`` maps a run's index to its failed pods
    before it reached its state. The CronJob's status agrees with them."""
    now = datetime.now(UTC)
    uid = _uid("cronjobs.batch", namespace, name)
    pod_template = _copy(template) if template is not None else batch_pod_template(name, image)
    if template is not None:
        for container in pod_template["spec"].get("containers", []):
            container["image"] = image
    cronjob: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "generation": 2,
            "creationTimestamp": rfc3339(now - timedelta(days=30)),
            "labels": batch_labels(name),
        },
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "suspend": suspend,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "startingDeadlineSeconds": 300,
            "jobTemplate": {
                "metadata": {"labels": batch_labels(name)},
                "spec": {"backoffLimit": 2, "template": pod_template},
            },
        },
    }
    if time_zone:
        cronjob["spec"]["timeZone"] = time_zone
    objects: list[dict[str, Any]] = []
    today = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if today > now:
        today -= timedelta(days=1)
    last_scheduled: datetime | None = None
    last_success: datetime | None = None
    active: list[dict[str, Any]] = []
    for index, state in enumerate(runs):
        scheduled = today - timedelta(days=len(runs) - 1 - index)
        job_name = f"{name}-{int(scheduled.timestamp()) // 60}"
        made = make_job(
            job_name,
            state=state,
            namespace=namespace,
            image=image,
            template=cronjob["spec"]["jobTemplate"]["spec"]["template"],
            backoff_limit=2,
            retries=(retries or {}).get(index, 0),
            started=scheduled + timedelta(seconds=1),
            owner=cronjob,
            scheduled=scheduled,
            labels=batch_labels(name),
        )
        job = made[0]
        objects += made
        last_scheduled = scheduled
        if state == "complete":
            last_success = datetime.fromisoformat(
                job["status"]["completionTime"].replace("Z", "+00:00")
            )
        if state in ("running", "pending"):
            active.append(
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": job_name,
                    "namespace": namespace,
                    "uid": job["metadata"]["uid"],
                }
            )
    status: dict[str, Any] = {}
    if active:
        status["active"] = active
    if last_scheduled is not None:
        status["lastScheduleTime"] = rfc3339(last_scheduled)
    if last_success is not None:
        status["lastSuccessfulTime"] = rfc3339(last_success)
    cronjob["status"] = status
    return [cronjob, *objects]


def batch_network_policy(namespace: str = NAMESPACE) -> dict[str, Any]:
    """Egress for the batch pods (DNS, Redis); the sandbox's default deny covers ingress."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "batch-egress",
            "namespace": namespace,
            "generation": 1,
            "labels": {"app.kubernetes.io/part-of": "platform"},
        },
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/component": "batch"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                },
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "redis"}
                            }
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": 6379}],
                },
            ],
        },
    }
