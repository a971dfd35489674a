"""Rollback verification: collected only in a rollback run (``--rollback-to VERSION``).

The release rolled back to runs everywhere (the workloads' images and pods, the version endpoint),
the Helm release's latest revision is the rollback, no pod of the failed release is left, and the
rollback triggers recovered after the rollback. The rest of the checklist runs as usual, expecting
VERSION wherever it compares a version. The judging is in ``checks.rollback``.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_deployverify.checklist import conclude, item
from pytest_deployverify.checks import rollback as rb
from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.gates import GateOutcome, GateResult
from pytest_deployverify.checks.kube.objects import name
from pytest_deployverify.checks.kube.snapshots import KubeObjects, ObjectsUnavailable, WorkloadError
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots
from pytest_deployverify.pytest_plugin.rollback import rollback_of
from pytest_deployverify.signoff.model import ROLLBACK_AT_EVIDENCE


@pytest.fixture(scope="module")
def target(request: pytest.FixtureRequest) -> rb.RollbackTarget:
    found = rollback_of(request.config)
    if found is None:
        raise NotApplicable("not a rollback run: pass --rollback-to VERSION")
    return found[0]


def _objects(snapshot: Snapshots) -> KubeObjects:
    objects: KubeObjects = snapshot("kubernetes.objects")
    return objects


def _helm(snapshot: Snapshots) -> rb.HelmHistory:
    section: Any = snapshot.section("kubernetes")
    release: str = section.expect.helm.release
    try:
        secrets = _objects(snapshot).objects("Secret")
    except ObjectsUnavailable as exc:
        pytest.fail(f"the Helm release records could not be read: {exc}", pytrace=False)
    return rb.helm_history(secrets, release)


@item(rb.RUNNING)
def test_release_rolled_back_to_runs(
    snapshot: Snapshots, target: rb.RollbackTarget, profile: Profile, evidence: Evidence
) -> None:
    objects = _objects(snapshot)
    section: Any = snapshot.section("kubernetes")
    workloads: list[tuple[str, Any, list[Any]]] = []
    for ref in section.workloads:
        try:
            obj = objects.workload(ref)
            workloads.append((ref, obj, objects.pods_of(obj)))
        except (WorkloadError, ObjectsUnavailable) as exc:
            workloads.append((ref, str(exc), []))
    releases = rb.workload_releases(workloads, section.expect.container)
    findings = rb.running_findings(releases, target)
    evidence.record(
        "workloads",
        [entry.plain() for entry in releases],
        expected=f"image tag {target.to_version} in every workload and running pod",
        source=objects.where,
        ok=not findings,
    )
    http = profile.component("http")
    if http is not None and http.expect.version_path:
        answer = snapshot("http.version")
        field = http.expect.version_field
        from pytest_deployverify.checks.http.smoke import reported_version

        reported = reported_version(answer, field)
        found = rb.version_findings(answer.target, answer.status, reported, target)
        evidence.record(
            "version_endpoint",
            reported,
            expected=target.to_version,
            source=f"GET {http.expect.version_path} .{field}",
            ok=not found,
        )
        findings += found
    else:
        evidence.record("version_endpoint", None, note="no [http] version_path to ask")
    conclude(findings)


@item(rb.NO_FAILED_PODS)
def test_no_pod_of_the_failed_release(
    snapshot: Snapshots, target: rb.RollbackTarget, evidence: Evidence
) -> None:
    objects = _objects(snapshot)
    section: Any = snapshot.section("kubernetes")
    repositories: list[str] = []
    for ref in section.workloads:
        try:
            workload = objects.workload(ref)
        except (WorkloadError, ObjectsUnavailable):
            continue  # ROLLBACK-RUNNING names it
        spec = workload.get("spec", {}).get("template", {}).get("spec", {})
        repositories += [str(c.get("image") or "") for c in spec.get("containers", [])]
    try:
        pods = objects.objects("Pod")
    except ObjectsUnavailable as exc:
        pytest.fail(f"the pods could not be read: {exc}", pytrace=False)
    left = rb.failed_pods(pods, target.failed_version, repositories)
    findings = rb.leftover_findings(left, target)
    evidence.record(
        "pods of the failed release",
        [pod.plain() for pod in left],
        expected=f"none running {target.failed_version}",
        source=f"{len(pods)} pods in namespace {objects.namespace}",
        ok=not findings,
        note=f"images of {', '.join(sorted(set(repositories)))}" if repositories else None,
    )
    evidence.record("pods judged", sorted(name(pod) for pod in pods))
    conclude(findings)


@item(rb.HELM_ROLLBACK)
def test_helm_release_rolled_back(
    snapshot: Snapshots, target: rb.RollbackTarget, evidence: Evidence
) -> None:
    history = _helm(snapshot)
    findings = rb.helm_findings(history, target)
    latest = history.latest
    evidence.record(
        "latest revision",
        latest.plain() if latest else None,
        expected=f"'Rollback to N', deployed, appVersion {target.to_version}",
        source=f"HelmRelease {history.release}",
        ok=not findings,
    )
    if latest is not None and latest.rolled_back_to is not None:
        previous = history.revision(latest.rolled_back_to)
        evidence.record("rolled back to", previous.plain() if previous else latest.rolled_back_to)
        if target.at is None and latest.deployed_at:
            evidence.record(
                ROLLBACK_AT_EVIDENCE,
                latest.deployed_at,
                source=f"Helm revision {latest.revision} of {history.release}",
            )
    evidence.record(
        "history", [f"{r.revision}: {r.status}, {r.description}" for r in history.revisions]
    )
    conclude(findings)


@item(rb.RECOVERED)
def test_rollback_triggers_recovered(
    snapshot: Snapshots, target: rb.RollbackTarget, profile: Profile, evidence: Evidence
) -> None:
    policy = profile.rollback
    results = snapshot("prometheus.gates")
    at, source = target.at, target.at_source
    if at is None:
        section: Any = profile.component("kubernetes")
        if section is None or section.expect.helm is None:
            pytest.fail(
                "the rollback time is unknown: no Helm release to read it from "
                "([kubernetes.expect.helm]); pass --rollback-at TIME",
                pytrace=False,
            )
        history = _helm(snapshot)
        latest = history.latest
        if latest is None or latest.rolled_back_to is None or latest.deployed is None:
            pytest.fail(
                f"the rollback time is unknown: the latest revision of Helm release "
                f"{history.release} is not a rollback with a time (see ROLLBACK-HELM); pass "
                "--rollback-at TIME",
                pytrace=False,
            )
        at, source = latest.deployed, f"Helm revision {latest.revision} of {history.release}"
    start, ready = rb.recovery_window(at, policy.settle, policy.recovery)
    evidence.record(
        ROLLBACK_AT_EVIDENCE, at.isoformat(timespec="seconds"), source=source or "--rollback-at"
    )
    for trigger in policy.triggers:
        result = results.get(trigger)
        if isinstance(result, GateResult):
            evidence.record(
                trigger,
                result.evidence(),
                expected=result.spec.expectation,
                source=result.spec.query,
                ok=result.outcome is GateOutcome.PASS,
                note=f"window may start from {start.isoformat(timespec='seconds')}",
            )
    early = rb.too_early(results, policy.triggers, at, policy.settle, policy.recovery)
    if early is not None:
        pytest.skip(f"inconclusive: {early}")
    findings = rb.recovery_findings(results, policy.triggers)
    evidence.record(
        "triggers",
        list(policy.triggers),
        expected=f"each held at every point of the last {policy.recovery}, a window starting "
        f"no earlier than {start.isoformat(timespec='seconds')}",
        ok=not findings,
        note=f"a full window is first available at {ready.isoformat(timespec='seconds')}",
    )
    conclude(findings)


__all__ = ["target"]
