"""Rollback verification as a user runs it: ``pytest --env rb --rollback-to 1.4.1`` with the profile
that verified the 1.4.2 deployment, against the emulated cluster after ``helm rollback`` (or not),
a real Prometheus and the service's version endpoint.

Shown both ways: a healthy rollback passes; a rollback that left a pod of the failed release fails
naming the pod; a release that was not rolled back fails; the sign-off says a rollback was verified.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import kubernetes  # noqa: F401 - imported once here, not by every in-process run
import pytest

# Imported here so in-process runs reuse them (pytester drops modules first imported in a run,
# while the validated profile still holds their classes).
import pytest_deployverify.checklist.test_kubernetes_infra
import pytest_deployverify.checklist.test_rollback  # noqa: F401
from pytest_deployverify.components.catalog import all_components
from sandbox.kube import KubeEmulator
from sandbox.kube.rollback import FAILED_RS, roll_back
from sandbox.servers.prometheus import PrometheusServer
from tests.rollback.stack import (
    FAILED,
    PREVIOUS,
    VersionEndpoint,
    check,
    kube,
    outcomes,
    profile_text,
    prometheus,
    run_args,
    version_endpoint,
    write_profile,
)

__all__ = ["kube", "prometheus", "version_endpoint"]

all_components()

ROLLBACK_ITEMS = {
    "ROLLBACK-RUNNING",
    "ROLLBACK-NO-FAILED-PODS",
    "ROLLBACK-HELM",
    "ROLLBACK-RECOVERED",
}


@pytest.fixture
def project(
    pytester: pytest.Pytester,
    kube: KubeEmulator,
    prometheus: PrometheusServer,
    version_endpoint: VersionEndpoint,
) -> pytest.Pytester:
    kubeconfig = kube.write_kubeconfig(pytester.path / "kubeconfig", context_name="emulator")
    write_profile(pytester, profile_text(kubeconfig, prometheus.url, version_endpoint.url))
    return pytester


def signoff_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "signoff.json").read_text())
    return data


def test_a_healthy_rollback_passes_and_the_signoff_says_it_verified_a_rollback(
    project: pytest.Pytester, kube: KubeEmulator
) -> None:
    at = roll_back(kube.store)
    result = project.runpytest(*run_args("--rollback-to", PREVIOUS))
    signoff = signoff_of(project)
    found = outcomes(signoff)
    assert {k: v for k, v in found.items() if k in ROLLBACK_ITEMS} == dict.fromkeys(
        ROLLBACK_ITEMS, "passed"
    ), signoff["verdict"]["reasons"]
    # The profile's Helm expectations were the failed release's (chart 0.9.3): the same
    # profile verifies the rollback's revision (chart 0.9.2, appVersion 1.4.1).
    assert found["K8S-HELM-RELEASE"] == "passed"
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        ["*deployverify sign-off: GO for the selected checks (environment rb, rollback to 1.4.1)*"]
    )

    run = signoff["run"]
    assert run["expected_version"] == PREVIOUS
    rollback = run["rollback"]
    assert (rollback["to_version"], rollback["failed_version"], rollback["source"]) == (
        PREVIOUS,
        FAILED,
        "--rollback-to",
    )
    # The rollback time is the Helm revision's, as the rollback checks observed it.
    assert rollback["at_source"] == "Helm revision 4 of api-gateway"
    assert dt.datetime.fromisoformat(rollback["at"].replace("Z", "+00:00")) == at.replace(
        microsecond=0
    )
    assert signoff["verdict"]["reasons"][0].startswith(
        "rollback verified: this run verified the rollback to 1.4.1 of the failed release 1.4.2"
    )
    markdown = (project.path / "signoff.md").read_text()
    assert markdown.startswith("# Rollback Verification Sign-Off: rb\n")
    assert "| Rollback | rollback to 1.4.1 of the failed release 1.4.2 at " in markdown

    # Evidence shows what was judged: the pods, the revision, the trigger windows.
    running = check(signoff, "ROLLBACK-RUNNING")["evidence"]
    [workloads] = [e for e in running if e["name"] == "workloads"]
    assert workloads["value"][0]["image"] == f"registry.example.com/api-gateway:{PREVIOUS}"
    assert len(workloads["value"][0]["pods"]) == 3
    [endpoint] = [e for e in running if e["name"] == "version_endpoint"]
    assert (endpoint["value"], endpoint["ok"]) == (PREVIOUS, True)
    helm = check(signoff, "ROLLBACK-HELM")["evidence"][0]["value"]
    assert (helm["revision"], helm["description"], helm["appVersion"]) == (
        4,
        "Rollback to 2",
        PREVIOUS,
    )
    recovered = {e["name"]: e for e in check(signoff, "ROLLBACK-RECOVERED")["evidence"]}
    assert recovered["rollback_error_rate"]["expected"] == "every point <= 0.05 over the last 15m"
    assert recovered["rollback_p95_latency"]["ok"] is True


def test_a_leftover_pod_of_the_failed_release_fails_naming_the_pod(
    project: pytest.Pytester, kube: KubeEmulator
) -> None:
    roll_back(kube.store, leftover=1)
    result = project.runpytest(*run_args("--rollback-to", PREVIOUS))
    signoff = signoff_of(project)
    found = outcomes(signoff)
    assert found["ROLLBACK-NO-FAILED-PODS"] == "failed"
    assert found["ROLLBACK-HELM"] == "passed"
    pod = f"{FAILED_RS}-m8v7q"  # the first of the three, kept running
    reason = check(signoff, "ROLLBACK-NO-FAILED-PODS")["reason"]
    assert f"[rollback-failed-release-pod] pod {pod}: still runs the failed release 1.4.2" in (
        reason
    )
    # The workload's own pods include it: the release rolled back to does not run everywhere.
    assert found["ROLLBACK-RUNNING"] == "failed"
    assert (
        f"pod {pod}: runs registry.example.com/api-gateway:1.4.2, not 1.4.1"
        in check(signoff, "ROLLBACK-RUNNING")["reason"]
    )
    assert signoff["verdict"]["decision"] == "NO-GO"
    assert signoff["verdict"]["reasons"][0].startswith("rollback NOT verified: ")
    result.stdout.fnmatch_lines([f"*BLOCKING FAILED ROLLBACK-NO-FAILED-PODS*{pod}*"])


def test_a_release_that_was_not_rolled_back_fails(
    project: pytest.Pytester, version_endpoint: VersionEndpoint
) -> None:
    version_endpoint.version = FAILED  # 1.4.2 still answers: nothing was rolled back
    result = project.runpytest(*run_args("--rollback-to", PREVIOUS))
    signoff = signoff_of(project)
    found = outcomes(signoff)
    assert {k: found[k] for k in ROLLBACK_ITEMS} == {
        "ROLLBACK-RUNNING": "failed",
        "ROLLBACK-NO-FAILED-PODS": "failed",
        "ROLLBACK-HELM": "failed",
        # No rollback revision: the rollback time is unknown, nothing to judge recovery after.
        "ROLLBACK-RECOVERED": "failed",
    }
    helm = check(signoff, "ROLLBACK-HELM")["reason"]
    assert (
        "[rollback-helm-revision] HelmRelease api-gateway revision 3: the latest revision is "
        "not a rollback: its description is 'Upgrade complete' (appVersion 1.4.2)"
    ) in helm
    # Every finding of an item is in its report; the sign-off's reason is the first line.
    result.stdout.fnmatch_lines(
        [
            "E * workload api-gateway container api-gateway: its image is "
            "registry.example.com/api-gateway:1.4.2 (tag '1.4.2' against expected '1.4.1'): "
            "the workload was not rolled back to 1.4.1",
            "E * /version: reports '1.4.2' against expected '1.4.1': the failed release still "
            "answers",
        ],
        consecutive=True,
    )
    for pod in ("m8v7q", "t5n9w", "x2k4p"):
        result.stdout.fnmatch_lines(
            [f"E * pod {FAILED_RS}-{pod}: still runs the failed release 1.4.2 *"]
        )
    assert "the rollback time is unknown" in check(signoff, "ROLLBACK-RECOVERED")["reason"]
    # The rest of the checklist expects the release rolled back to as well.
    assert found["K8S-HELM-RELEASE"] == "failed"
    assert signoff["verdict"]["decision"] == "NO-GO"
    result.assert_outcomes(failed=5)


def test_too_early_after_the_rollback_recovery_is_inconclusive(
    project: pytest.Pytester, kube: KubeEmulator
) -> None:
    """Ten minutes after the rollback, a 15-minute window 5 minutes after it is not there yet:
    the item says when to run again, and the verdict is not GO."""
    at = roll_back(kube.store, ago=dt.timedelta(minutes=10))
    project.runpytest(*run_args("--rollback-to", PREVIOUS))
    signoff = signoff_of(project)
    recovered = check(signoff, "ROLLBACK-RECOVERED")
    assert recovered["outcome"] == "skipped"
    ready = (at.replace(microsecond=0) + dt.timedelta(minutes=20)).isoformat()
    assert recovered["reason"].startswith("inconclusive: too early to judge recovery: ")
    assert f"run again after {ready}" in recovered["reason"]
    assert signoff["verdict"]["decision"] == "CONDITIONAL"


def test_rollback_at_overrides_the_helm_time(project: pytest.Pytester, kube: KubeEmulator) -> None:
    roll_back(kube.store, ago=dt.timedelta(minutes=2))
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).replace(microsecond=0)
    project.runpytest(*run_args("--rollback-to", PREVIOUS, "--rollback-at", at.isoformat()))
    signoff = signoff_of(project)
    assert outcomes(signoff)["ROLLBACK-RECOVERED"] == "passed"
    rollback = signoff["run"]["rollback"]
    assert (rollback["at"], rollback["at_source"]) == (at.isoformat(), "--rollback-at")


def test_without_rollback_to_the_rollback_items_are_not_collected(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(*run_args())
    result.assert_outcomes(passed=1)  # K8S-HELM-RELEASE on the 1.4.2 deployment
    signoff = signoff_of(project)
    assert signoff["run"]["rollback"] is None
    assert not ROLLBACK_ITEMS & set(outcomes(signoff))
    assert (
        (project.path / "signoff.md")
        .read_text()
        .startswith("# Deployment Verification Sign-Off: rb\n")
    )


@pytest.mark.parametrize(
    ("args", "environ", "message"),
    [
        (
            ("--rollback-to", FAILED),
            {},
            "--rollback-to 1.4.2: that is the profile's own version, the release that was "
            "rolled back; name the previous release, the one the rollback restored",
        ),
        (
            ("--rollback-at", "2026-01-01T10:00:00"),
            {},
            "--rollback-at '2026-01-01T10:00:00' has no UTC offset; add Z or +HH:MM",
        ),
        (
            ("--rollback-at", "2020-01-01T10:00:00Z"),
            {},
            "--rollback-at says when a rollback happened, but no rollback is verified: add "
            "--rollback-to VERSION",
        ),
        (
            (),
            {"DEPLOYVERIFY_ROLLBACK_TO": ""},
            "environment variable DEPLOYVERIFY_ROLLBACK_TO is set but empty",
        ),
    ],
)
def test_rollback_options_that_cannot_be_right_are_usage_errors(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    environ: dict[str, str],
    message: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = project.runpytest(*run_args(*args))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_the_variable_and_the_ini_key_select_rollback_mode(
    project: pytest.Pytester, kube: KubeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    roll_back(kube.store)
    monkeypatch.setenv("DEPLOYVERIFY_ROLLBACK_TO", PREVIOUS)
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).replace(microsecond=0)
    monkeypatch.setenv("DEPLOYVERIFY_ROLLBACK_AT", at.isoformat().replace("+00:00", "Z"))
    project.runpytest(*run_args())
    rollback = signoff_of(project)["run"]["rollback"]
    assert (rollback["source"], rollback["at"], rollback["at_source"]) == (
        "DEPLOYVERIFY_ROLLBACK_TO",
        at.isoformat(),
        "DEPLOYVERIFY_ROLLBACK_AT",
    )
    monkeypatch.delenv("DEPLOYVERIFY_ROLLBACK_TO")
    monkeypatch.delenv("DEPLOYVERIFY_ROLLBACK_AT")
    project.makeini(f"[pytest]\ndeployverify_rollback_to = {PREVIOUS}\n")
    project.runpytest(*run_args())
    signoff = signoff_of(project)
    assert signoff["run"]["rollback"]["source"] == "ini deployverify_rollback_to"
    assert {outcomes(signoff)[k] for k in ROLLBACK_ITEMS} == {"passed"}


def test_a_rollback_run_under_xdist_verifies_the_same(
    project: pytest.Pytester, kube: KubeEmulator
) -> None:
    roll_back(kube.store)
    result = project.runpytest_subprocess(*run_args("--rollback-to", PREVIOUS, "-n", "2"))
    result.assert_outcomes(passed=5)
    signoff = signoff_of(project)
    assert {outcomes(signoff)[k] for k in ROLLBACK_ITEMS} == {"passed"}
    assert signoff["run"]["rollback"]["at_source"] == "Helm revision 4 of api-gateway"
