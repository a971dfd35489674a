"""Jobs and CronJobs in ``[kubernetes] workloads`` (issue 11): judged as run-to-completion
workloads over the wire, against the emulator holding the healthy sandbox plus the batch
workloads each test puts in (``sandbox.kube.make_job`` / ``make_cronjob``).

Healthy variants pass every item (or are not applicable, with the reason); each defect fails
its item with a message naming the Job or CronJob; the items about long-running replicas are
not applicable to them, never passed nor failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checklist.kubernetes import ItemResult, KubeChecklist
from pytest_deployverify.checks.kube.scan import OTHERS
from pytest_deployverify.components.kubernetes.reader import build_kube_reader
from pytest_deployverify.profile.model import Profile
from sandbox.kube import batch_network_policy, batch_pod_template, make_cronjob, make_job
from tests.kube_checklist.cluster import (
    APP,
    NS,
    Cluster,
    cluster,
    copy_verify_files,
    failed_items,
    profile_from,
    profile_text,
    run_args,
    write_profile,
)

__all__ = ["cluster"]

JOB = "Job/db-migrate"
CRON = "CronJob/report-nightly"
JOB_SUBJECT = f"Job {NS}/db-migrate"
CRON_SUBJECT = f"CronJob {NS}/report-nightly"
# Items about long-running replicas: not applicable to a run-to-completion workload.
LONG_RUNNING_ITEMS = ("K8S-PROBES", "K8S-REPLICAS", "K8S-PDB", "K8S-HPA", "K8S-TOPOLOGY")
NOT_APPLICABLE_TO_BATCH = (*LONG_RUNNING_ITEMS, "K8S-SERVICE")
# Not applicable on the sandbox whatever the workload (opt-in, or judged by another item).
BY_DESIGN = {"K8S-PRIORITY-CLASS", "K8S-INGRESS-TLS", "K8S-SCHEMA"}

Objects = list[dict[str, Any]]


def _profile(cluster: Cluster, *refs: str, expect: str = "", app: str | None = None) -> Profile:
    text = profile_text(cluster.kubeconfig)
    listed = ", ".join(f'"{r}"' for r in (APP, *refs))
    text = text.replace(f'workloads = ["{APP}"]', f"workloads = [{listed}]")
    if app:  # the app is the Job: its container is the one named after it
        text = text.replace('container = "api-gateway"', f'container = "{app.split("/")[1]}"')
        expect += f'app = "{app}"\n'
    return profile_from(text.replace("min_replicas = 2\n", f"min_replicas = 2\n{expect}"))


def _put(cluster: Cluster, objects: Objects) -> None:
    cluster.kube.store.put_many([batch_network_policy(), *objects])


def _checklist_results(
    cluster: Cluster, profile: Profile, **options: Any
) -> dict[tuple[str, str | None], ItemResult]:
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = KubeChecklist.live(reader, profile, **options).run_all()
    return {(r.item.item_id, r.scope): r for r in results}


def _run(
    cluster: Cluster, ref: str | None, item: str, profile: Profile, **options: Any
) -> ItemResult:
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        return KubeChecklist.live(reader, profile, **options).run(item, ref)


def _failed(results: dict[tuple[str, str | None], ItemResult]) -> dict[str, str]:
    """``K8S-ROLLOUT[Job/db-migrate]`` -> message, for every failed or broken result."""
    return {
        f"{item}[{scope}]" if scope else item: r.message
        for (item, scope), r in results.items()
        if not r.passed and not r.skipped
    }


def _entry(result: ItemResult, label: str) -> Any:
    return next(e["value"] for e in result.evidence if e["name"] == label)


# ---- healthy variants ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    ref: str
    objects: Callable[[], Objects]
    # What the rollout evidence of the workload must say.
    shows: tuple[str, ...] = ()
    expect: str = ""


HEALTHY = [
    Variant(
        "completed-job",
        JOB,
        lambda: make_job("db-migrate"),
        ("Complete (1/1 succeeded)",),
    ),
    Variant(
        "job-completed-after-a-failed-pod",
        JOB,
        lambda: make_job("db-migrate", retries=1),
        ("Complete (1/1 succeeded, 1 failed pod(s))",),
    ),
    Variant(
        "cronjob-never-scheduled",
        CRON,
        lambda: make_cronjob("report-nightly"),
        ("not scheduled yet; next run per schedule '0 2 * * *' (time zone Etc/UTC)",),
    ),
    Variant(
        "cronjob-last-run-completed",
        CRON,
        # An older run failed; the most recent one, which counts, completed.
        lambda: make_cronjob("report-nightly", runs=("failed", "complete")),
        ("Complete (1/1 succeeded)",),
    ),
    Variant(
        "cronjob-last-run-running",
        CRON,
        lambda: make_cronjob("report-nightly", runs=("complete", "running")),
        ("running (1 active pods",),
    ),
    Variant(
        "cronjob-last-run-completed-after-a-retry",
        CRON,
        lambda: make_cronjob("report-nightly", runs=("complete",), retries={0: 1}),
        ("Complete (1/1 succeeded, 1 failed pod(s))",),
    ),
    Variant(
        "cronjob-suspended-on-purpose",
        CRON,
        lambda: make_cronjob("report-nightly", runs=("complete",), suspend=True),
        ("true (expected: [kubernetes.expect] suspended_cronjobs)",),
        expect='suspended_cronjobs = ["report-nightly"]\n',
    ),
]


@pytest.mark.parametrize("variant", HEALTHY, ids=lambda v: v.name)
def test_healthy_batch_workloads_pass_every_item(cluster: Cluster, variant: Variant) -> None:
    _put(cluster, variant.objects())
    profile = _profile(cluster, variant.ref, expect=variant.expect)
    results = _checklist_results(cluster, profile)
    assert _failed(results) == {}
    rollout = results[("K8S-ROLLOUT", variant.ref)]
    assert rollout.passed, rollout.skipped
    text = repr(rollout.evidence)
    for fragment in variant.shows:
        assert fragment in text
    # Every item judged the workload or said why it does not apply; the others still ran.
    mine = {item: r for (item, scope), r in results.items() if scope == variant.ref}
    judged = {item for item, r in mine.items() if r.passed}
    assert {"K8S-SECURITY-CONTEXT", "K8S-RESOURCES", "K8S-IMAGE-TAG", "K8S-SA-EXISTS"} <= judged
    assert {"K8S-CONFIG-REFS", "K8S-NETWORK-POLICY"} <= judged
    logs = mine["SEC-K8S-POD-LOGS"]
    assert logs.passed or "has no pod now" in str(logs.skipped), logs.skipped
    assert results[("K8S-ROLLOUT", APP)].passed


def test_every_kind_in_one_profile_is_go(cluster: Cluster) -> None:
    """Issue 11's example: a Deployment, a CronJob and a Job listed together."""
    _put(
        cluster,
        [
            *make_job("db-migrate", retries=1),
            *make_cronjob("report-nightly", runs=("complete", "complete")),
        ],
    )
    results = _checklist_results(cluster, _profile(cluster, CRON, JOB))
    assert _failed(results) == {}
    for ref in (APP, CRON, JOB):
        assert results[("K8S-ROLLOUT", ref)].passed
    # The CronJob's own Jobs are judged through it, never as objects of their own.
    others = {item for (item, scope), r in results.items() if scope == OTHERS and r.passed}
    assert others == set()
    capacity = results[("K8S-NODE-CAPACITY", CRON)]
    assert capacity.passed
    assert _entry(capacity, "pods at once (parallelism)") == 1
    job_capacity = results[("K8S-NODE-CAPACITY", JOB)]
    assert job_capacity.skipped is not None
    assert "the Job has finished (Complete" in job_capacity.skipped


