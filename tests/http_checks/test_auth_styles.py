"""A plain REST service (aiohttp, not the demo gateway) described by the profile alone: an API key,
HTTP basic or a client certificate (mutual TLS) instead of a login and JWTs, and no OpenAPI
document, tenants, rate limit or login flow. Every applicable HTTP check passes on the healthy
service, the features it lacks are not applicable with a reason naming the key, the anonymous
probes drop whichever credential the profile uses, and a wrong credential of each style is refused
(or, with a defect switched on, reported).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.components.catalog import load_profile
from pytest_deployverify.profile.model import Profile
from tests.http_checks.stack import Judged, failing, run_all, to_toml
from tests.second_env.launch import ServiceCerts, ServiceProcess, make_service_certs, start_service

# (style, defects) of each service started here.
SERVICES = {
    "api-key": ("api-key", ()),
    "basic": ("basic", ()),
    "mtls": ("mtls", ()),
    "api-key-open": ("api-key", ("no_auth",)),
    "api-key-any": ("api-key", ("any_credential",)),
    "basic-any": ("basic", ("any_credential",)),
    "mtls-open": ("mtls", ("no_auth",)),
}
# The features the plain service does not have: not applicable, the reason naming the key.
ABSENT = {
    "SMOKE-GW-OPENAPI": "[http.expect] openapi_path is not set",
    "SMOKE-GW-ERROR-SHAPE": "[http.expect] error_fields is not set",
    "SMOKE-GW-FLOWS-WRITE": "no destructive [[http.expect.flows]] configured",
    "SMOKE-GW-DOWNSTREAM": "services is not configured",
    "SEC-GW-TENANT-ISOLATION": "[http.expect] tenants is not set",
    "SEC-GW-TENANT-HEADER": "[http.expect] tenants is not set",
    "SEC-GW-RATE-HEADERS": "[http.expect.rate_limit] probe_path is not set",
    "SEC-GW-RATE-BURST": "[http.expect.rate_limit] probe_path is not set",
    "SEC-GW-TLS-REDIRECT": "[http.expect.tls] check_redirect = false",
    **{
        f"SEC-GW-JWT[{variant}]": "none of [http.expect.auth] login, [http.expect.auth] client_id"
        for variant in ("tampered", "alg-none", "expired", "wrong-aud", "wrong-iss")
    },
    **{
        f"SEC-GW-TOKEN-FLOW[{flow}]": "none of [http.expect.auth] login, [http.expect.auth] "
        "client_id"
        for flow in ("login", "client-credentials")
    },
}


@pytest.fixture(scope="module")
def service_certs(tmp_path_factory: pytest.TempPathFactory) -> ServiceCerts:
    return make_service_certs(tmp_path_factory.mktemp("service-certs"))


@pytest.fixture(scope="module")
def services(
    tmp_path_factory: pytest.TempPathFactory, service_certs: ServiceCerts
) -> Iterator[dict[str, ServiceProcess]]:
    started: dict[str, ServiceProcess] = {}
    try:
        for name, (style, defects) in SERVICES.items():
            workdir = tmp_path_factory.mktemp(name)
            started[name] = start_service(workdir, service_certs, style=style, defects=defects)
        yield started
    finally:
        for service in started.values():
            service.stop()


def auth_table(service: ServiceProcess) -> dict[str, Any]:
    """``[http.expect.auth]`` for the service's style; secrets as ``${VAR}``."""
    table: dict[str, Any] = {"probe_paths": ["/api/items"]}
    if service.style == "api-key":
        table["api_key"] = {"header": "X-API-Key", "key": "${SVC_API_KEY}"}
    elif service.style == "basic":
        table["basic"] = {"username": service.basic[0], "password": "${SVC_BASIC_PASSWORD}"}
    else:
        certs = service.certs
        table["client_cert"] = {
            "cert_file": str(certs.client_cert),
            "key_file": str(certs.client_key),
        }
    return table


def profile_data(service: ServiceProcess, name: str, **http: Any) -> dict[str, Any]:
    expect: dict[str, Any] = {
        "health_paths": ["/healthz", "/readyz"],
        "openapi_path": "",  # declared absent
        "protected_routes": ["GET /api/items", "GET /api/items/{id}"],
        "path_param_value": "item-1",
        "auth": auth_table(service),
        "headers": {"framing": "html"},  # an API serving no HTML
        "tls": {"min_version": "1.2", "check_redirect": False},
        "latency": {"path": "/healthz", "requests": 20, "concurrency": 2},
        "load": {"path": "/healthz", "users": 4, "requests": 20, "time_limit": 20},
        "flows": [{"name": "list items", "path": "/api/items", "json_fields": ["items.0.id"]}],
    }
    return {
        "name": name,
        "version": "2.0.1",  # the service reports v2.0.1
        "slo": {"p95_latency_ms": 10_000, "p99_latency_ms": 20_000, "error_rate": 0.0},
        "http": {
            "base_url": service.url,
            "ca_file": str(service.certs.ca_cert),
            "timeout": 5.0,
            "expect": expect,
            **http,
        },
    }


