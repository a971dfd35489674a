"""The HTTP service ("gateway") component: ``[http]``, one probed httpx client, and its readers.

Every request the gateway checks make goes through here: the read-only readers below are
prefetched with the rest of the run; the destructive probes (state-changing flows, the load
probe, the rate-limit burst) run inside their checklist items through ``write_flows``, ``load``
and ``rate_limit_burst``, after the read-only checks. Each one asks for the component's client
first, whose connect probes the base URL once within the timeout: a gateway that does not answer
makes every HTTP item fail at once with the same message.

Modules: ``config`` (the table), ``client`` (the client, one request as an ``Exchange``),
``probes`` (smoke, headers, the edge proxy's own answers), ``auth`` (the verifier's credential:
token, API key, basic or client certificate; token flows, forged tokens, wrong credentials,
tenants, internal headers, flows), ``tls`` (handshakes, certificate, redirect), ``timing`` (latency,
load, burst). httpx and cryptography are imported inside functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_deployverify.checks.http.auth import Credential
from pytest_deployverify.checks.http.catalog import CHECKS
from pytest_deployverify.checks.http.flows import FlowRun
from pytest_deployverify.checks.http.latency import Sample
from pytest_deployverify.checks.http.ratelimit import BurstResult
from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.components.http import auth, probes, timing, tls
from pytest_deployverify.components.http.auth import token_for
from pytest_deployverify.components.http.client import (
    anonymous_strip,
    build_http_client,
    close_client,
    http_client,
)
from pytest_deployverify.components.http.config import HttpConfig
from pytest_deployverify.profile.model import Profile

if TYPE_CHECKING:
    import httpx

__all__ = [
    "HttpConfig",
    "build_http_client",
    "component",
    "http_client",
    "load",
    "rate_limit_burst",
    "write_flows",
]


def _connect(section: HttpConfig, profile: Profile) -> httpx.Client:
    return build_http_client(section)


# -- destructive probes: called by their checklist items with the component's client ---------


def write_flows(
    client: httpx.Client, section: HttpConfig, credential: Credential | None
) -> tuple[FlowRun, ...]:
    """The state-changing ``[[http.expect.flows]]``, one after another in the profile's order,
    the authenticated ones with the verifier's credential (``http.credential``)."""
    selected = [flow for flow in section.expect.flows if flow.destructive]
    return auth.run_flows(
        client, selected, credential, ordered=True, strip=anonymous_strip(section)
    )


def load(client: httpx.Client, section: HttpConfig) -> Sample:
    """``[http.expect.load]``: the bounded concurrent-users probe."""
    return timing.run_load(client, section)


def rate_limit_burst(client: httpx.Client, section: HttpConfig) -> BurstResult:
    """``[http.expect.rate_limit]``: a bounded burst, as the dedicated burst account when the
    profile names one (so it spends that account's allowance), else anonymously."""
    expect = section.expect
    cfg = expect.rate_limit
    assert cfg.probe_path is not None  # the declaration needs it
    token = None
    account = "anonymous"
    if cfg.login is not None or cfg.client_id is not None:
        account = "dedicated account"
        issued = token_for(
            client,
            expect.auth,
            account=cfg.login,
            client_id=cfg.client_id,
            client_secret=cfg.client_secret,
        )
        problem = None
        if issued is None:
            problem = (
                "[http.expect.rate_limit] names a burst account, but [http.expect.auth] has "
                "no login_path / token_url to use it with"
            )
        elif issued.token is None:
            problem = f"the burst account could not get a token: {issued.problem}"
        if problem is not None:
            return BurstResult(
                cfg.probe_path, cfg.burst, cfg.concurrency, account=account, problem=problem
            )
        assert issued is not None
        token = issued.token
    result = timing.burst(
        client, cfg.probe_path, count=cfg.burst, concurrency=cfg.concurrency, token=token
    )
    result.account = account
    return result


component = Component(
    name="http",
    title="HTTP service",
    sections=(SectionSpec("http", HttpConfig, "the service's public HTTP(S) endpoint"),),
    connect=_connect,
    reads={
        "endpoint": probes.read_endpoint,
        "health": probes.read_health,
        "metrics": probes.read_metrics,
        "version": probes.read_version,
        "openapi": probes.read_openapi,
        "openapi_validation": probes.read_openapi_validation,
        "errors": probes.read_errors,
        "anonymous": probes.read_anonymous,
        "cors": probes.read_cors,
        "headers": probes.read_headers,
        "edge": probes.read_edge,
        "rate_headers": probes.read_rate_headers,
        "token": auth.read_token,
        "credential": auth.read_credential,
        "wrong_credentials": auth.read_wrong_credentials,
        "probe_paths": auth.read_probe_paths,
        "token_flows": auth.read_token_flows,
        "forgeries": auth.read_forgeries,
        "tenants": auth.read_tenants,
        "internal_headers": auth.read_internal_headers,
        "flows": auth.read_flows,
        "tls_versions": tls.read_tls_versions,
        "certificate": tls.read_certificate,
        "tls_trust": tls.read_tls_trust,
        "redirect": tls.read_redirect,
        "latency": timing.read_latency,
    },
    exclusive=frozenset({"latency"}),
    checks=CHECKS,
    checklist=(
        "pytest_deployverify.checklist.test_http_smoke",
        "pytest_deployverify.checklist.test_http_security",
    ),
    endpoint=lambda section: str(section.base_url),
    close=close_client,
    extra="http",
)
