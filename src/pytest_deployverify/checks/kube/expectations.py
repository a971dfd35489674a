"""Profile expectations for the Kubernetes and Helm checks: ``[kubernetes.expect]``.

Connection settings and the workloads under verification live in ``[kubernetes]``
(``components.kubernetes``); this table says what those workloads must look like. Every key is
optional: a check whose expectation is not set is not applicable, with a reason naming the key,
never passed silently. Opinionated rules (pull policy, topology spread) have a key to relax them;
strict variants beyond what every healthy production has are opt-in. Severities are not
configurable here: they come from the declarations, and accepted exceptions are profile waivers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pytest_deployverify.profile.fields import Count, Duration, PositiveFloat
from pytest_deployverify.profile.model import _accountable, pattern_problem
from pytest_deployverify.profile.schema import Range

model = dataclasses.dataclass(frozen=True, kw_only=True)

AtLeastOne = Annotated[int, Range(ge=1)]


class PullPolicy(StrEnum):
    """``[kubernetes.expect] pull_policy``: how K8S-PULL-POLICY judges ``imagePullPolicy``.

    ``pinned`` (default): ``Always`` for images that can move (``:latest``, no tag);
    ``IfNotPresent`` is fine on a version tag or a digest. ``always``: every image ``Always``
    (kube-score's strict rule; opt-in). ``off``: the item is not applicable."""

    PINNED = "pinned"
    ALWAYS = "always"
    OFF = "off"


class Direction(StrEnum):
    """A NetworkPolicy direction (``policyTypes``; written in any case in the profile)."""

    INGRESS = "ingress"
    EGRESS = "egress"


def _cronjob_name(text: str) -> str:
    """A CronJob named as in [kubernetes] workloads (``CronJob/NAME``, ``cj/NAME``) or by name."""
    head, sep, tail = text.partition("/")
    if not text.strip() or (sep and (head.lower() not in ("cronjob", "cj") or not tail)):
        raise ValueError(
            f"{text!r} is not a CronJob: write its name, or CronJob/NAME as in [kubernetes] "
            "workloads"
        )
    return text


CronJobName = Annotated[str, _cronjob_name]


@model
class RolloutWait:
    """``[kubernetes.expect.rollout]``: how long the rollout check waits for the rollout to settle.

    ``timeout = 0`` judges one snapshot (the default: a verification run after the deploy job has
    already waited). States waiting cannot cure (CrashLoopBackOff, ImagePullBackOff, progress
    deadline exceeded) end the wait at once.
    """

    # Seconds to wait for each workload's rollout to complete (0: judge the state found).
    timeout: Annotated[float, Range(ge=0, le=3600)] = 0.0
    # Seconds between two reads of the workload and its pods while waiting.
    interval: Annotated[float, Range(gt=0, le=300)] = 5.0


@model
class HelmExpectations:
    """``[kubernetes.expect.helm]``: the Helm release that installed the workloads."""

    # The Helm release name, as `helm list` shows it in [kubernetes] namespace; its latest
    # revision must be deployed.
    release: str
    # The chart the release must use, by name (unset: any chart).
    chart: str | None = None
    # The chart version the release must use, compared exactly (unset: any version).
    chart_version: str | None = None
    # The appVersion the release must carry (unset: the profile's top-level version).
    app_version: str | None = None
    # Compare the release's rendered manifest with the live objects (K8S-HELM-DRIFT).
    drift: bool = True


@model
class PodLogScan:
    """``[kubernetes.expect.pod_logs]``: SEC-K8S-POD-LOGS reads the workloads' container logs
    through the API (``pods/log``, a GET) and scans them for secrets; nothing is printed but the
    kind of secret, the pod, the container and the line number.

    ``tail_lines`` bounds each read; ``previous`` also reads the log of the previous instance of
    containers that restarted; ``max_pods`` bounds how many pods of a workload are read."""

    # Scan the logs; false makes SEC-K8S-POD-LOGS not applicable (no pods/log access needed).
    enabled: bool = True
    # Lines read from the end of each container's log.
    tail_lines: Annotated[int, Range(ge=1, le=10000)] = 500
    # Also read the log of the previous instance of each container that restarted.
    previous: bool = True
    # Pods read per workload (the first ones by name).
    max_pods: Annotated[int, Range(ge=1, le=100)] = 10


class VulnSeverity(StrEnum):
    """A vulnerability's severity as scanners report it (Trivy, Grype; SARIF's
    ``security-severity`` score bands). ``unknown``: the scanner gave none."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for unknown: compare with ``>=``."""
        return _RANKS[self]


_RANKS = {
    VulnSeverity.CRITICAL: 4,
    VulnSeverity.HIGH: 3,
    VulnSeverity.MEDIUM: 2,
    VulnSeverity.LOW: 1,
    VulnSeverity.UNKNOWN: 0,
}
_WILDCARDS = "*?["


@model
class VulnerabilityIgnore:
    """``[[kubernetes.expect.vulnerabilities.ignore]]``: one accepted vulnerability, held to the
    rules of a waiver: a real reason, approver (and ticket, when given) and an expiry at most
    ``[policy] waiver_max_days`` ahead. An entry past its expiry is not applied, and the finding
    names it."""

    # The vulnerability id exactly as the scanner reports it (`id = "CVE-2024-3094"`): one id,
    # never a pattern.
    id: str
    # Why the vulnerability is acceptable here (at least 10 characters, no placeholder).
    reason: str
    # Who accepted it (a person or role).
    approver: str
    # The last day the entry applies; at most [policy] waiver_max_days ahead.
    expires: dt.date
    # The images it applies to, by repository (fnmatch: "registry.example.com/api-gateway");
    # empty: every image.
    images: tuple[str, ...] = ()
    # The ticket that tracks the fix (`ticket = "SEC-1234"`).
    ticket: str | None = None

    def __post_init__(self) -> None:
        text = self.id.strip()
        problems = [
            _accountable(self.reason, "reason", 10),
            _accountable(self.approver, "approver", 2),
            _accountable(self.ticket, "ticket", 3) if self.ticket is not None else None,
            *(pattern_problem(image) for image in self.images),
        ]
        if not text:
            problems.insert(0, "id is empty")
        elif any(c in text for c in _WILDCARDS) or len(text) < 5:
            problems.insert(
                0,
                f"id {text!r} must name one vulnerability exactly (e.g. CVE-2024-3094), never a "
                "pattern",
            )
        found = [p for p in problems if p]
        if found:
            raise ValueError(f"vulnerability ignore entry {self.id!r}: " + "; ".join(found))


@model
class VulnerabilityScan:
    """``[kubernetes.expect.vulnerabilities]``: SEC-K8S-IMAGE-VULNS judges the images that run
    (from the pods; the manifests' images before a deploy) against scanner reports: Trivy
    Operator's VulnerabilityReports in the namespace and/or report files (Trivy JSON, SARIF
    2.1.0). An image without a report, or with one older than ``max_report_age``, fails."""

    # Read Trivy Operator's VulnerabilityReports (aquasecurity.github.io/v1alpha1) in the
    # namespace (live only).
    cluster: bool = True
    # Scanner report files: Trivy JSON (trivy image --format json) or SARIF 2.1.0; a relative
    # path is relative to the folder the run starts in (`reports = ["reports/api.trivy.json"]`).
    reports: tuple[str, ...] = ()
    # The lowest severity that fails: critical, high (default), medium, low or unknown.
    severity: VulnSeverity = VulnSeverity.HIGH
    # Vulnerabilities without a fixed version do not fail (they stay in the evidence).
    ignore_unfixed: bool = False
    # A report older than this is stale: the image counts as not scanned
    # (`max_report_age = "24h"`).
    max_report_age: Duration = "7d"
    # Accepted vulnerabilities, each with reason, approver and expiry.
    ignore: tuple[VulnerabilityIgnore, ...] = ()

    def __post_init__(self) -> None:
        if not self.cluster and not self.reports:
            raise ValueError(
                "reads no report: set cluster = true (Trivy Operator's VulnerabilityReports) "
                "and/or list report files in reports"
            )
        ids = [entry.id.strip() for entry in self.ignore]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(
                f"ignore lists {', '.join(twice)} more than once; one entry per vulnerability "
                "(use images to scope it)"
            )


@model
class KubeExpectations:
    """``[kubernetes.expect]``."""

    # The workload whose environment and release image are checked, written as in [kubernetes]
    # workloads (default: the first of them).
    app: str | None = None
    # The app's application container, by name (default: its first container).
    container: str | None = None

    # -- Configuration of the app's container --
    # Environment variables the app's container must set, through env or envFrom
    # (`required_env = ["DATABASE_URL", "JWT_SECRET"]`); empty: K8S-ENV-REQUIRED is not
    # applicable.
    required_env: tuple[str, ...] = ()
    # Variables that must hold exactly this production value, from a literal, a ConfigMap or a
    # Secret (whose value is compared, never shown): `expected_env = { NODE_ENV = "production" }`.
    expected_env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Values a variable must not hold; a comma- or space-separated value fails when any item is
    # listed: `forbidden_env = { CORS_ORIGIN = ["*"], LOG_LEVEL = ["debug"] }`.
    forbidden_env: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # The minimum length of a Secret's value, per "secret-name/KEY"
    # (`secret_min_length = { "api-gateway-secrets/JWT_SECRET" = 32 }`).
    secret_min_length: Mapping[str, AtLeastOne] = dataclasses.field(default_factory=dict)
    # Variable or ConfigMap key names that look secret (by name or value) but are not.
    sensitive_env_allow: tuple[str, ...] = ()
    # ConfigMaps/Secrets created outside the release (a secrets operator): pre-deploy mode does
    # not require them among the manifests.
    external_refs: tuple[str, ...] = ()
    # ServiceAccounts created outside the release: pre-deploy mode does not require them among
    # the manifests (K8S-SA-EXISTS; "default" always exists): `external_service_accounts =
    # ["vault-agent"]`.
    external_service_accounts: tuple[str, ...] = ()

    # -- Images --
    # How K8S-PULL-POLICY judges imagePullPolicy: "pinned" asks Always only of images that can
    # move (:latest, no tag), "always" of every image, "off" does not judge it.
    pull_policy: PullPolicy = PullPolicy.PINNED

    # -- Availability --
    # The fewest replicas a listed workload may run (spec.replicas, or its HPA's minReplicas);
    # workloads outside [kubernetes] workloads are held to 2.
    min_replicas: AtLeastOne = 2
    # Every listed Deployment must have a HorizontalPodAutoscaler; false for fixed-size
    # workloads (an HPA that exists is still judged).
    require_hpa: bool = True
    # Every container must set a CPU limit (K8S-RESOURCES); false leaves CPU unlimited by
    # choice, while CPU and memory requests and the memory limit are still required.
    require_cpu_limit: bool = True
    # Judge that replicas are spread across nodes or zones (topologySpreadConstraints or pod
    # anti-affinity); false makes K8S-TOPOLOGY not applicable.
    topology_spread: bool = True
    # Spread is judged only for workloads running at least this many replicas.
    topology_spread_min_replicas: Annotated[int, Range(ge=2)] = 2
    max_restarts: Count = 0  # restarts allowed per container since the rollout began
    # The digest the app's running image must have (`image_digest = "sha256:0a1b…"`; unset:
    # only the tag is compared with the profile's version).
    image_digest: str | None = None

    # -- Network --
    # The directions a NetworkPolicy must cover for the workloads' pods: by default both, as
    # Polaris's missingNetworkPolicy; ["ingress"] relaxes egress.
    network_policy_directions: tuple[Direction, ...] = (Direction.INGRESS, Direction.EGRESS)
    # The app's Service, by name, which must exist, select its pods and have ready endpoints
    # (default: the Services selecting its pods).
    service: str | None = None
    # The Ingress that serves public_host, by name (default: every Ingress with a rule for it).
    ingress: str | None = None
    # The host name the public reaches the service at (`public_host = "api.example.com"`);
    # unset: the Ingress and DNS items are not applicable.
    public_host: str | None = None
    # Addresses public_host must resolve to (default: the Ingress load balancer's).
    dns_addresses: tuple[str, ...] = ()
    # Pinned answers, like curl --resolve: for a host whose record is not published yet (before
    # a DNS cutover, or the local sandbox). The evidence says the answer was pinned.
    resolve: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    # -- Capacity --
    # StorageClasses that must exist in the cluster, besides those the workloads' volume claim
    # templates name (`storage_classes = ["gp3"]`).
    storage_classes: tuple[str, ...] = ()
    # One StorageClass must be marked the cluster default (claims without storageClassName
    # would stay Pending otherwise).
    require_default_storage_class: bool = False
    # The largest image a listed workload's main container may run, in MB (1,000,000 bytes, as
    # registries show it); unset: K8S-IMAGE-SIZE is not applicable.
    image_size_limit_mb: PositiveFloat | None = None
    # Room on the nodes is judged for the worst case the rollout and the autoscaler can reach:
    # the HPA's maxReplicas (else spec.replicas) plus the rolling update's maxSurge. false: the
    # current replicas only (a cluster autoscaler adds nodes on demand).
    capacity_worst_case: bool = True
    # Fraction of each node's allocatable CPU and memory kept free when judging room
    # (`capacity_margin = 0.1`: the worst case must fit in 90 %).
    capacity_margin: Annotated[float, Range(ge=0, le=0.9)] = 0.0
    # The StorageClass of the workload's bound volumes must allow volume expansion.
    require_volume_expansion: bool = False

    # CronJobs suspended on purpose in this environment (`suspended_cronjobs =
    # ["CronJob/report-nightly"]`, or the bare name): K8S-ROLLOUT accepts them suspended and says
    # so; any other suspended CronJob in [kubernetes] workloads fails it.
    suspended_cronjobs: tuple[CronJobName, ...] = ()

    helm: HelmExpectations | None = None
    rollout: RolloutWait = dataclasses.field(default_factory=RolloutWait)
    pod_logs: PodLogScan = dataclasses.field(default_factory=PodLogScan)
    # Image vulnerability reports (SEC-K8S-IMAGE-VULNS); unset: the item is not applicable.
    vulnerabilities: VulnerabilityScan | None = None

    # Every pod spec must set priorityClassName (K8S-PRIORITY-CLASS, Polaris
    # priorityClassNotSet); opt-in.
    require_priority_class: bool = False
    # Label app.kubernetes.io/instance = metadata.name (K8S-INSTANCE-LABEL); false for charts
    # that name objects <release>-<chart>.
    instance_label: bool = True

    # The Kubernetes version manifests are validated against (K8S-SCHEMA); default: the newest
    # the installed kubernetes-validate ships.
    schema_version: str | None = None

    # Pre-deploy mode from the profile: rendered manifests (a file or a folder; relative paths
    # from the rootdir). --manifests PATH on the command line wins.
    manifests: str | None = None

    def suspended_ok(self, cronjob: str) -> bool:
        """Is the CronJob named ``cronjob`` listed in ``suspended_cronjobs``?"""
        return cronjob in {entry.rpartition("/")[2] for entry in self.suspended_cronjobs}
