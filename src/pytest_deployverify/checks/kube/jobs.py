"""Run-to-completion workloads: has a Job finished well, and how did a CronJob's last run end?

A Job is judged by its conditions as the Job controller writes them (``Complete`` /
``SuccessCriteriaMet``, ``Failed`` / ``FailureTarget``, ``Suspended``), never by the rules of
long-running replicas: its pods are not expected Ready, a Succeeded pod is its goal, and a pod that
failed before a retry succeeded is the Job's own retry (``backoffLimit``) at work, not a finding.
A CronJob is judged by ``spec.suspend`` and by the most recent Job it owns (``ownerReferences``).

``job_progress`` is the decision a poller needs (``rollout.wait_for_rollout(..., judge=...)``):
a running Job may still finish, a failed or suspended one will not. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Unpack

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    annotations_of,
    as_int,
    conditions,
    dig,
    is_job_pod,
    is_terminating,
    mapping,
    name,
    owned_by,
    parse_time,
    subject,
)
from pytest_deployverify.checks.kube.rollout import (
    Progress,
    RolloutExpectations,
    _main_container,
    _pod_image,
    _template_image,
    pod_waiting,
)

SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class JobState:
    """Where a Job stands: ``complete``, ``failed``, ``running``, ``suspended`` or ``pending``
    (created, no pod active yet); ``reason``/``message`` of the terminal condition."""

    phase: str
    active: int = 0
    succeeded: int = 0
    failed: int = 0
    completions: int | None = None
    reason: str = ""
    message: str = ""

    @property
    def terminal(self) -> bool:
        return self.phase in ("complete", "failed")

    def counts(self, *, active: bool = True) -> str:
        wanted = f"/{self.completions}" if self.completions is not None else ""
        text = f"{self.succeeded}{wanted} succeeded"
        if self.failed:
            text += f", {self.failed} failed pod(s)"
        if self.active and active:
            text += f", {self.active} active"
        return text

    def describe(self) -> str:
        """``Complete (1/1 succeeded)``, ``Failed: BackoffLimitExceeded (...)``,
        ``running (2 active pods)``...: for evidence and messages."""
        if self.phase == "complete":
            return f"Complete ({self.counts()})"
        if self.phase == "failed":
            detail = f" ({self.message})" if self.message else ""
            return f"Failed: {self.reason or 'no reason given'}{detail}; {self.counts()}"
        if self.phase == "running":
            return f"running ({self.active} active pods; {self.counts(active=False)})"
        if self.phase == "suspended":
            return f"suspended ({self.counts()})"
        return f"not started (no active pod, no condition; {self.counts()})"


def job_state(job: KubeObject) -> JobState:
    """The Job's state from its conditions (and, without any, its counts)."""
    status = mapping(job.get("status"))
    raw_completions = dig(job, "spec", "completions")
    counts: dict[str, Any] = {
        "active": as_int(status.get("active")),
        "succeeded": as_int(status.get("succeeded")),
        "failed": as_int(status.get("failed")),
        "completions": as_int(raw_completions, 1) if raw_completions is not None else None,
    }
    found = conditions(job)
    for cond_type in ("Failed", "FailureTarget"):
        cond = mapping(found.get(cond_type))
        if cond.get("status") == "True":
            reason, message = str(cond.get("reason") or ""), str(cond.get("message") or "")
            return JobState("failed", reason=reason, message=message, **counts)
    for cond_type in ("Complete", "SuccessCriteriaMet"):
        if mapping(found.get(cond_type)).get("status") == "True":
            return JobState("complete", **counts)
    suspended = mapping(found.get("Suspended")).get("status") == "True"
    if suspended or dig(job, "spec", "suspend") is True:
        return JobState("suspended", **counts)
    if counts["active"] > 0:
        return JobState("running", **counts)
    wanted = counts["completions"] if counts["completions"] is not None else 1
    if status and counts["succeeded"] >= wanted and not found:
        return JobState("complete", **counts)  # an old status without conditions
    return JobState("pending", **counts)


def job_pods_summary(pods: Iterable[KubeObject]) -> dict[str, str]:
    """Pod name -> phase (and the reason of a waiting container), for evidence."""
    summary: dict[str, str] = {}
    for pod in pods:
        phase = str(dig(pod, "status", "phase") or "Unknown")
        waiting, _ = pod_waiting(pod)
        summary[name(pod)] = f"{phase} ({waiting[0].check_id})" if waiting else phase
    return dict(sorted(summary.items()))


