"""Rollback verification (``--rollback-to VERSION``): the previous release runs everywhere again,
nothing of the failed release is left, and what triggered the rollback has recovered.

The same profile serves both directions. Its ``version`` names the release that was deployed (and
failed); a rollback run verifies ``VERSION`` instead: ``rollback_profile`` is the profile as that
run reads it (the expected version is the one rolled back to, the Helm expectations of the
failed release's chart are dropped, the rollback triggers of ``[rollback]`` are judged over the
recovery window). The judging is pure: the Helm history and the pods come from the Kubernetes
snapshot, the triggers from the evaluated ``[[gates]]``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_deployverify.checks.findings import Finding, Rule, Severity
from pytest_deployverify.checks.gates import (
    READY_MADE,
    GateOutcome,
    GateProblem,
    GateResult,
    MetricGate,
    recovery_gate,
)
from pytest_deployverify.checks.kube.env import main_container
from pytest_deployverify.checks.kube.helm import decode_release_payload, is_release_record
from pytest_deployverify.checks.kube.images import parse_image
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    as_int,
    containers,
    dig,
    is_terminating,
    kind,
    labels,
    mapping,
    name,
    parse_time,
    pod_spec,
    sequence,
)
from pytest_deployverify.checks.rollback_checks import (
    CHECKS,
    HELM_ROLLBACK,
    NO_FAILED_PODS,
    RECOVERED,
    RUNNING,
)
from pytest_deployverify.checks.versions import compare_versions, same_version
from pytest_deployverify.profile.fields import format_duration, parse_duration
from pytest_deployverify.profile.model import Profile, replaced
from pytest_deployverify.profile.schema import build

__all__ = [
    "CHECKS",
    "HELM_ROLLBACK",
    "NO_FAILED_PODS",
    "RECOVERED",
    "RUNNING",
    "HelmHistory",
    "HelmRevision",
    "PodRelease",
    "RollbackTarget",
    "WorkloadRelease",
    "failed_pods",
    "helm_findings",
    "helm_history",
    "leftover_findings",
    "recovery_findings",
    "recovery_window",
    "rollback_profile",
    "running_findings",
    "too_early",
    "version_findings",
    "workload_releases",
]

VERSION_LABEL = "app.kubernetes.io/version"
# What `helm rollback` writes into the new revision's info.description.
ROLLBACK_DESCRIPTION = re.compile(r"^\s*Rollback to (\d+)\s*$")
TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class RollbackTarget:
    """What a rollback run verifies: ``to_version`` runs again in place of ``failed_version``.

    ``at`` is the rollback time when the run was told it (``--rollback-at``); otherwise the Helm
    revision that recorded the rollback tells it."""

    to_version: str
    failed_version: str
    at: dt.datetime | None = None
    at_source: str | None = None


# -- the profile as a rollback run reads it ---------------------------------------------------------


def rollback_profile(profile: Profile, target: RollbackTarget) -> Profile:
    """``profile`` verifying ``target``: its ``version`` is the release rolled back to (so every
    check that compares a version, the image tags, the Helm app version and the version endpoint,
    expects it), the failed release's chart version and app version are no longer expected of
    the Helm release, and each ``[rollback] triggers`` gate is judged over the recovery window,
    every point holding (added from the ready-made gate when ``[[gates]]`` does not list it and
    Prometheus is configured)."""
    sections = dict(profile.sections)
    kubernetes = sections.get("kubernetes")
    expect = getattr(kubernetes, "expect", None)
    helm = getattr(expect, "helm", None)
    if kubernetes is not None and expect is not None and helm is not None:
        helm = replaced(helm, chart_version=None, app_version=None)
        expect = replaced(expect, helm=helm)
        sections["kubernetes"] = replaced(kubernetes, expect=expect)
    if sections.get("prometheus") is not None:
        window = parse_duration(profile.rollback.recovery)
        gates: list[MetricGate] = list(sections.get("gates") or ())
        listed = {gate.name for gate in gates}
        gates += [
            build(MetricGate, {"name": name})
            for name in profile.rollback.triggers
            if name not in listed
        ]
        sections["gates"] = tuple(
            recovery_gate(gate, window) if gate.name in profile.rollback.triggers else gate
            for gate in gates
        )
    return replaced(profile, version=target.to_version, sections=types.MappingProxyType(sections))


# -- the Helm release: its latest revision is the rollback ------------------------------------------


@dataclass(frozen=True)
class HelmRevision:
    """One revision of a Helm release, as its storage record holds it."""

    revision: int
    status: str
    description: str
    deployed_at: str  # info.last_deployed as Helm wrote it
    chart: str
    app_version: str

    @property
    def rolled_back_to(self) -> int | None:
        """N when the revision is a ``helm rollback`` ("Rollback to N")."""
        found = ROLLBACK_DESCRIPTION.match(self.description)
        return int(found.group(1)) if found else None

    @property
    def deployed(self) -> dt.datetime | None:
        return parse_time(self.deployed_at)

    def plain(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "status": self.status,
            "description": self.description,
            "deployed_at": self.deployed_at,
            "chart": self.chart,
            "appVersion": self.app_version,
        }


@dataclass(frozen=True)
class HelmHistory:
    """The revisions of one release (oldest first) and the records that could not be read."""

    release: str
    revisions: tuple[HelmRevision, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def latest(self) -> HelmRevision | None:
        return self.revisions[-1] if self.revisions else None

    def revision(self, number: int) -> HelmRevision | None:
        return next((r for r in self.revisions if r.revision == number), None)


def _release_document(obj: KubeObject) -> dict[str, Any]:
    """The release JSON of a storage record (a Secret carries one more base64 layer)."""
    encoded = mapping(obj.get("data")).get("release")
    if not isinstance(encoded, str):
        raise ValueError("no data.release")
    payload: str | bytes = encoded
    if kind(obj) != "ConfigMap":
        try:
            payload = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data.release is not base64") from None
    return decode_release_payload(payload)


def helm_history(records: Iterable[KubeObject], release: str) -> HelmHistory:
    """Every revision of ``release`` among the namespace's Helm storage records."""
    revisions: list[HelmRevision] = []
    problems: list[str] = []
    for obj in records:
        if not is_release_record(obj) or labels(obj).get("name", release) != release:
            continue
        try:
            doc = _release_document(obj)
        except ValueError as exc:
            problems.append(f"{kind(obj) or 'Secret'} {name(obj)}: {exc}")
            continue
        if str(doc.get("name") or release) != release:
            continue
        info = mapping(doc.get("info"))
        chart = mapping(dig(doc, "chart", "metadata"))
        revisions.append(
            HelmRevision(
                revision=as_int(doc.get("version"), as_int(labels(obj).get("version"))),
                status=str(info.get("status") or labels(obj).get("status") or "unknown"),
                description=str(info.get("description") or ""),
                deployed_at=str(info.get("last_deployed") or ""),
                chart=f"{chart.get('name') or '?'}-{chart.get('version') or '?'}",
                app_version=str(chart.get("appVersion") or ""),
            )
        )
    revisions.sort(key=lambda r: r.revision)
    return HelmHistory(release, tuple(revisions), tuple(problems))