def load(folder: Path, service: ServiceProcess, data: dict[str, Any]) -> Profile:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['name']}.toml"
    path.write_text(to_toml(data))
    secrets = {"SVC_API_KEY": service.api_key, "SVC_BASIC_PASSWORD": service.basic[1]}
    return load_profile(path.stem, folder, secrets).profile


def judge(service: ServiceProcess, folder: Path, **http: Any) -> dict[str, Judged]:
    return run_all(load(folder, service, profile_data(service, folder.name, **http)))


def findings_text(results: dict[str, Judged], check_id: str) -> str:
    return "\n".join(str(f) for f in results[check_id].findings)


@pytest.mark.parametrize("style", ["api-key", "basic", "mtls"])
def test_a_plain_service_passes_with_its_credential_style(
    services: dict[str, ServiceProcess], style: str, tmp_path: Path
) -> None:
    results = judge(services[style], tmp_path / style)
    problems = {k: [str(f) for f in o.findings] for k, o in results.items() if o.findings}
    assert problems == {}
    skipped = {k: o.skipped for k, o in results.items() if o.skipped}
    assert set(skipped) == set(ABSENT)
    for check_id, reason in ABSENT.items():
        assert reason in str(skipped[check_id]), check_id
    # Applicable and judged: the credential style is the verifier's, for every probe.
    for check_id in (
        "SEC-GW-AUTH-REQUIRED",
        "SEC-GW-CREDENTIAL",
        "SEC-GW-HDR-INTERNAL",
        "SMOKE-GW-FLOWS",
        "SMOKE-GW-VERSION",
        "SEC-GW-TLS-VERSION",
    ):
        assert results[check_id].skipped is None, check_id


def test_anonymous_probes_drop_the_api_key(
    services: dict[str, ServiceProcess], tmp_path: Path
) -> None:
    """Even sent with every request as an ``[http] headers`` entry, the key stays out of the
    requests that must go without a credential."""
    service = services["api-key"]
    data = profile_data(service, "key-in-headers", headers={"X-API-Key": "${SVC_API_KEY}"})
    del data["http"]["expect"]["auth"]["api_key"]
    results = run_all(load(tmp_path, service, data))
    assert results["SEC-GW-AUTH-REQUIRED"].findings == []
    assert results["SEC-GW-AUTH-REQUIRED"].skipped is None


@pytest.mark.parametrize(
    ("name", "fails", "phrases"),
    [
        (
            "api-key-open",
            {"SEC-GW-AUTH-REQUIRED", "SEC-GW-CREDENTIAL"},
            ["without a token /api/items answered 200; expected 401"],
        ),
        (
            "api-key-any",
            {"SEC-GW-CREDENTIAL"},
            ["ACCEPTED a wrong credential (a random key in X-API-Key): answered 200"],
        ),
        (
            "basic-any",
            {"SEC-GW-CREDENTIAL"},
            ["ACCEPTED a wrong credential (the right username with a wrong password)"],
        ),
        (
            "mtls-open",
            {"SEC-GW-AUTH-REQUIRED", "SEC-GW-CREDENTIAL"},
            ["answered 200; expected 401 or a TLS refusal (no client certificate)"],
        ),
    ],
)
def test_a_credential_defect_fails_exactly_its_checks(
    services: dict[str, ServiceProcess],
    tmp_path: Path,
    name: str,
    fails: set[str],
    phrases: list[str],
) -> None:
    service = services[name]
    results = judge(service, tmp_path / name)
    assert failing(results) == fails
    text = "\n".join(findings_text(results, check_id) for check_id in fails)
    for phrase in phrases:
        assert phrase in text
    for secret in (service.api_key, service.basic[1]):
        assert secret not in text


