"""The DNS items in a real run: ``pytest --env ... --checklist all -k test_dns.py`` against unbound on
a loopback port. The component comes in through its entry point only; its items land in the
sign-off (Markdown and JSON) with the evidence of what was judged, passing on a healthy zone and
failing, with the host and resolver named, on a wrong record and a too-long TTL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.servers.dns import DnsServer, Record, Zone, start_unbound

from .helpers import LB_IP, STALE_IP, silent_resolver

RUN = (
    "--env",
    "demo",
    "--env-dir",
    "envs",
    "--checklist",
    "all",
    "-k",
    "test_dns.py",  # the module: K8S-DNS's test_dns is another item
    "-p",
    "no:cacheprovider",
    "-p",
    "no:randomly",
    "-rfEs",
    "--signoff",
    "out/signoff.md",
    "--signoff",
    "out/signoff.json",
)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("COLUMNS", "250")
    (pytester.path / "envs").mkdir()
    return pytester


@pytest.fixture
def unbound(tmp_path: Path) -> Iterator[list[DnsServer]]:
    started: list[DnsServer] = []
    yield started
    for server in started:
        server.stop()


def serve(started: list[DnsServer], folder: Path, *records: Record) -> DnsServer:
    server = start_unbound(folder, [Zone("example.com", records)])
    started.append(server)
    return server


def profile(resolver: str) -> str:
    return f"""
description = "DNS only"

[dns]
resolver = "{resolver}"
hosts = ["api.example.com", "www.example.com"]
record_types = ["A"]
timeout = 3

[dns.expect]
addresses = {{ "*" = ["{LB_IP}"] }}
max_ttl = 3600
"""


def signoff(project: pytest.Pytester) -> tuple[dict[str, dict[str, Any]], str]:
    document = json.loads((project.path / "out" / "signoff.json").read_text(encoding="utf-8"))
    checks = {c["check_id"]: c for c in document["checks"]}
    return checks, (project.path / "out" / "signoff.md").read_text(encoding="utf-8")


def test_healthy_zone_passes_both_items(
    project: pytest.Pytester, unbound: list[DnsServer], tmp_path: Path
) -> None:
    server = serve(
        unbound,
        tmp_path / "ok",
        Record("api", "A", LB_IP),
        Record("www", "CNAME", "api", ttl=600),
    )
    (project.path / "envs" / "demo.toml").write_text(profile(server.address))
    result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(passed=2)
    checks, markdown = signoff(project)
    assert checks["INFRA-DNS-RECORDS"]["outcome"] == "passed"
    assert checks["INFRA-DNS-RECORDS"]["title"] == (
        "DNS records configured: public hosts resolve to the load balancer"
    )
    assert checks["INFRA-DNS-RECORDS"]["severity"] == "critical"
    [answers] = checks["INFRA-DNS-RECORDS"]["evidence"]
    assert answers["value"] == {
        "api.example.com": [f"A: {LB_IP}"],
        "www.example.com": [f"A via CNAME api.example.com: {LB_IP}"],
    }
    assert answers["source"] == f"resolver {server.address}; hosts: [dns] hosts"
    ttl = checks["INFRA-DNS-TTL"]
    assert ttl["outcome"] == "passed"
    assert ttl["evidence"][0]["value"] == {
        "api.example.com A": 300,
        "www.example.com CNAME": 600,
    }
    assert "INFRA-DNS-RECORDS" in markdown
    assert "DNS record TTLs within bounds" in markdown


def test_wrong_record_and_long_ttl_fail_naming_host_and_resolver(
    project: pytest.Pytester, unbound: list[DnsServer], tmp_path: Path
) -> None:
    server = serve(
        unbound,
        tmp_path / "bad",
        Record("api", "A", STALE_IP, ttl=86400),
        Record("www", "A", LB_IP),
    )
    (project.path / "envs" / "demo.toml").write_text(profile(server.address))
    result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random(
        [
            f"*[[]dns-record-wrong[]] dns api.example.com: resolves to {STALE_IP} (A) at "
            f"resolver {server.address}; expected {LB_IP}*",
            f"*[[]dns-ttl[]] dns api.example.com: api.example.com A has TTL 86400 s at resolver "
            f"{server.address}; expected at most 3600 s*",
        ]
    )
    checks, markdown = signoff(project)
    assert checks["INFRA-DNS-RECORDS"]["outcome"] == "failed"
    assert checks["INFRA-DNS-TTL"]["outcome"] == "failed"
    assert "NO-GO" in markdown


def test_unreachable_resolver_is_an_error_not_a_failure(project: pytest.Pytester) -> None:
    with silent_resolver() as address:
        (project.path / "envs" / "demo.toml").write_text(profile(address))
        result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(errors=2)
    assert result.stdout.str().count(f"dns at resolver {address} is unreachable") >= 2


def test_without_hosts_addresses_or_cluster_the_items_are_not_applicable(
    project: pytest.Pytester,
) -> None:
    (project.path / "envs" / "demo.toml").write_text('[dns]\nresolver = "127.0.0.1:53"\n')
    result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines_random(
        [
            "SKIPPED*[[]dns[]] hosts is not set in profile 'demo' (and [[]kubernetes[]] is not "
            "configured to read the Ingresses from)*",
            "SKIPPED*none of [[]dns.expect[]] min_ttl, [[]dns.expect[]] max_ttl is set*",
        ]
    )
