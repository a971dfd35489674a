"""Has a Deployment's rollout settled on the expected release, with healthy pods?

``rollout_findings`` judges one snapshot (the Deployment and the pods its selector matches);
``rollout_progress`` turns that into a decision for a poller (settled, or failed beyond hope);
``wait_for_rollout`` is that poller, with the clock and sleep injectable for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.images import digest_of, parse_image
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    annotations_of,
    as_int,
    condition_true,
    conditions,
    containers,
    dig,
    has_status,
    is_terminating,
    mapping,
    parse_time,
    pod_spec,
    sequence,
    subject,
)
from pytest_deployverify.checks.versions import compare_versions, same_version

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
# Waiting reasons that waiting longer will not cure: a poller stops at once on these.
FATAL_WAITING = frozenset(
    {"CrashLoopBackOff", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError"}
)
_WAITING_RULES = {
    "CrashLoopBackOff": rules.POD_CRASH_LOOP,
    "ImagePullBackOff": rules.POD_IMAGE_PULL,
    "ErrImagePull": rules.POD_IMAGE_PULL,
    "ErrImageNeverPull": rules.POD_IMAGE_PULL,
    "InvalidImageName": rules.POD_CREATE,
    "CreateContainerConfigError": rules.POD_CREATE,
    "CreateContainerError": rules.POD_CREATE,
    "RunContainerError": rules.POD_CREATE,
}
_WAITING_FIX = {
    rules.POD_CRASH_LOOP.id: "read its logs (kubectl logs --previous) and fix the crash, or roll back",
    rules.POD_IMAGE_PULL.id: "check the image name/tag exists and imagePullSecrets can read it",
    rules.POD_CREATE.id: "check the referenced ConfigMaps/Secrets/keys and the image name",
}


class RolloutExpectations(TypedDict, total=False):
    """What the rollout must have reached; every key is optional."""

    expected_version: str | None
    """Image tag the release must run (``1.0.0``)."""
    expected_digest: str | None
    """``sha256:...`` the running image must have (compared with containerStatuses imageID)."""
    container: str | None
    """Container carrying the release image; default: the first regular container."""
    since: datetime | str | None
    """When the rollout began; restarts before it are ignored."""
    max_restarts: int
    """Restarts allowed per container (default 0)."""


@dataclass(frozen=True)
class Progress:
    """One poll's decision: ``settled`` (nothing left to wait for), ``fatal`` (stop waiting)."""

    settled: bool
    fatal: Finding | None
    findings: tuple[Finding, ...]


def rollout_findings(
    deployment: KubeObject, pods: Iterable[KubeObject], **expect: Unpack[RolloutExpectations]
) -> list[Finding]:
    """Everything that keeps the rollout from being done and correct, in one snapshot."""
    return _assess(deployment, list(pods), expect)[0]


def rollout_progress(
    deployment: KubeObject, pods: Iterable[KubeObject], **expect: Unpack[RolloutExpectations]
) -> Progress:
    """Settled when there are no findings; ``fatal`` is the first finding waiting cannot cure."""
    found, fatal = _assess(deployment, list(pods), expect)
    return Progress(settled=not found, fatal=fatal[0] if fatal else None, findings=tuple(found))


Judge = Callable[..., Progress]


def wait_for_rollout(
    fetch: Callable[[], tuple[KubeObject, Sequence[KubeObject]]],
    *,
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    judge: Judge | None = None,
    **expect: Unpack[RolloutExpectations],
) -> Progress:
    """Poll ``fetch() -> (deployment, pods)`` until settled, fatal, or ``timeout`` seconds pass.

    ``judge(workload, pods, **expect)`` decides each poll (default ``rollout_progress``; a Job
    passes ``jobs.job_progress``). On timeout the last findings are returned with a
    ``rollout-timeout`` finding appended. Errors raised by ``fetch`` propagate: an unreachable
    API is not a rollout verdict.
    """
    if timeout < 0 or interval <= 0:
        raise ValueError(f"timeout must be >= 0 and interval > 0 (got {timeout}, {interval})")
    decide = judge or rollout_progress
    deadline = clock() + timeout
    while True:
        deployment, pods = fetch()
        progress = decide(deployment, pods, **expect)
        if progress.settled or progress.fatal is not None:
            return progress
        remaining = deadline - clock()
        if remaining <= 0:
            ids = sorted({f.check_id for f in progress.findings})
            timed_out = rules.ROLLOUT_TIMEOUT(
                subject(deployment, default_kind="Deployment"),
                f"not settled after {timeout:g}s ({len(progress.findings)} finding(s) left: "
                f"{', '.join(ids)}); fix those or allow a longer timeout",
            )
            return Progress(False, None, (*progress.findings, timed_out))
        sleep(min(interval, remaining))


