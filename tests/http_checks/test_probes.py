"""The component's probes against real servers: concurrency shown structurally, TLS failures
described, tokens and secrets handled, the burst bounded. One healthy stack serves the module.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.http import auth as auth_checks
from pytest_deployverify.checks.http import catalog as hc
from pytest_deployverify.checks.http import openapi, ratelimit, smoke
from pytest_deployverify.checks.http import tls as tls_checks
from pytest_deployverify.checks.http.downstream import downstream_findings
from pytest_deployverify.checks.http.expectations import (
    AuthExpectations,
    Credentials,
    HttpExpectations,
)
from pytest_deployverify.components.http import HttpConfig, auth, http_client, probes, timing
from pytest_deployverify.components.http import tls as tls_probes
from pytest_deployverify.components.httpcommon import tls_verify
from pytest_deployverify.components.services import Service, probe_services
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.schema import build
from pytest_deployverify.profile.secrets import Endpoint
from sandbox.certs import CertFiles
from sandbox.gateway import DEFAULT_SERVICES, start_downstream
from sandbox.gateway.downstream import DownstreamProcess
from sandbox.servers.nginx import start_nginx
from tests.http_checks.stack import (
    RATE_LIMIT_MAX,
    GatewayStack,
    StackSpec,
    certs,
    services,
    start_stack,
)

__all__ = ["certs", "services"]  # fixtures used here, imported from stack.py


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, certs: CertFiles, services: DownstreamProcess
) -> Iterator[GatewayStack]:
    started = start_stack(tmp_path_factory.mktemp("probes"), StackSpec("probes"), certs, services)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def probe_profile(stack: GatewayStack, tmp_path_factory: pytest.TempPathFactory) -> Profile:
    return stack.load(tmp_path_factory.mktemp("profiles"))


@pytest.fixture(scope="module")
def http(probe_profile: Profile) -> HttpConfig:
    section: HttpConfig = probe_profile.http
    assert section is not None
    return section


@pytest.fixture(scope="module")
def expect(http: HttpConfig) -> HttpExpectations:
    return http.expect


@pytest.fixture
def client(http: HttpConfig) -> Iterator[httpx.Client]:
    with http_client(http) as opened:
        yield opened


@pytest.fixture
def token(client: httpx.Client, expect: HttpExpectations) -> auth_checks.TokenResult:
    result = auth.obtain_token(client, expect.auth)
    assert result is not None
    assert result.token is not None, result.problem
    return result


def service(name: str, url: str, timeout: float) -> Service:
    return build(Service, {"name": name, "url": url, "timeout": timeout})


# -- downstream ---------------------------------------------------------------------------


def test_downstream_probes_run_side_by_side(
    services: DownstreamProcess, record_property: Callable[[str, object], None]
) -> None:
    targets = [service(name, f"{url}/health", 5.0) for name, url in services.urls.items()]
    report = probe_services(targets)
    record_property("downstream_elapsed_ms", round(report.elapsed_ms))  # evidence, not asserted
    assert len(targets) == len(DEFAULT_SERVICES) == 19
    assert [r.name for r in report.results] == list(services.urls)
    assert downstream_findings(report) == []
    # Each stand-in holds its answer for 0.2 s: all 19 were waiting at once.
    assert report.max_in_flight == 19


def test_downstream_failures_name_the_service(tmp_path: Path) -> None:
    names = ["auth-service", "venue-service", "ticket-service"]
    with start_downstream(
        tmp_path, names, delay=0.0, unhealthy=["venue-service"], hanging=["ticket-service"]
    ) as stand_ins:
        targets = [service(n, f"{u}/health", 0.5) for n, u in stand_ins.urls.items()]
        report = probe_services(targets)
    messages = {f.subject.split()[1]: f.message for f in downstream_findings(report)}
    assert set(messages) == {"venue-service", "ticket-service"}
    assert messages["venue-service"] == "health endpoint answered 503; expected 200"
    assert messages["ticket-service"].startswith("health endpoint did not answer: timed out")


# -- smoke ----------------------------------------------------------------------------------


def test_public_metrics_fail_when_the_profile_wants_them_private(
    client: httpx.Client, stack: GatewayStack
) -> None:
    internal = Endpoint(f"{stack.gateway.url}/metrics")
    probe = probes.probe_metrics(client, "/metrics", internal)
    findings = smoke.metrics_findings(probe, public=False)
    assert len(findings) == 1
    assert "reachable through the public URL" in findings[0].message
    assert [e.status for e in probe.exchanges] == [200, 200]  # the internal URL parsed fine


def test_unsafe_methods_are_listed_not_sent(client: httpx.Client, expect: HttpExpectations) -> None:
    plan = openapi.route_plan(None, ["POST /api/v1/venues", "GET /api/v1/venues/{id}"])
    probe = probes.probe_anonymous(client, plan, expect.path_param_value)
    assert auth_checks.unauthenticated_findings(probe, (401,)) == []
    observed = probe.summary()
    assert {"request": "POST /api/v1/venues", "note": "not sent: may change state"} in observed
    sent = [o for o in observed if o.get("status") is not None]
    assert sent[0]["request"] == "GET /api/v1/venues/deployverify-probe"
    assert sent[0]["status"] == 401


# -- tokens -------------------------------------------------------------------------------


def test_wrong_password_is_reported_without_the_password(client: httpx.Client) -> None:
    wrong = build(Credentials, {"username": "alice@acme.test", "password": "not-her-password-1"})
    result = auth.login(client, "/api/v1/auth/login", wrong)
    probe = auth.token_flow(client, result, ["/api/v1/me"])
    findings = auth_checks.token_flow_findings(probe, hc.TOKEN_FLOW)
    assert result.token is None
    text = str(findings[0]) + json.dumps(probe.summary()) + repr(result)
    assert "answered 401; expected 200" in text
    assert "not-her-password-1" not in text


def test_a_token_never_shows(client: httpx.Client, token: auth_checks.TokenResult) -> None:
    assert token.token is not None
    value = token.token.get()
    probe = auth.token_flow(client, token, ["/api/v1/me"])
    shown = repr(token) + repr(probe) + json.dumps(probe.summary()) + token.exchange.body
    assert value not in shown
    assert "Secret('***')" in repr(token)


def test_keyed_forgeries_need_the_right_key(
    client: httpx.Client, token: auth_checks.TokenResult, expect: HttpExpectations
) -> None:
    paths = ["/api/v1/venues"]
    keyless = build(AuthExpectations, {})  # no jwt_signing_key
    without = auth.probe_forgeries(client, keyless, token, paths).probe("expired")
    with pytest.raises(NotApplicable) as info:
        auth_checks.forgery_findings(without)
    assert str(info.value) == auth_checks.NO_KEY
    wrong_key = build(AuthExpectations, {"jwt_signing_key": "w" * 48})
    wrong = auth.probe_forgeries(client, wrong_key, token, paths).probe("wrong-iss")
    message = auth_checks.forgery_findings(wrong)[0].message
    assert "accepted nowhere" in message
    assert "jwt_signing_key" in message


def test_burst_stops_at_the_first_429(client: httpx.Client, expect: HttpExpectations) -> None:
    # The OAuth client's own allowance: no other test of this module spends it.
    assert expect.auth.token_url
    assert expect.auth.client_id
    assert expect.auth.client_secret
    issued = auth.client_credentials(
        client, expect.auth.token_url, expect.auth.client_id, expect.auth.client_secret
    )
    assert issued.token is not None
    result = timing.burst(client, "/api/v1/me", count=100, concurrency=1, token=issued.token)
    assert ratelimit.burst_findings(result) == []
    assert result.first_limited_at == RATE_LIMIT_MAX + 1
    assert result.sent == RATE_LIMIT_MAX + 1  # nothing more was sent after the 429
    assert dict(result.statuses) == {"200": RATE_LIMIT_MAX, "429": 1}
    assert result.retry_after is not None


# -- latency ------------------------------------------------------------------------------


def test_latency_engine_bounds_concurrency(http: HttpConfig) -> None:
    plan = timing.Plan(
        http.base_url.get() + "/health/live", requests=30, concurrency=5, time_limit=30
    )
    sample = timing.measure(plan, verify=tls_verify(http.ca_file))
    assert sample.completed == 30
    assert dict(sample.statuses) == {"200": 30}
    assert sample.max_in_flight == 5
    # Each connection's first request (it waits for the handshakes) is measured apart.
    assert (len(sample.connect_ms), len(sample.durations_ms)) == (5, 25)
    assert sample.summary()["first_request_max_ms"] == round(max(sample.connect_ms), 2)


# -- TLS ----------------------------------------------------------------------------------


def test_untrusted_chain_and_wrong_name_are_told_apart(
    stack: GatewayStack, certs: CertFiles
) -> None:
    port = stack.nginx.https_port
    good = tls_checks.TlsTarget("127.0.0.1", port, "127.0.0.1")
    assert tls_checks.trust_findings(tls_probes.verify_trust(good, str(certs.ca_cert))) == []
    other_ca = tls_checks.trust_findings(tls_probes.verify_trust(good, str(certs.other_ca_cert)))
    assert "the chain does not verify against CA file" in other_ca[0].message
    wrong_name = tls_checks.TlsTarget("127.0.0.1", port, "wrong.example.test")
    misnamed = tls_checks.trust_findings(tls_probes.verify_trust(wrong_name, str(certs.ca_cert)))
    assert "the certificate does not name this host" in misnamed[0].message


def test_expired_certificate_is_read_and_plain_http_served(
    tmp_path: Path, stack: GatewayStack, certs: CertFiles
) -> None:
    nginx = start_nginx(
        tmp_path,
        upstream=stack.gateway.url,
        cert=certs.expired_cert,
        key=certs.expired_key,
        http_redirect=False,
    )
    try:
        target = tls_checks.TlsTarget("127.0.0.1", nginx.https_port, "127.0.0.1")
        info = tls_probes.fetch_certificate(target)
        certificate = tls_probes.read_certificate_of(target)
        trust = tls_probes.verify_trust(target, str(certs.ca_cert))
        redirect = tls_probes.probe_redirect(nginx.http_url + "/health/live")
    finally:
        nginx.stop()
    now = dt.datetime.now(dt.UTC)
    assert info.not_after < now  # read although verification would fail
    expiry = tls_checks.certificate_findings(certificate, 14, now)
    assert f"expired on {info.not_after:%Y-%m-%d}" in expiry[0].message
    assert "certificate has expired" in tls_checks.trust_findings(trust)[0].message
    redirected = tls_checks.redirect_findings(redirect)
    assert "answered 200; expected a 301/308 redirect to https://" in redirected[0].message
