"""The Kubernetes component's readers: the cluster (or rendered manifests) as snapshots.

* ``read_objects``: every kind the checklist needs in the profile's namespace, the
  cluster-scoped kinds, every pod (node capacity) and the namespace itself, LISTed concurrently
  into the reader's cache: one round trip for all of them, and the items then cost no request.
* ``read_access``: the verifier's own SelfSubjectRulesReview and SelfSubjectAccessReviews,
  asked concurrently.
* ``read_pod_logs``: bounded tails of the workloads' container logs (and of the previous
  instance of containers that restarted), read concurrently.
* ``read_manifests``: pre-deploy mode, the same ``KubeObjects`` from rendered YAML.
* ``read_image_scans``: the vulnerability reports of the images: Trivy Operator's
  VulnerabilityReports in the namespace (one LIST; live only) and the report files the profile
  names (Trivy JSON, SARIF 2.1.0).

Every request goes through the read-only ``KubeReader``. No pytest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.kube.objects import (
    RUN_TO_COMPLETION_KINDS,
    dig,
    kind,
    mapping,
    name,
    sequence,
)
from pytest_deployverify.checks.kube.snapshots import (
    CLUSTER_KINDS,
    NAMESPACED_KINDS,
    ContainerLog,
    KubeObjects,
    ObjectsUnavailable,
    PodLogs,
    Scope,
    VerifierAccess,
    WorkloadError,
)
from pytest_deployverify.checks.kube.vulns import (
    ImageReport,
    ImageScans,
    operator_reports,
    reports_from_document,
)
from pytest_deployverify.components.errors import ComponentUnavailable, ReadError
from pytest_deployverify.components.kubernetes.errors import (
    KubeError,
    KubeNotFound,
    KubeUnauthorized,
)

if TYPE_CHECKING:
    from pytest_deployverify.components.kubernetes import KubernetesConfig
    from pytest_deployverify.components.kubernetes.reader import KubeReader

COMPONENT = "kubernetes"
# What the verifier asks SelfSubjectAccessReviews about: the write a CD tool would make, and,
# when the rules review is incomplete, the usual writes on the usual kinds.
WRITE_PROBE = ("patch", "deployments", "apps")
WRITE_PROBES_FALLBACK = tuple(
    (verb, resource, group)
    for verb in ("create", "update", "patch", "delete")
    for resource, group in (("deployments", "apps"), ("pods", ""), ("secrets", ""))
)


def object_scopes(namespace: str) -> list[Scope]:
    """Every (kind, namespace) the checklist reads: the namespace's kinds, the cluster-scoped
    ones, every namespace's pods (what takes room on the nodes) and the namespace itself."""
    return [
        *((k, namespace) for k in NAMESPACED_KINDS),
        *((k, None) for k in CLUSTER_KINDS),
        ("Pod", None),
    ]


def read_objects(reader: KubeReader, section: KubernetesConfig) -> KubeObjects:
    """``KubeObjects`` of the live cluster: one concurrent batch of LISTs (and the namespace)."""
    ns = section.namespace
    scopes = object_scopes(ns)

    def fetch(scope: Scope | None) -> list[dict[str, Any]] | KubeError:
        try:
            if scope is None:  # the namespace object itself: a GET (no cluster-wide list)
                try:
                    return [reader.get("Namespace", None, ns)]
                except KubeNotFound:
                    return []
            return reader.list(scope[0], scope[1])
        except KubeError as exc:
            return exc

    from pytest_deployverify.components.kubernetes.reader import concurrently

    jobs: list[Scope | None] = [*scopes, None]
    answers = concurrently(fetch, jobs)
    lists: dict[Scope, tuple[dict[str, Any], ...]] = {}
    problems: dict[Scope, str] = {}
    not_served: set[str] = set()
    for job, answer in zip(jobs, answers, strict=True):
        scope: Scope = ("Namespace", ns) if job is None else job
        if isinstance(answer, KubeUnauthorized):
            # The credentials stopped working: nothing of this component can be judged.
            raise ComponentUnavailable(COMPONENT, reader.endpoint, answer.problem)
        if isinstance(answer, Exception):
            problems[scope] = str(answer)
            if isinstance(answer, KubeNotFound) and job is not None:
                not_served.add(scope[0])  # the API does not serve the kind: none exists
        else:
            lists[scope] = tuple(answer)
    return KubeObjects(
        where=f"kubernetes at {reader.endpoint}",
        namespace=ns,
        live=True,
        lists=lists,
        problems=problems,
        not_served=frozenset(not_served),
    )