HELM_NOT_ROLLED_BACK = Rule(
    "rollback-helm-revision",
    Severity.CRITICAL,
    "the Helm release's latest revision is the rollback, deployed, carrying the release rolled "
    "back to",
)


def helm_findings(history: HelmHistory, target: RollbackTarget) -> list[Finding]:
    """The latest revision was made by ``helm rollback`` ("Rollback to N"), is deployed, and both
    it and revision N carry the release rolled back to."""
    where = f"HelmRelease {history.release}"
    latest = history.latest
    if latest is None:
        unread = f" ({'; '.join(history.problems)})" if history.problems else ""
        return [
            HELM_NOT_ROLLED_BACK(
                where,
                f"no revision of the release found{unread}; roll back with `helm rollback "
                f"{history.release}`, or check [kubernetes.expect.helm] release and the namespace",
            )
        ]
    subject = f"{where} revision {latest.revision}"
    found: list[Finding] = []
    target_revision = latest.rolled_back_to
    if target_revision is None:
        found.append(
            HELM_NOT_ROLLED_BACK(
                subject,
                f"the latest revision is not a rollback: its description is "
                f"{latest.description!r} (appVersion {latest.app_version or '?'}), where "
                f"`helm rollback` records 'Rollback to N'; the release was not rolled back to "
                f"{target.to_version}",
            )
        )
    if latest.status != "deployed":
        found.append(
            HELM_NOT_ROLLED_BACK(
                subject, f"status is {latest.status!r}, not 'deployed': the rollback did not finish"
            )
        )
    if latest.app_version and not same_version(target.to_version, latest.app_version):
        comparison = compare_versions(target.to_version, latest.app_version)
        found.append(
            HELM_NOT_ROLLED_BACK(
                subject,
                f"appVersion {comparison.describe()}: the latest revision does not carry the "
                "release rolled back to",
            )
        )
    if target_revision is not None:
        previous = history.revision(target_revision)
        if previous is not None and not same_version(target.to_version, previous.app_version):
            found.append(
                HELM_NOT_ROLLED_BACK(
                    subject,
                    f"it rolled back to revision {target_revision}, whose appVersion is "
                    f"{previous.app_version!r}, not {target.to_version!r}: the wrong revision "
                    f"was restored (`helm history {history.release}` lists them)",
                )
            )
    return found


# -- the workloads run the release rolled back to ------------------------------------------------


