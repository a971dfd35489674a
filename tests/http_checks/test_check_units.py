"""The gateway checks' pure parts on plain data: parsers, classifiers, token forging, thresholds,
route plans, profile validation. HTTP answers come from ``httpx.MockTransport`` where needed.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import tomllib
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from pytest_deployverify.checks.http import (
    catalog,
    flows,
    headers,
    jwt_forge,
    latency,
    openapi,
    smoke,
)
from pytest_deployverify.checks.http.common import Route, fill_path, lookup
from pytest_deployverify.checks.http.tls import CertificateInfo, default_http_url, expiry
from pytest_deployverify.components.catalog import profile_from_dict
from pytest_deployverify.expectations.gateway import HttpExpectations, TlsVersion
from pytest_deployverify.profile.schema import SchemaError
from tests.http_checks.stack import to_toml

KEY = "k" * 48


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(base_url="https://api.test", transport=httpx.MockTransport(handler))


# -- metrics exposition -------------------------------------------------------------------


def test_exposition_parser_accepts_the_text_format() -> None:
    text = (
        "# HELP http_requests_total Requests.\n"
        "# TYPE http_requests_total counter\n"
        'http_requests_total{method="GET",route="/a\\"b"} 12\n'
        "process_start_time_seconds 1.7e9 1700000000000\n"
        'up{job="x",} NaN\n'
        "temp +Inf\n"
        "# EOF\n"
    )
    parsed = smoke.parse_exposition(text)
    assert parsed.errors == []
    assert parsed.samples == 4
    assert {"http_requests_total", "process_start_time_seconds", "up", "temp"} <= parsed.families


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<html>nope</html>\n", "line 1: not a sample"),
        ("# TYPE m nonsense\nm 1\n", "line 1: unknown metric type"),
        ("m{a=b} 1\n", "line 1: not a sample"),
        ("m one\n", "line 1: not a sample"),
        ("ok 1\n9bad 2\n", "line 2: not a sample"),
    ],
)
def test_exposition_parser_names_the_bad_line(text: str, error: str) -> None:
    assert any(e.startswith(error) for e in smoke.parse_exposition(text).errors)


def test_metrics_check_fails_on_html() -> None:
    client = mock_client(lambda r: httpx.Response(200, text="<html>login</html>"))
    outcome = smoke.metrics(client, "/metrics")
    assert [f.check_id for f in outcome.findings] == ["SMOKE-GW-METRICS"]
    assert "not valid Prometheus text format" in outcome.findings[0].message


# -- error shape, version -----------------------------------------------------------------


def test_error_shape_reports_missing_fields_and_non_json() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/plain":
            return httpx.Response(404, text="Not Found", headers={"content-type": "text/plain"})
        if request.url.path == "/ok":
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "No."}})
        if request.url.path == "/served":
            return httpx.Response(200, json={})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": ""}})

    outcome = smoke.error_shape(
        mock_client(handler),
        ["/ok", "/plain", "/empty", "/served"],
        ["error.code", "error.message"],
    )
    messages = {f.subject: f.message for f in outcome.findings}
    assert set(messages) == {"/plain", "/empty", "/served"}
    assert "not JSON (text/plain)" in messages["/plain"]
    assert "lacks error.message" in messages["/empty"]
    assert "answered 200; expected a 4xx error" in messages["/served"]


def test_version_mismatch_names_both_versions() -> None:
    client = mock_client(lambda r: httpx.Response(200, json={"build": {"version": "1.4.1"}}))
    outcome = smoke.version(client, "/version", "build.version", "1.4.2")
    assert outcome.observed_version == "1.4.1"
    assert "reports version '1.4.1'; the profile expects '1.4.2'" in outcome.findings[0].message
    missing = smoke.version(client, "/version", "version", "1.4.2")
    assert "no 'version' field" in missing.findings[0].message


def test_lookup_and_fill_path() -> None:
    data = {"items": [{"id": "a"}], "n": 0}
    assert lookup(data, "items.0.id") == (True, "a")
    assert lookup(data, "n") == (True, 0)
    assert lookup(data, "items.1.id") == (False, None)
    assert fill_path("/t/{tenant}/v/{id}", "x") == "/t/x/v/x"
    assert Route.parse("post /x") == Route("POST", "/x")
    assert Route.parse("/x") == Route("GET", "/x")


# -- OpenAPI routes -----------------------------------------------------------------------

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "security": [{"bearer": []}],
    "paths": {
        "/health": {"get": {"security": [], "responses": {}}},
        "/optional": {"get": {"security": [{}, {"bearer": []}], "responses": {}}},
        "/items": {"get": {"responses": {}}, "post": {"responses": {}}},
        "/items/{id}": {"get": {"security": [{"bearer": []}], "responses": {}}},
        "/docs": {"get": {"security": [], "responses": {}}},
    },
}


def test_operations_follow_document_and_operation_security() -> None:
    secured = {str(op.route): op.secured for op in openapi.operations(DOCUMENT)}
    assert secured == {
        "GET /docs": False,
        "GET /health": False,
        "GET /items": True,
        "GET /items/{id}": True,
        "GET /optional": False,  # {} means authentication is optional
        "POST /items": True,
    }


def test_route_plan_adds_listed_and_reports_undeclared_public() -> None:
    plan = openapi.route_plan(DOCUMENT, ["GET /admin"], ["/health", "GET /items/{id}"])
    assert [str(r) for r in plan.protected] == ["GET /admin", "GET /items", "POST /items"]
    assert [str(r) for r in plan.undeclared_public] == ["GET /docs", "GET /optional"]
    assert openapi.route_plan(DOCUMENT).undeclared_public == []  # only when public_routes is set


# -- JWT forging --------------------------------------------------------------------------


def genuine(**claims: Any) -> str:
    now = int(time.time())
    base = {"sub": "alice", "tenant": "acme", "iss": "https://iss", "aud": "api", "iat": now}
    return jwt.encode({**base, "exp": now + 300, **claims}, KEY, algorithm="HS256")


def decode(token: str, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = jwt.decode(
        token, KEY, algorithms=["HS256"], audience="api", issuer="https://iss", **options
    )
    return result


def test_tampered_token_keeps_the_signature_and_fails_verification() -> None:
    token = genuine()
    forged = jwt_forge.tampered(token)
    assert forged.token.split(".")[2] == token.split(".")[2]
    assert jwt_forge.parse(forged.token).payload["sub"] == "alice.tampered"
    with pytest.raises(jwt.InvalidSignatureError):
        decode(forged.token)


def test_alg_none_variants_are_unsigned() -> None:
    forged = jwt_forge.alg_none(genuine())
    assert [jwt_forge.parse(f.token).header["alg"] for f in forged] == ["none", "None", "NONE"]
    assert all(f.token.endswith(".") for f in forged)
    claims = jwt.decode(forged[0].token, options={"verify_signature": False})
    assert claims["tenant"] == "acme"


@pytest.mark.parametrize(
    ("variant", "error"),
    [
        ("expired", jwt.ExpiredSignatureError),
        ("wrong-aud", jwt.InvalidAudienceError),
        ("wrong-iss", jwt.InvalidIssuerError),
    ],
)
def test_keyed_variants_are_valid_but_for_one_claim(variant: str, error: type[Exception]) -> None:
    token = genuine(exp=int(time.time()) + 10)  # nearly expired: the variants refresh exp
    forged = jwt_forge.keyed_variant(variant, token, KEY, "HS256")
    with pytest.raises(error):
        decode(forged.token)
    assert decode(jwt_forge.control(token, KEY, "HS256"))["sub"] == "alice"


def test_opaque_tokens_are_not_jwts() -> None:
    with pytest.raises(jwt_forge.NotAJwt):
        jwt_forge.parse("3f2a9c0e-opaque")
    with pytest.raises(jwt_forge.NotAJwt):
        jwt_forge.parse("a.b.c")


# -- header classifiers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "leaks"),
    [
        ("Server", "nginx", False),
        ("Server", "cloudflare", False),
        ("Server", "nginx/1.22.1", True),
        ("Server", "uvicorn", True),
        ("Server", "Apache/2.4.57 (Debian)", True),
        ("Via", "1.1 varnish", True),  # a protocol version still carries digits: report it
        ("X-Powered-By", "anything", True),
    ],
)
def test_version_leak_classifier(name: str, value: str, leaks: bool) -> None:
    client = mock_client(lambda r: httpx.Response(200, headers={name: value}))
    outcome = headers.version_leak(client, ["/"])
    assert bool(outcome.findings) is leaks


def test_security_headers_missing_are_each_named() -> None:
    client = mock_client(
        lambda r: httpx.Response(200, headers={"Strict-Transport-Security": "max-age=300"})
    )
    outcome = headers.security_headers(client, ["/"], https=True, hsts_min_age=15_552_000)
    messages = " | ".join(f.message for f in outcome.findings)
    assert "max-age is 300; expected at least 15552000" in messages
    assert "nosniff is missing" in messages
    assert "framing is not restricted" in messages
    csp_only = mock_client(
        lambda r: httpx.Response(
            200,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "frame-ancestors 'none'",
            },
        )
    )
    assert not headers.security_headers(csp_only, ["/"], https=False, hsts_min_age=1).findings


def test_cors_reflection_of_a_foreign_origin_is_reported() -> None:
    def reflect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Access-Control-Allow-Origin": request.headers.get("origin", "")}
        )

    outcome = headers.cors(
        mock_client(reflect), "/", allowed_origin="https://app.test", foreign_origin="https://x"
    )
    assert {f.subject.split()[0] for f in outcome.findings} == {"preflight", "GET"}
    assert all("a foreign origin is allowed" in f.message for f in outcome.findings)


# -- latency ------------------------------------------------------------------------------


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert latency.percentile(values, 50) == 50.0
    assert latency.percentile(values, 95) == 95.0
    assert latency.percentile(values, 99) == 99.0
    assert latency.percentile([7.0], 99) == 7.0
    assert latency.percentile([], 50) is None


def test_judge_reports_each_threshold_crossed() -> None:
    sample = latency.Sample(planned=120, durations_ms=[10.0] * 90 + [900.0] * 10)
    sample.statuses.update({"200": 98, "503": 2})
    sample.errors = 2
    sample.timed_out = True
    thresholds = latency.Thresholds(p95_ms=200, p99_ms=2000, max_error_rate=0.001)
    outcome = latency.judge(sample, thresholds, catalog.LATENCY, "GET /x")
    messages = [f.message for f in outcome.findings]
    assert any(m.startswith("P95 latency 900.0 ms exceeds 200 ms") for m in messages)
    assert not any(m.startswith("P99") for m in messages)
    assert any("error rate 2.00%" in m for m in messages)
    assert any("only 100 of 120 requests" in m for m in messages)
    fine = latency.Thresholds(p95_ms=1000, max_error_rate=0.05)
    sample.timed_out = False
    assert latency.judge(sample, fine, catalog.LATENCY, "GET /x").findings == []


# -- TLS dates ----------------------------------------------------------------------------


def certificate(not_after: dt.datetime) -> CertificateInfo:
    return CertificateInfo(
        subject="CN=api",
        issuer="CN=ca",
        not_before=not_after - dt.timedelta(days=90),
        not_after=not_after,
        names=("api",),
        sha256="0" * 64,
    )


def test_expiry_reports_the_date() -> None:
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    soon = expiry(certificate(now + dt.timedelta(days=3)), 14, now, "cert")
    assert "expires on 2026-11-25 12:00 UTC, in 3.0 days" in soon.findings[0].message
    gone = expiry(certificate(now - dt.timedelta(days=1)), 14, now, "cert")
    assert "expired on 2026-11-21 12:00 UTC" in gone.findings[0].message
    assert expiry(certificate(now + dt.timedelta(days=60)), 14, now, "cert").findings == []
    assert default_http_url("https://api.example.com:8443/v1") == "http://api.example.com/"


# -- the [http.expect] table --------------------------------------------------------------


def build(expect: dict[str, Any]) -> HttpExpectations:
    data = {"name": "t", "http": {"base_url": "https://api.test", "expect": expect}}
    profile = profile_from_dict(data)
    assert profile.http is not None
    return profile.http.expect


def test_expectations_defaults_follow_the_checklist() -> None:
    expect = build({})
    assert expect.tls.min_version is TlsVersion.TLS1_3
    assert expect.health_paths == ("/health/live", "/health/ready")
    assert expect.load.users == 500
    assert expect.tenants is None


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        (
            {"flows": [{"name": "buy", "path": "/orders", "method": "POST"}]},
            "POST may change state; set destructive = true",
        ),
        (
            {"flows": [{"name": "a", "path": "/a", "json_body": "{nope"}]},
            "json_body is not valid JSON",
        ),
        ({"auth": {"jwt_algorithm": "RS256"}}, "jwt_algorithm must be one of"),
        ({"auth": {"client_id": "x"}}, "client_id and client_secret go together"),
        ({"tls": {"min_version": "1.4"}}, "expected one of: 1.0, 1.1, 1.2, 1.3"),
        ({"rate_limit": {"burst": 0}}, "greater than or equal to 1"),
        ({"latency": {"p95_ms": 0}}, "greater than 0"),
        ({"tenants": {"a": {"tenant": "x"}}}, "required key is missing"),
    ],
)
def test_expectation_errors_name_the_fix(expect: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError) as info:
        build(expect)
    assert message in str(info.value)


def test_toml_writer_round_trips() -> None:
    data = {
        "name": "x",
        "http": {"base_url": "https://a", "expect": {"flows": [{"name": "f", "path": "/"}]}},
        "services": [{"name": "s", "url": "http://s/health", "timeout": 2.0}],
        "slo": {"error_rate": 0.0},
    }
    assert tomllib.loads(to_toml(data)) == data


# -- OpenAPI validation, flows ------------------------------------------------------------


def test_openapi_validation_reports_errors_and_a_missing_validator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok = {"description": "ok"}
    valid = {**DOCUMENT, "paths": {"/x": {"get": {"responses": {"200": ok}}}}}
    assert openapi.validate(valid, "/openapi.json").findings == []
    findings = openapi.validate(DOCUMENT, "/openapi.json").findings  # empty responses
    assert findings[0].message.startswith("not a valid OpenAPI document at $.paths")
    monkeypatch.setitem(sys.modules, "openapi_spec_validator", None)  # import now fails
    outcome = openapi.validate(valid, "/openapi.json")
    assert outcome.skipped == openapi.VALIDATOR_MISSING
    assert "pip install 'pytest-deployverify[http]'" in outcome.skipped


def test_flows_check_status_fields_and_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/venues":
            return httpx.Response(200, json={"items": []})
        return httpx.Response(500, json={"error": {"code": "internal_error", "message": "x"}})

    expect = build(
        {
            "flows": [
                {"name": "venues", "path": "/venues", "json_fields": ["items.0.id"]},
                {"name": "events", "path": "/events"},
            ]
        }
    )
    outcome = flows.run_flows(mock_client(handler), expect.flows, "t0ken", catalog.FLOWS)
    messages = {f.subject: f.message for f in outcome.findings}
    assert messages["flow 'venues' (GET /venues)"] == "the answer lacks items.0.id"
    assert messages["flow 'events' (GET /events)"].startswith("answered 500; expected 200")
    anonymous = flows.run_flows(mock_client(handler), expect.flows[:1], None, catalog.FLOWS)
    assert "needs a token" in anonymous.findings[0].message
