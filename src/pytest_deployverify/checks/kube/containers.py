"""Per-container hygiene of a pod spec: resources, probes, image tag and pull policy.

Mirrors the container checks of Polaris and kube-score; works on any object with a pod template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding, Severity
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.expectations import PullPolicy
from pytest_deployverify.checks.kube.images import parse_image
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    containers,
    dig,
    mapping,
    pod_spec,
    subject,
)
from pytest_deployverify.checks.kube.quantities import try_parse_quantity

PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")


def resource_findings(workload: KubeObject, *, require_cpu_limit: bool = True) -> list[Finding]:
    """CPU/memory requests and limits set (and non-zero) on every container, init ones included."""
    found: list[Finding] = []
    wanted = [
        ("requests", "cpu", rules.CPU_REQUESTS, "so the scheduler reserves it (e.g. 250m)"),
        ("requests", "memory", rules.MEMORY_REQUESTS, "so the scheduler reserves it"),
        ("limits", "memory", rules.MEMORY_LIMITS, "so a leak is OOM-killed, not the node"),
    ]
    if require_cpu_limit:
        wanted.append(("limits", "cpu", rules.CPU_LIMITS, "so one pod cannot starve others"))
    for container in containers(pod_spec(workload)):
        where = subject(workload, _name(container))
        for section, resource, rule, why in wanted:
            amount = try_parse_quantity(dig(container, "resources", section, resource))
            if amount is None or amount <= 0:
                found.append(
                    rule(
                        where,
                        f"no {resource} {section[:-1]} set; "
                        f"set resources.{section}.{resource} {why}",
                    )
                )
    return found


def probe_findings(workload: KubeObject) -> list[Finding]:
    """Liveness and readiness probes on every regular container, and not the same check."""
    found: list[Finding] = []
    for container in containers(pod_spec(workload), init=False):
        where = subject(workload, _name(container))
        liveness = mapping(container.get("livenessProbe"))
        readiness = mapping(container.get("readinessProbe"))
        if not _handler(readiness):
            found.append(
                rules.READINESS_PROBE(
                    where,
                    "no readinessProbe: traffic reaches the pod before it can serve; add a "
                    "readinessProbe on the readiness endpoint (e.g. httpGet /health/ready)",
                )
            )
        if not _handler(liveness):
            found.append(
                rules.LIVENESS_PROBE(
                    where,
                    "no livenessProbe: a hung process is never restarted; add a livenessProbe "
                    "on a cheap liveness endpoint (e.g. httpGet /health/live)",
                )
            )
        if _handler(liveness) and _handler(liveness) == _handler(readiness):
            found.append(
                rules.PROBES_IDENTICAL(
                    where,
                    f"livenessProbe and readinessProbe run the same check {_handler(liveness)}: "
                    "a dependency outage then restarts every pod; point liveness at a check "
                    "that only proves the process is alive",
                )
            )
    return found


def image_findings(
    workload: KubeObject, *, pull_policy: PullPolicy = PullPolicy.PINNED
) -> list[Finding]:
    """Image pinned by tag (not latest) or digest; a pull policy that fits how it is pinned.

    ``pull_policy`` (``[kubernetes.expect] pull_policy``) says what is judged: ``pinned`` (the
    default) asks ``Always`` only of images that can move (``:latest``, no tag) and accepts
    ``IfNotPresent`` on a version tag or digest, as kube-score and Polaris do in practice;
    ``always`` is kube-score's strict rule (anything but ``Always`` is reported); ``off`` judges
    no pull policy. ``Never`` is reported (high) unless the policy is ``off``.
    """
    found: list[Finding] = []
    for container in containers(pod_spec(workload)):
        where = subject(workload, _name(container))
        image = str(container.get("image") or "")
        ref = parse_image(image)
        if not ref.pinned:
            observed = "no tag" if not ref.tag else "tag latest"
            found.append(
                rules.IMAGE_TAG(
                    where,
                    f"image {image!r} has {observed}: what runs can change without a deploy; "
                    "use the release version tag (e.g. :1.0.0) or a digest",
                )
            )
        found += pull_policy_findings(
            where, image, ref.pinned, container.get("imagePullPolicy"), pull_policy
        )
    return found


def effective_pull_policy(pinned: bool, policy: object) -> str:
    """What the kubelet does: an unset policy is ``Always`` for an unpinned image (``:latest``
    or no tag), else ``IfNotPresent``."""
    if policy is None or policy == "":
        return "IfNotPresent" if pinned else "Always"
    return str(policy)


def pull_policy_findings(
    where: str, image: str, pinned: bool, policy: object, mode: PullPolicy = PullPolicy.PINNED
) -> list[Finding]:
    """The pull policy judged against ``mode`` (see ``image_findings``)."""
    if mode is PullPolicy.OFF:
        return []
    effective = effective_pull_policy(pinned, policy)
    shown = f"imagePullPolicy is {effective}" + (" (unset)" if not policy else "")
    if effective == "Always":
        return []
    if effective == "Never":
        return [
            rules.PULL_POLICY(
                where,
                "imagePullPolicy is Never: a new node without the image cannot start the pod; "
                "set imagePullPolicy: Always (or IfNotPresent for a pinned image)",
                Severity.HIGH,
            )
        ]
    if mode is PullPolicy.ALWAYS:
        if not policy:
            return [
                rules.PULL_POLICY(
                    where,
                    f"imagePullPolicy unset for {image!r}, so it defaults to IfNotPresent and "
                    "imagePullSecrets are not re-checked; set imagePullPolicy: Always "
                    '([kubernetes.expect] pull_policy = "always")',
                )
            ]
        return [
            rules.PULL_POLICY(
                where,
                f"{shown}: a cached image is used without re-checking imagePullSecrets; set "
                'imagePullPolicy: Always ([kubernetes.expect] pull_policy = "always")',
            )
        ]
    if pinned:
        return []  # a version tag or digest cannot move: the cached copy is the release
    return [
        rules.PULL_POLICY(
            where,
            f"{shown} on the unpinned image {image!r}: each node keeps whatever it pulled "
            "first, so pods run different code; set imagePullPolicy: Always, or pin a version "
            "tag or digest",
        )
    ]


def _handler(probe: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a probe that says what is checked; timings are deliberately ignored."""
    return {key: probe[key] for key in PROBE_HANDLERS if probe.get(key)}


def _name(container: Mapping[str, Any]) -> str:
    return str(container.get("name") or "<unnamed>")
