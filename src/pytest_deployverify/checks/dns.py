"""DNS checks ("DNS records configured"): the public hosts resolve, at the resolver the profile
names, to the addresses the cluster's Ingresses report for their load balancer (or the profile
lists), and the records' TTLs are within the profile's bounds.

Pure: the expectations (``[dns.expect]``), the snapshot the component reads (``DnsAnswers``: one
``Lookup`` per host and record type, CNAMEs followed), the rules, the declarations and the
functions that judge. Built only with the public API of ``pytest_deployverify``.

About TTLs: a recursive resolver hands out the time left in its cache, which counts down from the
zone's TTL. So a TTL above ``max_ttl`` is above it in the zone too (a failure), while a TTL below
``min_ttl`` proves something only in an authoritative answer (AA flag); from a cache it is
inconclusive. Point ``[dns] resolver`` at an authoritative server of the zone for exact TTLs.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from pytest_deployverify import (
    Finding,
    Profile,
    Rule,
    Severity,
    declare,
    needs,
    needs_any,
)

COMPONENT = "dns"
ADDRESS_TYPES = ("A", "AAAA")
ANY_HOST = "*"
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)\Z")


def normal_host(name: str) -> str:
    """``API.Example.com.`` -> ``api.example.com`` (DNS names compare case-insensitively)."""
    return name.strip().rstrip(".").lower()


def is_host_name(text: str) -> bool:
    """A syntactically valid DNS host name (not an IP address, no all-digit top label)."""
    name = normal_host(text)
    if not name or len(name) > 253 or is_ip(name) or name.rsplit(".", 1)[-1].isdigit():
        return False
    return all(_LABEL.match(label) for label in name.split("."))


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def family(address: str) -> str:
    """``A`` for an IPv4 address, ``AAAA`` for IPv6."""
    return "AAAA" if ipaddress.ip_address(address).version == 6 else "A"


def normal_address(text: str) -> str:
    """An IP address in its canonical text (``2001:DB8::0:1`` -> ``2001:db8::1``), else a host
    name normalised."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return normal_host(text)


