"""DNS checklist ("DNS records configured"): the public hosts resolve to the load balancer, and
their records' TTLs are within bounds. Each item takes the ``dns.answers`` snapshot (every host and
record type asked at once), calls a pure function from ``checks.dns``, records what it judged and
concludes.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_deployverify import Evidence
from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.support import conclude
from pytest_deployverify.checks import dns as dc


@item(dc.DNS_RECORDS)
def test_dns_records(snapshot: Any, evidence: Evidence) -> None:
    answers: dc.DnsAnswers = snapshot("dns.answers")
    findings = dc.record_findings(answers)
    evidence.record(
        "answers",
        dc.answers_summary(answers),
        expected={host: list(e.addresses) for host, e in answers.expected.items()},
        source=f"resolver {answers.resolver}; hosts: {answers.hosts_source}",
        ok=not findings,
        note="; ".join(
            [f"{host}: {e.source}" for host, e in answers.expected.items()]
            + [f"not checked: {reason}" for reason in answers.ignored]
        ),
    )
    if answers.targets:
        evidence.record(
            "load-balancer names",
            {f"{t.host} {t.type}": t.described() for t in answers.targets},
            source=f"resolver {answers.resolver}",
        )
    conclude(findings)


@item(dc.DNS_TTL)
def test_dns_ttl(snapshot: Any, evidence: Evidence) -> None:
    answers: dc.DnsAnswers = snapshot("dns.answers")
    expect: dc.DnsExpectations = snapshot.section("dns").expect
    findings = dc.ttl_findings(answers, expect)
    unsure = None if findings else dc.ttl_inconclusive(answers, expect)
    evidence.record(
        "TTL",
        dc.ttl_summary(answers),
        expected={"min_ttl": expect.min_ttl, "max_ttl": expect.max_ttl},
        source=f"resolver {answers.resolver}",
        unit="s",
        ok=not findings and unsure is None,
        note=unsure,
    )
    if unsure is not None:
        pytest.skip(f"inconclusive: {unsure}")
    conclude(findings)
