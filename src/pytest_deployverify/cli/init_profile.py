"""The text ``deployverify init`` writes: a commented profile built from what was read from a cluster
(plain dicts, as the read-only reader returns them), or a commented template without one.

Pure: no I/O, no client library; ``cli.init_command`` reads the cluster and writes the file.

What is read is written as facts (the namespace, the workloads, the Service, the Ingress); what is
inferred is marked ``guess:`` in a comment (the app, the public host, the release version when
sources disagree, candidate Redis/PostgreSQL/Prometheus/Alertmanager endpoints). Secrets never
appear: a secret is ``${VAR}``, and the comment names the variable to export and, when the cluster
shows it, which Secret holds the value. Candidate component tables are written commented out:
whether their in-cluster addresses are reachable depends on where the verification runs, and
their secrets must be exported first. Only what ``deployverify profile check`` accepts with no
variable set is written active.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.kube.objects import (
    as_int,
    containers,
    dig,
    kind,
    labels,
    map_selector_matches,
    mapping,
    name,
    namespace,
    pod_spec,
    selector_matches,
    sequence,
    template_labels,
)
from pytest_deployverify.checks.kube.snapshots import WORKLOAD_KINDS
from pytest_deployverify.profile.reference import toml_value

SCHEMA_FILE = "profile.schema.json"
WIDTH = 99  # comment lines are wrapped to this width
# Every kind a cluster may run workloads as, most usual first; the [kubernetes] table takes those
# in WORKLOAD_KINDS (the others are named in a comment).
WORKLOAD_KIND_ORDER = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job")
READ_KINDS = (
    *WORKLOAD_KIND_ORDER,
    "Service",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
)
_VERSION = re.compile(r"^v?\d+(\.\d+)+([-+][0-9A-Za-z.+-]+)?$")


def accepted_kinds() -> tuple[str, ...]:
    """The workload kinds the ``[kubernetes] workloads`` key takes (``NAME`` is a Deployment,
    ``KIND/NAME`` the others)."""
    taken = set(WORKLOAD_KINDS.values())
    return tuple(k for k in WORKLOAD_KIND_ORDER if k in taken) + tuple(
        sorted(taken - set(WORKLOAD_KIND_ORDER))
    )


@dataclass(frozen=True)
class ClusterView:
    """What init read: the objects of the namespace by kind, and (when the credentials may list
    them) the Services and workloads of every namespace, for candidate endpoints."""

    namespace: str
    context: str | None = None
    kubeconfig: str | None = None
    endpoint: str = ""
    objects: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    # Every namespace's Services and workloads (empty when listing them was refused).
    cluster_services: Sequence[Mapping[str, Any]] = ()
    cluster_workloads: Sequence[Mapping[str, Any]] = ()
    # Kind -> why it could not be read (a 403): said in a comment, never fatal.
    problems: Mapping[str, str] = field(default_factory=dict)

    def of(self, obj_kind: str) -> list[Mapping[str, Any]]:
        return sorted(self.objects.get(obj_kind, ()), key=name)


# -- what the objects say ------------------------------------------------------------------------


def _owned(obj: Mapping[str, Any]) -> bool:
    return any(
        mapping(ref).get("controller") for ref in sequence(dig(obj, "metadata", "ownerReferences"))
    )


def workloads(view: ClusterView) -> list[Mapping[str, Any]]:
    """Top-level workloads of the namespace (a Job a CronJob created is its CronJob's)."""
    found: list[Mapping[str, Any]] = []
    for obj_kind in WORKLOAD_KIND_ORDER:
        found += [o for o in view.of(obj_kind) if not _owned(o)]
    return found


def workload_ref(obj: Mapping[str, Any]) -> str:
    return name(obj) if kind(obj) == "Deployment" else f"{kind(obj)}/{name(obj)}"


def image_tag(image: str) -> str | None:
    """The tag of an image reference (``registry:5000/app:1.4.2@sha256:...`` -> ``1.4.2``)."""
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def _images(obj: Mapping[str, Any]) -> list[str]:
    return [str(c.get("image") or "") for c in containers(pod_spec(obj), init=False)]


def _replicas(obj: Mapping[str, Any]) -> str:
    if kind(obj) == "DaemonSet":
        ready = as_int(dig(obj, "status", "numberReady"))
        wanted = as_int(dig(obj, "status", "desiredNumberScheduled"))
        return f"{ready}/{wanted} ready"
    if kind(obj) in ("CronJob", "Job"):
        schedule = dig(obj, "spec", "schedule")
        return f"schedule {schedule}" if schedule else "run to completion"
    wanted = as_int(dig(obj, "spec", "replicas"), 1)
    ready = as_int(dig(obj, "status", "readyReplicas"))
    return f"{ready}/{wanted} ready"


def _selects(service: Mapping[str, Any], workload: Mapping[str, Any]) -> bool:
    return namespace(service) == namespace(workload) and map_selector_matches(
        dig(service, "spec", "selector"), template_labels(workload)
    )


def _ports(service: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [mapping(p) for p in sequence(dig(service, "spec", "ports"))]


def _port_text(port: Mapping[str, Any]) -> str:
    text = str(port.get("port"))
    target = port.get("targetPort")
    if target is not None and str(target) != str(port.get("port")):
        return f"{port.get('port')} -> {target}"
    name_ = port.get("name")
    return f"{text} ({name_})" if name_ else text


def choose_app(view: ClusterView) -> Mapping[str, Any] | None:
    """The workload the profile is mostly about: the one whose pods an Ingress reaches through a
    Service, else the first Deployment, else the first workload."""
    found = workloads(view)
    if not found:
        return None
    routed = {
        str(dig(mapping(path), "backend", "service", "name") or "")
        for ingress in view.of("Ingress")
        for rule in sequence(dig(ingress, "spec", "rules"))
        for path in sequence(dig(rule, "http", "paths"))
    }
    for service in view.of("Service"):
        if name(service) in routed:
            for workload in found:
                if _selects(service, workload):
                    return workload
    deployments = [w for w in found if kind(w) == "Deployment"]
    return (deployments or found)[0]


@dataclass(frozen=True)
class Version:
    value: str | None
    sources: tuple[str, ...]
    disagree: tuple[str, ...] = ()


def release_version(app: Mapping[str, Any] | None) -> Version:
    """The release the app runs: its ``app.kubernetes.io/version`` label, else its first
    container's image tag (when it looks like a version)."""
    if app is None:
        return Version(None, ())
    found: list[tuple[str, str]] = []
    label = labels(app).get("app.kubernetes.io/version") or template_labels(app).get(
        "app.kubernetes.io/version"
    )
    if label:
        found.append((label, f"label app.kubernetes.io/version={label} on {kind(app)} {name(app)}"))
    for image in _images(app):
        tag = image_tag(image)
        if tag and _VERSION.match(tag):
            found.append((tag, f"image {image}"))
    if not found:
        return Version(None, ())
    value = found[0][0]
    same = tuple(source for v, source in found if v.lstrip("v") == value.lstrip("v"))
    other = tuple(source for v, source in found if v.lstrip("v") != value.lstrip("v"))
    return Version(value, same, other)


def helm_release(app: Mapping[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(release, chart, chart version) from the Helm annotations and ``helm.sh/chart`` label."""
    if app is None:
        return None, None, None
    notes = mapping(dig(app, "metadata", "annotations"))
    release = notes.get("meta.helm.sh/release-name")
    chart_label = labels(app).get("helm.sh/chart") or ""
    match = re.match(r"^(.+?)-(v?\d+\.\d+.*)$", chart_label)
    chart, version = (match.group(1), match.group(2)) if match else (chart_label or None, None)
    return (str(release) if release else None), chart, version


def _hosts(ingress: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(hosts, hosts with TLS, TLS secret names)."""
    hosts = [
        str(mapping(r).get("host")) for r in sequence(dig(ingress, "spec", "rules"))
        if mapping(r).get("host")
    ]  # fmt: skip
    tls_hosts: list[str] = []
    secrets: list[str] = []
    for entry in sequence(dig(ingress, "spec", "tls")):
        tls_hosts += [str(h) for h in sequence(mapping(entry).get("hosts"))]
        if mapping(entry).get("secretName"):
            secrets.append(str(mapping(entry)["secretName"]))
    return hosts, tls_hosts, secrets


def _lb_addresses(ingress: Mapping[str, Any]) -> list[str]:
    found = []
    for entry in sequence(dig(ingress, "status", "loadBalancer", "ingress")):
        address = mapping(entry).get("ip") or mapping(entry).get("hostname")
        if address:
            found.append(str(address))
    return found


# -- candidate endpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    component: str  # redis, postgres, prometheus, alertmanager
    service: Mapping[str, Any]
    port: int
    why: str
    score: int

    @property
    def host(self) -> str:
        return f"{name(self.service)}.{namespace(self.service)}.svc"

    @property
    def shown(self) -> str:
        return f"Service {namespace(self.service)}/{name(self.service)} port {self.port}"


# component -> (well-known ports, name words, words that rule a Service out)
_SIGNS: dict[str, tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...]]] = {
    "redis": ((6379, 6380), ("redis", "valkey", "keydb"), ("exporter", "metrics", "sentinel")),
    "postgres": (
        (5432,),
        ("postgres", "postgresql", "pgbouncer", "pgpool"),
        ("exporter", "metrics"),
    ),
    "prometheus": (
        (9090,),
        ("prometheus",),
        ("exporter", "operator", "alertmanager", "pushgateway", "adapter", "node", "blackbox"),
    ),
    "alertmanager": ((9093,), ("alertmanager",), ("exporter", "operator")),
}


def candidates(services: Iterable[Mapping[str, Any]]) -> dict[str, list[Candidate]]:
    """Services that look like each component, best first: a well-known port counts, a name
    (the Service's, its port's, its app labels') counts more; both is surest."""
    found: dict[str, list[Candidate]] = {c: [] for c in _SIGNS}
    for service in services:
        service_words = " ".join(
            [name(service), *(str(v) for k, v in labels(service).items() if "name" in k)]
        ).lower()
        for component, (ports, words, never) in _SIGNS.items():
            if any(w in service_words for w in never):
                continue
            best: Candidate | None = None
            for port in _ports(service):
                number = as_int(port.get("port"))
                port_words = f"{port.get('name') or ''}".lower()
                reasons = []
                score = 0
                if number in ports:
                    score += 1
                    reasons.append(f"port {number}")
                if any(w in service_words for w in words):
                    score += 2
                    reasons.append(f"name {name(service)!r}")
                elif any(w in port_words for w in words):
                    score += 2
                    reasons.append(f"port name {port.get('name')!r}")
                if score and (best is None or score > best.score):
                    best = Candidate(component, service, number, " and ".join(reasons), score)
            if best is not None:
                found[component].append(best)
    for component in found:
        found[component].sort(key=lambda c: (-c.score, namespace(c.service), name(c.service)))
    return found


@dataclass(frozen=True)
class SecretRef:
    variable: str  # the container's variable name
    secret: str
    key: str
    namespace: str
    where: str  # "Deployment api-gateway"

    @property
    def command(self) -> str:
        return (
            f"kubectl -n {self.namespace} get secret {self.secret} "
            f"-o jsonpath='{{.data.{self.key}}}' | base64 -d"
        )


def secret_refs(workloads: Iterable[Mapping[str, Any]]) -> list[SecretRef]:
    """Every container variable set from a Secret key (names only: values are never read)."""
    found: list[SecretRef] = []
    for workload in workloads:
        for container in containers(pod_spec(workload)):
            for env in sequence(container.get("env")):
                ref = dig(env, "valueFrom", "secretKeyRef")
                if isinstance(ref, Mapping) and ref.get("name") and ref.get("key"):
                    found.append(
                        SecretRef(
                            str(mapping(env).get("name")),
                            str(ref["name"]),
                            str(ref["key"]),
                            namespace(workload),
                            f"{kind(workload)} {name(workload)}",
                        )
                    )
    return found


def _password_source(
    component: str, candidate: Candidate, refs: Sequence[SecretRef], cluster: Sequence[Any]
) -> SecretRef | None:
    """Where a component's password is kept: the server's own variable (a workload its Service
    selects), else an application variable whose name says so (REDIS_PASSWORD)."""
    words = {"redis": ("REDIS",), "postgres": ("PG", "POSTGRES", "DATABASE", "DB")}[component]
    servers = [w for w in cluster if _selects(candidate.service, w)]
    for ref in secret_refs(servers):
        if "PASS" in ref.variable.upper():
            return ref
    for ref in refs:
        upper = ref.variable.upper()
        if "PASS" in upper and any(w in upper for w in words):
            return ref
    return None


# -- writing ---------------------------------------------------------------------------------------


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, *texts: str) -> None:
        for text in texts:
            if not text:
                self.lines.append("#")
                continue
            indent = text[: len(text) - len(text.lstrip())]
            for line in textwrap.wrap(
                text,
                width=WIDTH - 2,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            ) or [text]:
                self.lines.append(f"# {line}".rstrip())

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def key(self, key: str, value: Any, note: str = "", *, off: bool = False) -> None:
        line = f"{key} = {toml_value(value)}"
        if note:
            line += f"  # {note}"
        self.lines.append(f"# {line}" if off else line)

    def raw(self, line: str, *, off: bool = False) -> None:
        self.lines.append(f"# {line}" if off else line)

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def render_profile(
    env: str,
    view: ClusterView | None,
    *,
    today: dt.date,
    schema: str | None = SCHEMA_FILE,
) -> str:
    """The profile text: from ``view``, or a commented template when it is None."""
    out = _Text()
    if schema:
        out.raw(f"#:schema ./{schema}")
    if view is None:
        _template(out, env, today)
    else:
        _from_cluster(out, env, view, today)
    return out.text()


def _header(out: _Text, env: str, today: dt.date, source: str) -> None:
    out.comment(
        f'Environment profile "{env}", written by `deployverify init` on {today.isoformat()}{source}.',
        "",
        'Lines marked "guess:" are inferred, not read: check them. No secret is ever',
        "written here: a secret is ${VAR}, read from the environment when the profile loads (the",
        "comment next to it names the variable to export). Commented-out tables are candidates:",
        "uncomment one to verify that component too.",
        "",
        f"Validate it as a run would:   deployverify profile check {env}",
        "Every key, what it means:     deployverify profile reference",
        f"Run the checklist:            pytest --env {env} --signoff signoff.md",
    )
    out.blank()


def _from_cluster(out: _Text, env: str, view: ClusterView, today: dt.date) -> None:
    where = f"namespace {view.namespace}"
    if view.context:
        where = f"context {view.context}, {where}"
    _header(out, env, today, f" from Kubernetes ({where}, read-only: list and get)")
    found = workloads(view)
    app = choose_app(view)
    out.key("description", f"{name(app) if app else env} in namespace {view.namespace}")
    out.comment(
        "guess: a production environment. true holds back checks marked destructive unless the",
        "run passes --allow-destructive; set false for a test environment.",
    )
    out.key("protected", True)
    _version(out, app)
    _roles(out)
    out.blank()

    out.raw("[kubernetes]")
    if view.kubeconfig:
        out.comment(
            "The kubeconfig init read: a path on this machine. In CI, leave the key out (the",
            "default kubeconfig, or $KUBECONFIG) or write it as ${VAR}.",
        )
        out.key("kubeconfig", view.kubeconfig)
    if view.context:
        out.key("context", view.context)
    out.key("namespace", view.namespace)
    _workloads(out, view, found)
    out.blank()

    out.raw("[kubernetes.expect]")
    _expect(out, view, found, app)
    helm = helm_release(app)
    if helm[0]:
        out.blank()
        out.raw("[kubernetes.expect.helm]")
        out.comment(
            f"From the annotation meta.helm.sh/release-name of {kind(app or {})} "
            f"{name(app or {})}"
            + (f" and its label helm.sh/chart={helm[1]}-{helm[2]}." if helm[2] else ".")
        )
        out.key("release", helm[0])
        if helm[1]:
            out.key("chart", helm[1])
        if helm[2]:
            out.comment("Pinning the chart version means editing it with every chart release:")
            out.key("chart_version", helm[2], off=True)
    _candidates(out, view, app)
    _template_tail(out, today)


def _version(out: _Text, app: Mapping[str, Any] | None) -> None:
    version = release_version(app)
    if version.value is None:
        out.comment(
            "The release that must be running: no version label or version-like image tag found",
            '(e.g. "${RELEASE_VERSION}", exported by the pipeline that deployed it):',
        )
        out.key("version", "${RELEASE_VERSION}", off=True)
        return
    out.comment("The release that must be running, read from:")
    out.comment(*(f"  {source}" for source in version.sources))
    if version.disagree:
        out.comment("guess: other sources say otherwise:")
        out.comment(*(f"  {source}" for source in version.disagree))
    out.comment('In CI, "${RELEASE_VERSION}" lets the pipeline name the release it deployed.')
    out.key("version", version.value)


def _workloads(out: _Text, view: ClusterView, found: list[Mapping[str, Any]]) -> None:
    taken = accepted_kinds()
    listed = [w for w in found if kind(w) in taken]
    others = [w for w in found if kind(w) not in taken]
    out.comment(
        f"The workloads of namespace {view.namespace}: NAME is a Deployment, KIND/NAME one of "
        + ", ".join(k for k in taken if k != "Deployment")
        + ". Remove those this profile is not about."
    )
    if not listed:
        out.key("workloads", [], f"no {', '.join(taken)} found in namespace {view.namespace}")
    else:
        out.raw("workloads = [")
        for workload in listed:
            images = ", ".join(_images(workload))
            out.raw(
                f"  {toml_value(workload_ref(workload))},  # {kind(workload)}: "
                f"{_replicas(workload)}; {images}"
            )
        out.raw("]")
    for workload in others:
        out.comment(
            f"Not listed: {kind(workload)} {name(workload)} ({_replicas(workload)}): the "
            f"[kubernetes] table does not take {kind(workload)}s yet."
        )
    for obj_kind in sorted(view.problems):
        out.comment(f"Not read: {obj_kind}: {view.problems[obj_kind]}")


def _expect(
    out: _Text,
    view: ClusterView,
    found: list[Mapping[str, Any]],
    app: Mapping[str, Any] | None,
) -> None:
    if app is not None:
        names = [str(c.get("name")) for c in containers(pod_spec(app), init=False)]
        first = workload_ref(found[0]) if found else None
        if workload_ref(app) != first:
            out.comment(
                "guess: the app (environment, image and release checks); default the first workload"
            )
            out.key("app", name(app))
        if len(names) > 1:
            out.comment(f"guess: the app's own container; it also runs {', '.join(names[1:])}")
            out.key("container", names[0])
        if kind(app) in ("Deployment", "StatefulSet"):
            replicas = as_int(dig(app, "spec", "replicas"), 1)
            out.comment(
                f"{kind(app)} {name(app)} asks for {replicas} replica(s); K8S-REPLICAS wants at "
                "least min_replicas (default 2)."
            )
    services = view.of("Service")
    selecting = [s for s in services if app is not None and _selects(s, app)]
    if services:
        out.comment(f"Services in namespace {view.namespace}:")
        for service in services:
            ports = ", ".join(_port_text(p) for p in _ports(service))
            kind_text = dig(service, "spec", "type") or "ClusterIP"
            selects = [name(w) for w in found if _selects(service, w)]
            tail = f"; selects {', '.join(selects)}" if selects else ""
            out.comment(f"  {name(service)} ({kind_text}; {ports}){tail}")
    if selecting:
        out.key("service", name(selecting[0]), f"selects {name(app or {})}'s pods")
    _ingress(out, view, selecting)
    hpas = view.of("HorizontalPodAutoscaler")
    for hpa in hpas:
        target = dig(hpa, "spec", "scaleTargetRef") or {}
        out.comment(
            f"HorizontalPodAutoscaler {name(hpa)}: {mapping(target).get('kind')}/"
            f"{mapping(target).get('name')}, {as_int(dig(hpa, 'spec', 'minReplicas'), 1)} to "
            f"{as_int(dig(hpa, 'spec', 'maxReplicas'))} replicas"
        )
    if (
        app is not None
        and kind(app) in ("Deployment", "StatefulSet")
        and not any(
            mapping(dig(h, "spec", "scaleTargetRef")).get("name") == name(app) for h in hpas
        )
    ):
        out.comment(
            f"No HorizontalPodAutoscaler targets {name(app)}: K8S-HPA fails until one does",
            "(or, if it must not autoscale: require_hpa = false).",
        )
    pdbs = view.of("PodDisruptionBudget")
    for pdb in pdbs:
        spec = mapping(pdb.get("spec"))
        budget = (
            f"minAvailable {spec['minAvailable']}"
            if "minAvailable" in spec
            else f"maxUnavailable {spec.get('maxUnavailable')}"
        )
        covers = [
            name(w) for w in found if selector_matches(spec.get("selector"), template_labels(w))
        ]
        out.comment(
            f"PodDisruptionBudget {name(pdb)}: {budget}"
            + (f"; covers {', '.join(covers)}" if covers else "; covers no listed workload")
        )


def _ingress(out: _Text, view: ClusterView, selecting: list[Mapping[str, Any]]) -> None:
    ingresses = view.of("Ingress")
    if not ingresses:
        return
    backends = {name(s) for s in selecting}
    chosen: Mapping[str, Any] | None = None
    out.comment(f"Ingresses in namespace {view.namespace}:")
    for ingress in ingresses:
        hosts, tls_hosts, secrets = _hosts(ingress)
        tls = f"; TLS for {', '.join(tls_hosts)} (Secret {', '.join(secrets)})" if tls_hosts else ""
        out.comment(f"  {name(ingress)}: hosts {', '.join(hosts) or '(any)'}{tls}")
        routes = {
            str(dig(mapping(path), "backend", "service", "name") or "")
            for rule in sequence(dig(ingress, "spec", "rules"))
            for path in sequence(dig(rule, "http", "paths"))
        }
        if chosen is None and (routes & backends or not backends):
            chosen = ingress
    if chosen is None:
        return
    hosts, tls_hosts, _ = _hosts(chosen)
    host = next(iter(tls_hosts or hosts), None)
    out.key("ingress", name(chosen))
    if host:
        out.comment(
            f"guess: the public host, the Ingress's first {'TLS ' if tls_hosts else ''}host "
            "(enables the Ingress, TLS and DNS checks)"
        )
        out.key("public_host", host)
        addresses = _lb_addresses(chosen)
        if addresses:
            out.comment(
                f"The Ingress's load balancer: {', '.join(addresses)}. Before the DNS record is",
                "published (or from a network that cannot resolve it) pin the answer as curl",
                "--resolve does; the evidence says it was pinned:",
            )
            out.raw(f"resolve = {{ {toml_value(host)} = {toml_value(addresses)} }}", off=True)


def _candidates(out: _Text, view: ClusterView, app: Mapping[str, Any] | None) -> None:
    services = list(view.cluster_services) or list(view.of("Service"))
    found = candidates(services)
    refs = secret_refs(workloads(view))
    cluster = list(view.cluster_workloads) or workloads(view)
    scope = "every namespace" if view.cluster_services else f"namespace {view.namespace}"
    out.blank()
    out.comment(
        f"-- Candidates recognised from the Services of {scope} (by port and name) --",
        "Their addresses are in-cluster names: they resolve when the verification runs in the",
        "cluster (deploy/job.yaml); from outside, write an address you can reach.",
    )
    app_name = name(app) if app is not None else env_name(view)
    for component, title in (
        ("redis", "Redis"),
        ("postgres", "PostgreSQL"),
        ("prometheus", "Prometheus"),
        ("alertmanager", "Alertmanager"),
    ):
        options = found[component]
        out.blank()
        if not options:
            out.comment(f"No {title} recognised ([{component}]: deployverify profile reference).")
            continue
        best = options[0]
        out.comment(f"guess: {title} at {best.shown} ({best.why})")
        for other in options[1:4]:
            out.comment(f"  also possible: {other.shown} ({other.why})")
        out.raw(f"[{component}]", off=True)
        if component == "redis":
            scheme = "rediss" if best.port == 6380 or "tls" in _port_name(best) else "redis"
            out.key("url", f"{scheme}://{best.host}:{best.port}/0", off=True)
            _password(out, "REDIS_PASSWORD", _password_source(component, best, refs, cluster))
        elif component == "postgres":
            out.comment("guess: write the application's role (APP_USER) and its DATABASE")
            out.key("dsn", f"postgresql://APP_USER@{best.host}:{best.port}/DATABASE", off=True)
            _password(out, "POSTGRES_PASSWORD", _password_source(component, best, refs, cluster))
        elif component == "prometheus":
            out.key("url", f"http://{best.host}:{best.port}", off=True)
            out.key("job", app_name, "guess: the scrape job of the app's metrics", off=True)
        else:
            out.key("url", f"http://{best.host}:{best.port}", off=True)
    hosts = [h for ingress in view.of("Ingress") for h in _hosts(ingress)[1]]
    if hosts:
        out.blank()
        out.comment(
            f"guess: the service's public HTTPS endpoint, from the Ingress TLS host {hosts[0]}"
        )
        out.raw("[http]", off=True)
        out.key("base_url", f"https://{hosts[0]}", off=True)


def env_name(view: ClusterView) -> str:
    return view.namespace


def _port_name(candidate: Candidate) -> str:
    for port in _ports(candidate.service):
        if as_int(port.get("port")) == candidate.port:
            return str(port.get("name") or "").lower()
    return ""


def _password(out: _Text, variable: str, source: SecretRef | None) -> None:
    if source is not None:
        out.comment(
            f"secret: export {variable}: {source.where} reads it from Secret {source.namespace}/"
            f"{source.secret} key {source.key}",
            f"  ({source.command})",
        )
    else:
        out.comment(f"secret: export {variable} (if it needs a password)")
    out.key("password", "${" + variable + "}", off=True)


def _roles(out: _Text) -> None:
    out.comment(
        "Who signs the sign-off (--approve ROLE=NAME): a preset of the source checklists,",
        '"api-gateway" (four roles) or "platform" (six), or your own list of roles.',
    )
    out.key("roles", "api-gateway", off=True)


def _template_tail(out: _Text, today: dt.date) -> None:
    from pytest_deployverify.checks.manual import SHIPPED_MANUAL

    out.blank()
    out.comment(
        "-- Items no machine can check: attested by a person, or pending --",
        f"The shipped checklist lists {len(SHIPPED_MANUAL)} of them (on-call, DR drill, backup "
        "restore, pen test,",
        "perimeter...; `deployverify checklist` shows their ids). Each is pending, and",
        "the verdict at best CONDITIONAL, until attested: --attest ID=NAME on the command line,",
        "or here (it goes stale after [policy] attestation_max_age_days; add release = VERSION to",
        "bind it to one release too). Drop the ones that do not apply, with why.",
    )
    out.raw("[shipped_manual]", off=True)
    out.raw('drop = { dr-multi-region = "single region by design" }', off=True)
    out.blank()
    out.raw("[[manual]]", off=True)
    out.key("id", "oncall", off=True)
    out.key("attested_by", "Dana Smith", off=True)
    out.raw(f"attested_at = {today.isoformat()}", off=True)
    out.key("note", "rota in PagerDuty, escalation tested", off=True)
    out.blank()
    out.comment(
        "-- Waivers: a failing check accepted for a while, with a reason, an approver, a ticket --"
    )
    out.raw("[[waivers]]", off=True)
    out.key("check", "K8S-HPA", off=True)
    out.key("reason", "autoscaling lands with the next release", off=True)
    out.key("approver", "Dana Smith", off=True)
    out.key("ticket", "CHG-1234", off=True)
    out.raw(f"expires = {(today + dt.timedelta(days=30)).isoformat()}", off=True)


def _template(out: _Text, env: str, today: dt.date) -> None:
    _header(out, env, today, " as a template (no cluster was read)")
    out.comment(
        "Fill in what the deployment has; every table is optional, and a check whose table is",
        "absent is not applicable. With a cluster, `deployverify init NAME --kube-context CTX",
        "--namespace NS` reads most of this from it.",
    )
    out.blank()
    out.key("description", f"the {env} environment")
    out.comment(
        "true holds back checks marked destructive unless the run passes --allow-destructive"
    )
    out.key("protected", True)
    out.comment('The release that must be running (e.g. "${RELEASE_VERSION}", exported by CI):')
    out.key("version", "${RELEASE_VERSION}", off=True)
    _roles(out)
    out.blank()
    taken = accepted_kinds()
    out.comment("-- Kubernetes: where the cluster is, which workloads --")
    out.raw("[kubernetes]", off=True)
    out.key("context", "prod", "a context of your kubeconfig (or in_cluster = true)", off=True)
    out.key("namespace", "my-service", off=True)
    out.key(
        "workloads",
        ["my-service", *(f"{k}/my-worker" for k in taken if k != "Deployment")][:2],
        "NAME is a Deployment; KIND/NAME for " + ", ".join(k for k in taken if k != "Deployment"),
        off=True,
    )
    out.blank()
    out.raw("[kubernetes.expect]", off=True)
    out.key("public_host", "api.example.com", "enables the Ingress, TLS and DNS checks", off=True)
    out.blank()
    out.comment("-- Redis --  secret: export REDIS_PASSWORD")
    out.raw("[redis]", off=True)
    out.key("url", "rediss://redis.example.internal:6380/0", off=True)
    out.key("password", "${REDIS_PASSWORD}", off=True)
    out.blank()
    out.comment("-- PostgreSQL --  secret: export POSTGRES_PASSWORD")
    out.raw("[postgres]", off=True)
    out.key("dsn", "postgresql://app@db.example.internal:5432/app?sslmode=verify-full", off=True)
    out.key("password", "${POSTGRES_PASSWORD}", off=True)
    out.blank()
    out.comment("-- Prometheus and Alertmanager --")
    out.raw("[prometheus]", off=True)
    out.key("url", "https://prometheus.example.internal", off=True)
    out.key("job", "my-service", off=True)
    out.blank()
    out.raw("[alertmanager]", off=True)
    out.key("url", "https://alertmanager.example.internal", off=True)
    out.blank()
    out.comment("-- The service's public endpoint --")
    out.raw("[http]", off=True)
    out.key("base_url", "https://api.example.com", off=True)
    _template_tail(out, today)