def read_ingresses(objects: KubeObjects, endpoint: str) -> list[dict[str, Any]]:
    """The Ingress objects (raw dicts) of the profile's namespace."""
    try:
        return objects.objects("Ingress")
    except ObjectsUnavailable as exc:
        raise ReadError(COMPONENT, endpoint, "reading ingresses", str(exc)) from None


def verifier_name(section: KubernetesConfig) -> str:
    if section.in_cluster:
        return "in-cluster service account"
    return f"kubeconfig context {section.context or '(current)'}"


def read_access(reader: KubeReader, section: KubernetesConfig) -> VerifierAccess:
    """What the verifier may do in the namespace: the rules review and the write probe, asked
    together; when the rules review is incomplete, the fallback probes (concurrently)."""
    ns = section.namespace
    from pytest_deployverify.components.kubernetes.reader import concurrently

    def review(probe: tuple[str, str, str]) -> dict[str, Any]:
        verb, resource, group = probe
        status = reader.self_subject_access_review(verb, resource, ns, group=group)
        attributes = {"verb": verb, "resource": resource, "group": group, "namespace": ns}
        return {"spec": {"resourceAttributes": attributes}, "status": status}

    first = concurrently(
        lambda job: reader.self_subject_rules_review(ns) if job is None else review(job),
        [None, WRITE_PROBE],
    )
    rules, probe = first
    for answer in first:
        if isinstance(answer, Exception):
            raise _read_error(reader, "asking the verifier's access reviews", answer)
    assert isinstance(rules, dict)
    assert isinstance(probe, dict)
    reviews: list[dict[str, Any]] = [probe]
    if rules.get("incomplete") is True:
        extra = concurrently(review, WRITE_PROBES_FALLBACK)
        reviews = []
        for answer in extra:
            if isinstance(answer, Exception):
                raise _read_error(reader, "asking the verifier's access reviews", answer)
            reviews.append(answer)
    return VerifierAccess(
        who=verifier_name(section), namespace=ns, rules=rules, reviews=tuple(reviews)
    )


def _read_error(reader: KubeReader, what: str, exc: Exception) -> Exception:
    if isinstance(exc, KubeUnauthorized):
        return ComponentUnavailable(COMPONENT, reader.endpoint, exc.problem)
    if isinstance(exc, KubeError):
        return ReadError(COMPONENT, reader.endpoint, what, exc.problem)
    return exc


def _log_targets(pod: Mapping[str, Any], previous: bool) -> list[tuple[str, bool]]:
    """(container, previous) pairs with something to read: started containers, and the
    previous instance of those that restarted."""
    targets: list[tuple[str, bool]] = []
    statuses = sequence(dig(pod, "status", "initContainerStatuses")) + sequence(
        dig(pod, "status", "containerStatuses")
    )
    for status in map(mapping, statuses):
        container = str(status.get("name") or "")
        state = mapping(status.get("state"))
        if container and (state.get("running") or state.get("terminated")):
            targets.append((container, False))
        restarted = int(status.get("restartCount") or 0) > 0
        if container and previous and restarted and dig(status, "lastState", "terminated"):
            targets.append((container, True))
    return targets


def read_pod_logs(reader: KubeReader, section: KubernetesConfig, objects: KubeObjects) -> PodLogs:
    """Tails of the logs of every workload's pods (``[kubernetes.expect.pod_logs]``).

    A 403 on ``pods/log`` fails the read (nothing could be judged), with the RBAC fix; a pod
    gone since it was listed is noted on its entry."""
    scan = section.expect.pod_logs
    ns = section.namespace
    jobs: list[tuple[str, str, str, bool]] = []
    skipped: dict[str, str] = {}
    for ref in section.workloads:
        try:
            workload = objects.workload(ref)
            pods = objects.pods_of(workload)
        except (WorkloadError, ObjectsUnavailable) as exc:
            skipped[ref] = str(exc)
            continue
        if not pods and kind(workload) not in RUN_TO_COMPLETION_KINDS:
            # A Job's pods may be gone (ttlSecondsAfterFinished), a CronJob between runs: no
            # log to read is no finding (the checklist says so), not a read that failed.
            skipped[ref] = "no pod runs for this workload"
        for chosen in sorted(pods, key=name)[: scan.max_pods]:
            targets = _log_targets(chosen, scan.previous)
            jobs += [(ref, name(chosen), c, prev) for c, prev in targets]

    from pytest_deployverify.components.kubernetes.reader import concurrently

    def tail(job: tuple[str, str, str, bool]) -> list[str]:
        _, pod, container, previous = job
        return reader.pod_log(ns, pod, container, tail_lines=scan.tail_lines, previous=previous)

    logs: list[ContainerLog] = []
    for job, answer in zip(jobs, concurrently(tail, jobs), strict=True):
        ref, pod, container, previous = job
        if isinstance(answer, KubeNotFound):
            logs.append(
                ContainerLog(ref, ns, pod, container, previous, problem="gone since listed")
            )
        elif isinstance(answer, Exception):
            raise _read_error(reader, f"reading the log of pod {pod} container {container}", answer)
        else:
            logs.append(ContainerLog(ref, ns, pod, container, previous, tuple(answer)))
    return PodLogs(namespace=ns, tail_lines=scan.tail_lines, logs=tuple(logs), skipped=skipped)