# -- expectations ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class DnsExpectations:
    """``[dns.expect]``: what the answers must be.

    ``addresses``: per host, the IP addresses (or the load balancer's host name) it must resolve
    to; the key ``"*"`` applies to every host not listed. A host with no entry expects the
    load-balancer addresses the cluster reports for the Ingresses that serve it.
    ``min_ttl``/``max_ttl``: bounds in seconds for the TTL of every record of the answers (the
    CNAMEs followed included).
    """

    # Per host, the addresses (or load-balancer host name) it must resolve to; "*" for every
    # host not listed (`addresses = { "api.example.com" = ["203.0.113.10"] }`); a host without
    # an entry expects its Ingress's load-balancer addresses.
    addresses: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # The shortest TTL allowed, in seconds (unset: not judged); a shorter one fails only in an
    # authoritative answer (a resolver's cache counts down).
    min_ttl: int | None = None
    # The longest TTL allowed, in seconds (unset: not judged).
    max_ttl: int | None = None

    def __post_init__(self) -> None:
        for name in ("min_ttl", "max_ttl"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 604800:
                raise ValueError(f"{name} = {value}: expected seconds between 0 and 604800")
        if self.min_ttl is not None and self.max_ttl is not None and self.min_ttl > self.max_ttl:
            raise ValueError(f"min_ttl ({self.min_ttl}) is above max_ttl ({self.max_ttl})")
        table: dict[str, tuple[str, ...]] = {}
        for host, values in self.addresses.items():
            key = host if host == ANY_HOST else normal_host(host)
            if key != ANY_HOST and not is_host_name(key):
                raise ValueError(f"addresses: {host!r} is not a host name")
            bad = [v for v in values if not (is_ip(v.strip()) or is_host_name(v))]
            if bad:
                raise ValueError(
                    f"addresses.{host}: {bad[0]!r} is neither an IP address nor a host name"
                )
            if not values:
                raise ValueError(f"addresses.{host}: the list is empty")
            table[key] = tuple(dict.fromkeys(normal_address(v) for v in values))
        object.__setattr__(self, "addresses", MappingProxyType(table))

    def addresses_for(self, host: str) -> tuple[str, ...] | None:
        """The profile's expected addresses for ``host`` (its own entry, else ``"*"``)."""
        return self.addresses.get(normal_host(host), self.addresses.get(ANY_HOST))


# -- snapshots ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RecordSet:
    """One RRset of an answer: its owner name (no trailing dot), type, TTL and values."""

    name: str
    type: str
    ttl: int
    values: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Lookup:
    """One question (``host``, ``type``) asked of ``resolver``, CNAMEs followed.

    ``rcode`` is the answer's response code (of the last question when a CNAME had to be asked
    for separately), None when no answer came; ``problem`` says why there is no usable answer
    (no reply in time, a malformed reply). ``records`` are the CNAMEs followed, in order, then the
    address set; ``authoritative`` is the AA flag of the answer.
    """

    host: str
    type: str
    resolver: str
    rcode: str | None = None
    problem: str | None = None
    records: tuple[RecordSet, ...] = ()
    authoritative: bool = False

    @property
    def answered(self) -> bool:
        return self.rcode is not None and self.problem is None

    @property
    def cnames(self) -> tuple[str, ...]:
        """The names the CNAMEs lead to, in order."""
        return tuple(r.values[0] for r in self.records if r.type == "CNAME" and r.values)

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(
            normal_address(v) for r in self.records if r.type == self.type for v in r.values
        )

    def described(self) -> str:
        """``A 192.0.2.10`` / ``A via CNAME edge.example.com: 192.0.2.10`` / ``A NXDOMAIN``."""
        via = f" via CNAME {' -> '.join(self.cnames)}" if self.cnames else ""
        if not self.answered:
            return f"{self.type}{via}: {self.problem or 'no answer'}"
        if self.rcode != "NOERROR":
            return f"{self.type}{via}: {self.rcode}"
        return f"{self.type}{via}: {', '.join(self.addresses) or 'no record (NODATA)'}"


@dataclasses.dataclass(frozen=True)
class Expected:
    """The addresses a host must resolve to (IPs and/or load-balancer host names), and whence."""

    addresses: tuple[str, ...]
    source: str


@dataclasses.dataclass(frozen=True)
class DnsAnswers:
    """What the resolver answered for every host and record type, with what was expected.

    ``targets`` are the lookups of the load-balancer host names that appear among the expected
    addresses (an Ingress on a cloud load balancer reports a host name, not an IP).
    ``ignored`` lists hosts not checked, with the reason (wildcard Ingress rules).
    """

    resolver: str
    record_types: tuple[str, ...]
    hosts_source: str
    lookups: tuple[Lookup, ...]
    expected: Mapping[str, Expected]
    targets: tuple[Lookup, ...] = ()
    ignored: tuple[str, ...] = ()
    timeout: float | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(lookup.host for lookup in self.lookups))

    def for_host(self, host: str) -> list[Lookup]:
        return [lookup for lookup in self.lookups if lookup.host == host]

    def target(self, name: str, rdtype: str) -> Lookup | None:
        return next((t for t in self.targets if t.host == name and t.type == rdtype), None)


@dataclasses.dataclass(frozen=True)
class HostPlan:
    """Which hosts to ask for, what each must resolve to, and what was left out."""

    hosts: tuple[str, ...]
    hosts_source: str
    expected: Mapping[str, Expected]
    ignored: tuple[str, ...] = ()

    @property
    def target_names(self) -> tuple[str, ...]:
        """The load-balancer host names among the expected addresses, each once."""
        names = (a for e in self.expected.values() for a in e.addresses if not is_ip(a))
        return tuple(dict.fromkeys(names))


