"""The DNS component: ``[dns]``, a small resolver client over dnspython, and its reader.

Built only with the public extension API and registered through the entry point group
``pytest_deployverify.components`` (see ``pyproject.toml``), as a third-party component would be.

The reader ``answers`` asks the profile's resolver for every public host and record type at once
(concurrently, CNAMEs followed), plus the load-balancer host names the expected addresses name,
so the checks judge one snapshot: about one round trip to the resolver. The hosts and expected
addresses come from the profile or from the cluster's Ingresses (``kubernetes.ingresses``).
dnspython is imported only when a client is built or a question asked.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pytest_deployverify import (
    Component,
    ComponentUnavailable,
    NotApplicable,
    Profile,
    ReadContext,
    ReadError,
    SectionSpec,
)
from pytest_deployverify.checks.dns import (
    ADDRESS_TYPES,
    CHECKS,
    DnsAnswers,
    DnsExpectations,
    Lookup,
    RecordSet,
    is_host_name,
    normal_host,
    plan_hosts,
)

if TYPE_CHECKING:
    import dns.message

COMPONENT = "dns"
MAX_CNAME_HOPS = 8
MAX_PARALLEL = 16


def parse_resolver(text: str) -> tuple[str, int]:
    """``10.0.0.2`` -> (``10.0.0.2``, 53); ``127.0.0.1:5353``; ``::1``; ``[::1]:5353``."""
    value = text.strip()
    host, port_text = value, ""
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"resolver {text!r}: write [IPv6]:port, e.g. [::1]:53")
        port_text = rest[1:]
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"resolver {text!r} must be an IP address, optionally with a port "
            "(10.0.0.2, 127.0.0.1:5353, [::1]:53)"
        ) from None
    try:
        port = int(port_text) if port_text else 53
    except ValueError:
        raise ValueError(f"resolver {text!r}: the port must be a number") from None
    if not 0 < port < 65536:
        raise ValueError(f"resolver {text!r}: the port must be between 1 and 65535")
    return str(address), port


def show_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DnsConfig:
    """``[dns]``: the resolver to ask and the public hosts whose records to check."""

    # The IP address of the resolver to ask, with an optional port (default 53):
    # `resolver = "10.0.0.2"`, "127.0.0.1:5353", "[::1]:53". An authoritative server of the
    # zone gives exact TTLs.
    resolver: str
    # The public host names to check (empty: the hosts of the Ingresses [kubernetes] reads).
    hosts: tuple[str, ...] = ()
    # The record types every host must have: "A" and/or "AAAA" (CNAMEs are always followed).
    record_types: tuple[str, ...] = ADDRESS_TYPES
    # Seconds the resolver may take to answer one question (above 0, at most 60).
    timeout: float = 2.0
    expect: DnsExpectations = dataclasses.field(default_factory=DnsExpectations)

    def __post_init__(self) -> None:
        parse_resolver(self.resolver)
        if not 0 < self.timeout <= 60:
            raise ValueError(f"timeout = {self.timeout:g}: expected seconds above 0, at most 60")
        bad = [h for h in self.hosts if not is_host_name(h)]
        if bad:
            raise ValueError(f"hosts: {bad[0]!r} is not a host name")
        types = tuple(dict.fromkeys(t.strip().upper() for t in self.record_types))
        if not types or any(t not in ADDRESS_TYPES for t in types):
            raise ValueError(
                f"record_types = {list(self.record_types)}: choose from A and AAAA "
                "(CNAMEs are always followed)"
            )
        object.__setattr__(self, "record_types", types)
        object.__setattr__(self, "hosts", tuple(normal_host(h) for h in self.hosts))

    @property
    def address(self) -> str:
        return show_address(*parse_resolver(self.resolver))


# -- the client ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DnsClient:
    """Asks one resolver (UDP, TCP when the answer is truncated). Stateless: thread-safe."""

    host: str
    port: int
    timeout: float
    tries: int = 2

    @property
    def address(self) -> str:
        return show_address(self.host, self.port)

    def ask(self, name: str, rdtype: str, tries: int | None = None) -> dns.message.Message:
        """One question with recursion desired; a reply lost in transit is asked again."""
        import dns.exception
        import dns.message
        import dns.query

        query = dns.message.make_query(name, rdtype)
        attempts = max(1, tries or self.tries)
        for attempt in range(1, attempts + 1):
            try:
                response, _ = dns.query.udp_with_fallback(
                    query, self.host, timeout=self.timeout, port=self.port
                )
                return response
            except dns.exception.Timeout:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def lookup(self, host: str, rdtype: str) -> Lookup:
        """``host``'s ``rdtype`` records, following CNAMEs (asking again for a target the answer
        does not carry), as a plain ``Lookup``."""
        import dns.exception
        import dns.flags
        import dns.rcode

        records: list[RecordSet] = []
        name = host
        authoritative = True
        for _ in range(MAX_CNAME_HOPS):
            try:
                response = self.ask(name, rdtype)
            except dns.exception.Timeout:
                problem = f"no reply within {self.timeout:g} s ({self.tries} tries)"
                return Lookup(host, rdtype, self.address, None, problem, tuple(records))
            except Exception as exc:  # a malformed reply, a refused TCP fallback
                problem = f"{type(exc).__name__}: {exc}"
                return Lookup(host, rdtype, self.address, None, problem, tuple(records))
            authoritative = authoritative and bool(response.flags & dns.flags.AA)
            rcode = dns.rcode.to_text(response.rcode())
            name, done = _follow(response, name, rdtype, records)
            if done or rcode != "NOERROR":
                return Lookup(
                    host, rdtype, self.address, rcode, None, tuple(records), authoritative
                )
        problem = f"more than {MAX_CNAME_HOPS} CNAMEs in a row (a loop?)"
        return Lookup(host, rdtype, self.address, "NOERROR", problem, tuple(records))

    def lookup_many(self, questions: Sequence[tuple[str, str]]) -> list[Lookup]:
        """Every (host, type) at once: about one round trip whatever their number."""
        if not questions:
            return []
        workers = min(MAX_PARALLEL, len(questions))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deployverify-dns") as pool:
            return list(pool.map(lambda q: self.lookup(*q), questions))


def _follow(
    response: dns.message.Message, name: str, rdtype: str, records: list[RecordSet]
) -> tuple[str, bool]:
    """Walk the answer section from ``name``: append the CNAMEs and the final ``rdtype`` set to
    ``records``. Returns the name reached and whether the chain ended there (an address set,
    nothing for the name asked: NODATA, or a loop); False means a CNAME target the answer does
    not carry, to be asked for next."""
    import dns.rdatatype

    sets = {
        (normal_host(rrset.name.to_text()), dns.rdatatype.to_text(rrset.rdtype)): rrset
        for rrset in response.answer
    }
    asked = current = normal_host(name)
    for _ in range(MAX_CNAME_HOPS):
        found = sets.get((current, rdtype))
        if found is not None:
            records.append(_record_set(current, rdtype, found))
            return current, True
        cname = sets.get((current, "CNAME"))
        if cname is None:
            return current, current == asked
        records.append(_record_set(current, "CNAME", cname))
        current = records[-1].values[0]
        if any(r.name == current for r in records):
            return current, True  # a CNAME loop: the answer ends here
    return current, False


def _record_set(name: str, rdtype: str, rrset: Any) -> RecordSet:
    values = tuple(
        normal_host(rdata.target.to_text()) if rdtype == "CNAME" else rdata.to_text()
        for rdata in rrset
    )
    return RecordSet(name, rdtype, int(rrset.ttl), values)


def build_client(section: DnsConfig) -> DnsClient:
    """The client, probed: the resolver must answer one question (any response code) in time."""
    import dns.exception

    host, port = parse_resolver(section.resolver)
    client = DnsClient(host, port, section.timeout)
    try:
        client.ask(".", "NS", tries=1)
    except dns.exception.Timeout as exc:
        raise ComponentUnavailable(
            COMPONENT,
            f"resolver {client.address}",
            f"is unreachable: no reply within {section.timeout:g} s",
        ) from exc
    except OSError as exc:
        raise ComponentUnavailable(
            COMPONENT, f"resolver {client.address}", f"is unreachable: {exc}"
        ) from exc
    return client


# -- the reader ------------------------------------------------------------------------------------


def _ingresses(ctx: ReadContext, section: DnsConfig) -> list[Mapping[str, Any]] | None:
    """The cluster's Ingresses when the profile has a cluster, else None."""
    if ctx.profile.sections.get("kubernetes") is None:
        return None
    try:
        objects = ctx.read("kubernetes.ingresses")
    except KeyError as exc:
        raise ReadError(
            COMPONENT,
            f"resolver {section.address}",
            "reading the Ingresses' hosts",
            f"the kubernetes component has no 'ingresses' read ({exc}); set [dns] hosts and "
            "[dns.expect] addresses instead",
        ) from None
    if isinstance(objects, Mapping):
        objects = objects.get("items") or []
    return list(objects)