def job_findings(
    job: KubeObject, pods: Iterable[KubeObject], **expect: Unpack[RolloutExpectations]
) -> list[Finding]:
    """Everything that keeps a Job from having run the release to completion, in one snapshot."""
    return list(job_progress(job, list(pods), **expect).findings)


def job_progress(
    job: KubeObject, pods: Sequence[KubeObject], **expect: Unpack[RolloutExpectations]
) -> Progress:
    """Settled when the Job completed on the expected image; ``fatal`` when it failed, is
    suspended, or a pod waits in a state waiting cannot cure. A running Job may still finish."""
    main = _main_container(job, expect.get("container"))
    found = _template_image(job, main, expect)
    fatal: list[Finding] = []
    state = job_state(job)
    where = subject(job, default_kind="Job")
    if state.phase == "failed":
        failed = rules.JOB_FAILED(
            where,
            f"failed: {state.reason or 'no reason given'}"
            + (f" ({state.message})" if state.message else "")
            + f"; {state.counts()}; read the logs of its failed pods (kubectl logs "
            f"job/{name(job)}), fix the cause and run it again",
        )
        found.append(failed)
        fatal.append(failed)
    elif state.phase == "suspended":
        held = rules.JOB_NOT_COMPLETE(
            where,
            "has not completed: it is suspended (spec.suspend: true) and runs no pod; resume it "
            "(spec.suspend: false) or remove it from [kubernetes] workloads",
        )
        found.append(held)
        fatal.append(held)
    elif state.phase in ("running", "pending"):
        found.append(
            rules.JOB_NOT_COMPLETE(
                where,
                f"has not completed ({state.active} active pods; {state.counts(active=False)}); "
                "wait for it "
                "([kubernetes.expect.rollout] timeout) or read its pods' logs (kubectl logs "
                f"job/{name(job)})",
            )
        )
    for pod in pods:
        phase = dig(pod, "status", "phase")
        if is_terminating(pod) or phase == "Failed":
            continue  # a failed attempt: the Job's retries (backoffLimit) judge it, not this
        if not state.terminal and phase not in FINISHED_PHASES:
            waiting, cannot_cure = pod_waiting(pod)
            found += waiting
            fatal += cannot_cure
        found += _pod_image(pod, main, expect)
    return Progress(settled=not found, fatal=fatal[0] if fatal else None, findings=tuple(found))


# ---- CronJobs --------------------------------------------------------------------------------------


def scheduled_at(job: KubeObject) -> datetime | None:
    """When a CronJob's Job was scheduled (its annotation), else when it was created."""
    return parse_time(annotations_of(job).get(SCHEDULED_ANNOTATION)) or parse_time(
        dig(job, "metadata", "creationTimestamp")
    )


def owned_jobs(cronjob: KubeObject, jobs: Iterable[KubeObject]) -> list[KubeObject]:
    """The Jobs the CronJob owns, oldest first."""
    mine = [j for j in jobs if owned_by(j, cronjob)]
    return sorted(mine, key=lambda j: (_sort_time(j), name(j)))


def _sort_time(job: KubeObject) -> str:
    moment = scheduled_at(job)
    return moment.isoformat() if moment else ""


def latest_job(cronjob: KubeObject, jobs: Iterable[KubeObject]) -> KubeObject | None:
    """The most recent Job the CronJob owns, or None."""
    mine = owned_jobs(cronjob, jobs)
    return mine[-1] if mine else None


def schedule_of(cronjob: KubeObject) -> str:
    """``'0 2 * * *' (time zone Europe/Paris)``: the schedule as the CronJob states it."""
    schedule = str(dig(cronjob, "spec", "schedule") or "?")
    zone = dig(cronjob, "spec", "timeZone")
    return f"{schedule!r}" + (f" (time zone {zone})" if zone else " (the controller's time zone)")