def test_the_evidence_names_the_schedule_times_and_the_last_job(cluster: Cluster) -> None:
    objects = make_cronjob("report-nightly", runs=("complete", "running"))
    _put(cluster, objects)
    running = objects[3]["metadata"]["name"]
    assert objects[3]["kind"] == "Job"
    result = _run(cluster, CRON, "K8S-ROLLOUT", _profile(cluster, CRON))
    assert result.passed, result.message
    summary = _entry(result, "CronJob")
    assert summary["schedule"] == "'0 2 * * *' (time zone Etc/UTC)"
    assert summary["suspended"] is False
    assert summary["last schedule time"] == objects[0]["status"]["lastScheduleTime"]
    assert summary["last successful time"] == objects[0]["status"]["lastSuccessfulTime"]
    assert summary["last Job"].startswith(f"{running}: running (1 active pods")
    assert len(summary["Jobs kept"]) == 2


# ---- defects -------------------------------------------------------------------------------------


def _privileged(name: str) -> dict[str, Any]:
    template = batch_pod_template(name)
    context = template["spec"]["containers"][0]["securityContext"]
    context["privileged"] = True
    del context["allowPrivilegeEscalation"]  # the API refuses privileged with it false
    return template


@dataclass(frozen=True)
class Defect:
    name: str
    ref: str
    objects: Callable[[], Objects]
    item: str
    check_ids: frozenset[str]
    says: tuple[str, ...]
    # Items a defect also fails, and why (asserted exactly).
    also: frozenset[str] = field(default_factory=frozenset)