def current_replica_set(
    deployment: KubeObject, replica_sets: Iterable[KubeObject]
) -> KubeObject | None:
    """The ReplicaSet of the Deployment's current revision (same revision annotation, owned)."""
    revision = annotations_of(deployment).get(REVISION_ANNOTATION)
    uid = dig(deployment, "metadata", "uid")
    for rs in replica_sets:
        owners = [mapping(o).get("uid") for o in sequence(dig(rs, "metadata", "ownerReferences"))]
        if uid and uid not in owners:
            continue
        if revision is not None and annotations_of(rs).get(REVISION_ANNOTATION) == revision:
            return rs
    return None


def rollout_start(deployment: KubeObject, replica_sets: Iterable[KubeObject]) -> datetime | None:
    """When the current revision's ReplicaSet was created: the ``since`` for restart checks."""
    rs = current_replica_set(deployment, replica_sets)
    return parse_time(dig(rs, "metadata", "creationTimestamp")) if rs else None


def _assess(
    deployment: KubeObject, pods: list[KubeObject], expect: RolloutExpectations
) -> tuple[list[Finding], list[Finding]]:
    found, fatal = _status(deployment)
    main = _main_container(deployment, expect.get("container"))
    found += _template_image(deployment, main, expect)
    since = parse_time(expect.get("since"))
    for pod in pods:
        if is_terminating(pod):
            continue  # an old pod on its way out; status.replicas already counts it
        pod_found, pod_fatal = _pod_health(pod, since, expect.get("max_restarts", 0))
        found += pod_found + _pod_image(pod, main, expect)
        fatal += pod_fatal
    return found, fatal


def _status(deployment: KubeObject) -> tuple[list[Finding], list[Finding]]:
    where = subject(deployment, default_kind="Deployment")
    status = mapping(deployment.get("status"))
    found: list[Finding] = []
    generation = as_int(dig(deployment, "metadata", "generation"), 1)
    observed = as_int(status.get("observedGeneration"), 0)
    if not has_status(deployment) or observed < generation:
        found.append(
            rules.ROLLOUT_GENERATION(
                where,
                f"observedGeneration {observed} < generation {generation}: the controller has "
                "not acted on the latest spec yet; wait, or check the controller-manager",
            )
        )
    desired = as_int(dig(deployment, "spec", "replicas"), 1)
    counts = {
        "updated": as_int(status.get("updatedReplicas")),
        "ready": as_int(status.get("readyReplicas")),
        "available": as_int(status.get("availableReplicas")),
    }
    problems = [f"{k} {v}/{desired}" for k, v in counts.items() if v < desired]
    unavailable = as_int(status.get("unavailableReplicas"))
    if unavailable:
        problems.append(f"{unavailable} unavailable")
    old = as_int(status.get("replicas")) - counts["updated"]
    if old > 0:
        problems.append(f"{old} old replica(s) still running")
    if problems:
        found.append(
            rules.ROLLOUT_REPLICAS(
                where,
                f"rollout not complete: {', '.join(problems)}; wait for it "
                "(kubectl rollout status) or inspect the pods below",
            )
        )
    progressing = mapping(conditions(deployment).get("Progressing"))
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        dead = rules.ROLLOUT_DEADLINE(
            where,
            f"Progressing=False, ProgressDeadlineExceeded: {progressing.get('message', '')}; "
            "the rollout has stalled: fix the new pods or roll back (kubectl rollout undo)",
        )
        found.append(dead)
        return found, [dead]
    return found, []


def _main_container(deployment: KubeObject, wanted: str | None) -> Mapping[str, Any]:
    regular = containers(pod_spec(deployment), init=False)
    for c in regular:
        if wanted is None or c.get("name") == wanted:
            return c
    return {"name": wanted or "<none>"}


def _template_image(
    deployment: KubeObject, main: Mapping[str, Any], expect: RolloutExpectations
) -> list[Finding]:
    where = subject(deployment, str(main.get("name")), default_kind="Deployment")
    image = str(main.get("image") or "")
    ref = parse_image(image)
    found: list[Finding] = []
    if not ref.pinned:
        found.append(
            rules.IMAGE_TAG(
                where,
                f"image {image!r} has {'tag latest' if ref.tag else 'no tag'}; deploy the "
                "release by its version tag",
            )
        )
    version = expect.get("expected_version")
    if version and ref.pinned and not (ref.tag and same_version(version, ref.tag)):
        observed = f"tag {ref.tag!r}" if ref.tag else "no tag (digest only)"
        compared = f" (compared {compare_versions(version, ref.tag).describe()})" if ref.tag else ""
        found.append(
            rules.ROLLOUT_IMAGE_VERSION(
                where,
                f"template image {image!r} has {observed}, not the release version "
                f"{version!r}{compared}; deploy the expected release (or fix the expected "
                "version)",
            )
        )
    digest = expect.get("expected_digest")
    if digest and ref.digest and ref.digest != digest:
        found.append(
            rules.ROLLOUT_IMAGE_DIGEST(
                where,
                f"template image is pinned to {ref.digest}, not {digest}; pin the digest "
                "that was scanned and approved",
            )
        )
    return found


