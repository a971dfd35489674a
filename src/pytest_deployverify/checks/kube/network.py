"""Networking: Services reach ready pods, Ingress serves the host over TLS, policies isolate pods.

Pods may be live Pods or pod templates turned into pods (``objects.pods_from_templates``), so
selector checks also run before anything is applied.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.objects import (
    RUN_TO_COMPLETION_KINDS,
    KubeObject,
    condition_true,
    dig,
    has_status,
    is_terminating,
    kind,
    labels,
    map_selector_matches,
    mapping,
    name,
    namespace,
    same_namespace,
    selector_matches,
    sequence,
    subject,
    template_labels,
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
Resolver = Callable[[str, None], Sequence[tuple[Any, Any, Any, Any, Any]]]
"""``socket.getaddrinfo``-compatible: ``resolver(host, None)`` -> address info tuples."""


def selected_pods(service: KubeObject, pods: Iterable[KubeObject]) -> list[KubeObject]:
    """Pods in the Service's namespace whose labels match its selector."""
    selector = dig(service, "spec", "selector")
    return [
        p for p in pods if same_namespace(p, service) and map_selector_matches(selector, labels(p))
    ]


def service_selector_findings(service: KubeObject, pods: Iterable[KubeObject]) -> list[Finding]:
    """The Service's selector matches at least one pod (kube-score service-targets-pod).

    Services without a selector (endpoints managed by hand) and ExternalName ones are skipped.
    """
    selector = mapping(dig(service, "spec", "selector"))
    if not selector or dig(service, "spec", "type") == "ExternalName":
        return []
    if selected_pods(service, pods):
        return []
    return [
        rules.SERVICE_TARGETS_POD(
            subject(service, default_kind="Service"),
            f"selector {dict(selector)} matches no pod in namespace "
            f"{namespace(service) or '<any>'}; make it equal the pod template labels",
        )
    ]


def ready_endpoint_count(service: KubeObject, endpoint_slices: Iterable[KubeObject]) -> int:
    """Distinct ready endpoints of the Service (IPv4 and IPv6 slices merged).

    EndpointSlices are matched by their ``kubernetes.io/service-name`` label; a legacy
    ``Endpoints`` object of the Service's name is read too (its ``addresses`` are the ready ones).
    """
    ready: set[str] = set()
    for eps in endpoint_slices:
        if not same_namespace(eps, service):
            continue
        if kind(eps) == "Endpoints":
            if name(eps) == name(service):
                for subset in sequence(eps.get("subsets")):
                    ready |= {_endpoint_key(a) for a in sequence(mapping(subset).get("addresses"))}
            continue
        if labels(eps).get(SERVICE_NAME_LABEL) != name(service):
            continue
        for endpoint in sequence(eps.get("endpoints")):
            # A nil ready condition means "unknown": the API says to treat it as ready.
            if dig(endpoint, "conditions", "ready") is not False:
                ready.add(_endpoint_key(endpoint))
    ready.discard("")
    return len(ready)


def _endpoint_key(endpoint: object) -> str:
    """The pod behind an endpoint (targetRef name), else its first address."""
    endpoint = mapping(endpoint)
    target = str(dig(endpoint, "targetRef", "name") or "")
    addresses = [str(a) for a in sequence(endpoint.get("addresses"))]
    return target or str(endpoint.get("ip") or "") or (addresses[0] if addresses else "")


def service_endpoint_findings(
    service: KubeObject,
    endpoint_slices: Iterable[KubeObject],
    pods: Iterable[KubeObject] | None = None,
) -> list[Finding]:
    """The Service has ready endpoints, as many as its selector has ready pods (when given)."""
    where = subject(service, default_kind="Service")
    count = ready_endpoint_count(service, endpoint_slices)
    if count == 0:
        return [
            rules.SERVICE_NO_ENDPOINTS(
                where,
                f"no ready endpoint in EndpointSlices labelled {SERVICE_NAME_LABEL}="
                f"{name(service)}: traffic has nowhere to go; check the selector and that the "
                "pods pass their readiness probe",
            )
        ]
    if pods is None:
        return []
    ready_pods = [
        p
        for p in selected_pods(service, pods)
        if not is_terminating(p) and condition_true(p, "Ready")
    ]
    if count == len(ready_pods):
        return []
    return [
        rules.SERVICE_ENDPOINTS_MISMATCH(
            where,
            f"{count} ready endpoint(s) but {len(ready_pods)} ready selected pod(s); the "
            "endpoint controller lags or a targetPort is wrong: check the Service ports",
        )
    ]


def host_matches(pattern: str, host: str) -> bool:
    """Ingress host matching: exact, or ``*.example.com`` covering exactly one more label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def ingress_addresses(ingress: KubeObject) -> list[str]:
    """The load balancer's ips and hostnames from ``status.loadBalancer.ingress``."""
    found: list[str] = []
    for entry in sequence(dig(ingress, "status", "loadBalancer", "ingress")):
        entry = mapping(entry)
        value = entry.get("ip") or entry.get("hostname")
        if value:
            found.append(str(value))
    return found


