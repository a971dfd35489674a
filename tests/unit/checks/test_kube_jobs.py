"""Jobs and CronJobs: the ``[kubernetes] workloads`` syntax, and the pure judgements of a Job's
state and a CronJob's last run (no cluster; the objects come from the emulator's builders, shaped
as the API server serves them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_deployverify.checks.kube.capacity import peak_replicas, pods_at_once
from pytest_deployverify.checks.kube.expectations import KubeExpectations
from pytest_deployverify.checks.kube.jobs import (
    cronjob_findings,
    cronjob_summary,
    job_findings,
    job_progress,
    job_state,
    latest_job,
)
from pytest_deployverify.checks.kube.network import network_policy_findings
from pytest_deployverify.checks.kube.objects import is_job_pod, with_kind
from pytest_deployverify.checks.kube.snapshots import (
    WORKLOAD_KIND_NAMES,
    KubeObjects,
    WorkloadError,
    parse_workload_ref,
)
from pytest_deployverify.components.catalog import profile_from_dict
from pytest_deployverify.profile.schema import SchemaError, build
from sandbox.kube.batch import batch_network_policy, make_cronjob, make_job

Obj = dict[str, Any]
NS = "api-gateway"


def ids(found: Any) -> set[str]:
    return {f.check_id for f in found}


# ---- the syntax --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("api-gateway", ("Deployment", "api-gateway")),
        ("Deployment/api", ("Deployment", "api")),
        ("deploy/api", ("Deployment", "api")),
        ("StatefulSet/redis", ("StatefulSet", "redis")),
        ("sts/redis", ("StatefulSet", "redis")),
        ("DaemonSet/agent", ("DaemonSet", "agent")),
        ("ds/agent", ("DaemonSet", "agent")),
        ("CronJob/report-nightly", ("CronJob", "report-nightly")),
        ("cronjob/report-nightly", ("CronJob", "report-nightly")),
        ("CRONJOB/report-nightly", ("CronJob", "report-nightly")),
        ("cj/report-nightly", ("CronJob", "report-nightly")),
        ("CJ/report-nightly", ("CronJob", "report-nightly")),
        ("Job/db-migrate", ("Job", "db-migrate")),
        ("job/db-migrate", ("Job", "db-migrate")),
        ("JOB/db-migrate", ("Job", "db-migrate")),
    ],
)
def test_every_kind_and_alias_in_any_case(ref: str, expected: tuple[str, str]) -> None:
    assert parse_workload_ref(ref) == expected


@pytest.mark.parametrize(
    ("ref", "problem"),
    [
        ("Pod/api", "'Pod' is not a workload kind"),
        ("ReplicaSet/api-7d9f", "'ReplicaSet' is not a workload kind"),
        ("Job/", "no Job name after the '/'"),
        ("cj/", "no CronJob name after the '/'"),
        ("Job/a/b", "not NAME or KIND/NAME"),
        ("", "not NAME or KIND/NAME"),
    ],
)
def test_a_malformed_entry_names_the_problem_and_the_five_kinds(ref: str, problem: str) -> None:
    with pytest.raises(WorkloadError) as caught:
        parse_workload_ref(ref)
    message = str(caught.value)
    assert f"[kubernetes] workloads entry {ref!r}: {problem}" in message
    assert "KIND one of Deployment, StatefulSet, DaemonSet, CronJob, Job" in message
    assert WORKLOAD_KIND_NAMES == ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job")


def test_the_profile_refuses_an_unknown_kind_where_it_is_written() -> None:
    ok = profile_from_dict(
        {
            "name": "prod",
            "kubernetes": {"workloads": ["api-gateway", "CronJob/report-nightly", "job/db"]},
        }
    )
    assert ok.kubernetes is not None
    assert ok.kubernetes.workloads == ("api-gateway", "CronJob/report-nightly", "job/db")
    with pytest.raises(SchemaError) as caught:
        profile_from_dict({"name": "prod", "kubernetes": {"workloads": ["api", "Pod/x", "Job/"]}})
    text = str(caught.value)
    assert "kubernetes.workloads[1]: [kubernetes] workloads entry 'Pod/x'" in text
    assert "kubernetes.workloads[2]: [kubernetes] workloads entry 'Job/'" in text
    assert "Deployment, StatefulSet, DaemonSet, CronJob, Job" in text


def test_suspended_cronjobs_take_a_name_or_cronjob_slash_name() -> None:
    expect = build(KubeExpectations, {"suspended_cronjobs": ["CronJob/a", "cj/b", "c"]})
    assert all(expect.suspended_ok(n) for n in ("a", "b", "c"))
    assert not expect.suspended_ok("d")
    with pytest.raises(SchemaError, match=r"suspended_cronjobs\[0\]: 'Job/x' is not a CronJob"):
        build(KubeExpectations, {"suspended_cronjobs": ["Job/x"]})


# ---- a Job ---------------------------------------------------------------------------------------


def _job(**options: Any) -> tuple[Obj, list[Obj]]:
    job, *pods = make_job("db-migrate", **options)
    return job, pods


def test_a_completed_job_holds_whatever_its_retries() -> None:
    for retries in (0, 1, 3):
        job, pods = _job(retries=retries)
        assert job_state(job).phase == "complete"
        assert job_findings(job, pods, expected_version="1.4.2") == []
        assert sorted(p["status"]["phase"] for p in pods).count("Failed") == retries


def test_a_failed_job_is_fatal_and_names_its_reason() -> None:
    job, pods = _job(state="failed")
    progress = job_progress(job, pods)
    assert ids(progress.findings) == {"job-failed"}
    assert progress.fatal is not None
    assert "BackoffLimitExceeded (Job has reached the specified backoff limit)" in (
        progress.fatal.message
    )


def test_failure_target_alone_is_already_a_failure() -> None:
    """Kubernetes 1.31+ writes FailureTarget first, Failed once the pods are gone."""
    job, _ = _job(state="failed")
    job["status"]["conditions"] = job["status"]["conditions"][:1]
    assert job_state(job).phase == "failed"
    assert job_state(job).reason == "BackoffLimitExceeded"


def test_a_running_job_may_still_finish_a_suspended_one_will_not() -> None:
    job, pods = _job(state="running")
    progress = job_progress(job, pods)
    assert ids(progress.findings) == {"job-not-complete"}
    assert progress.fatal is None
    assert "has not completed (1 active pods; 0/1 succeeded)" in progress.findings[0].message
    job, pods = _job(state="suspended")
    progress = job_progress(job, pods)
    assert progress.fatal is not None
    assert "suspended (spec.suspend: true)" in progress.fatal.message


def test_running_pods_of_a_job_need_not_be_ready_but_must_start() -> None:
    job, pods = _job(state="running")
    pods[0]["status"]["conditions"][2]["status"] = "False"  # not Ready: fine for a Job
    assert ids(job_findings(job, pods)) == {"job-not-complete"}
    pods[0]["status"]["containerStatuses"][0]["state"] = {
        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}
    }
    progress = job_progress(job, pods)
    assert ids(progress.findings) == {"job-not-complete", "pod-crash-loop"}
    assert progress.fatal is not None


def test_the_template_image_is_the_release_one() -> None:
    job, pods = _job(image="registry.example.com/api-gateway:1.4.1")
    found = job_findings(job, pods, expected_version="1.4.2")
    assert ids(found) == {"rollout-image-version"}
    job, pods = _job(image="registry.example.com/api-gateway:latest")
    assert ids(job_findings(job, pods)) == {"container-image-tag"}


def test_a_jobs_pods_are_found_by_label_or_owner() -> None:
    job, pods = _job(retries=1)
    pod = pods[0]
    assert is_job_pod(pod, job)
    only_owner = json.loads(json.dumps(pod))
    only_owner["metadata"]["labels"] = {}
    assert is_job_pod(only_owner, job)
    only_label = json.loads(json.dumps(pod))
    del only_label["metadata"]["ownerReferences"]
    only_label["metadata"]["labels"] = {"job-name": "db-migrate"}
    assert is_job_pod(only_label, job)
    elsewhere = json.loads(json.dumps(only_label))
    elsewhere["metadata"]["namespace"] = "other"
    assert not is_job_pod(elsewhere, job)
    objects = KubeObjects(
        where="test",
        namespace=NS,
        lists={
            ("Job", NS): (job,),
            ("Pod", NS): tuple(with_kind([*pods, only_label], "Pod")),
        },
    )
    assert len(objects.pods_of(job)) == 3


def test_a_job_runs_its_parallelism_at_once_without_a_surge() -> None:
    job, _ = _job(parallelism=3, completions=10)
    assert pods_at_once(job) == 3
    peak = peak_replicas(job)
    assert (peak.count, peak.surge) == (3, 0)
    assert pods_at_once(_job(parallelism=4, completions=2)[0]) == 2


def test_a_job_needs_egress_rules_but_no_ingress_policy_of_its_own() -> None:
    job, _ = _job()
    deny = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-all", "namespace": NS},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    both = ("Ingress", "Egress")
    assert network_policy_findings(job, [deny, batch_network_policy()], both) == []
    found = network_policy_findings(job, [deny], both)
    assert ids(found) == {"pod-networkpolicy"}
    assert "with Egress rules" in found[0].message
    # A long-running workload with the same policies still needs its own ingress rules.
    deployment = {**job, "kind": "Deployment"}
    assert "with Ingress rules" in network_policy_findings(deployment, [deny], both)[0].message


# ---- a CronJob -----------------------------------------------------------------------------------


def _cron(*runs: str, **options: Any) -> tuple[Obj, list[Obj], list[Obj]]:
    cronjob, *rest = make_cronjob("report-nightly", runs=runs, **options)
    jobs = [o for o in rest if o["kind"] == "Job"]
    pods = [o for o in rest if o["kind"] == "Pod"]
    return cronjob, jobs, pods


@pytest.mark.parametrize(
    "runs",
    [(), ("complete",), ("failed", "complete"), ("complete", "running")],
    ids=["never-scheduled", "last-completed", "failed-then-completed", "last-running"],
)
def test_a_cronjob_on_schedule_holds(runs: tuple[str, ...]) -> None:
    cronjob, jobs, pods = _cron(*runs)
    assert cronjob_findings(cronjob, jobs, pods, expected_version="1.4.2") == []


def test_the_most_recent_run_counts_by_its_scheduled_time() -> None:
    cronjob, jobs, pods = _cron("failed", "complete")
    assert latest_job(cronjob, reversed(jobs)) == jobs[-1]
    cronjob, jobs, pods = _cron("complete", "failed")
    found = cronjob_findings(cronjob, jobs, pods)
    assert ids(found) == {"job-failed"}
    assert found[0].subject == f"Job {NS}/{jobs[-1]['metadata']['name']}"
    assert "the most recent run of CronJob api-gateway/report-nightly failed" in found[0].message


def test_a_suspended_cronjob_fails_unless_expected() -> None:
    cronjob, jobs, pods = _cron("complete", suspend=True)
    assert ids(cronjob_findings(cronjob, jobs, pods)) == {"cronjob-suspended"}
    assert cronjob_findings(cronjob, jobs, pods, suspended_ok=True) == []
    assert "expected" in str(cronjob_summary(cronjob, jobs, suspended_ok=True)["suspended"])


def test_jobs_of_other_cronjobs_do_not_count() -> None:
    cronjob, jobs, pods = _cron("complete")
    _, other_jobs, _ = _cron("failed")
    for job in other_jobs:
        job["metadata"]["ownerReferences"][0]["uid"] = "another-uid"
        job["metadata"]["name"] += "-x"
    assert cronjob_findings(cronjob, [*jobs, *other_jobs], pods) == []


def test_a_never_scheduled_cronjob_says_when_it_runs() -> None:
    cronjob, jobs, _ = _cron()
    summary = cronjob_summary(cronjob, jobs)
    assert summary["last Job"] == (
        "not scheduled yet; next run per schedule '0 2 * * *' (time zone Etc/UTC)"
    )
    assert summary["last schedule time"] is None