def _pod_image(
    pod: KubeObject, main: Mapping[str, Any], expect: RolloutExpectations
) -> list[Finding]:
    cname = main.get("name")
    spec_image = next(
        (str(c.get("image") or "") for c in containers(pod_spec(pod)) if c.get("name") == cname), ""
    )
    where = subject(pod, str(cname), default_kind="Pod")
    found: list[Finding] = []
    version = expect.get("expected_version")
    tag = parse_image(spec_image).tag
    if version and spec_image and not (tag and same_version(version, tag)):
        found.append(
            rules.ROLLOUT_IMAGE_VERSION(
                where,
                f"pod runs image {spec_image!r}, not version {version!r}: an old or foreign "
                "pod; wait for the rollout to replace it",
            )
        )
    digest = expect.get("expected_digest")
    status = _container_status(pod, str(cname))
    running = digest_of(str(status.get("imageID") or ""))
    if digest and running and running != digest:
        found.append(
            rules.ROLLOUT_IMAGE_DIGEST(
                where,
                f"running image digest {running} is not the pinned {digest}: the tag was "
                "re-pushed or another image runs; deploy by digest",
            )
        )
    return found


def _statuses(pod: KubeObject) -> list[Mapping[str, Any]]:
    return [
        mapping(s)
        for s in sequence(dig(pod, "status", "initContainerStatuses"))
        + sequence(dig(pod, "status", "containerStatuses"))
    ]


def pod_waiting(pod: KubeObject) -> tuple[list[Finding], list[Finding]]:
    """The first container waiting in a state that keeps the pod from running (crash loop,
    image pull, create error): (findings, those waiting cannot cure)."""
    for status in _statuses(pod):
        waiting = mapping(dig(status, "state", "waiting"))
        reason = str(waiting.get("reason") or "")
        if reason in _WAITING_RULES:
            rule = _WAITING_RULES[reason]
            finding = rule(
                subject(pod, str(status.get("name")), default_kind="Pod"),
                f"waiting: {reason} ({waiting.get('message') or 'no message'}); "
                f"{_WAITING_FIX[rule.id]}",
            )
            return [finding], [finding] if reason in FATAL_WAITING else []
    return [], []


def _pod_health(
    pod: KubeObject, since: datetime | None, max_restarts: int
) -> tuple[list[Finding], list[Finding]]:
    where = subject(pod, default_kind="Pod")
    statuses = _statuses(pod)
    waiting, fatal = pod_waiting(pod)
    if waiting:
        return waiting, fatal
    found = _restarts(pod, statuses, since, max_restarts)
    phase = str(dig(pod, "status", "phase") or "Unknown")
    if phase == "Pending":
        scheduled = mapping(conditions(pod).get("PodScheduled"))
        detail = (
            f"{scheduled.get('reason')}: {scheduled.get('message')}"
            if scheduled.get("status") == "False"
            else "scheduled, containers not started"
        )
        found.append(
            rules.POD_PENDING(
                where,
                f"phase Pending ({detail}); check node capacity, taints, volumes and "
                "image pulls (kubectl describe pod)",
            )
        )
    elif not condition_true(pod, "Ready"):
        unready = [str(s.get("name")) for s in statuses if s.get("ready") is False]
        found.append(
            rules.POD_NOT_READY(
                where,
                f"phase {phase}, Ready is not True (unready containers: "
                f"{', '.join(unready) or 'none reported'}); check the readiness probe "
                "endpoint and the pod's events",
            )
        )
    return found, []


def _restarts(
    pod: KubeObject, statuses: list[Mapping[str, Any]], since: datetime | None, allowed: int
) -> list[Finding]:
    found: list[Finding] = []
    for status in statuses:
        count = as_int(status.get("restartCount"))
        if count <= allowed:
            continue
        last = mapping(dig(status, "lastState", "terminated"))
        finished = parse_time(last.get("finishedAt"))
        if since is not None and (finished is None or finished < since):
            continue  # restarted before this rollout began
        reason = f"{last.get('reason', 'unknown')}, exit code {last.get('exitCode', '?')}"
        found.append(
            rules.POD_RESTARTS(
                subject(pod, str(status.get("name")), default_kind="Pod"),
                f"restarted {count} time(s) (allowed {allowed}; last: {reason}); read "
                "kubectl logs --previous and fix the cause before signing off",
            )
        )
    return found


def _container_status(pod: KubeObject, cname: str) -> Mapping[str, Any]:
    for status in sequence(dig(pod, "status", "containerStatuses")):
        if mapping(status).get("name") == cname:
            return mapping(status)
    return {}
