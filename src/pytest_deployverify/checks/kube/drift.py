"""Drift: live objects compared with what a Helm release (or any rendered manifest) says.

Only the fields that matter for a release are compared: container images, replicas (unless an
HPA manages them), literal env values, resources, probes, Service ports and selectors. Fields
the API server fills in (probe defaults, ``protocol: TCP``, quantities rewritten as ``1Gi``)
do not count as drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.objects import (
    CLUSTER_SCOPED_KINDS,
    KubeObject,
    dig,
    kind,
    mapping,
    name,
    namespace,
    sequence,
    subject,
)
from pytest_deployverify.checks.kube.quantities import try_parse_quantity
from pytest_deployverify.checks.kube.sensitive import why_secret
from pytest_deployverify.checks.kube.workloads import targeting_hpas

TEMPLATED_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")

Drift = tuple[str, object, object]
"""(field path, rendered value, live value)."""


def drift_findings(
    rendered: Iterable[KubeObject],
    live: Iterable[KubeObject],
    *,
    hpas: Iterable[KubeObject] = (),
    default_namespace: str | None = None,
) -> list[Finding]:
    """A finding per drifted field (path, rendered vs live) and per rendered object not live.

    ``rendered`` are the objects a release (or any manifest) renders, parsed (a release's
    manifest text is parsed by the component that read it: YAML is not parsed here); ``live``
    the objects read from the cluster (with ``kind`` set). HPAs found among either also exempt
    their targets' replicas.
    """
    objects = _rendered_objects(rendered, default_namespace)
    live_list = list(live)
    live_index = {(kind(o), namespace(o), name(o)): o for o in live_list}
    all_hpas = [*hpas, *(o for o in [*objects, *live_list] if kind(o) == "HorizontalPodAutoscaler")]
    found: list[Finding] = []
    for obj in objects:
        where = subject(obj)
        current = live_index.get((kind(obj), namespace(obj), name(obj)))
        if current is None:
            found.append(
                rules.HELM_DRIFT_MISSING(
                    where,
                    "rendered by the release but absent from the cluster; re-apply the release "
                    "(helm upgrade) or find out who deleted it",
                )
            )
            continue
        for path, want, have in compare(obj, current, hpas=all_hpas):
            found.append(
                rules.HELM_DRIFT(
                    where,
                    f"{path}: rendered {_show(path, want)}, live {_show(path, have)}; a manual "
                    "change: fold it into the chart or re-apply the release",
                )
            )
    return found


def compare(
    rendered: KubeObject, live: KubeObject, *, hpas: Iterable[KubeObject] = ()
) -> list[Drift]:
    """The drifted fields between one rendered object and its live counterpart."""
    if kind(rendered) in TEMPLATED_KINDS:
        return _workload(rendered, live, list(hpas))
    if kind(rendered) == "Service":
        return _service(rendered, live)
    return []


def _rendered_objects(
    rendered: Iterable[KubeObject], default_namespace: str | None
) -> list[KubeObject]:
    # Objects get the same namespace defaulting a manifest would.
    ns = default_namespace or "default"
    return [
        obj
        if namespace(obj) or kind(obj) in CLUSTER_SCOPED_KINDS
        else {**obj, "metadata": {**mapping(obj.get("metadata")), "namespace": ns}}
        for obj in rendered
    ]


def _workload(rendered: KubeObject, live: KubeObject, hpas: list[KubeObject]) -> list[Drift]:
    drifts: list[Drift] = []
    spec, live_spec = mapping(rendered.get("spec")), mapping(live.get("spec"))
    # An HPA owns replicas: a difference there is scaling, not drift.
    managed = bool(targeting_hpas(rendered, hpas))
    if "replicas" in spec and not managed:
        want, have = spec.get("replicas"), live_spec.get("replicas")
        drifts += [] if _same(want, have) else [("spec.replicas", want, have)]
    drifts += _subset("spec.selector", spec.get("selector"), live_spec.get("selector"))
    pod, live_pod = (
        mapping(dig(spec, "template", "spec")),
        mapping(dig(live_spec, "template", "spec")),
    )
    for group in ("initContainers", "containers"):
        live_by_name = {
            str(mapping(c).get("name")): mapping(c) for c in sequence(live_pod.get(group))
        }
        for container in sequence(pod.get(group)):
            container = mapping(container)
            cname = str(container.get("name"))
            base = f"spec.template.spec.{group}[{cname}]"
            other = live_by_name.get(cname)
            if other is None:
                drifts.append((base, "present", "absent"))
                continue
            drifts += _container(base, container, other)
    return drifts


def _container(base: str, want: Mapping[str, Any], have: Mapping[str, Any]) -> list[Drift]:
    drifts: list[Drift] = []
    if not _same(want.get("image"), have.get("image")):
        drifts.append((f"{base}.image", want.get("image"), have.get("image")))
    live_env = {str(mapping(e).get("name")): mapping(e) for e in sequence(have.get("env"))}
    for entry in sequence(want.get("env")):
        entry = mapping(entry)
        if "value" not in entry and "valueFrom" in entry:
            continue  # only literal values are compared; references are checked elsewhere
        var = str(entry.get("name"))
        other = live_env.get(var)
        live_value = None if other is None else other.get("value", "")
        if other is None or "valueFrom" in other or not _same(entry.get("value", ""), live_value):
            drifts.append((f"{base}.env[{var}]", entry.get("value", ""), live_value))
    for section in ("requests", "limits"):
        want_res = mapping(dig(want, "resources", section))
        have_res = mapping(dig(have, "resources", section))
        for resource in sorted(set(want_res) | set(have_res)):
            a, b = want_res.get(resource), have_res.get(resource)
            if try_parse_quantity(a) != try_parse_quantity(b) or (a is None) != (b is None):
                drifts.append((f"{base}.resources.{section}.{resource}", a, b))
    for probe in PROBES:
        a, b = want.get(probe), have.get(probe)
        if (a is None) != (b is None):
            drifts.append((f"{base}.{probe}", "set" if a else None, "set" if b else None))
        elif a is not None:
            drifts += _subset(f"{base}.{probe}", a, b)
    return drifts


def _service(rendered: KubeObject, live: KubeObject) -> list[Drift]:
    drifts: list[Drift] = []
    want_sel = mapping(dig(rendered, "spec", "selector"))
    have_sel = mapping(dig(live, "spec", "selector"))
    if {str(k): str(v) for k, v in want_sel.items()} != {
        str(k): str(v) for k, v in have_sel.items()
    }:
        drifts.append(("spec.selector", dict(want_sel), dict(have_sel)))
    live_ports = [mapping(p) for p in sequence(dig(live, "spec", "ports"))]
    for index, port in enumerate(sequence(dig(rendered, "spec", "ports"))):
        port = mapping(port)
        label = str(port.get("name") or port.get("port") or index)
        path = f"spec.ports[{label}]"
        other = next(
            (
                p
                for p in live_ports
                if (port.get("name") and p.get("name") == port.get("name"))
                or (not port.get("name") and _same(p.get("port"), port.get("port")))
            ),
            None,
        )
        if other is None:
            drifts.append((path, port.get("port"), None))
            continue
        defaults = {"protocol": "TCP", "targetPort": port.get("port")}
        for key in ("port", "targetPort", "protocol", "nodePort"):
            if key == "nodePort" and key not in port:
                continue  # allocated by the API server when the chart leaves it out
            want = port.get(key, defaults.get(key))
            if not _same(want, other.get(key, defaults.get(key))):
                drifts.append((f"{path}.{key}", want, other.get(key)))
    return drifts


def _subset(path: str, want: object, have: object) -> list[Drift]:
    """Keys the rendered side sets must match; keys only the API server added are ignored."""
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return [(path, want, have)]
        drifts: list[Drift] = []
        for key, value in want.items():
            drifts += _subset(f"{path}.{key}", value, have.get(key))
        return drifts
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [(path, want, have)]
        drifts = []
        for index, (a, b) in enumerate(zip(want, have, strict=True)):
            drifts += _subset(f"{path}[{index}]", a, b)
        return drifts
    return [] if _same(want, have) else [(path, want, have)]


def _same(a: object, b: object) -> bool:
    if a == b:
        return True
    # YAML writes 8080 and "8080" alike for a template; the API keeps what it was given.
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return False
    return str(a) == str(b)


def _show(path: str, value: object) -> str:
    # Literal env values of secret-like variables (by name or by value) stay out of reports.
    if ".env[" in path and value is not None:
        var = path.rsplit(".env[", 1)[1].rstrip("]")
        if why_secret(var, str(value)) is not None:
            return "(not shown)"
    return "absent" if value is None else repr(value)
