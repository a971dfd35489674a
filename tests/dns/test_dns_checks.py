"""DNS checks against a real resolver (unbound on a loopback port, zones written per test): the
healthy variants (A only, A and AAAA, a CNAME chain to the load balancer's name, an alias record)
pass, and each defect (wrong record, stale AAAA, missing address, NXDOMAIN, NODATA, SERVFAIL, no
reply in time, TTL out of bounds) fails with a message naming the host and the resolver.

The snapshot is read the way a run reads it: through a component registry, the expected addresses
coming from the cluster's Ingresses (a stand-in ``kubernetes.ingresses`` read) or the profile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify import NotApplicable
from pytest_deployverify.checks import dns as dc
from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.components.dns import DnsClient
from pytest_deployverify.components.errors import ComponentUnavailable, ReadError
from sandbox.servers.dns import DnsServer, Record, Zone, start_unbound

from .helpers import LB_IP, LB_IP6, STALE_IP, ingress, kube_stub, registry, silent_resolver

StartDns = Callable[..., DnsServer]
HOST = "api.example.com"


@pytest.fixture
def start_dns(tmp_path: Path) -> Iterator[StartDns]:
    """Start unbound with the zones a test writes; stopped by PID at the end of the test."""
    started: list[DnsServer] = []

    def start(*zones: Zone) -> DnsServer:
        server = start_unbound(tmp_path / f"unbound-{len(started)}", zones)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def example(*records: Record, **options: Any) -> Zone:
    return Zone("example.com", records, **options)


def read(
    server: DnsServer | str,
    ingresses: Sequence[Mapping[str, Any]] | None = None,
    **dns: Any,
) -> dc.DnsAnswers:
    resolver = server.address if isinstance(server, DnsServer) else server
    with registry({"resolver": resolver, **dns}, ingresses) as reg:
        answers: dc.DnsAnswers = reg.read("dns.answers")
        return answers


def one(findings: list[Finding], rule: str) -> Finding:
    assert len(findings) == 1, summarize(findings)
    assert findings[0].check_id == rule, summarize(findings)
    return findings[0]


# -- healthy ---------------------------------------------------------------------------------------


def test_a_record_matching_the_ingress_load_balancer_passes(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP)))
    answers = read(server, [ingress("api", [HOST], ips=[LB_IP])], record_types=["A"])
    assert dc.record_findings(answers) == []
    assert answers.hosts == (HOST,)
    assert answers.hosts_source == "the hosts of Ingress web/api"
    assert answers.expected[HOST] == dc.Expected((LB_IP,), "status.loadBalancer of Ingress web/api")
    assert dc.answers_summary(answers) == {HOST: [f"A: {LB_IP}"]}
    assert answers.resolver == server.address


def test_a_and_aaaa_records_of_a_dual_stack_load_balancer_pass(start_dns: StartDns) -> None:
    server = start_dns(
        example(
            Record("api", "A", LB_IP),
            Record("api", "AAAA", LB_IP6),
            Record("www", "A", LB_IP),
            Record("www", "AAAA", "2001:DB8:0::10"),
        )
    )
    ingresses = [ingress("api", [HOST, "www.example.com"], ips=[LB_IP, LB_IP6])]
    answers = read(server, ingresses)
    assert dc.record_findings(answers) == [], summarize(dc.record_findings(answers))
    assert dc.answers_summary(answers) == {
        HOST: [f"A: {LB_IP}", f"AAAA: {LB_IP6}"],
        "www.example.com": [f"A: {LB_IP}", f"AAAA: {LB_IP6}"],
    }


def test_ipv4_only_load_balancer_with_no_aaaa_record_passes(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP)))
    answers = read(server, [ingress("api", [HOST], ips=[LB_IP])])  # asks A and AAAA
    assert dc.record_findings(answers) == []
    assert dc.answers_summary(answers) == {HOST: [f"A: {LB_IP}", "AAAA: no record (NODATA)"]}


def test_cname_chain_to_the_load_balancer_name_passes(start_dns: StartDns) -> None:
    server = start_dns(
        example(
            Record("www", "CNAME", "edge", ttl=120),
            Record("edge", "CNAME", "lb", ttl=60),
            Record("lb", "A", "192.0.2.20"),
            Record("lb", "AAAA", "2001:db8::20"),
        )
    )
    ingresses = [ingress("www", ["www.example.com"], hostnames=["lb.example.com"])]
    answers = read(server, ingresses)
    assert dc.record_findings(answers) == [], summarize(dc.record_findings(answers))
    [a, aaaa] = answers.for_host("www.example.com")
    assert a.cnames == ("edge.example.com", "lb.example.com")
    assert a.addresses == ("192.0.2.20",)
    assert aaaa.addresses == ("2001:db8::20",)
    assert [(r.name, r.type, r.ttl) for r in a.records] == [
        ("www.example.com", "CNAME", 120),
        ("edge.example.com", "CNAME", 60),
        ("lb.example.com", "A", 300),
    ]
    # The load balancer's name was resolved too, in the same batch of questions.
    assert {(t.host, t.type) for t in answers.targets} == {
        ("lb.example.com", "A"),
        ("lb.example.com", "AAAA"),
    }


def test_cname_across_zones_is_followed_and_matched_by_address(start_dns: StartDns) -> None:
    server = start_dns(
        example(Record("shop", "CNAME", "shop.cdn.example.net.")),
        Zone("cdn.example.net", [Record("shop", "A", LB_IP)]),
    )
    answers = read(
        server, record_types=["A"], hosts=["shop.example.com"], expect={"addresses": {"*": [LB_IP]}}
    )
    assert dc.record_findings(answers) == [], summarize(dc.record_findings(answers))
    [lookup] = answers.lookups
    assert lookup.cnames == ("shop.cdn.example.net",)
    assert lookup.addresses == (LB_IP,)
    assert answers.expected["shop.example.com"].source == "[dns.expect] addresses.*"


def test_alias_record_with_the_load_balancer_names_addresses_passes(start_dns: StartDns) -> None:
    """A flattened/alias A record (no CNAME) holding the addresses the LB's name resolves to."""
    server = start_dns(example(Record("api", "A", "192.0.2.20"), Record("lb", "A", "192.0.2.20")))
    answers = read(
        server, [ingress("api", [HOST], hostnames=["lb.example.com"])], record_types=["A"]
    )
    assert dc.record_findings(answers) == []