def ingress_findings(
    ingress: KubeObject, host: str, *, services: Iterable[KubeObject] | None = None
) -> list[Finding]:
    """A rule serves ``host``, a TLS entry covers it, a load balancer address is published
    (live objects only), and backends name existing Services (when ``services`` is given).
    """
    where = subject(ingress, default_kind="Ingress")
    spec = mapping(ingress.get("spec"))
    found: list[Finding] = []
    rule_hosts = [str(mapping(r).get("host") or "") for r in sequence(spec.get("rules"))]
    if not any(h and host_matches(h, host) for h in rule_hosts):
        found.append(
            rules.INGRESS_HOST(
                where,
                f"no rule serves host {host!r} (rule hosts: {', '.join(filter(None, rule_hosts))}"
                " or none); add a rule with host: " + host,
            )
        )
    tls_hosts = [
        str(h) for t in sequence(spec.get("tls")) for h in sequence(mapping(t).get("hosts"))
    ]
    if not any(host_matches(h, host) for h in tls_hosts):
        found.append(
            rules.INGRESS_TLS(
                where,
                f"no spec.tls entry covers {host!r}, so it is served without TLS; add "
                f"tls: [{{hosts: [{host}], secretName: <certificate secret>}}]",
            )
        )
    if has_status(ingress) and not ingress_addresses(ingress):
        found.append(
            rules.INGRESS_ADDRESS(
                where,
                "status.loadBalancer.ingress has no ip or hostname: the controller has not "
                "exposed it; check the ingress controller and ingressClassName",
            )
        )
    if services is not None:
        found += _backend_findings(ingress, spec, list(services))
    return found


def _backend_findings(
    ingress: KubeObject, spec: Mapping[str, Any], services: list[KubeObject]
) -> list[Finding]:
    backends = [mapping(spec.get("defaultBackend"))] if spec.get("defaultBackend") else []
    for rule in sequence(spec.get("rules")):
        backends += [
            mapping(mapping(p).get("backend")) for p in sequence(dig(rule, "http", "paths"))
        ]
    found: list[Finding] = []
    for backend in backends:
        service_name = dig(backend, "service", "name")
        if not service_name:
            continue  # a resource backend, not a Service
        port = mapping(dig(backend, "service", "port"))
        match = next(
            (s for s in services if name(s) == service_name and same_namespace(s, ingress)), None
        )
        problem = ""
        if match is None:
            problem = f"Service {service_name!r} does not exist"
        elif port and not _service_has_port(match, port):
            problem = (
                f"Service {service_name!r} has no port {port.get('number') or port.get('name')}"
            )
        if problem:
            found.append(
                rules.INGRESS_BACKEND(
                    subject(ingress, default_kind="Ingress"),
                    f"backend {problem}; point the backend at an existing Service port",
                )
            )
    return found


def _service_has_port(service: KubeObject, port: Mapping[str, Any]) -> bool:
    for p in sequence(dig(service, "spec", "ports")):
        p = mapping(p)
        if port.get("number") is not None and p.get("port") == port.get("number"):
            return True
        if port.get("name") and p.get("name") == port.get("name"):
            return True
    return False


DIRECTIONS = ("Ingress", "Egress")


def policy_types(policy: KubeObject) -> list[str]:
    """The directions a policy isolates: ``spec.policyTypes`` (any case), else what Kubernetes
    defaults to: Ingress always, Egress when the policy has egress rules."""
    spec = mapping(policy.get("spec"))
    given = [str(t).capitalize() for t in sequence(spec.get("policyTypes"))]
    if given:
        return [t for t in DIRECTIONS if t in given]
    return ["Ingress", "Egress"] if spec.get("egress") is not None else ["Ingress"]


def _empty_selector(policy: KubeObject) -> bool:
    selector = mapping(dig(policy, "spec", "podSelector"))
    return not (selector.get("matchLabels") or selector.get("matchExpressions"))


def is_default_deny(policy: KubeObject, direction: str = "Ingress") -> bool:
    """Empty podSelector, ``direction`` among the policy types, and no rule for it."""
    if not _empty_selector(policy) or direction not in policy_types(policy):
        return False
    return not sequence(dig(policy, "spec", direction.lower()))


def covering_policies(
    workload: KubeObject, policies: Iterable[KubeObject], direction: str
) -> list[KubeObject]:
    """Policies of the workload's namespace that select its pods for ``direction`` and say what
    is allowed (a default-deny policy alone lets nothing through, so it is not the pods' own)."""
    pod_labels = template_labels(workload)
    return [
        p
        for p in policies
        if same_namespace(p, workload)
        and direction in policy_types(p)
        and not is_default_deny(p, direction)
        and selector_matches(dig(p, "spec", "podSelector") or {}, pod_labels)
    ]


