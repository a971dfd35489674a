"""The DNS component with the real Kubernetes component: the hosts and the expected addresses come
from the sandbox cluster's Ingress (``api.example.com``, load balancer ``127.0.0.1``), read through
``kubernetes.ingresses`` from the API emulator, and are asked of unbound on a loopback port."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_deployverify.checks import dns as dc
from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.components.catalog import all_components, profile_from_dict
from pytest_deployverify.components.registry import ComponentRegistry
from sandbox.servers.dns import DnsServer, Record, Zone, start_unbound
from tests.kube_checklist.cluster import Cluster, cluster, profile_text

from .helpers import STALE_IP

__all__ = ["cluster"]  # the fixture, imported explicitly as the Kubernetes tests do


@pytest.fixture
def zone_with(tmp_path: Path) -> Iterator[list[DnsServer]]:
    started: list[DnsServer] = []
    yield started
    for server in started:
        server.stop()


def answers_for(cluster: Cluster, server: DnsServer) -> dc.DnsAnswers:
    data = tomllib.loads(profile_text(cluster.kubeconfig, expect=""))
    data["dns"] = {"resolver": server.address, "record_types": ["A"]}
    components = all_components()
    registry = ComponentRegistry(profile_from_dict({"name": "k8s", **data}), components)
    try:
        answers: dc.DnsAnswers = registry.read("dns.answers")
        return answers
    finally:
        registry.close()


def test_ingress_host_resolving_to_its_load_balancer_passes(
    cluster: Cluster, zone_with: list[DnsServer], tmp_path: Path
) -> None:
    server = start_unbound(
        tmp_path / "dns", [Zone("example.com", [Record("api", "A", "127.0.0.1")])]
    )
    zone_with.append(server)
    answers = answers_for(cluster, server)
    assert dc.record_findings(answers) == [], summarize(dc.record_findings(answers))
    assert answers.hosts == ("api.example.com",)
    assert answers.hosts_source == "the hosts of Ingress api-gateway/api-gateway"
    assert answers.expected["api.example.com"] == dc.Expected(
        ("127.0.0.1",), "status.loadBalancer of Ingress api-gateway/api-gateway"
    )


def test_ingress_host_resolving_elsewhere_fails(
    cluster: Cluster, zone_with: list[DnsServer], tmp_path: Path
) -> None:
    server = start_unbound(tmp_path / "dns", [Zone("example.com", [Record("api", "A", STALE_IP)])])
    zone_with.append(server)
    [finding] = dc.record_findings(answers_for(cluster, server))
    assert finding.check_id == "dns-record-wrong"
    assert finding.message == (
        f"resolves to {STALE_IP} (A) at resolver {server.address}; expected 127.0.0.1 "
        "(status.loadBalancer of Ingress api-gateway/api-gateway: 127.0.0.1)"
    )