# -- defects ------------------------------------------------------------------------------------


def test_wrong_record_names_the_host_resolver_and_both_addresses(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", STALE_IP)))
    answers = read(server, [ingress("api", [HOST], ips=[LB_IP])])
    finding = one(dc.record_findings(answers), "dns-record-wrong")
    assert finding.subject == f"dns {HOST}"
    assert finding.message == (
        f"resolves to {STALE_IP} (A) at resolver {server.address}; expected {LB_IP} "
        f"(status.loadBalancer of Ingress web/api: {LB_IP})"
    )
    assert finding.severity.value == "critical"


def test_stale_aaaa_record_beside_a_right_a_record_fails(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP), Record("api", "AAAA", "2001:db8::99")))
    answers = read(server, [ingress("api", [HOST], ips=[LB_IP])])
    finding = one(dc.record_findings(answers), "dns-record-wrong")
    assert finding.message.startswith(
        f"resolves to 2001:db8::99 (AAAA) at resolver {server.address}; expected no AAAA record"
    )


def test_record_missing_one_of_the_load_balancer_addresses_fails(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP)))
    answers = read(server, [ingress("api", [HOST], ips=[LB_IP, "192.0.2.11"])])
    finding = one(dc.record_findings(answers), "dns-record-wrong")
    assert "resolves to 192.0.2.10 (A)" in finding.message
    assert "but not to 192.0.2.11; expected all of 192.0.2.10, 192.0.2.11" in finding.message


def test_wrong_cname_target_fails(start_dns: StartDns) -> None:
    server = start_dns(
        example(Record("www", "CNAME", "old-lb"), Record("old-lb", "A", STALE_IP)),
    )
    answers = read(
        server,
        [ingress("www", ["www.example.com"], hostnames=["lb.example.com"])],
        record_types=["A"],
    )
    findings = dc.record_findings(answers)
    finding = one(findings, "dns-record-wrong")
    assert finding.message.startswith(
        f"resolves to {STALE_IP} (A via CNAME old-lb.example.com) at resolver {server.address}"
    )