DEFECTS = [
    Defect(
        "failed-job",
        JOB,
        lambda: make_job("db-migrate", state="failed"),
        "K8S-ROLLOUT",
        frozenset({"job-failed"}),
        (
            f"{JOB_SUBJECT}: failed: BackoffLimitExceeded (Job has reached the specified backoff "
            "limit); 0/1 succeeded, 7 failed pod(s)",
            "kubectl logs job/db-migrate",
        ),
    ),
    Defect(
        "running-job-without-a-wait",
        JOB,
        lambda: make_job("db-migrate", state="running"),
        "K8S-ROLLOUT",
        frozenset({"job-not-complete"}),
        (f"{JOB_SUBJECT}: has not completed (1 active pods; 0/1 succeeded)",),
    ),
    Defect(
        "suspended-cronjob",
        CRON,
        lambda: make_cronjob("report-nightly", runs=("complete",), suspend=True),
        "K8S-ROLLOUT",
        frozenset({"cronjob-suspended"}),
        (
            f"{CRON_SUBJECT}: is suspended (spec.suspend: true): no Job runs on schedule "
            "'0 2 * * *'",
            "[kubernetes.expect] suspended_cronjobs",
        ),
    ),
    Defect(
        "cronjob-last-run-failed",
        CRON,
        lambda: make_cronjob("report-nightly", runs=("complete", "failed")),
        "K8S-ROLLOUT",
        frozenset({"job-failed"}),
        (
            f"Job {NS}/report-nightly-",
            f"the most recent run of {CRON_SUBJECT} failed: BackoffLimitExceeded",
            "kubectl create job --from=cronjob/report-nightly",
        ),
    ),
    Defect(
        "privileged-job",
        JOB,
        lambda: make_job("db-migrate", template=_privileged("db-migrate")),
        "K8S-SECURITY-CONTEXT",
        frozenset({"run-as-privileged", "privilege-escalation-allowed"}),
        (f"{JOB_SUBJECT} container db-migrate",),
    ),
    Defect(
        "cronjob-latest-image",
        CRON,
        lambda: make_cronjob("report-nightly", image="registry.example.com/api-gateway:latest"),
        "K8S-IMAGE-TAG",
        frozenset({"container-image-tag"}),
        (
            f"{CRON_SUBJECT} container report-nightly: image "
            "'registry.example.com/api-gateway:latest' has tag latest",
        ),
        # Its template image is judged for vulnerabilities too (it runs on schedule): no scanner
        # report covers a :latest image.
        also=frozenset({"SEC-K8S-IMAGE-VULNS"}),
    ),
]


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda d: d.name)
def test_a_batch_defect_fails_its_item_naming_the_workload(
    cluster: Cluster, defect: Defect
) -> None:
    _put(cluster, defect.objects())
    results = _checklist_results(cluster, _profile(cluster, defect.ref))
    failed = _failed(results)
    mine = f"{defect.item}[{defect.ref}]"
    assert set(failed) == {mine, *defect.also}, failed
    result = results[(defect.item, defect.ref)]
    assert result.check_ids == defect.check_ids
    for fragment in defect.says:
        assert fragment in result.message


def test_the_cronjob_latest_image_also_lacks_a_scan_report(cluster: Cluster) -> None:
    _put(cluster, make_cronjob("report-nightly", image="registry.example.com/api-gateway:latest"))
    result = _run(cluster, None, "SEC-K8S-IMAGE-VULNS", _profile(cluster, CRON))
    assert "registry.example.com/api-gateway:latest" in result.message
    assert "pod templates of the listed Jobs and CronJobs" in repr(result.evidence)