# -- from the cluster's Ingresses -------------------------------------------------------------------


def _name(ingress: Mapping[str, Any]) -> str:
    meta = ingress.get("metadata") or {}
    return f"{meta.get('namespace') or '?'}/{meta.get('name') or '?'}"


def ingress_hosts(
    ingresses: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """From raw Ingress objects: the Ingresses serving each host (``spec.rules[].host``), the
    load-balancer addresses each Ingress reports (``status.loadBalancer.ingress[].ip|hostname``),
    and the wildcard hosts that cannot be asked for."""
    serving: dict[str, list[str]] = {}
    balancers: dict[str, list[str]] = {}
    wildcards: list[str] = []
    for ingress in ingresses:
        name = _name(ingress)
        status = (ingress.get("status") or {}).get("loadBalancer") or {}
        balancers[name] = [
            normal_address(str(entry.get("ip") or entry.get("hostname")))
            for entry in status.get("ingress") or ()
            if entry.get("ip") or entry.get("hostname")
        ]
        for rule in (ingress.get("spec") or {}).get("rules") or ():
            host = rule.get("host")
            if not host:
                continue
            if "*" in host:
                wildcards.append(f"{host} (Ingress {name}): a wildcard cannot be resolved")
                continue
            serving.setdefault(normal_host(host), []).append(name)
    return serving, balancers, wildcards


def plan_hosts(
    hosts: Sequence[str],
    expect: DnsExpectations,
    ingresses: Sequence[Mapping[str, Any]] | None,
) -> HostPlan:
    """The hosts to check (the profile's ``hosts``, else every host of the Ingresses) and, for
    each, its expected addresses: the profile's ``[dns.expect] addresses``, else the addresses the
    cluster reports for the load balancer of the Ingresses serving it (empty when none does).
    ``ingresses`` is None when the cluster is not part of the profile."""
    serving, balancers, wildcards = ingress_hosts(ingresses or ())
    if hosts:
        chosen = tuple(dict.fromkeys(normal_host(h) for h in hosts))
        source = "[dns] hosts"
        ignored: tuple[str, ...] = ()
    else:
        chosen = tuple(serving)
        names = sorted({n for ns in serving.values() for n in ns})
        source = f"the hosts of Ingress {', '.join(names)}" if names else "no Ingress host"
        ignored = tuple(wildcards)
    expected: dict[str, Expected] = {}
    for host in chosen:
        listed = expect.addresses_for(host)
        if listed is not None:
            which = host if host in expect.addresses else ANY_HOST
            expected[host] = Expected(listed, f"[dns.expect] addresses.{which}")
            continue
        names = serving.get(host, [])
        if ingresses is None:
            expected[host] = Expected((), "no [dns.expect] addresses entry and no [kubernetes]")
        elif not names:
            expected[host] = Expected((), "no Ingress serves this host")
        else:
            found = tuple(dict.fromkeys(a for n in names for a in balancers.get(n, ())))
            expected[host] = Expected(
                found, f"status.loadBalancer of Ingress {', '.join(sorted(set(names)))}"
            )
    return HostPlan(chosen, source, MappingProxyType(expected), ignored)


# -- rules and declarations --------------------------------------------------------------------


RECORD_MISSING = Rule(
    "dns-record-missing",
    Severity.CRITICAL,
    "a public host has no address record (NXDOMAIN, or NODATA for a type it needs)",
)
RECORD_WRONG = Rule(
    "dns-record-wrong",
    Severity.CRITICAL,
    "a public host resolves to an address other than its load balancer's",
)
RESOLUTION_FAILED = Rule(
    "dns-resolution-failed",
    Severity.CRITICAL,
    "the resolver could not answer for a public host (SERVFAIL, REFUSED, no reply in time)",
)
EXPECTED_UNKNOWN = Rule(
    "dns-expected-unknown",
    Severity.HIGH,
    "nothing says which address a public host must resolve to (no load-balancer address yet)",
)
TTL = Rule("dns-ttl", Severity.MEDIUM, "a record's TTL is outside the profile's bounds")


def _records_apply(profile: Profile) -> str | None:
    """Hosts and expected addresses come from the profile, or from the cluster's Ingresses."""
    if needs("kubernetes")(profile) is None:
        return None
    reason = needs("dns.hosts", "dns.expect.addresses")(profile)
    return (
        f"{reason} (and [kubernetes] is not configured to read the Ingresses from)"
        if reason
        else None
    )


def _ttl_apply(profile: Profile) -> str | None:
    reason = needs_any("dns.expect.min_ttl", "dns.expect.max_ttl")(profile)
    if reason is not None:
        return reason
    if needs_any("dns.hosts", "kubernetes")(profile) is None:
        return None
    return "[dns] hosts is not set and [kubernetes] is not configured to read the Ingresses from"


DNS_RECORDS = declare(
    "INFRA-DNS-RECORDS",
    title="DNS records configured: public hosts resolve to the load balancer",
    section="infra",
    severity="critical",
    components=("dns",),
    keys=(
        "dns.resolver",
        "dns.hosts",
        "dns.record_types",
        "dns.expect.addresses",
        "kubernetes.namespace",
    ),
    reads=("dns.answers",),
    applies=_records_apply,
    description="""Every public host (the profile's list, else the hosts of the cluster's
    Ingresses) resolves at the configured resolver, CNAMEs followed, to the addresses the
    cluster reports for its Ingress load balancer (or the profile lists): no NXDOMAIN or
    missing record type, no address elsewhere, no SERVFAIL or timeout.""",
)

DNS_TTL = declare(
    "INFRA-DNS-TTL",
    title="DNS record TTLs within bounds",
    section="infra",
    severity="medium",
    components=("dns",),
    keys=("dns.expect.min_ttl", "dns.expect.max_ttl"),
    reads=("dns.answers",),
    applies=_ttl_apply,
    description="""The TTL of every record the public hosts' answers carry (CNAMEs included) is
    within [dns.expect] min_ttl and max_ttl: long enough to spare the name servers, short enough
    for a failover to take effect.""",
)

CHECKS = (DNS_RECORDS, DNS_TTL)


# -- judging -------------------------------------------------------------------------------------


def _shown(addresses: Iterable[str]) -> str:
    return ", ".join(addresses) or "none"


def _expected_text(expected: Expected) -> str:
    return f"{_shown(expected.addresses)} ({expected.source})"


def _failure(lookup: Lookup, types: str | None = None) -> tuple[Rule, str] | None:
    """The rule and message when ``lookup`` got no usable answer, else None (``types`` names the
    record types the message speaks for, when one failure stands for several lookups)."""
    where = f"resolver {lookup.resolver}"
    what = (types or lookup.type) + (
        f" via CNAME {' -> '.join(lookup.cnames)}" if lookup.cnames else ""
    )
    if not lookup.answered:
        return (
            RESOLUTION_FAILED,
            f"{where} gave no answer for {what}: {lookup.problem or 'no answer'}",
        )
    if lookup.rcode == "NXDOMAIN":
        return RECORD_MISSING, f"does not exist at {where} (NXDOMAIN for {what})"
    if lookup.rcode == "SERVFAIL":
        return (
            RESOLUTION_FAILED,
            f"{where} answered SERVFAIL for {what}: the zone's name servers failed or its DNSSEC "
            "validation failed",
        )
    if lookup.rcode != "NOERROR":
        return RESOLUTION_FAILED, f"{where} answered {lookup.rcode} for {what}"
    return None


def record_findings(answers: DnsAnswers) -> list[Finding]:
    """Each host resolves, for each record type asked, to its expected addresses only.

    An expected IP address of a family asked must be in the answer; an answered address must be
    expected (an expected load-balancer host name allows the CNAME to it, or the addresses it
    resolves to). NXDOMAIN, NODATA, a wrong address, SERVFAIL/REFUSED and no answer in time each
    say so, naming the host and the resolver.
    """
    found: list[Finding] = []
    for host in answers.hosts:
        subject = f"dns {host}"
        expected = answers.expected.get(host, Expected((), "nothing"))
        lookups = answers.for_host(host)
        failures = [(lookup, _failure(lookup)) for lookup in lookups]
        failed = [lookup for lookup, f in failures if f is not None]
        # The same failure for every type (NXDOMAIN for A and AAAA) is said once.
        kinds = {(lk.rcode, lk.problem, lk.cnames) for lk in failed}
        if len(failed) == len(lookups) > 1 and len(kinds) == 1:
            merged = _failure(failed[0], "/".join(lk.type for lk in failed))
            assert merged is not None  # failed[0] failed
            rule, message = merged
            found.append(rule(subject, f"{message}; expected {_expected_text(expected)}"))
            continue
        for _, failure in failures:
            if failure is not None:
                rule, message = failure
                found.append(rule(subject, f"{message}; expected {_expected_text(expected)}"))
        answered = [lookup for lookup, f in failures if f is None]
        if not expected.addresses:
            found.append(
                EXPECTED_UNKNOWN(
                    subject,
                    f"no expected address: {expected.source} (resolver {answers.resolver} "
                    f"answered {'; '.join(lk.described() for lk in lookups)}); set [dns.expect] "
                    "addresses or wait for the load balancer to report its address",
                )
            )
            continue
        before = len(found)
        for lookup in answered:
            found += _compare(host, lookup, expected, answers)
        quiet = len(found) == before and not failed
        if answered and quiet and not any(lk.addresses for lk in answered):
            types = "/".join(lk.type for lk in answered)
            found.append(
                RECORD_MISSING(
                    subject,
                    f"has no {types} record at resolver {answers.resolver} (NOERROR, empty "
                    f"answer: {'; '.join(lk.described() for lk in answered)}); expected "
                    f"{_expected_text(expected)}",
                )
            )
    return found


def _compare(host: str, lookup: Lookup, expected: Expected, answers: DnsAnswers) -> list[Finding]:
    subject = f"dns {host}"
    where = f"resolver {lookup.resolver}"
    names = [a for a in expected.addresses if not is_ip(a)]
    if lookup.addresses and any(c in names for c in lookup.cnames):
        return []  # a CNAME to the load balancer's own name: whatever it resolves to is right
    required = {a for a in expected.addresses if is_ip(a) and family(a) == lookup.type}
    allowed = set(required)
    found: list[Finding] = []
    for name in names:
        target = answers.target(name, lookup.type)
        if target is None:
            continue
        if target.answered and target.rcode == "NOERROR":
            allowed.update(target.addresses)
        elif target.rcode != "NXDOMAIN" or target.problem:
            found.append(
                RESOLUTION_FAILED(
                    subject,
                    f"the load balancer's name {name} could not be resolved at {where} to "
                    f"compare ({target.described()})",
                    Severity.HIGH,
                )
            )
    got = list(lookup.addresses)
    via = f" via CNAME {' -> '.join(lookup.cnames)}" if lookup.cnames else ""
    if not got:
        if allowed:
            found.append(
                RECORD_MISSING(
                    subject,
                    f"has no {lookup.type} record at {where} (NOERROR, empty answer{via}); "
                    f"expected {_shown(sorted(allowed))} ({expected.source})",
                )
            )
        return found
    unexpected = [a for a in got if a not in allowed]
    if unexpected:
        wanted = _shown(sorted(allowed)) if allowed else f"no {lookup.type} record"
        found.append(
            RECORD_WRONG(
                subject,
                f"resolves to {_shown(unexpected)} ({lookup.type}{via}) at {where}; expected "
                f"{wanted} ({expected.source}: {_shown(expected.addresses)})",
            )
        )
    missing = sorted(required - set(got))
    if missing and not unexpected:
        found.append(
            RECORD_WRONG(
                subject,
                f"resolves to {_shown(got)} ({lookup.type}{via}) at {where} but not to "
                f"{_shown(missing)}; expected all of {_shown(sorted(required))} "
                f"({expected.source})",
            )
        )
    return found


def _record_sets(answers: DnsAnswers) -> list[tuple[Lookup, RecordSet]]:
    """Every RRset the answered lookups carry, each (name, type) once."""
    seen: set[tuple[str, str]] = set()
    out: list[tuple[Lookup, RecordSet]] = []
    for lookup in answers.lookups:
        if not lookup.answered:
            continue
        for record in lookup.records:
            key = (record.name, record.type)
            if key not in seen:
                seen.add(key)
                out.append((lookup, record))
    return out


def ttl_findings(answers: DnsAnswers, expect: DnsExpectations) -> list[Finding]:
    """Every record's TTL within ``[min_ttl, max_ttl]``. Above the maximum fails from any answer
    (a cache only counts down); below the minimum fails only in an authoritative answer (see
    ``ttl_inconclusive``)."""
    found: list[Finding] = []
    for lookup, record in _record_sets(answers):
        subject = f"dns {lookup.host}"
        seen = f"{record.name} {record.type} has TTL {record.ttl} s at resolver {lookup.resolver}"
        if expect.max_ttl is not None and record.ttl > expect.max_ttl:
            found.append(TTL(subject, f"{seen}; expected at most {expect.max_ttl} s"))
        elif expect.min_ttl is not None and record.ttl < expect.min_ttl and lookup.authoritative:
            found.append(
                TTL(subject, f"{seen} (authoritative answer); expected at least {expect.min_ttl} s")
            )
    return found


def ttl_inconclusive(answers: DnsAnswers, expect: DnsExpectations) -> str | None:
    """Why the TTL bounds could not be judged (None when they could): no record answered, or a
    TTL below ``min_ttl`` that came from a cache, where it may have counted down."""
    records = _record_sets(answers)
    if not records:
        return (
            f"resolver {answers.resolver} answered no record for "
            f"{', '.join(answers.hosts) or 'any host'}: no TTL to judge (see INFRA-DNS-RECORDS)"
        )
    if expect.min_ttl is None:
        return None
    cached = [
        f"{record.name} {record.type} {record.ttl} s"
        for lookup, record in records
        if record.ttl < expect.min_ttl and not lookup.authoritative
    ]
    if not cached:
        return None
    return (
        f"TTL below {expect.min_ttl} s in a non-authoritative answer from resolver "
        f"{answers.resolver} ({'; '.join(cached)}): a cached TTL counts down from the zone's, "
        "so this does not show the zone's TTL; point [dns] resolver at an authoritative server "
        "of the zone to judge it"
    )


def ttl_summary(answers: DnsAnswers) -> dict[str, int]:
    """``{"api.example.com A": 300, ...}``: the TTLs judged, for evidence."""
    return {f"{r.name} {r.type}": r.ttl for _, r in _record_sets(answers)}


def answers_summary(answers: DnsAnswers) -> dict[str, list[str]]:
    """``{"api.example.com": ["A 192.0.2.10", "AAAA: no record (NODATA)"]}``, for evidence."""
    return {host: [lk.described() for lk in answers.for_host(host)] for host in answers.hosts}


__all__ = [
    "ADDRESS_TYPES",
    "CHECKS",
    "DNS_RECORDS",
    "DNS_TTL",
    "DnsAnswers",
    "DnsExpectations",
    "Expected",
    "HostPlan",
    "Lookup",
    "RecordSet",
    "answers_summary",
    "ingress_hosts",
    "plan_hosts",
    "record_findings",
    "ttl_findings",
    "ttl_inconclusive",
    "ttl_summary",
]