def test_nxdomain_is_a_missing_record(start_dns: StartDns) -> None:
    server = start_dns(example(Record("other", "A", LB_IP)))
    answers = read(server, [ingress("api", [HOST], ips=[LB_IP])])
    finding = one(dc.record_findings(answers), "dns-record-missing")
    assert finding.message == (
        f"does not exist at resolver {server.address} (NXDOMAIN for A/AAAA); expected "
        f"{LB_IP} (status.loadBalancer of Ingress web/api)"
    )


def test_nodata_for_the_load_balancers_family_is_a_missing_record(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "AAAA", LB_IP6), Record("api", "TXT", '"v=1"')))
    answers = read(server, [ingress("api", [HOST], ips=[LB_IP, LB_IP6])])
    finding = one(dc.record_findings(answers), "dns-record-missing")
    assert finding.message == (
        f"has no A record at resolver {server.address} (NOERROR, empty answer); expected "
        f"{LB_IP} (status.loadBalancer of Ingress web/api)"
    )


def test_dangling_cname_is_a_missing_record(start_dns: StartDns) -> None:
    server = start_dns(example(Record("www", "CNAME", "gone")))
    answers = read(server, hosts=["www.example.com"], expect={"addresses": {"*": [LB_IP]}})
    finding = one(dc.record_findings(answers), "dns-record-missing")
    assert finding.message.startswith(
        f"does not exist at resolver {server.address} (NXDOMAIN for A/AAAA via CNAME "
        "gone.example.com)"
    )


def test_cname_to_a_load_balancer_name_without_addresses_is_missing(
    start_dns: StartDns,
) -> None:
    server = start_dns(example(Record("www", "CNAME", "lb"), Record("lb", "TXT", '"lb"')))
    answers = read(server, [ingress("www", ["www.example.com"], hostnames=["lb.example.com"])])
    finding = one(dc.record_findings(answers), "dns-record-missing")
    assert finding.message == (
        f"has no A/AAAA record at resolver {server.address} (NOERROR, empty answer: A via CNAME "
        "lb.example.com: no record (NODATA); AAAA via CNAME lb.example.com: no record (NODATA)); "
        "expected lb.example.com (status.loadBalancer of Ingress web/www)"
    )


def test_servfail_is_a_resolution_failure(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP), broken_dnssec=True))
    answers = read(server, [ingress("api", [HOST], ips=[LB_IP])], record_types=["A"])
    finding = one(dc.record_findings(answers), "dns-resolution-failed")
    assert finding.message == (
        f"resolver {server.address} answered SERVFAIL for A: the zone's name servers failed or "
        f"its DNSSEC validation failed; expected {LB_IP} (status.loadBalancer of Ingress web/api)"
    )
    assert finding.subject == f"dns {HOST}"


def test_no_reply_in_time_is_a_resolution_failure() -> None:
    with silent_resolver() as address:
        host, port = address.split(":")
        client = DnsClient(host, int(port), timeout=0.2)
        lookup = client.lookup(HOST, "A")
    assert lookup.problem == "no reply within 0.2 s (2 tries)"
    answers = dc.DnsAnswers(
        resolver=address,
        record_types=("A",),
        hosts_source="[dns] hosts",
        lookups=(lookup,),
        expected={HOST: dc.Expected((LB_IP,), "[dns.expect] addresses.*")},
    )
    finding = one(dc.record_findings(answers), "dns-resolution-failed")
    assert finding.message == (
        f"resolver {address} gave no answer for A: no reply within 0.2 s (2 tries); expected "
        f"{LB_IP} ([dns.expect] addresses.*)"
    )


def test_unreachable_resolver_makes_the_component_unavailable_once() -> None:
    with (
        silent_resolver() as address,
        registry({"resolver": address, "hosts": [HOST], "timeout": 0.3}) as reg,
    ):
        with pytest.raises(ComponentUnavailable) as first:
            reg.read("dns.answers")
        with pytest.raises(ComponentUnavailable) as again:
            reg.read("dns.answers")
    assert str(first.value) == f"dns at resolver {address} is unreachable: no reply within 0.3 s"
    assert str(again.value) == str(first.value)