@dataclass(frozen=True)
class PodRelease:
    """One pod and the images its containers run (the status's, else the spec's)."""

    pod: str
    phase: str
    node: str
    images: tuple[str, ...]
    version_label: str | None = None
    terminating: bool = False

    @property
    def running(self) -> bool:
        return self.phase not in TERMINAL_PHASES

    def plain(self) -> dict[str, Any]:
        data: dict[str, Any] = {"pod": self.pod, "phase": self.phase, "images": list(self.images)}
        if self.node:
            data["node"] = self.node
        if self.terminating:
            data["terminating"] = True
        return data


@dataclass(frozen=True)
class WorkloadRelease:
    """A workload's main container image (the spec), and its pods' images of that container."""

    workload: str
    container: str
    image: str
    pods: tuple[PodRelease, ...] = ()
    problem: str | None = None

    def plain(self) -> dict[str, Any]:
        if self.problem:
            return {"workload": self.workload, "problem": self.problem}
        return {
            "workload": self.workload,
            "image": self.image,
            "pods": {p.pod: ", ".join(p.images) for p in self.pods if p.running},
        }


def _pod_release(pod: KubeObject, container: str | None = None) -> PodRelease:
    statuses = {
        str(mapping(s).get("name")): mapping(s)
        for s in sequence(dig(pod, "status", "containerStatuses"))
    }
    images: list[str] = []
    for spec in containers(pod_spec(pod), init=False):
        cname = str(spec.get("name") or "")
        if container is not None and cname != container:
            continue
        status_image = statuses.get(cname, {}).get("image")
        images.append(str(status_image or spec.get("image") or ""))
    return PodRelease(
        pod=name(pod),
        phase=str(dig(pod, "status", "phase") or "Unknown"),
        node=str(dig(pod, "spec", "nodeName") or ""),
        images=tuple(images),
        version_label=labels(pod).get(VERSION_LABEL),
        terminating=is_terminating(pod),
    )


def _tag(image: str) -> str:
    return parse_image(image).tag


def workload_releases(
    workloads: Iterable[tuple[str, KubeObject | str, Sequence[KubeObject]]],
    container: str | None,
) -> list[WorkloadRelease]:
    """(workload reference, its object or why it is missing, its pods) -> what each runs."""
    found: list[WorkloadRelease] = []
    for ref, obj, pods in workloads:
        if isinstance(obj, str):
            found.append(WorkloadRelease(ref, container or "", "", problem=obj))
            continue
        main = main_container(obj, container)
        if main is None:
            found.append(WorkloadRelease(ref, container or "", "", problem="has no such container"))
            continue
        cname = str(main.get("name") or "")
        found.append(
            WorkloadRelease(
                ref,
                cname,
                str(main.get("image") or ""),
                tuple(_pod_release(pod, cname) for pod in pods),
            )
        )
    return found


RELEASE_NOT_RUNNING = Rule(
    "rollback-release-running",
    Severity.CRITICAL,
    "every workload and every one of its pods runs the release rolled back to",
)


def running_findings(releases: Sequence[WorkloadRelease], target: RollbackTarget) -> list[Finding]:
    """Each workload's image and each of its running pods carry the release rolled back to."""
    to = target.to_version
    found: list[Finding] = []
    for entry in releases:
        subject = f"workload {entry.workload}"
        if entry.problem:
            found.append(RELEASE_NOT_RUNNING(subject, f"cannot be judged: {entry.problem}"))
            continue
        tag = _tag(entry.image)
        if not same_version(to, tag):
            found.append(
                RELEASE_NOT_RUNNING(
                    f"{subject} container {entry.container}",
                    f"its image is {entry.image} (tag {compare_versions(to, tag).describe()}): "
                    f"the workload was not rolled back to {to}",
                )
            )
        running = [p for p in entry.pods if p.running]
        if not running:
            found.append(RELEASE_NOT_RUNNING(subject, "no pod runs: nothing serves the release"))
        for pod in running:
            wrong = [image for image in pod.images if not same_version(to, _tag(image))]
            if wrong:
                found.append(
                    RELEASE_NOT_RUNNING(
                        f"pod {pod.pod}",
                        f"runs {', '.join(wrong)}, not {to} ({pod.phase}"
                        f"{', terminating' if pod.terminating else ''}"
                        f"{', node ' + pod.node if pod.node else ''})",
                    )
                )
    return found


VERSION_ENDPOINT = Rule(
    "rollback-version-endpoint",
    Severity.CRITICAL,
    "the service's version endpoint reports the release rolled back to",
)