def cronjob_findings(
    cronjob: KubeObject,
    jobs: Iterable[KubeObject],
    pods: Iterable[KubeObject],
    *,
    suspended_ok: bool = False,
    **expect: Unpack[RolloutExpectations],
) -> list[Finding]:
    """A CronJob runs on schedule: not suspended (unless ``suspended_ok``), the release image
    in its template, and its most recent run (the newest Job it owns) did not fail. Never run
    yet, running, or completed is fine; so is a run whose pods failed before a retry
    succeeded."""
    main = _main_container(cronjob, expect.get("container"))
    # Only the template is compared with the release: the last run may predate the deploy.
    found = _template_image(cronjob, main, expect)
    where = subject(cronjob, default_kind="CronJob")
    if dig(cronjob, "spec", "suspend") is True and not suspended_ok:
        found.append(
            rules.CRONJOB_SUSPENDED(
                where,
                f"is suspended (spec.suspend: true): no Job runs on schedule "
                f"{schedule_of(cronjob)}; set spec.suspend: false, or list it in "
                "[kubernetes.expect] suspended_cronjobs when it is paused on purpose",
            )
        )
    last = latest_job(cronjob, jobs)
    status = mapping(cronjob.get("status"))
    if last is None:
        scheduled = parse_time(status.get("lastScheduleTime"))
        succeeded = parse_time(status.get("lastSuccessfulTime"))
        running = bool(status.get("active"))
        if scheduled is not None and not running and (succeeded is None or succeeded < scheduled):
            found.append(
                rules.JOB_FAILED(
                    where,
                    f"its last run (scheduled {status.get('lastScheduleTime')}) did not succeed "
                    f"(last success: {status.get('lastSuccessfulTime') or 'never'}) and its Job "
                    "is gone (failedJobsHistoryLimit or ttlSecondsAfterFinished removed it), so "
                    "its reason cannot be read; keep failed Jobs (failedJobsHistoryLimit >= 1) "
                    "and run it again",
                )
            )
        return found
    state = job_state(last)
    if state.phase == "failed":
        found.append(
            rules.JOB_FAILED(
                subject(last, default_kind="Job"),
                f"the most recent run of {where} failed: {state.reason or 'no reason given'}"
                + (f" ({state.message})" if state.message else "")
                + f"; {state.counts()}; read its failed pods' logs (kubectl logs "
                f"job/{name(last)}), fix the cause and trigger a run (kubectl create job "
                f"--from=cronjob/{name(cronjob)})",
            )
        )
    elif not state.terminal:
        # The run in progress: a pod that cannot start is worth knowing now, not at its end.
        for pod in pods:
            if is_job_pod(pod, last) and dig(pod, "status", "phase") not in FINISHED_PHASES:
                found += pod_waiting(pod)[0]
    return found


def cronjob_summary(
    cronjob: KubeObject, jobs: Iterable[KubeObject], *, suspended_ok: bool = False
) -> dict[str, Any]:
    """What K8S-ROLLOUT judged of a CronJob, as plain data for evidence."""
    status = mapping(cronjob.get("status"))
    last = latest_job(cronjob, jobs)
    suspended = dig(cronjob, "spec", "suspend") is True
    summary: dict[str, Any] = {
        "schedule": schedule_of(cronjob),
        "suspended": suspended
        if not (suspended and suspended_ok)
        else "true (expected: [kubernetes.expect] suspended_cronjobs)",
        "last schedule time": status.get("lastScheduleTime"),
        "last successful time": status.get("lastSuccessfulTime"),
    }
    if last is None:
        summary["last Job"] = (
            f"not scheduled yet; next run per schedule {schedule_of(cronjob)}"
            if not status.get("lastScheduleTime")
            else "none kept (history limits or ttlSecondsAfterFinished removed it)"
        )
    else:
        summary["last Job"] = f"{name(last)}: {job_state(last).describe()}"
    summary["Jobs kept"] = [name(j) for j in owned_jobs(cronjob, jobs)]
    return summary


def job_summary(job: KubeObject) -> dict[str, Any]:
    """What K8S-ROLLOUT judged of a Job, as plain data for evidence."""
    spec: Mapping[str, Any] = mapping(job.get("spec"))
    return {
        "state": job_state(job).describe(),
        "completions": spec.get("completions"),
        "parallelism": spec.get("parallelism"),
        "backoffLimit": spec.get("backoffLimit"),
        "conditions": {
            t: f"{c.get('status')} ({c.get('reason')})" if c.get("reason") else c.get("status")
            for t, c in conditions(job).items()
        },
    }
