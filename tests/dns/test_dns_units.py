"""The DNS component's pure parts: the ``[dns]`` table and its validation, where hosts and expected
addresses come from, the declarations, and what importing the component costs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_deployverify.checks import dns as dc
from pytest_deployverify.components.dns import DnsConfig, component, parse_resolver
from pytest_deployverify.profile.schema import SchemaError

from .helpers import LB_IP, ingress, kube_stub, make_profile


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.2", ("10.0.0.2", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[2001:DB8::1]:5353", ("2001:db8::1", 5353)),
    ],
)
def test_resolver_address_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_resolver(text) == expected


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"resolver": "dns.google"}, "resolver 'dns.google' must be an IP address"),
        ({"resolver": "10.0.0.2:0"}, "the port must be between 1 and 65535"),
        ({"resolver": "[::1]x"}, "write [IPv6]:port"),
        ({"resolver": "10.0.0.2", "record_types": ["MX"]}, "choose from A and AAAA"),
        ({"resolver": "10.0.0.2", "hosts": ["bad host"]}, "'bad host' is not a host name"),
        ({"resolver": "10.0.0.2", "timeout": 0}, "expected seconds above 0"),
        (
            {"resolver": "10.0.0.2", "expect": {"min_ttl": 600, "max_ttl": 60}},
            "min_ttl (600) is above max_ttl (60)",
        ),
        (
            {"resolver": "10.0.0.2", "expect": {"addresses": {"api.example.com": ["1.2.3"]}}},
            "'1.2.3' is neither an IP address nor a host name",
        ),
        ({"resolver": "10.0.0.2", "expect": {"max_ttl": -1}}, "max_ttl = -1"),
        ({"resolver": "10.0.0.2", "typo": 1}, "unknown key"),
    ],
)
def test_table_errors_name_the_key_and_the_fix(table: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError) as error:
        make_profile(table)
    assert message in str(error.value)
    assert str(error.value).startswith("dns")


def test_table_is_normalised() -> None:
    section: DnsConfig = make_profile(
        {
            "resolver": "127.0.0.1:5353",
            "hosts": ["API.Example.com."],
            "record_types": ["a"],
            "expect": {"addresses": {"API.example.com": ["2001:DB8:0::1", "LB.example.com."]}},
        }
    ).sections["dns"]
    assert section.hosts == ("api.example.com",)
    assert section.record_types == ("A",)
    assert section.address == "127.0.0.1:5353"
    assert section.expect.addresses_for("api.example.com") == ("2001:db8::1", "lb.example.com")
    assert section.expect.addresses_for("www.example.com") is None


def test_hosts_and_addresses_from_the_ingresses() -> None:
    plan = dc.plan_hosts(
        (),
        dc.DnsExpectations(),
        [
            ingress("api", ["api.example.com", "*.example.com"], ips=[LB_IP]),
            ingress("web", ["www.example.com", "API.example.com"], hostnames=["LB.example.net"]),
            ingress("pending", ["new.example.com"]),
        ],
    )
    assert plan.hosts == ("api.example.com", "www.example.com", "new.example.com")
    assert plan.hosts_source == "the hosts of Ingress web/api, web/pending, web/web"
    assert plan.expected["api.example.com"] == dc.Expected(
        (LB_IP, "lb.example.net"), "status.loadBalancer of Ingress web/api, web/web"
    )
    assert plan.expected["new.example.com"].addresses == ()
    assert plan.target_names == ("lb.example.net",)
    assert plan.ignored == ("*.example.com (Ingress web/api): a wildcard cannot be resolved",)


def test_profile_hosts_without_cluster_or_addresses_say_why() -> None:
    plan = dc.plan_hosts(("api.example.com",), dc.DnsExpectations(), None)
    assert plan.expected["api.example.com"] == dc.Expected(
        (), "no [dns.expect] addresses entry and no [kubernetes]"
    )
    plan = dc.plan_hosts(("api.example.com",), dc.DnsExpectations(), [])
    assert plan.expected["api.example.com"].source == "no Ingress serves this host"


def test_declarations() -> None:
    assert component.checks == dc.CHECKS
    records, ttl = dc.CHECKS
    assert (records.id, records.severity.value, records.section.value) == (
        "INFRA-DNS-RECORDS",
        "critical",
        "infra",
    )
    assert records.title == "DNS records configured: public hosts resolve to the load balancer"
    assert (ttl.id, ttl.severity.value, ttl.title) == (
        "INFRA-DNS-TTL",
        "medium",
        "DNS record TTLs within bounds",
    )
    assert records.reads == ttl.reads == ("dns.answers",)
    assert component.checklist == ("pytest_deployverify.checklist.test_dns",)
    assert component.extra == "dns"


def test_records_apply_with_a_cluster_or_with_hosts_and_addresses() -> None:
    records, ttl = dc.CHECKS
    alone = make_profile({"resolver": "10.0.0.2"})
    assert records.not_applicable(alone) == (
        "[dns] hosts is not set in profile 'dnstest' (and [kubernetes] is not configured to "
        "read the Ingresses from)"
    )
    hosts_only = make_profile({"resolver": "10.0.0.2", "hosts": ["api.example.com"]})
    assert records.not_applicable(hosts_only) == (
        "[dns.expect] addresses is not set in profile 'dnstest' (and [kubernetes] is not "
        "configured to read the Ingresses from)"
    )
    assert (
        records.not_applicable(make_profile({"resolver": "10.0.0.2"}, kube=kube_stub([]))) is None
    )
    assert ttl.not_applicable(hosts_only) == (
        "none of [dns.expect] min_ttl, [dns.expect] max_ttl is set in profile 'dnstest'"
    )
    bounded = make_profile({"resolver": "10.0.0.2", "expect": {"max_ttl": 600}})
    assert ttl.not_applicable(bounded) == (
        "[dns] hosts is not set and [kubernetes] is not configured to read the Ingresses from"
    )
    assert (
        ttl.not_applicable(
            make_profile({"resolver": "10.0.0.2", "hosts": ["a.example"], "expect": {"min_ttl": 5}})
        )
        is None
    )


def test_inconclusive_when_nothing_answered() -> None:
    answers = dc.DnsAnswers(
        resolver="127.0.0.1:53",
        record_types=("A",),
        hosts_source="[dns] hosts",
        lookups=(dc.Lookup("api.example.com", "A", "127.0.0.1:53", None, "no reply"),),
        expected={},
    )
    assert dc.ttl_findings(answers, dc.DnsExpectations(max_ttl=60)) == []
    assert dc.ttl_inconclusive(answers, dc.DnsExpectations(max_ttl=60)) == (
        "resolver 127.0.0.1:53 answered no record for api.example.com: no TTL to judge "
        "(see INFRA-DNS-RECORDS)"
    )


def test_importing_the_component_loads_no_client_library_and_no_pytest() -> None:
    probe = (
        "import sys\n"
        "import pytest_deployverify.components.dns, pytest_deployverify.checks.dns\n"
        "heavy = {'dns', 'pytest', '_pytest', 'httpx', 'redis', 'psycopg', 'kubernetes', 'yaml'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