def version_findings(
    path: str, status: int | None, reported: str | None, target: RollbackTarget
) -> list[Finding]:
    """The version endpoint answered with the release rolled back to."""
    if status != 200:
        return [VERSION_ENDPOINT(path, f"answered {status}; expected 200 with the version")]
    if reported is None:
        return [VERSION_ENDPOINT(path, "the answer reports no version")]
    comparison = compare_versions(target.to_version, reported)
    if comparison.same:
        return []
    failed = same_version(target.failed_version, reported)
    why = "the failed release still answers" if failed else "another release answers"
    return [VERSION_ENDPOINT(path, f"reports {comparison.describe()}: {why}")]


# -- nothing of the failed release is left -------------------------------------------------------------


def failed_pods(
    pods: Iterable[KubeObject], failed_version: str, repositories: Iterable[str] = ()
) -> list[PodRelease]:
    """The pods still running (not Succeeded/Failed) that belong to the failed release: an image
    of one of ``repositories`` (every image when none are given) tagged with the failed version,
    or the ``app.kubernetes.io/version`` label naming it."""
    wanted = {parse_image(r).canonical_name for r in repositories}
    found: list[PodRelease] = []
    for pod in pods:
        entry = _pod_release(pod)
        if not entry.running:
            continue
        images = [
            image
            for image in entry.images
            if (not wanted or parse_image(image).canonical_name in wanted)
            and same_version(failed_version, _tag(image))
        ]
        labelled = entry.version_label is not None and same_version(
            failed_version, entry.version_label
        )
        if images or labelled:
            found.append(dataclasses.replace(entry, images=tuple(images or entry.images)))
    return found


LEFTOVER_POD = Rule(
    "rollback-failed-release-pod",
    Severity.CRITICAL,
    "no pod of the failed release remains after the rollback",
)


def leftover_findings(pods: Sequence[PodRelease], target: RollbackTarget) -> list[Finding]:
    """One finding per pod of the failed release that still runs (or is stuck terminating)."""
    return [
        LEFTOVER_POD(
            f"pod {pod.pod}",
            f"still runs the failed release {target.failed_version} ({', '.join(pod.images)}; "
            f"{pod.phase}{', terminating' if pod.terminating else ''}"
            f"{', node ' + pod.node if pod.node else ''}): delete it, or find the controller "
            "that keeps it (a ReplicaSet not scaled down, a second Deployment)",
        )
        for pod in pods
    ]


# -- the rollback triggers have recovered ------------------------------------------------------------


def recovery_window(
    rollback_at: dt.datetime, settle: str | float, recovery: str | float
) -> tuple[dt.datetime, dt.datetime]:
    """(earliest start of the recovery window, the time a full window is first available)."""
    start = rollback_at + dt.timedelta(seconds=parse_duration(settle))
    return start, start + dt.timedelta(seconds=parse_duration(recovery))


def _window_start(result: GateResult) -> float | None:
    starts = [e.start for e in result.evaluations]
    return min(starts) if starts else None


def too_early(
    results: Mapping[str, GateResult | GateProblem],
    triggers: Sequence[str],
    rollback_at: dt.datetime,
    settle: str | float,
    recovery: str | float,
) -> str | None:
    """Why recovery cannot be judged yet: a trigger's window starts before ``settle`` after the
    rollback (it would judge the failed release's own traffic). None when it can be judged."""
    earliest, ready = recovery_window(rollback_at, settle, recovery)
    for trigger in triggers:
        result = results.get(trigger)
        if not isinstance(result, GateResult):
            continue
        start = _window_start(result)
        if start is not None and start < earliest.timestamp():
            began = dt.datetime.fromtimestamp(start, dt.UTC)
            return (
                f"too early to judge recovery: the {format_duration(parse_duration(recovery))} "
                f"window of {trigger} began {began.isoformat(timespec='seconds')}, before the "
                f"rollback at {rollback_at.isoformat(timespec='seconds')} plus "
                f"{format_duration(parse_duration(settle))} ([rollback] settle); run again after "
                f"{ready.isoformat(timespec='seconds')}"
            )
    return None


NOT_RECOVERED = Rule(
    "rollback-trigger-recovered",
    Severity.HIGH,
    "each rollback trigger held at every point of the recovery window after the rollback",
)


def recovery_findings(
    results: Mapping[str, GateResult | GateProblem], triggers: Sequence[str]
) -> list[Finding]:
    """Each trigger gate was evaluated and passed (every point of its recovery window held)."""
    found: list[Finding] = []
    for trigger in triggers:
        result = results.get(trigger)
        subject = f"trigger {trigger}"
        if result is None:
            known = ", ".join(sorted(READY_MADE))
            found.append(
                NOT_RECOVERED(
                    subject,
                    "was not evaluated: it is disabled in [[gates]], or names neither a [[gates]] "
                    f"entry nor a ready-made gate ({known})",
                )
            )
        elif isinstance(result, GateProblem):
            found.append(NOT_RECOVERED(subject, result.message))
        elif result.outcome is not GateOutcome.PASS:
            found.append(NOT_RECOVERED(subject, f"has not recovered: {result.message}"))
    return found
