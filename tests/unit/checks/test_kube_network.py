"""Networking: Service selectors and endpoints, Ingress TLS and address, policies, DNS."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import pytest

from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.checks.kube.network import (
    host_matches,
    host_resolves_to,
    ingress_addresses,
    ingress_findings,
    network_policy_findings,
    service_endpoint_findings,
    service_selector_findings,
)
from pytest_deployverify.checks.kube.objects import pod_from_template

from .test_kube_builders import (
    APP,
    LB_IP,
    PUBLIC_HOST,
    Obj,
    deployment,
    endpoint_slice,
    ids,
    ingress,
    manifest_of,
    network_policies,
    pods,
    service,
)


def test_healthy_networking_has_no_findings() -> None:
    found = service_selector_findings(service(), pods())
    found += service_endpoint_findings(service(), [endpoint_slice()], pods())
    found += ingress_findings(ingress(), PUBLIC_HOST, services=[service()])
    found += network_policy_findings(deployment(), network_policies())
    assert found == [], summarize(found)


def test_selector_matching_no_pod() -> None:
    svc = service()
    svc["spec"]["selector"] = {"app": "api-gateway-v2"}
    found = service_selector_findings(svc, pods())
    assert ids(found) == {"service-targets-pod"}
    assert found[0].subject == f"Service production/{APP}"
    assert "api-gateway-v2" in found[0].message


def test_selector_checked_against_pod_templates_before_deploy() -> None:
    template_pods = [pod_from_template(manifest_of(deployment()))]
    assert service_selector_findings(manifest_of(service()), template_pods) == []


def test_services_without_selector_are_skipped() -> None:
    svc = service()
    del svc["spec"]["selector"]
    assert service_selector_findings(svc, []) == []


def test_pods_in_another_namespace_do_not_count() -> None:
    moved = pods()
    for p in moved:
        p["metadata"]["namespace"] = "staging"
    assert ids(service_selector_findings(service(), moved)) == {"service-targets-pod"}


def test_no_ready_endpoints() -> None:
    eps = endpoint_slice()
    for endpoint in eps["endpoints"]:
        endpoint["conditions"]["ready"] = False
    found = service_endpoint_findings(service(), [eps], pods())
    assert ids(found) == {"service-no-ready-endpoints"}
    assert "readiness probe" in found[0].message


def test_slices_of_another_service_do_not_count() -> None:
    eps = endpoint_slice()
    eps["metadata"]["labels"]["kubernetes.io/service-name"] = "other"
    assert ids(service_endpoint_findings(service(), [eps])) == {"service-no-ready-endpoints"}


def test_endpoint_count_must_equal_ready_pods() -> None:
    found = service_endpoint_findings(service(), [endpoint_slice(2)], pods())
    assert ids(found) == {"service-endpoints-mismatch"}
    assert "2 ready endpoint(s) but 3" in found[0].message


def test_dual_stack_slices_count_each_pod_once() -> None:
    slices = [endpoint_slice(3), endpoint_slice(3, family="IPv6")]
    assert service_endpoint_findings(service(), slices, pods()) == []


def test_legacy_endpoints_object_is_read_too() -> None:
    legacy: Obj = {
        "kind": "Endpoints",
        "metadata": {"name": APP, "namespace": "production"},
        "subsets": [
            {
                "addresses": [
                    {"ip": "10.0.0.10", "targetRef": {"kind": "Pod", "name": f"{APP}-7d9f-0"}},
                    {"ip": "10.0.0.11", "targetRef": {"kind": "Pod", "name": f"{APP}-7d9f-1"}},
                    {"ip": "10.0.0.12"},
                ],
                "notReadyAddresses": [{"ip": "10.0.0.13"}],
            }
        ],
    }
    assert service_endpoint_findings(service(), [legacy], pods()) == []
    # the same pods seen through a slice and the Endpoints object are counted once
    assert service_endpoint_findings(service(), [legacy, endpoint_slice(2)], pods()) == []
    legacy["subsets"][0]["addresses"] = []
    assert ids(service_endpoint_findings(service(), [legacy])) == {"service-no-ready-endpoints"}


def test_unknown_ready_condition_counts_as_ready() -> None:
    eps = endpoint_slice()
    for endpoint in eps["endpoints"]:
        del endpoint["conditions"]["ready"]
    assert service_endpoint_findings(service(), [eps], pods()) == []


@pytest.mark.parametrize(
    ("change", "check_id", "fragment"),
    [
        ("no-tls", "ingress-tls-missing", "without TLS"),
        ("other-tls-host", "ingress-tls-missing", "secretName"),
        ("other-rule-host", "ingress-host-missing", "host: " + PUBLIC_HOST),
        ("no-address", "ingress-no-address", "ingress controller"),
        ("hostname-only-empty", "ingress-no-address", "ingressClassName"),
        ("no-service", "ingress-targets-service", "does not exist"),
        ("bad-port", "ingress-targets-service", "no port 8443"),
    ],
)
def test_ingress_defects(change: str, check_id: str, fragment: str) -> None:
    ing, services = ingress(), [service()]
    spec = ing["spec"]
    backend = spec["rules"][0]["http"]["paths"][0]["backend"]
    if change == "no-tls":
        del spec["tls"]
    elif change == "other-tls-host":
        spec["tls"][0]["hosts"] = ["www.tickettoken.com"]
    elif change == "other-rule-host":
        spec["rules"][0]["host"] = "www.tickettoken.com"
    elif change == "no-address":
        ing["status"] = {"loadBalancer": {}}
    elif change == "hostname-only-empty":
        ing["status"]["loadBalancer"]["ingress"] = [{"hostname": ""}]
    elif change == "no-service":
        services = []
    elif change == "bad-port":
        backend["service"]["port"] = {"number": 8443}
    found = ingress_findings(ing, PUBLIC_HOST, services=services)
    assert ids(found) == {check_id}, summarize(found)
    assert fragment in found[0].message
    assert found[0].subject == f"Ingress production/{APP}"


def test_wildcard_tls_and_rules_cover_one_label() -> None:
    ing = ingress()
    ing["spec"]["tls"][0]["hosts"] = ["*.tickettoken.com"]
    ing["spec"]["rules"][0]["host"] = "*.tickettoken.com"
    assert ingress_findings(ing, PUBLIC_HOST) == []
    assert host_matches("*.tickettoken.com", "api.tickettoken.com")
    assert not host_matches("*.tickettoken.com", "a.b.tickettoken.com")
    assert not host_matches("*.tickettoken.com", "tickettoken.com")
    assert host_matches("API.tickettoken.com.", "api.tickettoken.com")


def test_rendered_ingress_has_no_address_to_check() -> None:
    assert ingress_findings(manifest_of(ingress()), PUBLIC_HOST) == []


def test_ingress_addresses() -> None:
    ing = ingress()
    ing["status"]["loadBalancer"]["ingress"].append({"hostname": "lb.example.net"})
    assert ingress_addresses(ing) == [LB_IP, "lb.example.net"]


def test_no_allowing_policy_selects_the_pods() -> None:
    deny_only = network_policies()[:1]
    found = network_policy_findings(deployment(), deny_only)
    assert ids(found) == {"pod-networkpolicy"}
    assert "'app': 'api-gateway'" in found[0].message


def test_no_default_deny() -> None:
    found = network_policy_findings(deployment(), network_policies()[1:])
    assert ids(found) == {"networkpolicy-default-deny-missing"}
    assert found[0].subject == "Namespace production"


def test_default_deny_without_policy_types_still_counts() -> None:
    policies = network_policies()
    del policies[0]["spec"]["policyTypes"]
    assert network_policy_findings(deployment(), policies) == []


def test_egress_only_empty_policy_is_not_default_deny_for_ingress() -> None:
    policies = network_policies()
    policies[0]["spec"]["policyTypes"] = ["Egress"]
    assert ids(network_policy_findings(deployment(), policies)) == {
        "networkpolicy-default-deny-missing"
    }


def test_policy_selecting_by_match_expressions() -> None:
    policies = network_policies()
    policies[1]["spec"]["podSelector"] = {
        "matchExpressions": [{"key": "app", "operator": "In", "values": [APP, "web"]}]
    }
    assert network_policy_findings(deployment(), policies) == []
    policies[1]["spec"]["podSelector"]["matchExpressions"][0]["operator"] = "NotIn"
    assert ids(network_policy_findings(deployment(), policies)) == {"pod-networkpolicy"}


def test_policies_of_another_namespace_do_not_count() -> None:
    policies = network_policies()
    for policy in policies:
        policy["metadata"]["namespace"] = "default"
    assert ids(network_policy_findings(deployment(), policies)) == {
        "pod-networkpolicy",
        "networkpolicy-default-deny-missing",
    }


class FakeResolver:
    """getaddrinfo-shaped answers from a table; unknown names fail like a real lookup."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def __call__(self, host: str, port: None) -> Sequence[tuple[Any, Any, Any, Any, Any]]:
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
            for a in self.table[host]
        ]