def test_a_job_not_on_the_release_image_fails_like_a_deployment(cluster: Cluster) -> None:
    _put(cluster, make_job("db-migrate", image="registry.example.com/api-gateway:1.4.1"))
    result = _run(cluster, JOB, "K8S-ROLLOUT", _profile(cluster, JOB, app=JOB))
    assert "rollout-image-version" in result.check_ids
    assert (
        f"{JOB_SUBJECT} container db-migrate: template image "
        "'registry.example.com/api-gateway:1.4.1' has tag '1.4.1', not the release version "
        "'1.4.2'"
    ) in result.message


def test_a_cronjob_whose_failed_job_is_gone_fails(cluster: Cluster) -> None:
    """failedJobsHistoryLimit 0 (or a TTL) removed the failed run: the status still tells."""
    objects = make_cronjob("report-nightly", runs=("complete", "failed"))
    cronjob = objects[0]
    _put(cluster, [cronjob, *(o for o in objects[1:] if o["kind"] == "Pod")])
    result = _run(cluster, CRON, "K8S-ROLLOUT", _profile(cluster, CRON))
    assert result.check_ids == {"job-failed"}
    assert f"{CRON_SUBJECT}: its last run (scheduled " in result.message
    assert "its Job is gone" in result.message


# ---- waiting for a Job, like for a rollout -------------------------------------------------------


class _Clock:
    """A fake clock whose sleep may finish the Job in the store (the second poll sees it)."""

    def __init__(self, cluster: Cluster, finish: bool) -> None:
        self.cluster, self.finish = cluster, finish
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.finish:
            self.cluster.kube.store.put_many(make_job("db-migrate"))


def _waiting(cluster: Cluster, timeout: float) -> Profile:
    return _profile(cluster, JOB, expect=f"rollout = {{ timeout = {timeout}, interval = 1 }}\n")


def test_a_running_job_is_waited_for_until_it_completes(cluster: Cluster) -> None:
    _put(cluster, make_job("db-migrate", state="running"))
    fake = _Clock(cluster, finish=True)
    result = _run(
        cluster, JOB, "K8S-ROLLOUT", _waiting(cluster, 30), clock=fake.clock, sleep=fake.sleep
    )
    assert result.passed, result.message
    assert fake.sleeps == [1]
    assert {"name": "waited", "value": 1.0, "unit": "s"} in result.evidence
    assert _entry(result, "Job")["state"] == "Complete (1/1 succeeded)"


def test_a_job_still_running_past_the_wait_fails(cluster: Cluster) -> None:
    _put(cluster, make_job("db-migrate", state="running", parallelism=2, completions=4))
    fake = _Clock(cluster, finish=False)
    result = _run(
        cluster, JOB, "K8S-ROLLOUT", _waiting(cluster, 3), clock=fake.clock, sleep=fake.sleep
    )
    assert result.check_ids == {"job-not-complete", "rollout-timeout"}
    assert f"{JOB_SUBJECT}: has not completed (2 active pods; 0/4 succeeded)" in result.message
    assert "not settled after 3s" in result.message
    assert fake.sleeps == [1, 1, 1]
    # Every poll read the Job and its pods again.
    assert cluster.kube.count(verb="list", resource="jobs") >= 4


def test_a_failed_job_stops_the_wait_at_once(cluster: Cluster) -> None:
    _put(cluster, make_job("db-migrate", state="failed"))
    fake = _Clock(cluster, finish=False)
    result = _run(
        cluster, JOB, "K8S-ROLLOUT", _waiting(cluster, 30), clock=fake.clock, sleep=fake.sleep
    )
    assert result.check_ids == {"job-failed"}
    assert fake.sleeps == []


def test_a_job_pod_that_cannot_pull_its_image_stops_the_wait(cluster: Cluster) -> None:
    objects = make_job("db-migrate", state="running")
    pod = objects[1]
    status = pod["status"]["containerStatuses"][0]
    status["ready"] = False
    status["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling"}}
    pod["status"]["phase"] = "Pending"
    _put(cluster, objects)
    fake = _Clock(cluster, finish=False)
    result = _run(
        cluster, JOB, "K8S-ROLLOUT", _waiting(cluster, 30), clock=fake.clock, sleep=fake.sleep
    )
    assert result.check_ids == {"job-not-complete", "pod-image-pull-error"}
    assert fake.sleeps == []


