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
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pytest_deployverify.profile.fields import Count, PositiveFloat
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


@model
class RolloutWait:
    """``[kubernetes.expect.rollout]``: how long the rollout check waits for the rollout to settle.

    ``timeout = 0`` judges one snapshot (the default: a verification run after the deploy job has
    already waited). States waiting cannot cure (CrashLoopBackOff, ImagePullBackOff, progress
    deadline exceeded) end the wait at once.
    """

    timeout: Annotated[float, Range(ge=0, le=3600)] = 0.0
    interval: Annotated[float, Range(gt=0, le=300)] = 5.0


@model
class HelmExpectations:
    """``[kubernetes.expect.helm]``: the Helm release that installed the workloads."""

    release: str
    chart: str | None = None
    chart_version: str | None = None
    app_version: str | None = None  # None: the profile's top-level ``version``
    drift: bool = True  # compare the release's rendered manifest with the live objects


@model
class PodLogScan:
    """``[kubernetes.expect.pod_logs]``: SEC-K8S-POD-LOGS reads the workloads' container logs
    through the API (``pods/log``, a GET) and scans them for secrets; nothing is printed but the
    kind of secret, the pod, the container and the line number.

    ``tail_lines`` bounds each read; ``previous`` also reads the log of the previous instance of
    containers that restarted; ``max_pods`` bounds how many pods of a workload are read."""

    enabled: bool = True
    tail_lines: Annotated[int, Range(ge=1, le=10000)] = 500
    previous: bool = True
    max_pods: Annotated[int, Range(ge=1, le=100)] = 10


@model
class KubeExpectations:
    """``[kubernetes.expect]``."""

    # The workload whose environment and release image are checked (default: the first of
    # [kubernetes] workloads), and its application container (default: its first container).
    app: str | None = None
    container: str | None = None

    # Configuration of the app's container.
    required_env: tuple[str, ...] = ()
    expected_env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    forbidden_env: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # "secret-name/KEY" = minimum length, e.g. {"api-gateway-secrets/JWT_SECRET" = 32}.
    secret_min_length: Mapping[str, AtLeastOne] = dataclasses.field(default_factory=dict)
    # Variable or ConfigMap key names that look secret (by name or value) but are not.
    sensitive_env_allow: tuple[str, ...] = ()
    # ConfigMaps/Secrets created outside the release (a secrets operator): pre-deploy mode does
    # not require them among the manifests.
    external_refs: tuple[str, ...] = ()

    # Images.
    pull_policy: PullPolicy = PullPolicy.PINNED

    # Availability.
    min_replicas: AtLeastOne = 2
    require_hpa: bool = True
    require_cpu_limit: bool = True
    # Spread across nodes/zones is judged for workloads running at least this many replicas;
    # topology_spread = false makes K8S-TOPOLOGY not applicable.
    topology_spread: bool = True
    topology_spread_min_replicas: Annotated[int, Range(ge=2)] = 2
    max_restarts: Count = 0  # container restarts allowed since the rollout began
    image_digest: str | None = None  # "sha256:…" the app's running image must have

    # Network. NetworkPolicy coverage is judged per direction: by default both, as Polaris's
    # missingNetworkPolicy; ["ingress"] relaxes egress.
    network_policy_directions: tuple[Direction, ...] = (Direction.INGRESS, Direction.EGRESS)
    service: str | None = None  # the app's Service (default: Services selecting its pods)
    ingress: str | None = None  # default: the Ingresses with a rule for public_host
    public_host: str | None = None  # enables the Ingress and DNS checks
    # Addresses public_host must resolve to (default: the Ingress load balancer's).
    dns_addresses: tuple[str, ...] = ()
    # Pinned answers, like curl --resolve: for a host whose record is not published yet (before
    # a DNS cutover, or the local sandbox). The evidence says the answer was pinned.
    resolve: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    # Capacity.
    storage_classes: tuple[str, ...] = ()  # besides those the workloads' claims name
    require_default_storage_class: bool = False
    image_size_limit_mb: PositiveFloat | None = None  # MB = 1,000,000 bytes, as registries show

    helm: HelmExpectations | None = None
    rollout: RolloutWait = dataclasses.field(default_factory=RolloutWait)
    pod_logs: PodLogScan = dataclasses.field(default_factory=PodLogScan)

    # Scheduling: Polaris priorityClassNotSet is opt-in here (K8S-PRIORITY-CLASS).
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
