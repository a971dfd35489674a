"""Every gateway check against the real stack: a healthy stack passes them all, and each defect
switch (gateway or nginx) makes exactly its own checks fail, saying what was seen and expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.common import Outcome
from sandbox.certs import CertFiles
from sandbox.gateway.downstream import DownstreamProcess
from tests.http_checks.stack import (
    GATEWAY_DEFECTS,
    NGINX_DEFECTS,
    GatewayStack,
    StackSpec,
    certs,
    failing,
    run_all,
    services,
    start_stacks,
)

__all__ = ["certs", "services"]  # fixtures used here, imported from stack.py

DEFECTS = {**GATEWAY_DEFECTS, **NGINX_DEFECTS}
# What each defect's finding must say (observed vs expected, in words a person can act on).
MESSAGES = {
    "unauthenticated_route": ["/api/v1/events answered 200", "expected 401"],
    "alg_none": ["ACCEPTED a forged token", "alg 'none'"],
    "cross_tenant": ["tenant acme read tenant globex's resource", "expected 403 or 404"],
    "cors_wildcard": ["Access-Control-Allow-Origin is *", "Allow-Credentials: true"],
    "version_leak": ["X-Powered-By", "advertises the software"],
    "no_rate_limit": ["got no 429", "without X-RateLimit-Limit"],
    "trust_internal_headers": ["X-Internal-User", "trusts a client-supplied tenant header"],
    "tls12_allowed": ["TLS 1.2-only handshake succeeded", "the minimum is TLS 1.3"],
    "cert_expiring": ["in 3.0 days", "more than 14 days"],
}


@pytest.fixture(scope="module")
def stacks(
    tmp_path_factory: pytest.TempPathFactory, certs: CertFiles, services: DownstreamProcess
) -> Iterator[dict[str, GatewayStack]]:
    specs = [StackSpec("healthy"), *(StackSpec.for_defect(name) for name in DEFECTS)]
    started = start_stacks(tmp_path_factory.mktemp("stacks"), specs, certs, services)
    yield started
    for stack in started.values():
        stack.stop()


def results_for(stack: GatewayStack, folder: Path) -> dict[str, Outcome]:
    return run_all(stack.load(folder))


def test_healthy_stack_passes_every_check(stacks: dict[str, GatewayStack], tmp_path: Path) -> None:
    results = results_for(stacks["healthy"], tmp_path)
    assert set(results) == {check.check_id for check in catalog.ALL}  # the runner misses none
    problems = {k: [str(f) for f in o.findings] for k, o in results.items() if o.findings}
    assert problems == {}
    assert {k: o.skipped for k, o in results.items() if o.skipped} == {}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_fails_exactly_its_checks(
    stacks: dict[str, GatewayStack], defect: str, tmp_path: Path, certs: CertFiles
) -> None:
    results = results_for(stacks[defect], tmp_path)
    assert failing(results) == DEFECTS[defect]
    text = "\n".join(str(f) for check in DEFECTS[defect] for f in results[check].findings)
    for phrase in MESSAGES[defect]:
        assert phrase in text
    if defect == "cert_expiring":  # the date is reported, not only the verdict
        assert f"{certs.expiring_not_after:%Y-%m-%d}" in text