# ---- not applicable, with the reason ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "objects", "who"),
    [
        (JOB, lambda: make_job("db-migrate"), JOB_SUBJECT),
        (CRON, lambda: make_cronjob("report-nightly", runs=("complete",)), CRON_SUBJECT),
    ],
    ids=["job", "cronjob"],
)
def test_items_about_long_running_replicas_are_not_applicable(
    cluster: Cluster, ref: str, objects: Callable[[], Objects], who: str
) -> None:
    _put(cluster, objects())
    profile = _profile(cluster, ref)
    for item in NOT_APPLICABLE_TO_BATCH:
        result = _run(cluster, ref, item, profile)
        assert not result.passed, item
        assert result.findings == (), item
        assert result.error is None, item
        assert result.skipped is not None, item
        assert result.skipped.startswith(f"not applicable: {who} runs its pods to completion"), (
            result.skipped
        )
    assert "probes are for long-running pods" in str(
        _run(cluster, ref, "K8S-PROBES", profile).skipped
    )
    assert "take no Service traffic" in str(_run(cluster, ref, "K8S-SERVICE", profile).skipped)


def test_a_job_without_an_ingress_policy_of_its_own_is_isolated_by_the_default_deny(
    cluster: Cluster,
) -> None:
    """Its pods take no traffic: the egress policy and the namespace's default deny suffice;
    without the egress policy the item fails, naming the Job."""
    cluster.kube.store.put_many(make_job("db-migrate"))
    profile = _profile(cluster, JOB)
    result = _run(cluster, JOB, "K8S-NETWORK-POLICY", profile)
    assert result.check_ids == {"pod-networkpolicy"}
    assert f"{JOB_SUBJECT}: no NetworkPolicy with Egress rules" in result.message
    assert "Ingress rules" not in result.message
    cluster.kube.store.put(batch_network_policy())
    assert _run(cluster, JOB, "K8S-NETWORK-POLICY", profile).passed


# ---- the shipped checklist under pytest ------------------------------------------------------------


@pytest.fixture
def project(pytester: pytest.Pytester, cluster: Cluster) -> pytest.Pytester:
    copy_verify_files(pytester)
    return pytester


def test_the_checklist_run_lists_each_kind_and_is_go(
    project: pytest.Pytester, cluster: Cluster
) -> None:
    _put(
        cluster,
        [
            *make_job("db-migrate", retries=1),
            *make_cronjob("report-nightly", runs=("complete", "running")),
        ],
    )
    text = profile_text(cluster.kubeconfig).replace(
        f'workloads = ["{APP}"]', f'workloads = ["{APP}", "cj/report-nightly", "job/db-migrate"]'
    )
    write_profile(project, text)
    result = project.runpytest(*run_args())
    assert failed_items(result) == set()
    result.stdout.fnmatch_lines(["*deployverify sign-off: GO for the selected checks*"])
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    by_id = {r.deployverify["check_id"]: r for r in reports if hasattr(r, "deployverify")}
    assert by_id["K8S-ROLLOUT[cj/report-nightly]"].passed
    assert by_id["K8S-ROLLOUT[job/db-migrate]"].passed
    skipped = by_id["K8S-PROBES[job/db-migrate]"]
    assert skipped.skipped
    assert "Job api-gateway/db-migrate runs its pods to completion" in str(skipped.longrepr)


def test_a_failed_job_makes_the_run_no_go(project: pytest.Pytester, cluster: Cluster) -> None:
    _put(cluster, make_job("db-migrate", state="failed"))
    text = profile_text(cluster.kubeconfig).replace(
        f'workloads = ["{APP}"]', f'workloads = ["{APP}", "{JOB}"]'
    )
    write_profile(project, text)
    result = project.runpytest(*run_args())
    assert failed_items(result) == {f"K8S-ROLLOUT[{JOB}]"}
    result.stdout.fnmatch_lines(["*deployverify sign-off: NO-GO*"])


# ---- the emulator serves them as the API server does -------------------------------------------------


