"""Security context of a pod spec: non-root, no escalation, read-only root, capabilities, host
namespaces, host paths and processes, /proc masks, Linux hardening.

Pod-level ``securityContext`` is the default; a container-level setting overrides it, as in
Kubernetes. Capability names are compared case-insensitively, with or without ``CAP_``, and
``ALL`` is understood on both sides (``add: [all]`` is dangerous, ``drop: [ALL]`` drops every one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    as_int,
    containers,
    dig,
    mapping,
    pod_spec,
    pod_template,
    sequence,
    subject,
)

APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io"
# Dropping every one of these is as good as dropping ALL (Polaris insecureCapabilities).
INSECURE_CAPABILITY_NAMES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_ADMIN",
        "NET_BIND_SERVICE",
        "NET_RAW",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
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
    found += _host_paths(workload, spec)
    pod_context = mapping(spec.get("securityContext"))
    template_annotations = mapping(dig(pod_template(workload), "metadata", "annotations"))
    if dig(pod_context, "windowsOptions", "hostProcess") is True:
        found.append(
            rules.HOST_PROCESS(
                subject(workload),
                "securityContext.windowsOptions.hostProcess: true runs every container as a "
                "process on the Windows node with its privileges; remove it",
            )
        )
    for container in containers(spec):
        cname = str(container.get("name") or "<unnamed>")
        where = subject(workload, cname)
        context = mapping(container.get("securityContext"))
        found += _root(where, pod_context, context)
        found += _privileges(where, context, dangerous)
        found += _host_ports(where, container)
        found += _host_process_and_proc(where, context)
        found += _hardening(where, cname, pod_context, context, template_annotations)
    return found


def _root(where: str, pod: Mapping[str, Any], ctx: Mapping[str, Any]) -> list[Finding]:
    non_root = ctx.get("runAsNonRoot", pod.get("runAsNonRoot"))
    user = ctx.get("runAsUser", pod.get("runAsUser"))
    if user is not None and as_int(user, -1) == 0:
        return [
            rules.RUN_AS_ROOT(
                where,
                "runAsUser is 0 (root); run as an unprivileged uid (runAsUser: 10001) "
                "with runAsNonRoot: true",
            )
        ]
    if non_root is True or as_int(user, 0) > 0:
        return []
    return [
        rules.RUN_AS_ROOT(
            where,
            "neither runAsNonRoot: true nor a non-zero runAsUser is set, so the image may run "
            "as root; set securityContext.runAsNonRoot: true (pod or container level)",
        )
    ]


def _privileges(where: str, ctx: Mapping[str, Any], dangerous: frozenset[str]) -> list[Finding]:
    found: list[Finding] = []
    if ctx.get("privileged") is True:
        found.append(
            rules.PRIVILEGED(
                where,
                "privileged: true gives the container full access to the node; remove it "
                "and add only the capability actually needed",
            )
        )
    if ctx.get("allowPrivilegeEscalation") is not False:
        observed = "true" if ctx.get("allowPrivilegeEscalation") is True else "unset (true)"
        found.append(
            rules.PRIVILEGE_ESCALATION(
                where,
                f"allowPrivilegeEscalation is {observed}; set "
                "securityContext.allowPrivilegeEscalation: false",
            )
        )
    if ctx.get("readOnlyRootFilesystem") is not True:
        found.append(
            rules.WRITABLE_ROOT(
                where,
                "the root filesystem is writable; set securityContext.readOnlyRootFilesystem: "
                "true and mount an emptyDir where the app must write",
            )
        )
    added = {_cap(c) for c in sequence(dig(ctx, "capabilities", "add"))}
    risky = sorted(added & dangerous)
    if risky:
        found.append(
            rules.DANGEROUS_CAPABILITIES(
                where,
                f"capabilities added: {', '.join(risky)}; remove them from "
                "securityContext.capabilities.add",
            )
        )
    dropped = {_cap(c) for c in sequence(dig(ctx, "capabilities", "drop"))}
    if "ALL" not in dropped and not dropped >= INSECURE_CAPABILITY_NAMES:
        found.append(
            rules.INSECURE_CAPABILITIES(
                where,
                "default capabilities are kept (capabilities.drop lacks ALL); set "
                "securityContext.capabilities.drop: [ALL] and add back only what is needed",
            )
        )
    return found


def _host_process_and_proc(where: str, ctx: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    if dig(ctx, "windowsOptions", "hostProcess") is True:
        found.append(
            rules.HOST_PROCESS(
                where,
                "securityContext.windowsOptions.hostProcess: true runs the container as a "
                "process on the Windows node with its privileges; remove it",
            )
        )
    proc = ctx.get("procMount")
    if proc is not None and str(proc) != "Default":
        found.append(
            rules.PROC_MOUNT(
                where,
                f"securityContext.procMount is {proc}: the container sees /proc unmasked; "
                "remove procMount (Default keeps the masks)",
            )
        )
    return found


def _hardening(
    where: str,
    cname: str,
    pod: Mapping[str, Any],
    ctx: Mapping[str, Any],
    template_annotations: Mapping[str, Any],
) -> list[Finding]:
    """Polaris linuxHardening: seccomp (not Unconfined), SELinux options, AppArmor, or at least
    one dropped capability (and ``ALL`` not added) restricts the container."""
    if template_annotations.get(f"{APPARMOR_ANNOTATION}/{cname}"):
        return []
    apparmor = str(dig(ctx, "appArmorProfile", "type") or dig(pod, "appArmorProfile", "type") or "")
    if apparmor and apparmor != "Unconfined":
        return []
    pod_seccomp = str(dig(pod, "seccompProfile", "type") or "")
    own_seccomp = str(dig(ctx, "seccompProfile", "type") or "")
    seccomp = own_seccomp or pod_seccomp
    if seccomp and seccomp != "Unconfined":
        return []
    if mapping(ctx.get("seLinuxOptions")) or mapping(pod.get("seLinuxOptions")):
        return []
    dropped = [_cap(c) for c in sequence(dig(ctx, "capabilities", "drop"))]
    added = {_cap(c) for c in sequence(dig(ctx, "capabilities", "add"))}
    if dropped and "ALL" not in added:
        return []
    observed = f"seccompProfile {seccomp}" if seccomp else "no seccompProfile"
    return [
        rules.LINUX_HARDENING(
            where,
            f"{observed}, no SELinux options, no AppArmor profile and no dropped capability; set "
            "securityContext.seccompProfile.type: RuntimeDefault (pod or container) or drop "
            "capabilities",
        )
    ]


def _host_paths(workload: KubeObject, spec: Mapping[str, Any]) -> list[Finding]:
    paths = [
        f"{mapping(v).get('name')} ({dig(v, 'hostPath', 'path')})"
        for v in sequence(spec.get("volumes"))
        if mapping(v).get("hostPath") is not None
    ]
    if not paths:
        return []
    return [
        rules.HOST_PATH(
            subject(workload),
            f"hostPath volume(s) {', '.join(paths)} expose the node's filesystem to the pod; use "
            "an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead",
        )
    ]


def _host_namespaces(workload: KubeObject, spec: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    where = subject(workload)
    for key, rule in (
        ("hostNetwork", rules.HOST_NETWORK),
        ("hostPID", rules.HOST_PID),
        ("hostIPC", rules.HOST_IPC),
    ):
        if spec.get(key) is True:
            found.append(
                rule(where, f"{key}: true shares the node's namespace with the pod; remove it")
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
        rules.HOST_PORT(
            where,
            f"hostPort {', '.join(map(str, ports))} binds the node's port and limits "
            "scheduling to one pod per node; expose the port through a Service instead",
        )
    ]


def _cap(value: object) -> str:
    text = str(value).strip().upper()
    return text.removeprefix("CAP_")
