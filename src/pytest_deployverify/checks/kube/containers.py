"""Per-container hygiene of a pod spec: resources, probes, image tag and pull policy.

Mirrors the container checks of Polaris and kube-score; works on any object with a pod template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding, Severity
from pytest_deployverify.checks.kube.catalog import check
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
        ("requests", "cpu", "cpu-requests-missing", "so the scheduler reserves it (e.g. 250m)"),
        ("requests", "memory", "memory-requests-missing", "so the scheduler reserves it"),
        ("limits", "memory", "memory-limits-missing", "so a leak is OOM-killed, not the node"),
    ]
    if require_cpu_limit:
        wanted.append(("limits", "cpu", "cpu-limits-missing", "so one pod cannot starve others"))
    for container in containers(pod_spec(workload)):
        where = subject(workload, _name(container))
        for section, resource, check_id, why in wanted:
            amount = try_parse_quantity(dig(container, "resources", section, resource))
            if amount is None or amount <= 0:
                found.append(
                    check(check_id).finding(
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
                check("readiness-probe-missing").finding(
                    where,
                    "no readinessProbe: traffic reaches the pod before it can serve; add a "
                    "readinessProbe on the readiness endpoint (e.g. httpGet /health/ready)",
                )
            )
        if not _handler(liveness):
            found.append(
                check("liveness-probe-missing").finding(
                    where,
                    "no livenessProbe: a hung process is never restarted; add a livenessProbe "
                    "on a cheap liveness endpoint (e.g. httpGet /health/live)",
                )
            )
        if _handler(liveness) and _handler(liveness) == _handler(readiness):
            found.append(
                check("pod-probes-identical").finding(
                    where,
                    f"livenessProbe and readinessProbe run the same check {_handler(liveness)}: "
                    "a dependency outage then restarts every pod; point liveness at a check "
                    "that only proves the process is alive",
                )
            )
    return found


def image_findings(workload: KubeObject) -> list[Finding]:
    """Image pinned by tag (not latest) or digest; pull policy as kube-score wants it (Always)."""
    found: list[Finding] = []
    for container in containers(pod_spec(workload)):
        where = subject(workload, _name(container))
        image = str(container.get("image") or "")
        ref = parse_image(image)
        if not ref.pinned:
            observed = "no tag" if not ref.tag else "tag latest"
            found.append(
                check("container-image-tag").finding(
                    where,
                    f"image {image!r} has {observed}: what runs can change without a deploy; "
                    "use the release version tag (e.g. :1.0.0) or a digest",
                )
            )
        found.extend(_pull_policy(where, image, ref.pinned, container.get("imagePullPolicy")))
    return found


def _pull_policy(where: str, image: str, pinned: bool, policy: object) -> list[Finding]:
    # kube-score's rule: an unset policy is fine only where Kubernetes defaults it to Always
    # (untagged or :latest images, which container-image-tag reports anyway).
    spec = check("container-image-pull-policy")
    if policy is None or policy == "":
        if not pinned:
            return []
        return [
            spec.finding(
                where,
                f"imagePullPolicy unset for {image!r}, so it defaults to IfNotPresent and "
                "imagePullSecrets are not re-checked; set imagePullPolicy: Always",
            )
        ]
    if policy == "Always":
        return []
    if policy == "Never":
        return [
            spec.finding(
                where,
                "imagePullPolicy is Never: a new node without the image cannot start the pod; "
                "set imagePullPolicy: Always",
                severity=Severity.HIGH,
            )
        ]
    return [
        spec.finding(
            where,
            f"imagePullPolicy is {policy}: a cached image is used without re-checking "
            "imagePullSecrets; set imagePullPolicy: Always",
        )
    ]


def _handler(probe: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a probe that says what is checked; timings are deliberately ignored."""
    return {key: probe[key] for key in PROBE_HANDLERS if probe.get(key)}


def _name(container: Mapping[str, Any]) -> str:
    return str(container.get("name") or "<unnamed>")