def test_dns_resolves_to_the_load_balancer() -> None:
    resolver = FakeResolver({PUBLIC_HOST: [LB_IP, LB_IP]})
    assert host_resolves_to(PUBLIC_HOST, [LB_IP], resolver) == []


def test_dns_via_load_balancer_hostname() -> None:
    resolver = FakeResolver({PUBLIC_HOST: ["198.51.100.7"], "lb.example.net": ["198.51.100.7"]})
    assert host_resolves_to(PUBLIC_HOST, ["lb.example.net"], resolver) == []
    assert resolver.asked == [PUBLIC_HOST, "lb.example.net"]


def test_dns_pointing_elsewhere() -> None:
    resolver = FakeResolver({PUBLIC_HOST: [LB_IP, "198.51.100.99"]})
    found = host_resolves_to(PUBLIC_HOST, [LB_IP], resolver)
    assert ids(found) == {"dns-record-mismatch"}
    assert "198.51.100.99" in found[0].message
    assert found[0].subject == f"DNS {PUBLIC_HOST}"


def test_dns_lookup_failure() -> None:
    found = host_resolves_to(PUBLIC_HOST, [LB_IP], FakeResolver({}))
    assert ids(found) == {"dns-resolution-failed"}
    assert "create the DNS record" in found[0].message


def test_ipv6_addresses_compare_normalised() -> None:
    resolver = FakeResolver({PUBLIC_HOST: ["2001:db8:0:0::1"]})
    assert host_resolves_to(PUBLIC_HOST, ["2001:db8::1"], resolver) == []


def test_real_resolver_on_loopback() -> None:
    # getaddrinfo answers for a literal address without any DNS traffic.
    assert host_resolves_to("127.0.0.1", ["127.0.0.1"], socket.getaddrinfo) == []
    found = host_resolves_to("127.0.0.1", ["127.0.0.2"], socket.getaddrinfo)
    assert ids(found) == {"dns-record-mismatch"}