def test_every_probe_path_can_be_unset_and_jwt_declared_absent(tmp_path: Path) -> None:
    """``""`` unsets a probe path (the item is not applicable and says which key), and
    ``jwt = false`` makes the forgery probes not applicable for a service with opaque tokens."""
    from pytest_deployverify.checks.http import catalog as hc

    data = {
        "name": "opaque",
        "http": {
            "base_url": "https://api.opaque.test",
            "expect": {
                "health_paths": [],
                "metrics_path": "",
                "version_path": "",
                "openapi_path": "",
                "error_probe_paths": [],
                "cors": {"probe_path": ""},
                "latency": {"path": ""},
                "load": {"path": ""},
                "auth": {
                    "login_path": "/login",
                    "login": {"username": "smoke", "password": "${PW}"},
                    "jwt": False,
                },
            },
        },
    }
    path = tmp_path / "opaque.toml"
    path.write_text(to_toml(data))
    profile = load_profile("opaque", tmp_path, {"PW": "opaque-password-1"}).profile
    assert profile.http is not None
    expect = profile.http.expect
    assert (expect.metrics_path, expect.version_path, expect.openapi_path) == (None, None, None)
    reasons = {
        spec.id: spec.not_applicable(profile)
        for spec in (
            hc.SMOKE_HEALTH,
            hc.SMOKE_METRICS,
            hc.SMOKE_VERSION,
            hc.SMOKE_OPENAPI,
            hc.SMOKE_LATENCY,
            hc.SMOKE_LOAD,
            hc.SEC_CORS,
            hc.SEC_JWT,
            hc.SEC_AUTH_REQUIRED,
        )
    }
    assert reasons == {
        "SMOKE-GW-HEALTH": "[http.expect] health_paths is not set in profile 'opaque'",
        "SMOKE-GW-METRICS": "[http.expect] metrics_path is not set in profile 'opaque'",
        "SMOKE-GW-VERSION": "version is not set in profile 'opaque'",
        "SMOKE-GW-OPENAPI": "[http.expect] openapi_path is not set in profile 'opaque'",
        "SMOKE-GW-LATENCY": "[http.expect.latency] path is not set in profile 'opaque'",
        "SMOKE-GW-LOAD": "[http.expect.load] path is not set in profile 'opaque'",
        "SEC-GW-CORS": "[http.expect.cors] probe_path is not set in profile 'opaque'",
        "SEC-GW-JWT": "[http.expect.auth] jwt = false in profile 'opaque'",
        "SEC-GW-AUTH-REQUIRED": "none of [http.expect] openapi_path, [http.expect] "
        "protected_routes is set in profile 'opaque'",
    }
    # The token flow and the wrong-credential probe still apply: the login is the credential.
    assert hc.SEC_TOKEN_FLOW.not_applicable(profile) is None
    assert hc.SEC_WRONG_CREDENTIAL.not_applicable(profile) is None
    assert profile.http.expect.auth.styles == ("bearer",)


def test_wrong_credential_judgement_both_ways() -> None:
    """The pure judgement: a refusal (401, or the TLS layer dropping an untrusted client
    certificate) holds; an acceptance, or a right credential refused, is reported."""
    from pytest_deployverify.checks.http.auth import (
        AnonymousProbe,
        WrongCredentialProbe,
        WrongCredentials,
        unauthenticated_findings,
        wrong_credential_findings,
    )
    from pytest_deployverify.checks.http.exchange import Exchange, Route
    from pytest_deployverify.checks.http.openapi import RoutePlan

    ok = Exchange("GET", "/api/items", 200)
    refused = Exchange("GET", "/api/items", 401)
    dropped = Exchange("GET", "/api/items", None, "Server disconnected without sending a response.")
    baseline = (refused, ok)

    def seen(*probes: WrongCredentialProbe) -> WrongCredentials:
        return WrongCredentials(("/api/items",), "/api/items", baseline, probes)

    cert = "a self-signed client certificate no CA of the service signed"
    assert not wrong_credential_findings(
        seen(WrongCredentialProbe("client-cert", cert, None, dropped))
    )
    [accepted] = wrong_credential_findings(
        seen(WrongCredentialProbe("client-cert", cert, None, ok))
    )
    assert accepted.check_id == "SEC-GW-CREDENTIAL"
    assert accepted.message == f"ACCEPTED a wrong credential ({cert}): answered 200"
    # A header style's right credential must open the route: else the profile's key is wrong.
    [unused] = wrong_credential_findings(
        seen(WrongCredentialProbe("api-key", "a random key in X-API-Key", refused, refused))
    )
    assert "the configured api-key credential was not accepted: answered 401" in unused.message
    [nowhere] = wrong_credential_findings(WrongCredentials(("/api/items",), None, (ok, ok)))
    assert "no route both refuses anonymous requests" in nowhere.message

    # Without a client certificate, a handshake refusal is a refusal; without mTLS it is not.
    plan = RoutePlan(protected=(Route("GET", "/api/items"),))
    sent = ((Route("GET", "/api/items"), dropped),)
    assert unauthenticated_findings(AnonymousProbe(plan, sent, client_cert=True), (401,)) == []
    [plain] = unauthenticated_findings(AnonymousProbe(plan, sent), (401,))
    assert "got no answer" in plain.message