def _answers(ctx: ReadContext) -> DnsAnswers:
    section: DnsConfig = ctx.section
    client: DnsClient = ctx.client
    expect = section.expect
    need_cluster = not section.hosts or any(expect.addresses_for(h) is None for h in section.hosts)
    ingresses = _ingresses(ctx, section) if need_cluster else None
    plan = plan_hosts(section.hosts, expect, ingresses)
    if not plan.hosts:
        raise NotApplicable(
            "[dns] hosts is not set and no Ingress in the cluster names a host"
            + (f" ({'; '.join(plan.ignored)})" if plan.ignored else "")
        )
    questions = [(h, t) for h in plan.hosts for t in section.record_types]
    targets = [(n, t) for n in plan.target_names for t in section.record_types]
    lookups = client.lookup_many([*questions, *targets])
    return DnsAnswers(
        resolver=client.address,
        record_types=section.record_types,
        hosts_source=plan.hosts_source,
        lookups=tuple(lookups[: len(questions)]),
        expected=plan.expected,
        targets=tuple(lookups[len(questions) :]),
        ignored=plan.ignored,
        timeout=section.timeout,
    )


def _connect(section: DnsConfig, profile: Profile) -> DnsClient:
    return build_client(section)


def _endpoint(section: DnsConfig) -> str:
    return f"resolver {section.address}"


component = Component(
    name=COMPONENT,
    title="DNS",
    sections=(
        SectionSpec("dns", DnsConfig, "the resolver to ask and the public hosts to resolve"),
    ),
    connect=_connect,
    reads={"answers": _answers},
    checks=CHECKS,
    checklist=("pytest_deployverify.checklist.test_dns",),
    extra="dns",
    endpoint=_endpoint,
    close=lambda client: None,
    description="Public hosts resolve to the cluster's load balancer, with bounded TTLs.",
)
