"""Security context of a pod spec: non-root, no escalation, read-only root, capabilities, host
namespaces.

Pod-level ``securityContext`` is the default; a container-level setting overrides it, as in
Kubernetes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube.catalog import check
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    as_int,
    containers,
    dig,
    mapping,
    pod_spec,
    sequence,
    subject,
)

# Capabilities that amount to (near) root on the node; Polaris's list plus the usual escapes.
DANGEROUS_CAPABILITIES = frozenset(
    {
        "ALL",
        "BPF",
        "DAC_READ_SEARCH",
        "MAC_ADMIN",
        "MAC_OVERRIDE",
        "NET_ADMIN",
        "PERFMON",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_MODULE",
        "SYS_PTRACE",
        "SYS_RAWIO",
        "SYS_TIME",
    }
)


def security_findings(
    workload: KubeObject, *, dangerous: frozenset[str] = DANGEROUS_CAPABILITIES
) -> list[Finding]:
    """Container and pod security settings, reported per container where they apply."""
    spec = pod_spec(workload)
    found = _host_namespaces(workload, spec)
    pod_context = mapping(spec.get("securityContext"))
    for container in containers(spec):
        where = subject(workload, str(container.get("name") or "<unnamed>"))
        context = mapping(container.get("securityContext"))
        found += _root(where, pod_context, context)
        found += _privileges(where, context, dangerous)
        found += _host_ports(where, container)
    return found


def _root(where: str, pod: Mapping[str, Any], ctx: Mapping[str, Any]) -> list[Finding]:
    non_root = ctx.get("runAsNonRoot", pod.get("runAsNonRoot"))
    user = ctx.get("runAsUser", pod.get("runAsUser"))
    if user is not None and as_int(user, -1) == 0:
        return [
            check("run-as-root-allowed").finding(
                where,
                "runAsUser is 0 (root); run as an unprivileged uid (runAsUser: 10001) "
                "with runAsNonRoot: true",
            )
        ]
    if non_root is True or as_int(user, 0) > 0:
        return []
    return [
        check("run-as-root-allowed").finding(
            where,
            "neither runAsNonRoot: true nor a non-zero runAsUser is set, so the image may run "
            "as root; set securityContext.runAsNonRoot: true (pod or container level)",
        )
    ]


def _privileges(where: str, ctx: Mapping[str, Any], dangerous: frozenset[str]) -> list[Finding]:
    found: list[Finding] = []
    if ctx.get("privileged") is True:
        found.append(
            check("run-as-privileged").finding(
                where,
                "privileged: true gives the container full access to the node; remove it "
                "and add only the capability actually needed",
            )
        )
    if ctx.get("allowPrivilegeEscalation") is not False:
        observed = "true" if ctx.get("allowPrivilegeEscalation") is True else "unset (true)"
        found.append(
            check("privilege-escalation-allowed").finding(
                where,
                f"allowPrivilegeEscalation is {observed}; set "
                "securityContext.allowPrivilegeEscalation: false",
            )
        )
    if ctx.get("readOnlyRootFilesystem") is not True:
        found.append(
            check("not-read-only-root-filesystem").finding(
                where,
                "the root filesystem is writable; set securityContext.readOnlyRootFilesystem: "
                "true and mount an emptyDir where the app must write",
            )
        )
    added = {_cap(c) for c in sequence(dig(ctx, "capabilities", "add"))}
    risky = sorted(added & dangerous)
    if risky:
        found.append(
            check("dangerous-capabilities").finding(
                where,
                f"capabilities added: {', '.join(risky)}; remove them from "
                "securityContext.capabilities.add",
            )
        )
    dropped = {_cap(c) for c in sequence(dig(ctx, "capabilities", "drop"))}
    if "ALL" not in dropped:
        found.append(
            check("insecure-capabilities").finding(
                where,
                "default capabilities are kept (capabilities.drop lacks ALL); set "
                "securityContext.capabilities.drop: [ALL] and add back only what is needed",
            )
        )
    return found


def _host_namespaces(workload: KubeObject, spec: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    where = subject(workload)
    for key, check_id in (
        ("hostNetwork", "host-network-set"),
        ("hostPID", "host-pid-set"),
        ("hostIPC", "host-ipc-set"),
    ):
        if spec.get(key) is True:
            found.append(
                check(check_id).finding(
                    where, f"{key}: true shares the node's namespace with the pod; remove it"
                )
            )
    return found


def _host_ports(where: str, container: Mapping[str, Any]) -> list[Finding]:
    ports = [
        as_int(mapping(p).get("hostPort"))
        for p in sequence(container.get("ports"))
        if as_int(mapping(p).get("hostPort"))
    ]
    if not ports:
        return []
    return [
        check("host-port-set").finding(
            where,
            f"hostPort {', '.join(map(str, ports))} binds the node's port and limits "
            "scheduling to one pod per node; expose the port through a Service instead",
        )
    ]


def _cap(value: object) -> str:
    text = str(value).upper()
    return text.removeprefix("CAP_")