def test_ingress_without_a_load_balancer_address_cannot_be_judged(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP)))
    answers = read(server, [ingress("api", [HOST])], record_types=["A"])
    finding = one(dc.record_findings(answers), "dns-expected-unknown")
    assert finding.message == (
        "no expected address: status.loadBalancer of Ingress web/api (resolver "
        f"{server.address} answered A: {LB_IP}); set [dns.expect] addresses or wait for the "
        "load balancer to report its address"
    )


# -- where hosts and addresses come from -------------------------------------------------------


def test_profile_addresses_override_the_ingress_status_per_host(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", STALE_IP), Record("www", "A", LB_IP)))
    ingresses = [ingress("api", [HOST, "www.example.com", "*.example.com"], ips=[LB_IP])]
    answers = read(server, ingresses, record_types=["A"], expect={"addresses": {HOST: [STALE_IP]}})
    assert dc.record_findings(answers) == []
    assert answers.expected[HOST].source == "[dns.expect] addresses.api.example.com"
    assert answers.expected["www.example.com"].source == "status.loadBalancer of Ingress web/api"
    assert answers.ignored == ("*.example.com (Ingress web/api): a wildcard cannot be resolved",)


def test_no_host_anywhere_is_not_applicable(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP)))
    with pytest.raises(NotApplicable, match="no Ingress in the cluster names a host"):
        read(server, [ingress("default-backend", [])])


def test_cluster_without_an_ingress_read_is_a_read_error(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP)))
    with (
        registry({"resolver": server.address}, kube=kube_stub(None)) as reg,
        pytest.raises(ReadError, match="the kubernetes component has no 'ingresses' read"),
    ):
        reg.read("dns.answers")


# -- TTL -----------------------------------------------------------------------------------------


def test_ttls_within_bounds_pass(start_dns: StartDns) -> None:
    server = start_dns(
        example(Record("www", "CNAME", "lb", ttl=120), Record("lb", "A", LB_IP, ttl=300))
    )
    answers = read(
        server, hosts=["www.example.com"], record_types=["A"], expect={"addresses": {"*": [LB_IP]}}
    )
    expect = dc.DnsExpectations(min_ttl=60, max_ttl=3600)
    assert dc.ttl_findings(answers, expect) == []
    assert dc.ttl_inconclusive(answers, expect) is None
    assert dc.ttl_summary(answers) == {"www.example.com CNAME": 120, "lb.example.com A": 300}


def test_ttl_above_the_maximum_fails(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP, ttl=86400)))
    answers = read(server, hosts=[HOST], record_types=["A"], expect={"addresses": {"*": [LB_IP]}})
    finding = one(dc.ttl_findings(answers, dc.DnsExpectations(max_ttl=3600)), "dns-ttl")
    assert finding.message == (
        f"api.example.com A has TTL 86400 s at resolver {server.address}; expected at most 3600 s"
    )


def test_ttl_below_the_minimum_in_an_authoritative_answer_fails(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP, ttl=5), authoritative=True))
    answers = read(server, hosts=[HOST], record_types=["A"], expect={"addresses": {"*": [LB_IP]}})
    assert answers.lookups[0].authoritative
    finding = one(dc.ttl_findings(answers, dc.DnsExpectations(min_ttl=60)), "dns-ttl")
    assert finding.message == (
        f"api.example.com A has TTL 5 s at resolver {server.address} (authoritative answer); "
        "expected at least 60 s"
    )


def test_ttl_below_the_minimum_from_a_cache_is_inconclusive(start_dns: StartDns) -> None:
    server = start_dns(example(Record("api", "A", LB_IP, ttl=5)))
    answers = read(server, hosts=[HOST], record_types=["A"], expect={"addresses": {"*": [LB_IP]}})
    expect = dc.DnsExpectations(min_ttl=60)
    assert not answers.lookups[0].authoritative
    assert dc.ttl_findings(answers, expect) == []
    reason = dc.ttl_inconclusive(answers, expect)
    assert reason is not None
    assert reason.startswith(
        f"TTL below 60 s in a non-authoritative answer from resolver {server.address} "
        "(api.example.com A 5 s)"
    )