def fresh_lister(reader: KubeReader, namespace: str) -> Callable[[str], list[dict[str, Any]]]:
    """``kind -> objects`` read again from the server (a rollout being waited for)."""

    def fresh(obj_kind: str) -> list[dict[str, Any]]:
        return reader.list(obj_kind, namespace, fresh=True)

    return fresh


def read_manifests(path: Path, section: KubernetesConfig) -> KubeObjects:
    """Pre-deploy mode: ``KubeObjects`` from rendered manifests; ``ManifestError`` (a
    ValueError) names the file and document."""
    from pytest_deployverify.components.kubernetes.manifests import load_manifests

    manifests = load_manifests(path, default_namespace=section.namespace)
    return KubeObjects.rendered(
        manifests,
        where=f"manifests {path}",
        namespace=section.namespace,
        origins=manifests.locations,
    )


def read_image_scans(
    reader: KubeReader | None,
    section: KubernetesConfig,
    *,
    live: bool,
    cwd: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> ImageScans:
    """The vulnerability reports ``[kubernetes.expect.vulnerabilities]`` names: the namespace's
    VulnerabilityReports (live, with ``cluster = true``; a cluster that does not serve them has
    none, and the snapshot says so) and the report files. A file that cannot be read or is no
    report fails the read (``ReadError`` naming the file); so does a 403 on the reports."""
    scan = section.expect.vulnerabilities
    if scan is None:  # pragma: no cover - the component checks first
        raise ValueError("[kubernetes.expect.vulnerabilities] is not set")
    ns = section.namespace
    reports: list[ImageReport] = []
    sources: list[str] = []
    notes: list[str] = []
    if scan.cluster and live and reader is not None:
        try:
            found = reader.list("VulnerabilityReport", ns)
        except KubeNotFound:
            sources.append(f"VulnerabilityReports in namespace {ns}: not served")
            notes.append(
                f"{reader.endpoint} does not serve VulnerabilityReports "
                "(aquasecurity.github.io/v1alpha1): Trivy Operator is not installed"
            )
        except KubeError as exc:
            raise _read_error(reader, "reading the VulnerabilityReports", exc) from None
        else:
            reports += operator_reports(found)
            sources.append(f"{len(found)} VulnerabilityReport(s) in namespace {ns}")
    elif scan.cluster and not live:
        notes.append("the cluster's VulnerabilityReports are read live, after the deploy")
    if not live and not scan.reports:
        raise NotApplicable(
            "pre-deploy mode: the running images' VulnerabilityReports are judged live; list "
            "report files in [kubernetes.expect.vulnerabilities] reports to judge the "
            "manifests' images before the deploy"
        )
    base = cwd or Path.cwd()
    for entry in scan.reports:
        reports += read_report_file(base / Path(entry).expanduser(), entry)
        sources.append(f"report file {entry}")
    return ImageScans(tuple(reports), tuple(sources), tuple(notes), taken_at=clock())


def read_report_file(path: Path, shown: str) -> list[ImageReport]:
    """The image reports in one scanner report file; ``ReadError`` says what is wrong with it."""
    where = f"report file {shown}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problem = f"does not exist (looked for {path}); write the scanner's report there first"
        raise ReadError(COMPONENT, where, "reading a vulnerability report", problem) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot be read: {exc}"
        raise ReadError(COMPONENT, where, "reading a vulnerability report", problem) from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        problem = f"is not JSON ({exc}); write it with --format json or --format sarif"
        raise ReadError(COMPONENT, where, "reading a vulnerability report", problem) from None
    try:
        return reports_from_document(doc, shown)
    except ValueError as exc:
        raise ReadError(COMPONENT, where, "reading a vulnerability report", str(exc)) from None
