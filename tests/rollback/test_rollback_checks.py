"""The pure side of rollback verification: the profile a rollback run reads, the Helm history, the
pods, the triggers' recovery, and what the sign-off says about a rollback."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from pytest_deployverify.checks import rollback as rb
from pytest_deployverify.checks.gates import (
    Aggregation,
    GateEvaluation,
    GateOutcome,
    GateProblem,
    GateResult,
    resolve_gate,
)
from pytest_deployverify.components.catalog import profile_from_dict
from pytest_deployverify.signoff import render_json, render_markdown
from pytest_deployverify.signoff.build import build_signoff
from pytest_deployverify.signoff.model import Decision, Outcome, RollbackInfo
from pytest_deployverify.signoff.verdict import decide
from sandbox.kube import KubeEmulator, release_secret
from sandbox.kube.rollback import FAILED_RS, NAMESPACE, PREVIOUS_RS, roll_back
from tests.signoff.helpers import TODAY, item, run_info

TARGET = rb.RollbackTarget(to_version="1.4.1", failed_version="1.4.2")
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


def profile(**extra: Any) -> Any:
    return profile_from_dict(
        {
            "name": "prod",
            "version": "1.4.2",
            "kubernetes": {
                "namespace": "api-gateway",
                "workloads": ["api-gateway"],
                "expect": {
                    "helm": {"release": "api-gateway", "chart_version": "0.9.3"},
                },
            },
            "prometheus": {"url": "http://prometheus:9090"},
            "gates": [
                {"name": "error_rate"},
                {"name": "rollback_error_rate", "params": {"selector": 'job="api"'}},
            ],
            **extra,
        }
    )


# -- the profile a rollback run reads ------------------------------------------------------------


def test_the_rollback_profile_expects_the_previous_release_everywhere() -> None:
    original = profile()
    derived = rb.rollback_profile(original, TARGET)
    assert derived.version == "1.4.1"
    helm = derived.sections["kubernetes"].expect.helm
    assert (helm.release, helm.chart_version, helm.app_version) == ("api-gateway", None, None)
    gates = {gate.name: gate for gate in derived.sections["gates"]}
    assert list(gates) == ["error_rate", "rollback_error_rate", "rollback_p95_latency"]
    # The forward gate is untouched; the triggers are judged over the recovery window, every
    # point holding; the one [[gates]] did not list is added from the ready-made gate.
    assert gates["error_rate"] == original.sections["gates"][0]
    for name in ("rollback_error_rate", "rollback_p95_latency"):
        spec = resolve_gate(gates[name], derived.slo)
        assert (spec.window_s, spec.aggregation) == (900.0, Aggregation.ALL)
    assert gates["rollback_error_rate"].params == {"selector": 'job="api"'}
    assert resolve_gate(gates["rollback_error_rate"]).expectation == (
        "every point <= 0.05 over the last 15m"
    )
    # The profile itself is not changed.
    assert original.version == "1.4.2"
    assert original.sections["kubernetes"].expect.helm.chart_version == "0.9.3"


def test_the_recovery_window_and_triggers_come_from_the_rollback_table() -> None:
    derived = rb.rollback_profile(
        profile(rollback={"triggers": ["error_rate"], "recovery": "30m", "settle": "2m"}), TARGET
    )
    gates = {gate.name: gate for gate in derived.sections["gates"]}
    assert set(gates) == {"error_rate", "rollback_error_rate"}
    assert (gates["error_rate"].window, gates["error_rate"].aggregation) == (1800.0, "all")
    assert gates["rollback_error_rate"].aggregation is None  # not a trigger here


def test_a_profile_without_prometheus_or_kubernetes_only_changes_its_version() -> None:
    bare = profile_from_dict({"name": "prod", "version": "1.4.2"})
    derived = rb.rollback_profile(bare, TARGET)
    assert derived.version == "1.4.1"
    assert dict(derived.sections) == dict(bare.sections)


# -- the Helm history ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> KubeEmulator:
    return KubeEmulator()  # a store with the fixtures; never started


def secrets(store: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = store.objects("Secret", NAMESPACE)
    return found


def test_the_history_after_helm_rollback(sandbox: KubeEmulator) -> None:
    kube = KubeEmulator()
    at = roll_back(kube.store)
    history = rb.helm_history(secrets(kube.store), "api-gateway")
    assert [(r.revision, r.status, r.rolled_back_to) for r in history.revisions] == [
        (2, "superseded", None),
        (3, "superseded", None),
        (4, "deployed", 2),
    ]
    latest = history.latest
    assert latest is not None
    assert latest.deployed == at.replace(microsecond=0)
    assert (latest.chart, latest.app_version) == ("api-gateway-0.9.2", "1.4.1")
    assert rb.helm_findings(history, TARGET) == []


def test_a_rollback_to_the_wrong_revision_or_not_finished_is_named() -> None:
    kube = KubeEmulator()
    roll_back(kube.store)
    history = rb.helm_history(secrets(kube.store), "api-gateway")
    wrong = rb.HelmHistory(
        history.release,
        (
            *history.revisions[:-1],
            rb.HelmRevision(
                4, "pending-rollback", "Rollback to 3", "", "api-gateway-0.9.3", "1.4.2"
            ),
        ),
    )
    messages = [f.message for f in rb.helm_findings(wrong, TARGET)]
    assert messages == [
        "status is 'pending-rollback', not 'deployed': the rollback did not finish",
        "appVersion '1.4.2' against expected '1.4.1': the latest revision does not carry the "
        "release rolled back to",
        "it rolled back to revision 3, whose appVersion is '1.4.2', not '1.4.1': the wrong "
        "revision was restored (`helm history api-gateway` lists them)",
    ]


def test_no_release_and_unreadable_records_are_named(sandbox: KubeEmulator) -> None:
    assert rb.helm_findings(rb.helm_history([], "api-gateway"), TARGET)[0].message.startswith(
        "no revision of the release found; roll back with `helm rollback api-gateway`"
    )
    broken = copy.deepcopy(secrets(sandbox.store))
    for record in broken:
        if record.get("type") == "helm.sh/release.v1":
            record["data"]["release"] = "not base64!"
    history = rb.helm_history(broken, "api-gateway")
    assert history.revisions == ()
    assert history.problems == (
        "Secret sh.helm.release.v1.api-gateway.v2: data.release is not base64",
        "Secret sh.helm.release.v1.api-gateway.v3: data.release is not base64",
    )
    other = release_secret(
        {"name": "other", "version": 9, "info": {"status": "deployed"}}, namespace=NAMESPACE
    )
    assert rb.helm_history([other], "api-gateway").revisions == ()


# -- the pods --------------------------------------------------------------------------------------


def pods_after(leftover: int) -> list[dict[str, Any]]:
    kube = KubeEmulator()
    roll_back(kube.store, leftover=leftover)
    return kube.store.objects("Pod", NAMESPACE)


def test_failed_release_pods_are_found_by_image_or_label_and_only_while_they_run() -> None:
    pods = pods_after(leftover=2)
    images = ["registry.example.com/api-gateway:1.4.1"]
    left = rb.failed_pods(pods, "1.4.2", images)
    assert [p.pod for p in left] == [f"{FAILED_RS}-m8v7q", f"{FAILED_RS}-t5n9w"]
    finished = copy.deepcopy(pods)
    for pod in finished:
        if pod["metadata"]["name"] == f"{FAILED_RS}-m8v7q":
            pod["status"]["phase"] = "Succeeded"
        if pod["metadata"]["name"] == f"{FAILED_RS}-t5n9w":
            pod["metadata"]["deletionTimestamp"] = "2026-12-06T09:59:00Z"
    left = rb.failed_pods(finished, "1.4.2", images)
    assert [(p.pod, p.terminating) for p in left] == [(f"{FAILED_RS}-t5n9w", True)]
    assert "Running, terminating, node worker-1" in rb.leftover_findings(left, TARGET)[0].message
    # Another image tagged 1.4.2 (a sidecar of another project) is not the failed release...
    sidecar = copy.deepcopy(pods_after(leftover=0)[0])
    sidecar["spec"]["containers"].append({"name": "proxy", "image": "docker.io/envoy:1.4.2"})
    assert rb.failed_pods([sidecar], "1.4.2", images) == []
    # ...but a pod labelled with the failed version is, whatever its image (pinned by digest).
    labelled = copy.deepcopy(pods_after(leftover=0)[0])
    labelled["metadata"]["labels"]["app.kubernetes.io/version"] = "v1.4.2"
    assert [p.pod for p in rb.failed_pods([labelled], "1.4.2", images)] == [
        labelled["metadata"]["name"]
    ]


def test_every_workload_and_running_pod_runs_the_release_rolled_back_to() -> None:
    kube = KubeEmulator()
    roll_back(kube.store, leftover=1)
    deployment = kube.store.get("Deployment", NAMESPACE, "api-gateway")
    assert deployment is not None
    pods = kube.store.objects("Pod", NAMESPACE)
    releases = rb.workload_releases(
        [("api-gateway", deployment, pods), ("StatefulSet/cache", "not found", [])],
        "api-gateway",
    )
    assert releases[0].plain()["image"] == "registry.example.com/api-gateway:1.4.1"
    assert sorted(releases[0].plain()["pods"]) == sorted(
        [
            f"{FAILED_RS}-m8v7q",
            *(p["metadata"]["name"] for p in pods if PREVIOUS_RS in p["metadata"]["name"]),
        ]
    )
    assert [f.message for f in rb.running_findings(releases, TARGET)] == [
        "runs registry.example.com/api-gateway:1.4.2, not 1.4.1 (Running, node worker-2)",
        "cannot be judged: not found",
    ]
    assert rb.running_findings(rb.workload_releases([("a", deployment, [])], None), TARGET)[
        0
    ].message == ("no pod runs: nothing serves the release")


def test_the_version_endpoint_says_which_release_answers() -> None:
    assert rb.version_findings("/version", 200, "v1.4.1", TARGET) == []
    [failed] = rb.version_findings("/version", 200, "1.4.2", TARGET)
    assert failed.message.endswith(": the failed release still answers")
    [other] = rb.version_findings("/version", 200, "1.3.0", TARGET)
    assert other.message.endswith(": another release answers")
    [down] = rb.version_findings("/version", 503, None, TARGET)
    assert down.message == "answered 503; expected 200 with the version"


# -- the triggers --------------------------------------------------------------------------------------


def result(name: str, outcome: GateOutcome, start: dt.datetime) -> GateResult:
    spec = resolve_gate(profile().sections["gates"][1])
    evaluation = GateEvaluation(
        name, spec.query, start.timestamp(), NOW.timestamp(), 900, 30, outcome, f"gate {name}: x"
    )
    return GateResult(spec, outcome, f"gate {name}: {outcome.value}", (evaluation,))


def test_recovered_triggers_pass_and_the_others_are_named() -> None:
    start = NOW - dt.timedelta(minutes=15)
    results: dict[str, GateResult | GateProblem] = {
        "rollback_error_rate": result("rollback_error_rate", GateOutcome.PASS, start),
        "rollback_p95_latency": result("rollback_p95_latency", GateOutcome.FAIL, start),
        "broken": GateProblem("broken", "gate 'broken': no query and no ready-made gate"),
    }
    triggers = ("rollback_error_rate", "rollback_p95_latency", "broken", "absent")
    findings = rb.recovery_findings(results, triggers)
    assert [(f.subject, f.message.split(":")[0]) for f in findings] == [
        ("trigger rollback_p95_latency", "has not recovered"),
        ("trigger broken", "gate 'broken'"),
        ("trigger absent", "was not evaluated"),
    ]
    assert rb.recovery_findings(results, ("rollback_error_rate",)) == []


def test_a_window_that_starts_before_the_rollback_settled_is_too_early() -> None:
    results: dict[str, GateResult | GateProblem] = {
        "rollback_error_rate": result(
            "rollback_error_rate", GateOutcome.PASS, NOW - dt.timedelta(minutes=15)
        )
    }
    triggers = ("rollback_error_rate",)
    late = NOW - dt.timedelta(minutes=25)  # window start == rollback + 10m settle: fine
    assert rb.too_early(results, triggers, late, "10m", "15m") is None
    early = NOW - dt.timedelta(minutes=12)
    message = rb.too_early(results, triggers, early, "5m", "15m")
    assert message == (
        "too early to judge recovery: the 15m window of rollback_error_rate began "
        "2026-12-06T09:45:00+00:00, before the rollback at 2026-12-06T09:48:00+00:00 plus 5m "
        "([rollback] settle); run again after 2026-12-06T10:08:00+00:00"
    )


# -- what the sign-off says -----------------------------------------------------------------------


def test_the_signoff_of_a_rollback_run_says_so() -> None:
    info = RollbackInfo(to_version="1.4.1", failed_version="1.4.2")
    evidence = [{"name": "rollback_at", "value": "2026-12-06T09:30:00Z", "source": "Helm rev 4"}]
    items = [item("ROLLBACK-HELM", evidence=evidence), item("ROLLBACK-RUNNING")]
    built = build_signoff(
        items, run=run_info(rollback=info, expected_version="1.4.1"), profile=None, today=TODAY
    )
    assert built.run.rollback is not None
    assert (built.run.rollback.at, built.run.rollback.at_source) == (
        "2026-12-06T09:30:00Z",
        "Helm rev 4",
    )
    assert built.verdict.decision is Decision.GO
    assert built.verdict.reasons[0] == (
        "rollback verified: this run verified the rollback to 1.4.1 of the failed release 1.4.2 "
        "at 2026-12-06T09:30:00Z (from Helm rev 4); the release rolled back to must run "
        "everywhere, no pod of the failed release remain, and the rollback triggers have "
        "recovered"
    )
    markdown = render_markdown.render(built)
    assert markdown.startswith("# Rollback Verification Sign-Off: demo\n")
    assert (
        "**Verification Status:** GO (rollback to 1.4.1 of the failed release 1.4.2 at "
        "2026-12-06T09:30:00Z (from Helm rev 4))"
    ) in markdown
    document = render_json.to_document(built)
    assert document["run"]["rollback"] == {
        "to_version": "1.4.1",
        "failed_version": "1.4.2",
        "source": "--rollback-to",
        "at": "2026-12-06T09:30:00Z",
        "at_source": "Helm rev 4",
    }
    again = render_json.from_document(json.loads(render_json.render(built, key=None)))
    assert again.run.rollback == built.run.rollback
    assert render_json.to_document(again) == document


def test_a_rollback_not_verified_leads_its_reasons() -> None:
    info = RollbackInfo(to_version="1.4.1", failed_version="1.4.2")
    failed = item("ROLLBACK-NO-FAILED-PODS", Outcome.FAILED, severity="critical", reason="pod x")
    verdict = decide([failed, item("A")], [], rollback=info)
    assert verdict.decision is Decision.NO_GO
    assert verdict.reasons[0].startswith("rollback NOT verified: this run verified the rollback")
    assert verdict.reasons[1].startswith("blocking check ROLLBACK-NO-FAILED-PODS")
    skipped = item("ROLLBACK-RECOVERED", Outcome.SKIPPED, reason="inconclusive: too early")
    assert (
        decide([skipped, item("A")], [], rollback=info)
        .reasons[0]
        .startswith("rollback not fully verified: ")
    )
    # Without a rollback nothing changes.
    assert decide([item("A")], []).reasons[0].startswith("all 1 applicable blocking checks")