def test_the_emulator_serves_jobs_and_cronjobs_into_client_models(cluster: Cluster) -> None:
    from kubernetes import client, config

    objects = make_cronjob("report-nightly", runs=("failed", "complete"))
    _put(cluster, [*objects, *make_job("db-migrate", retries=1)])
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig), context="emulator")
    try:
        batch = client.BatchV1Api(api)
        cronjob = batch.read_namespaced_cron_job("report-nightly", NS)
        assert cronjob.spec.schedule == "0 2 * * *"
        assert cronjob.status.last_successful_time > cronjob.status.last_schedule_time
        jobs = {j.metadata.name: j for j in batch.list_namespaced_job(NS).items}
        owned = [j for j in jobs.values() if j.metadata.owner_references]
        assert len(owned) == 2
        assert {ref.kind for j in owned for ref in j.metadata.owner_references} == {"CronJob"}
        assert all(
            "batch.kubernetes.io/cronjob-scheduled-timestamp" in j.metadata.annotations
            for j in owned
        )
        migrate = jobs["db-migrate"]
        assert [c.type for c in migrate.status.conditions] == ["SuccessCriteriaMet", "Complete"]
        assert (migrate.status.succeeded, migrate.status.failed) == (1, 1)
        failed = next(j for j in owned if j.status.failed)
        assert [(c.type, c.reason) for c in failed.status.conditions] == [
            ("FailureTarget", "BackoffLimitExceeded"),
            ("Failed", "BackoffLimitExceeded"),
        ]
        pods = client.CoreV1Api(api).list_namespaced_pod(
            NS, label_selector="batch.kubernetes.io/job-name=db-migrate"
        )
        assert sorted(p.status.phase for p in pods.items) == ["Failed", "Succeeded"]
        assert all(p.metadata.labels["job-name"] == "db-migrate" for p in pods.items)
        assert all(p.metadata.owner_references[0].kind == "Job" for p in pods.items)
        resources = {r.name for r in batch.get_api_resources().resources}
        assert {"jobs", "jobs/status", "cronjobs", "cronjobs/status"} <= resources
    finally:
        api.close()


# ---- deployverify init writes what the profile accepts -------------------------------------------


def test_init_lists_the_jobs_and_cronjobs_and_profile_check_accepts_them(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_deployverify.cli import main

    _put(
        cluster,
        [
            *make_job("db-migrate"),
            *make_cronjob("report-nightly", runs=("complete", "running")),
        ],
    )
    folder = cluster.root / "profiles"
    code = main(
        [
            "init", "prod", "--env-dir", str(folder), "--kubeconfig", str(cluster.kubeconfig),
            "--kube-context", "emulator", "--namespace", NS,
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    text = (folder / "prod.toml").read_text(encoding="utf-8")
    assert '"CronJob/report-nightly",' in text
    assert '"Job/db-migrate",' in text
    # The runs the CronJob made are its own, never workloads of their own.
    assert "report-nightly-2" not in text.split("workloads = [", 1)[1].split("]", 1)[0]
    assert "does not take" not in text
    capsys.readouterr()
    assert main(["profile", "check", "prod", "--env-dir", str(folder)]) == 0, (
        capsys.readouterr().err
    )


# ---- before a deploy: the rendered Job and CronJob ------------------------------------------------


def test_rendered_jobs_and_cronjobs_pass_before_a_deploy(tmp_path: Path) -> None:
    from tests.kube_checklist.cluster import (
        UNUSED_KUBECONFIG,
        _as_rendered,
        rendered_manifests,
        write_manifests,
    )

    batch = [make_job("db-migrate")[0], make_cronjob("report-nightly")[0], batch_network_policy()]
    objects = [*rendered_manifests(), *(_as_rendered(o) for o in batch)]
    folder = write_manifests(tmp_path / "rendered", objects)
    text = profile_text(UNUSED_KUBECONFIG).replace(
        f'workloads = ["{APP}"]', f'workloads = ["{APP}", "{CRON}", "{JOB}"]'
    )
    text = text.replace("public_host =", 'dns_addresses = ["127.0.0.1"]\npublic_host =')
    results = {
        (r.item.item_id, r.scope): r
        for r in KubeChecklist.from_manifests(folder, profile_from(text)).run_all()
    }
    assert _failed(results) == {}
    for ref in (JOB, CRON):
        assert results[("K8S-SECURITY-CONTEXT", ref)].passed
        assert "runs its pods to completion" in str(results[("K8S-PROBES", ref)].skipped)
