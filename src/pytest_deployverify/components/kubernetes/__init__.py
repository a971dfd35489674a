"""The Kubernetes component: ``[kubernetes]``, a read-only cached reader over the official client.

Reads (``kubernetes.<read>``):

* ``objects``: ``KubeObjects``, every kind the checklist needs in the profile's namespace plus
  the cluster-scoped ones, LISTed concurrently into the reader's cache (or, in pre-deploy mode,
  loaded from rendered manifests);
* ``ingresses``: the Ingress objects of the profile's namespace, as raw dicts (for DNS);
* ``access``: ``VerifierAccess``, what the verifier's own credentials may do;
* ``pod_logs``: ``PodLogs``, bounded tails of the workloads' container logs;
* ``schema``: ``SchemaReport``, the rendered manifests validated against the Kubernetes OpenAPI
  schemas (pre-deploy mode only; offline, with the schemas ``kubernetes-validate`` ships);
* ``image_scans``: ``ImageScans``, the vulnerability reports of the images (Trivy Operator's
  VulnerabilityReports, one LIST, and the report files of ``[kubernetes.expect.vulnerabilities]``).

The official client and PyYAML are imported only when a reader runs, so a profile without
Kubernetes never needs them. Nothing here writes to the cluster: the reader refuses mutating
requests before sending them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.kube.exemptions import Exemption
from pytest_deployverify.checks.kube.expectations import KubeExpectations
from pytest_deployverify.checks.kube.items import CHECKS
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.components.errors import ReadError
from pytest_deployverify.profile.fields import ExistingFile, Seconds
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.schema import Range

if TYPE_CHECKING:
    from pytest_deployverify.checks.kube.snapshots import (
        KubeObjects,
        PodLogs,
        SchemaReport,
        VerifierAccess,
    )
    from pytest_deployverify.checks.kube.vulns import ImageScans
    from pytest_deployverify.components.kubernetes.reader import KubeReader

COMPONENT = "kubernetes"
PREDEPLOY_SKIP = (
    "live-only check skipped in pre-deploy mode (--manifests or [kubernetes.expect] manifests): "
    "rendered manifests have no cluster state; it runs against the live cluster after the deploy"
)


def _workload_ref(text: str) -> str:
    """A ``[kubernetes] workloads`` entry: NAME or KIND/NAME (``WorkloadError`` says why not)."""
    from pytest_deployverify.checks.kube.snapshots import parse_workload_ref

    parse_workload_ref(text)
    return text


WorkloadRef = Annotated[str, _workload_ref]


@dataclasses.dataclass(frozen=True, kw_only=True)
class KubernetesConfig:
    """Where the cluster is and which workloads the checklist is about."""

    # The kubeconfig file to read the cluster and credentials from (unset: $KUBECONFIG, else
    # ~/.kube/config); never written to.
    kubeconfig: ExistingFile | None = None
    # The kubeconfig context to use (unset: the file's current-context).
    context: str | None = None
    # Use the pod's service account instead of a kubeconfig (the verifier runs in the cluster,
    # e.g. as a Job or a Helm test hook).
    in_cluster: bool = False
    # The namespace the workloads and their Services, Ingresses, Secrets... are read from
    # (rendered manifests without a namespace are placed in it too).
    namespace: str = "default"
    # The workloads under verification, as NAME (a Deployment) or KIND/NAME with KIND one of
    # Deployment, StatefulSet, DaemonSet, CronJob, Job, in any case (aliases deploy, sts, ds, cj,
    # job): `workloads = ["api-gateway", "CronJob/report-nightly", "Job/db-migrate"]`. Jobs and
    # CronJobs are judged as run-to-completion workloads (K8S-ROLLOUT: a Job completed, a
    # CronJob not suspended and its last run not failed; probes, replicas, PDB, HPA, spread and
    # Service items not applicable). Empty: the per-workload items are not applicable, the
    # cluster-wide ones still run.
    workloads: tuple[WorkloadRef, ...] = ()
    # Seconds each request to the Kubernetes API may take (connect and read).
    timeout: Seconds = 10.0
    # Objects per page of a LIST request (the API's `limit`); larger pages mean fewer round
    # trips, smaller ones less memory on the API server.
    page_size: Annotated[int, Range(ge=1, le=5000)] = 500
    expect: KubeExpectations = dataclasses.field(default_factory=KubeExpectations)
    # Checks a given object is exempt from, each with its reason (shown in every report); an
    # object can also carry the annotation deployverify.io/exempt.<check>: <reason>.
    exemptions: tuple[Exemption, ...] = ()


def _connect(section: KubernetesConfig, profile: Profile) -> KubeReader:
    from pytest_deployverify.components.kubernetes.reader import build_kube_reader

    return build_kube_reader(section)


def _endpoint(section: KubernetesConfig) -> str:
    if section.kubeconfig:
        return f"kubeconfig {section.kubeconfig}"
    return "(in-cluster)" if section.in_cluster else "(default kubeconfig)"


# -- readers -----------------------------------------------------------------------------------------


def _objects(ctx: ReadContext) -> KubeObjects:
    from pytest_deployverify.components.kubernetes.reads import read_objects

    return read_objects(ctx.client, ctx.section)


def _ingresses(ctx: ReadContext) -> list[dict[str, Any]]:
    from pytest_deployverify.components.kubernetes.reads import read_ingresses

    objects: KubeObjects = ctx.read("kubernetes.objects")
    return read_ingresses(objects, objects.where)


def _access(ctx: ReadContext) -> VerifierAccess:
    from pytest_deployverify.components.kubernetes.reads import read_access

    return read_access(ctx.client, ctx.section)


def _pod_logs(ctx: ReadContext) -> PodLogs:
    from pytest_deployverify.components.kubernetes.reads import read_pod_logs

    section: KubernetesConfig = ctx.section
    if not section.expect.pod_logs.enabled:
        raise NotApplicable("[kubernetes.expect.pod_logs] enabled = false")
    return read_pod_logs(ctx.client, section, ctx.read("kubernetes.objects"))


def _image_scans(ctx: ReadContext) -> ImageScans:
    from pytest_deployverify.components.kubernetes.reads import read_image_scans

    section: KubernetesConfig = ctx.section
    if section.expect.vulnerabilities is None:
        raise NotApplicable("[kubernetes.expect.vulnerabilities] is not set")
    return read_image_scans(ctx.client, section, live=True)


def _schema(ctx: ReadContext) -> SchemaReport:
    objects: KubeObjects = ctx.read("kubernetes.objects")
    if objects.live:
        raise NotApplicable(
            "objects read from the API server were validated by it; the schema check judges "
            "rendered manifests"
        )
    section: KubernetesConfig = ctx.section
    where = objects.where
    try:
        from pytest_deployverify.components.kubernetes.schema import (
            SchemaUnavailable,
            validate_objects,
        )
    except ImportError as exc:  # pragma: no cover - jsonschema comes with kubernetes-validate
        raise ReadError(
            COMPONENT,
            where,
            "schema validation",
            f"{exc}: pip install 'pytest-deployverify[kubernetes]'",
        ) from None
    try:
        return validate_objects(objects.manifests, section.expect.schema_version)
    except SchemaUnavailable as exc:
        raise ReadError(COMPONENT, where, "schema validation", str(exc)) from None


component = Component(
    name=COMPONENT,
    title="Kubernetes",
    sections=(
        SectionSpec("kubernetes", KubernetesConfig, "the cluster and the workloads to verify"),
    ),
    connect=_connect,
    reads={
        "objects": _objects,
        "ingresses": _ingresses,
        "access": _access,
        "pod_logs": _pod_logs,
        "schema": _schema,
        "image_scans": _image_scans,
    },
    checks=CHECKS,
    checklist=(
        "pytest_deployverify.checklist.test_kubernetes_infra",
        "pytest_deployverify.checklist.test_kubernetes_security",
    ),
    endpoint=_endpoint,
    extra="kubernetes",
    description="Workloads, rollout, configuration, network, RBAC, capacity and the Helm "
    "release, read-only through the API (or from rendered manifests before a deploy).",
)


# -- pre-deploy mode -------------------------------------------------------------------------------


def predeploy(base: Component, path: Path) -> Component:
    """``base`` reading rendered manifests at ``path`` instead of the cluster: no client is ever
    built, the live-only reads are not applicable, and a broken manifest fails every item that
    reads the objects with a message naming the file and document."""

    def objects(ctx: ReadContext) -> KubeObjects:
        from pytest_deployverify.components.kubernetes.reads import read_manifests

        try:
            return read_manifests(path, ctx.section)
        except ImportError as exc:
            raise ReadError(
                COMPONENT,
                f"manifests {path}",
                "pre-deploy manifests",
                f"reading YAML needs PyYAML ({exc.name or exc}): pip install "
                "'pytest-deployverify[kubernetes]'",
            ) from None
        except ValueError as exc:  # ManifestError names the file and the document
            raise ReadError(
                COMPONENT, f"manifests {path}", "pre-deploy manifests", str(exc)
            ) from None

    def live_only(ctx: ReadContext) -> Any:
        raise NotApplicable(PREDEPLOY_SKIP)

    def image_scans(ctx: ReadContext) -> ImageScans:
        from pytest_deployverify.components.kubernetes.reads import read_image_scans

        section: KubernetesConfig = ctx.section
        if section.expect.vulnerabilities is None:
            raise NotApplicable("[kubernetes.expect.vulnerabilities] is not set")
        # Before a deploy only the report files can be read: there is no cluster.
        return read_image_scans(None, section, live=False)

    return dataclasses.replace(
        base,
        connect=None,
        reads={
            **base.reads,
            "objects": objects,
            "access": live_only,
            "pod_logs": live_only,
            "image_scans": image_scans,
        },
        endpoint=lambda section: f"manifests {path}",
    )