def network_policy_findings(
    workload: KubeObject,
    policies: Iterable[KubeObject],
    directions: Iterable[str] = ("Ingress",),
) -> list[Finding]:
    """Per direction (``Ingress``, ``Egress``): a policy with rules for that direction selects
    the workload's pods, and the namespace denies that direction by default.

    A policy covers only the directions of its ``policyTypes`` (without them: Ingress, plus
    Egress when it has egress rules), so an Egress-only policy never counts for ingress. A
    default-deny policy alone selects every pod but lets nothing in, so it does not count as the
    workload's own policy.
    """
    in_namespace = [p for p in policies if same_namespace(p, workload)]
    pod_labels = template_labels(workload)
    found: list[Finding] = []
    wanted = [d for d in DIRECTIONS if d in {str(x).capitalize() for x in directions}]
    for direction in wanted:
        if direction == "Ingress" and kind(workload) in RUN_TO_COMPLETION_KINDS:
            continue  # its pods take no traffic: the namespace's default deny is their policy
        if not covering_policies(workload, in_namespace, direction):
            others = sorted(
                name(p)
                for p in in_namespace
                if not is_default_deny(p, direction)
                and selector_matches(dig(p, "spec", "podSelector") or {}, pod_labels)
            )
            seen = (
                f" (selected by {', '.join(others)}, whose policyTypes omit {direction})"
                if others
                else ""
            )
            found.append(
                rules.NETWORK_POLICY(
                    subject(workload),
                    f"no NetworkPolicy with {direction} rules selects labels {pod_labels}{seen}; "
                    f"add one that admits only the {_peers(direction)}",
                )
            )
    missing = [d for d in wanted if not any(is_default_deny(p, d) for p in in_namespace)]
    if missing:
        types = ", ".join(missing)
        found.append(
            rules.DEFAULT_DENY(
                f"Namespace {namespace(workload) or '<unknown>'}",
                f"no default-deny NetworkPolicy for {types} (podSelector: {{}}, policyTypes: "
                f"[{types}], no rules); add one so pods without their own policy are isolated",
            )
        )
    return found


def _peers(direction: str) -> str:
    if direction == "Ingress":
        return "callers (ingress controller, monitoring)"
    return "destinations the pods need (DNS, databases, upstream services)"


def tls_settings_findings(ingress: KubeObject) -> list[Finding]:
    """Polaris tlsSettingsMissing: the Ingress has a ``spec.tls`` entry (any host)."""
    if sequence(dig(ingress, "spec", "tls")):
        return []
    hosts = sorted(
        {str(mapping(r).get("host")) for r in sequence(dig(ingress, "spec", "rules"))}
        - {"None", ""}
    )
    served = f" for {', '.join(hosts)}" if hosts else ""
    return [
        rules.TLS_SETTINGS(
            subject(ingress, default_kind="Ingress"),
            f"no spec.tls entry: traffic{served} is served in clear text; add "
            "tls: [{hosts: [...], secretName: <certificate secret>}]",
        )
    ]


def host_resolves_to(host: str, addresses: Iterable[str], resolver: Resolver) -> list[Finding]:
    """``host`` resolves, and only to ``addresses`` (ips, or hostnames resolved the same way).

    ``resolver`` does the lookups (``socket.getaddrinfo``, or pinned answers): the caller owns the
    network, this function only judges the answers.

    A load balancer published as a hostname (``status.loadBalancer.ingress[].hostname``) is
    resolved too, so a CNAME to it passes.
    """
    where = f"DNS {host}"
    try:
        resolved = _resolve(host, resolver)
    except OSError as exc:
        return [
            rules.DNS_RESOLUTION(
                where, f"lookup failed ({exc}); create the DNS record pointing at the load balancer"
            )
        ]
    expected: set[str] = set()
    for address in addresses:
        literal = _normal_ip(address)
        if literal:
            expected.add(literal)
            continue
        try:
            expected |= _resolve(address, resolver)
        except OSError:
            continue  # an unresolvable expected hostname simply adds nothing
    if not resolved:
        return [
            rules.DNS_RESOLUTION(
                where, "lookup returned no address; create the A/AAAA (or CNAME) record"
            )
        ]
    stray = sorted(resolved - expected)
    if stray or not expected:
        return [
            rules.DNS_MISMATCH(
                where,
                f"resolves to {', '.join(sorted(resolved))}, expected only "
                f"{', '.join(sorted(expected)) or '<nothing resolvable>'}; point the record "
                "at the load balancer",
            )
        ]
    return []


def _resolve(host: str, resolver: Resolver) -> set[str]:
    found: set[str] = set()
    for info in resolver(host, None):
        ip = _normal_ip(str(info[4][0]))
        if ip:
            found.add(ip)
    return found


def _normal_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.split("%", 1)[0]))
    except ValueError:
        return ""
