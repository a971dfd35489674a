"""Every HTTP check against the real stack: a healthy stack passes them all, each defect switch
(gateway, nginx or release) makes exactly its own checks fail, saying what was seen and expected,
and healthy setups that differ from the demo (a plain-text 404, an API without framing headers, a
version written v1.4.2+build.7) pass with the profile keys that describe them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_deployverify.checks.http import catalog as hc
from sandbox.certs import CertFiles
from sandbox.gateway.downstream import DownstreamProcess
from tests.http_checks.stack import (
    GATEWAY_DEFECTS,
    HEALTHY_VARIANTS,
    NGINX_DEFECTS,
    RELEASE_DEFECTS,
    GatewayStack,
    Judged,
    StackSpec,
    certs,
    failing,
    run_all,
    services,
    start_stacks,
)

__all__ = ["certs", "services"]  # fixtures used here, imported from stack.py

DEFECTS = {**GATEWAY_DEFECTS, **NGINX_DEFECTS, **RELEASE_DEFECTS}
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
    "server_tokens": [
        "(edge: TRACE method) header Server",
        "(edge: proxy health endpoint) header Server",
        "'nginx/1.",
        "carries a version number",
    ],
    "old_release": ["reports version '1.4.1'; the profile expects '1.4.2'"],
}
VARIANT_MESSAGES = {
    "plain_404": ["the 404 answer is not JSON (text/plain)", "error.code, error.message"],
    "no_framing": ["framing is not restricted", 'framing = "html"'],
    "v_version": ["reports version 'v1.4.2+build.7'", "compared 1.4.2 with 1.4.3"],
}


@pytest.fixture(scope="module")
def stacks(
    tmp_path_factory: pytest.TempPathFactory, certs: CertFiles, services: DownstreamProcess
) -> Iterator[dict[str, GatewayStack]]:
    specs = [
        StackSpec("healthy"),
        *(StackSpec.for_defect(name) for name in DEFECTS),
        *(StackSpec.for_variant(name) for name in HEALTHY_VARIANTS),
    ]
    started = start_stacks(tmp_path_factory.mktemp("stacks"), specs, certs, services)
    yield started
    for stack in started.values():
        stack.stop()


def text_of(results: dict[str, Judged], checks: set[str]) -> str:
    return "\n".join(str(f) for check in checks for f in results[check].findings)


def test_healthy_stack_passes_every_check(stacks: dict[str, GatewayStack], tmp_path: Path) -> None:
    results = run_all(stacks["healthy"].load(tmp_path))
    assert set(results) == set(hc.item_ids())  # the runner misses none
    problems = {k: [str(f) for f in o.findings] for k, o in results.items() if o.findings}
    assert problems == {}
    assert {k: o.skipped for k, o in results.items() if o.skipped} == {}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_fails_exactly_its_checks(
    stacks: dict[str, GatewayStack], defect: str, tmp_path: Path, certs: CertFiles
) -> None:
    results = run_all(stacks[defect].load(tmp_path))
    assert failing(results) == DEFECTS[defect]
    text = text_of(results, DEFECTS[defect])
    for phrase in MESSAGES[defect]:
        assert phrase in text
    if defect == "cert_expiring":  # the date is reported, not only the verdict
        assert f"{certs.expiring_not_after:%Y-%m-%d}" in text
    if defect == "server_tokens":  # found at the edge only: proxied answers hide the version
        subjects = [f.subject for f in results["SEC-GW-HDR-VERSION-LEAK"].findings]
        assert subjects
        assert all("(edge: " in subject for subject in subjects)


@pytest.mark.parametrize("variant", sorted(HEALTHY_VARIANTS))
def test_healthy_variant_passes_with_its_keys(
    stacks: dict[str, GatewayStack], variant: str, tmp_path: Path
) -> None:
    relaxed, strict, fails = HEALTHY_VARIANTS[variant]
    stack = stacks[variant]
    healthy = run_all(stack.load(tmp_path / "healthy", **relaxed))
    problems = {k: [str(f) for f in o.findings] for k, o in healthy.items() if o.findings}
    assert problems == {}
    skipped = {k: o.skipped for k, o in healthy.items() if o.skipped}
    if variant == "plain_404":  # nothing declares an error shape: not applicable, and says why
        assert skipped == {
            "SMOKE-GW-ERROR-SHAPE": "[http.expect] error_fields is not set in profile 'plain-404'"
        }
    else:
        assert skipped == {}
    stricter = run_all(stack.load(tmp_path / "strict", **strict))
    assert failing(stricter) == fails
    text = text_of(stricter, fails)
    for phrase in VARIANT_MESSAGES[variant]:
        assert phrase in text
