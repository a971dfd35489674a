"""The demo gateway: every behaviour the verification suite relies on, and every defect switch.

Most tests drive the ASGI app in process; the downstream stand-ins, Redis and one uvicorn
subprocess are real processes on free loopback ports.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from openapi_spec_validator import validate as validate_openapi

from sandbox.gateway import (
    DEFECTS,
    GatewaySettings,
    SettingsError,
    create_app,
    demo_env,
    issue_token,
)
from sandbox.gateway.catalog import VENUES, venues_of
from sandbox.gateway.downstream import DownstreamProcess, start_downstream
from sandbox.gateway.downstream_health import CircuitBreaker
from sandbox.gateway.launcher import start_gateway
from sandbox.gateway.testing import GatewayClient
from sandbox.procs import pid_alive

ALLOWED_ORIGIN = "https://app.gateway.test"
FOREIGN_ORIGIN = "https://evil.example"
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'",
}
ACME_VENUE = venues_of("acme")[0]
GLOBEX_VENUE = venues_of("globex")[0]

MakeClient = Callable[..., GatewayClient]


# -- helpers -------------------------------------------------------------------------------


def credentials(env: dict[str, str], key: str, tenant: str) -> tuple[str, str]:
    """(id, secret) of the demo login or OAuth client of ``tenant`` from a demo environment."""
    for entry in env[key].split(","):
        ident, secret, owner = entry.split(":")
        if owner == tenant:
            return ident, secret
    raise LookupError(f"no {key} entry for tenant {tenant}")


def login(client: GatewayClient, env: dict[str, str], tenant: str) -> str:
    email, password = credentials(env, "DEMO_USERS", tenant)
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"]
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def claims(settings: GatewaySettings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice@acme.test",
        "tenant": "acme",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 300,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def env() -> dict[str, str]:
    return demo_env(RATE_LIMIT_MAX="1000")


@pytest.fixture
def make_client(env: dict[str, str]) -> Iterator[MakeClient]:
    clients: list[GatewayClient] = []

    def make(defects: frozenset[str] = frozenset(), **overrides: str) -> GatewayClient:
        merged = {**env, **overrides, "GATEWAY_DEFECTS": ",".join(sorted(defects))}
        client = GatewayClient(create_app(GatewaySettings.from_env(merged)))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> GatewayClient:
    return make_client()


@pytest.fixture
def settings(env: dict[str, str]) -> GatewaySettings:
    return GatewaySettings.from_env(env)


@pytest.fixture(scope="module")
def downstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DownstreamProcess]:
    names = ["auth-service", "venue-service", "ticket-service"]
    with start_downstream(tmp_path_factory.mktemp("downstream"), names, delay=0.05) as process:
        yield process


# -- settings ------------------------------------------------------------------------------


def test_settings_read_every_variable_and_hide_secrets(env: dict[str, str]) -> None:
    settings = GatewaySettings.from_env(
        {
            **env,
            "REDIS_URL": "redis://:hunter2-redis@127.0.0.1:6390/0",
            "RATE_LIMIT_MAX": "7",
            "RATE_LIMIT_WINDOW_MS": "1500",
            "APP_VERSION": "9.9.9",
            "LOG_LEVEL": "WARN",
            "GATEWAY_DEFECTS": "alg_none, cross_tenant",
            "DOWNSTREAM_SERVICES": "auth-service=http://127.0.0.1:4001/,venue-service=http://h:2",
        }
    )
    assert settings.rate_limit_max == 7
    assert settings.rate_limit_window_ms == 1500
    assert settings.app_version == "9.9.9"
    assert settings.log_level == "warning"
    assert settings.defects == {"alg_none", "cross_tenant"}
    assert [(s.name, s.url) for s in settings.downstream_services] == [
        ("auth-service", "http://127.0.0.1:4001"),
        ("venue-service", "http://h:2"),
    ]
    assert [u.tenant for u in settings.demo_users] == ["acme", "globex"]
    shown = repr(settings)
    for secret in [
        env["JWT_SECRET"],
        "hunter2-redis",
        *(credentials(env, "DEMO_USERS", t)[1] for t in ("acme", "globex")),
        *(credentials(env, "OAUTH_CLIENTS", t)[1] for t in ("acme", "globex")),
    ]:
        assert secret not in shown


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"JWT_SECRET": ""}, "JWT_SECRET is not set"),
        ({"JWT_SECRET": "short"}, "at least 32"),
        ({"GATEWAY_DEFECTS": "alg_none,made_up"}, "made_up"),
        ({"RATE_LIMIT_MAX": "lots"}, "RATE_LIMIT_MAX must be an integer"),
        ({"DOWNSTREAM_SERVICES": "auth-service"}, "name=url"),
        ({"DEMO_USERS": "alice@acme.test:only-two"}, "DEMO_USERS entry #1"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
    ],
)
def test_settings_errors_name_the_variable(
    env: dict[str, str], overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        GatewaySettings.from_env({**env, **overrides})


# -- operations endpoints ------------------------------------------------------------------


def test_health_version_and_error_shape(client: GatewayClient) -> None:
    live = client.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert client.get("/version").json() == {"version": "1.4.2"}
    assert assert_error_shape(client.get("/no/such/path"), 404)["code"] == "not_found"
    assert assert_error_shape(client.post("/health/live"), 405)["code"] == "method_not_allowed"


def test_metrics_exposition(client: GatewayClient, env: dict[str, str]) -> None:
    token = login(client, env, "acme")
    client.get(f"/api/v1/venues/{ACME_VENUE.id}", headers=bearer(token))
    client.get("/api/v1/venues", headers=bearer("not-a-token"))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'app_info{version="1.4.2"} 1' in text
    # Route templates, not raw paths: one series per route whatever the id.
    assert 'http_requests_total{method="GET",route="/api/v1/venues/{id}",status="200"} 1' in text
    assert ACME_VENUE.id not in text
    assert (
        'http_request_duration_seconds_bucket{method="GET",route="/api/v1/venues",le="+Inf"}'
        in text
    )
    assert 'gateway_auth_failures_total{reason="malformed_token"} 1' in text
    assert "# TYPE gateway_circuit_breaker_open gauge" in text
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed: cannot lint the exposition format")
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_openapi_is_valid_and_lists_every_route(client: GatewayClient) -> None:
    document = client.get("/openapi.json").json()
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "Error" in document["components"]["schemas"]
    app_routes = {
        (method, route.path)
        for route in client_routes(client)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert documented == app_routes
    protected = {
        path
        for path, item in document["paths"].items()
        for operation in item.values()
        if operation.get("security") == [{"bearerAuth": []}]
    }
    assert protected == {
        "/api/v1/venues",
        "/api/v1/venues/{id}",
        "/api/v1/events",
        "/api/v1/tenants/{tenant}/venues",
        "/api/v1/me",
    }


def client_routes(client: GatewayClient) -> list[Any]:
    transport = client._client._transport
    assert isinstance(transport, httpx.ASGITransport)
    routes: list[Any] = transport.app.routes  # type: ignore[attr-defined]
    return routes


# -- authentication ------------------------------------------------------------------------


def test_every_protected_route_answers_401_without_a_token(client: GatewayClient) -> None:
    document = client.get("/openapi.json").json()
    protected = [
        path
        for path, item in document["paths"].items()
        if any("security" in operation for operation in item.values())
    ]
    assert protected
    for template in protected:
        path = template.replace("{id}", ACME_VENUE.id).replace("{tenant}", "acme")
        response = client.get(path)
        assert assert_error_shape(response, 401)["code"] == "unauthorized", path
        assert response.headers["www-authenticate"].startswith("Bearer")


FORGERIES: dict[str, Callable[[GatewaySettings], str]] = {
    "tampered payload": lambda s: _swap_payload(
        jwt.encode(claims(s), s.jwt_secret, algorithm="HS256"), claims(s, tenant="globex")
    ),
    "alg none": lambda s: unsigned(claims(s)),
    "expired": lambda s: jwt.encode(
        claims(s, iat=int(time.time()) - 3600, exp=int(time.time()) - 60),
        s.jwt_secret,
        algorithm="HS256",
    ),
    "wrong audience": lambda s: jwt.encode(
        claims(s, aud="another-api"), s.jwt_secret, algorithm="HS256"
    ),
    "wrong issuer": lambda s: jwt.encode(
        claims(s, iss="https://evil.example"), s.jwt_secret, algorithm="HS256"
    ),
    "other secret": lambda s: jwt.encode(claims(s), "x" * 48, algorithm="HS256"),
    "other algorithm": lambda s: jwt.encode(claims(s), s.jwt_secret, algorithm="HS512"),
    "no tenant claim": lambda s: jwt.encode(
        claims(s, tenant=None), s.jwt_secret, algorithm="HS256"
    ),
    "no exp claim": lambda s: jwt.encode(claims(s, exp=None), s.jwt_secret, algorithm="HS256"),
    "garbage": lambda s: "not.a.jwt",
}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _swap_payload(token: str, payload: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{_b64(payload)}.{signature}"


def unsigned(payload: dict[str, Any]) -> str:
    """An "alg": "none" token: header and claims, empty signature."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_bad_tokens_are_rejected(
    client: GatewayClient, settings: GatewaySettings, forgery: str
) -> None:
    good = jwt.encode(claims(settings), settings.jwt_secret, algorithm="HS256")
    assert client.get("/api/v1/me", headers=bearer(good)).status_code == 200
    response = client.get("/api/v1/me", headers=bearer(FORGERIES[forgery](settings)))
    assert assert_error_shape(response, 401)["code"] == "unauthorized"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_login_issues_a_token_with_the_required_claims(
    client: GatewayClient, env: dict[str, str], settings: GatewaySettings
) -> None:
    email, password = credentials(env, "DEMO_USERS", "globex")
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.jwt_ttl_seconds
    decoded = jwt.decode(
        body["access_token"],
        settings.jwt_secret,
        algorithms=["HS256"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    assert {"exp", "iat", "sub", "tenant", "iss", "aud"} <= set(decoded)
    assert (decoded["sub"], decoded["tenant"]) == (email, "globex")

    wrong = client.post("/api/v1/auth/login", json={"email": email, "password": password + "x"})
    assert assert_error_shape(wrong, 401)["code"] == "invalid_credentials"
    unknown = client.post("/api/v1/auth/login", json={"email": "x@y.test", "password": password})
    assert assert_error_shape(unknown, 401)["code"] == "invalid_credentials"
    malformed = client.post("/api/v1/auth/login", content=b"{not json")
    assert assert_error_shape(malformed, 400)["code"] == "bad_request"
    incomplete = client.post("/api/v1/auth/login", json={"email": email})
    assert assert_error_shape(incomplete, 400)["code"] == "invalid_request"


def test_oauth_client_credentials(client: GatewayClient, env: dict[str, str]) -> None:
    client_id, secret = credentials(env, "OAUTH_CLIENTS", "acme")
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    in_body = client.post("/oauth/token", data=form)
    assert in_body.status_code == 200, in_body.text
    assert in_body.json()["token_type"] == "Bearer"
    me = client.get("/api/v1/me", headers=bearer(in_body.json()["access_token"])).json()
    assert me == {"sub": client_id, "tenant": "acme"}

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    in_header = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert in_header.status_code == 200

    wrong = client.post("/oauth/token", data={**form, "client_secret": secret + "x"})
    assert assert_error_shape(wrong, 401)["code"] == "invalid_client"
    grant = client.post("/oauth/token", data={**form, "grant_type": "password"})
    assert assert_error_shape(grant, 400)["code"] == "unsupported_grant_type"
    as_json = client.post("/oauth/token", json=form)
    assert assert_error_shape(as_json, 400)["code"] == "invalid_request"


# -- tenant isolation and header hygiene ---------------------------------------------------


def test_tenant_isolation(client: GatewayClient, env: dict[str, str]) -> None:
    acme = bearer(login(client, env, "acme"))
    listed = client.get("/api/v1/venues", headers=acme).json()["items"]
    assert {venue["tenant"] for venue in listed} == {"acme"}
    assert len(listed) == len(venues_of("acme"))
    assert client.get(f"/api/v1/venues/{ACME_VENUE.id}", headers=acme).json()["id"] == ACME_VENUE.id

    foreign = client.get(f"/api/v1/venues/{GLOBEX_VENUE.id}", headers=acme)
    assert_error_shape(foreign, 404)
    assert GLOBEX_VENUE.name not in foreign.text
    # Another tenant's venue and a venue that does not exist look exactly alike.
    assert foreign.json() == client.get("/api/v1/venues/ven-0000", headers=acme).json()

    own = client.get("/api/v1/tenants/acme/venues", headers=acme)
    assert own.status_code == 200
    assert assert_error_shape(client.get("/api/v1/tenants/globex/venues", headers=acme), 403)
    events = client.get("/api/v1/events", headers=acme).json()["items"]
    assert events
    assert {event["tenant"] for event in events} == {"acme"}


def test_spoofed_tenant_and_internal_headers_are_ignored(
    client: GatewayClient, env: dict[str, str]
) -> None:
    headers = {
        **bearer(login(client, env, "acme")),
        "X-Tenant-ID": "globex",
        "X-Internal-User-Role": "admin-7c1e",
    }
    me = client.get("/api/v1/me", headers=headers)
    assert me.json() == {"sub": "alice@acme.test", "tenant": "acme"}
    assert "admin-7c1e" not in me.text
    assert "admin-7c1e" not in str(me.headers)
    assert not any(name.lower().startswith("x-internal-") for name in me.headers)
    venues = client.get("/api/v1/venues", headers=headers).json()["items"]
    assert {venue["tenant"] for venue in venues} == {"acme"}


# -- CORS, security headers, version leak --------------------------------------------------


def test_cors_allows_only_the_configured_origin(client: GatewayClient) -> None:
    allowed = client.get("/version", headers={"Origin": ALLOWED_ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in allowed.headers["vary"]

    foreign = client.get("/version", headers={"Origin": FOREIGN_ORIGIN})
    assert foreign.status_code == 200
    assert "access-control-allow-origin" not in foreign.headers

    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    ok = client.options("/api/v1/venues", headers={"Origin": ALLOWED_ORIGIN, **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "GET" in ok.headers["access-control-allow-methods"]
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    denied = client.options("/api/v1/venues", headers={"Origin": FOREIGN_ORIGIN, **preflight})
    assert_error_shape(denied, 403)
    assert "access-control-allow-origin" not in denied.headers


def test_security_headers_on_every_kind_of_answer(make_client: MakeClient) -> None:
    client = make_client(RATE_LIMIT_MAX="1")
    answers = [
        client.get("/health/live"),
        client.get("/api/v1/venues"),  # 401 (and uses up the one request of the window)
        client.get("/api/v1/venues"),  # 429
        client.get("/missing"),  # 404
        client.options(
            "/version", headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"}
        ),
    ]
    assert [a.status_code for a in answers] == [200, 401, 429, 404, 204]
    for answer in answers:
        for name, expected in SECURITY_HEADERS.items():
            assert expected in answer.headers.get(name, ""), (answer.url, name)
        assert "server" not in answer.headers
        assert "x-powered-by" not in answer.headers
        assert "1.4.2" not in str(answer.headers)


# -- rate limiting -------------------------------------------------------------------------


def test_rate_limit_headers_and_429(make_client: MakeClient, env: dict[str, str]) -> None:
    client = make_client(RATE_LIMIT_MAX="3", RATE_LIMIT_WINDOW_MS="60000")
    acme = bearer(login(client, env, "acme"))  # login is an /api route: 1 anonymous hit
    remaining = []
    for _ in range(3):
        response = client.get("/api/v1/venues", headers=acme)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "3"
        assert 0 < int(response.headers["x-ratelimit-reset"]) <= 60
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == [2, 1, 0]
    limited = client.get("/api/v1/venues", headers=acme)
    assert assert_error_shape(limited, 429)["code"] == "rate_limited"
    assert 0 < int(limited.headers["retry-after"]) <= 60
    # The limit is per caller: another tenant's user from the same address is unaffected.
    globex = bearer(login(client, env, "globex"))
    assert client.get("/api/v1/venues", headers=globex).status_code == 200
    # Non-API routes are not limited.
    assert client.get("/health/live").status_code == 200
    assert "x-ratelimit-limit" not in client.get("/health/live").headers
    assert "gateway_rate_limited_total 1" in client.get("/metrics").text


def test_rate_limit_shared_through_redis(
    make_client: MakeClient, env: dict[str, str], tmp_path: Path
) -> None:
    from sandbox.servers.redis import start_redis

    server = start_redis(tmp_path / "redis", password="rl-test-pass", appendonly=False, save="")
    try:
        overrides = {"REDIS_URL": server.url, "RATE_LIMIT_MAX": "4"}
        first, second = make_client(**overrides), make_client(**overrides)  # two replicas
        token = bearer(login(first, env, "acme"))
        assert first.get("/health/ready").json()["checks"]["redis"] == "ok"
        statuses = [
            replica.get("/api/v1/venues", headers=token).status_code
            for replica in (first, second, first, second, first)
        ]
        assert statuses == [200, 200, 200, 200, 429]
        redis_client = server.client()
        try:
            keys = redis_client.keys("gateway:ratelimit:*")
            assert keys
            assert all(0 < redis_client.pttl(key) <= 60_000 for key in keys)
        finally:
            redis_client.close()

        server.stop()
        not_ready = first.get("/health/ready")
        assert assert_error_shape(not_ready, 503)["code"] == "not_ready"
        assert not_ready.json()["checks"]["redis"] == "unavailable"
        # Fail open: with the limiter's store gone the API still answers, without made-up limits.
        open_answer = second.get("/api/v1/venues", headers=token)
        assert open_answer.status_code == 200
        assert "x-ratelimit-limit" not in open_answer.headers
    finally:
        server.stop()


# -- downstream services and circuit breakers ----------------------------------------------


def test_downstream_stand_ins_answer_health(downstream: DownstreamProcess) -> None:
    assert set(downstream.urls) == {"auth-service", "venue-service", "ticket-service"}
    for url in downstream.urls.values():
        response = httpx.get(url + "/health", timeout=5, trust_env=False)
        assert (response.status_code, response.json()["status"]) == (200, "ok")


def test_readiness_follows_downstream_health(
    make_client: MakeClient, downstream: DownstreamProcess
) -> None:
    client = make_client(
        DOWNSTREAM_SERVICES=downstream.env_value(),
        DOWNSTREAM_TIMEOUT_MS="400",
        CIRCUIT_FAILURE_THRESHOLD="2",
        CIRCUIT_RESET_SECONDS="3600",
    )
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]["downstream"].values()) == {"ok"}
    try:
        downstream.set_state("venue-service", "unhealthy")
        downstream.set_state("ticket-service", "hang")
        failing = client.get("/health/ready")
        assert assert_error_shape(failing, 503)["code"] == "not_ready"
        statuses = failing.json()["checks"]["downstream"]
        assert statuses == {
            "auth-service": "ok",
            "venue-service": "unhealthy",
            "ticket-service": "timeout",
        }
        assert (
            'gateway_circuit_breaker_open{service="venue-service"} 0' in client.get("/metrics").text
        )

        # The second consecutive failure opens both breakers; then they are not called at all.
        client.get("/health/ready")
        metrics = client.get("/metrics").text
        assert 'gateway_circuit_breaker_open{service="venue-service"} 1' in metrics
        assert 'gateway_circuit_breaker_open{service="ticket-service"} 1' in metrics
        assert 'gateway_circuit_breaker_open{service="auth-service"} 0' in metrics
        third = client.get("/health/ready").json()["checks"]["downstream"]
        assert third["venue-service"] == third["ticket-service"] == "circuit_open"
    finally:
        downstream.set_state("venue-service", "healthy")
        downstream.set_state("ticket-service", "healthy")


def test_circuit_breaker_half_opens_after_the_reset_time() -> None:
    breaker = CircuitBreaker(threshold=2, reset_seconds=10)
    breaker.record(False, now=0)
    assert not breaker.is_open
    breaker.record(False, now=1)
    assert breaker.is_open
    assert not breaker.allows_call(now=5)
    assert breaker.allows_call(now=11)  # one trial probe
    breaker.record(False, now=11)
    assert breaker.is_open
    assert not breaker.allows_call(now=12)
    breaker.record(True, now=21.5)
    assert not breaker.is_open
    assert breaker.allows_call(now=21.6)


# -- defect switches -----------------------------------------------------------------------

# Each probe answers "is this defect visible?" for one app. A probe uses its own caller, so the
# rate-limit burst of one does not eat the budget of another.
DEFECT_RATE_LIMIT = 8
Probe = Callable[[GatewayClient, dict[str, str], GatewaySettings], bool]


def _unauthenticated_route(client: GatewayClient, env: dict[str, str], s: GatewaySettings) -> bool:
    return client.get("/api/v1/events").status_code == 200


def _alg_none(client: GatewayClient, env: dict[str, str], s: GatewaySettings) -> bool:
    token = unsigned(claims(s, sub="mallory"))
    return client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def _cross_tenant(client: GatewayClient, env: dict[str, str], s: GatewaySettings) -> bool:
    token = issue_token(s, sub="probe-cross@acme.test", tenant="acme")
    response = client.get(f"/api/v1/venues/{GLOBEX_VENUE.id}", headers=bearer(token))
    return response.status_code == 200 and GLOBEX_VENUE.name in response.text


def _cors_wildcard(client: GatewayClient, env: dict[str, str], s: GatewaySettings) -> bool:
    response = client.get("/version", headers={"Origin": FOREIGN_ORIGIN})
    return "access-control-allow-origin" in response.headers


def _version_leak(client: GatewayClient, env: dict[str, str], s: GatewaySettings) -> bool:
    headers = client.get("/health/live").headers
    return "server" in headers or "x-powered-by" in headers


def _no_rate_limit(client: GatewayClient, env: dict[str, str], s: GatewaySettings) -> bool:
    token = issue_token(s, sub="probe-burst@globex.test", tenant="globex")
    statuses = [
        client.get("/api/v1/venues", headers=bearer(token)).status_code
        for _ in range(DEFECT_RATE_LIMIT + 1)
    ]
    return 429 not in statuses


def _trust_internal_headers(client: GatewayClient, env: dict[str, str], s: GatewaySettings) -> bool:
    token = issue_token(s, sub="probe-spoof@acme.test", tenant="acme")
    headers = {**bearer(token), "X-Tenant-ID": "globex", "X-Internal-Debug": "probe-4411"}
    me = client.get("/api/v1/me", headers=headers)
    return me.json().get("tenant") == "globex" or "probe-4411" in me.text + str(me.headers)


PROBES: dict[str, Probe] = {
    "unauthenticated_route": _unauthenticated_route,
    "alg_none": _alg_none,
    "cross_tenant": _cross_tenant,
    "cors_wildcard": _cors_wildcard,
    "version_leak": _version_leak,
    "no_rate_limit": _no_rate_limit,
    "trust_internal_headers": _trust_internal_headers,
}


def visible_defects(
    make_client: MakeClient, env: dict[str, str], defects: frozenset[str]
) -> set[str]:
    client = make_client(defects, RATE_LIMIT_MAX=str(DEFECT_RATE_LIMIT))
    settings = GatewaySettings.from_env(env)
    return {name for name, probe in PROBES.items() if probe(client, env, settings)}


def test_every_defect_switch_has_a_probe() -> None:
    assert set(PROBES) == DEFECTS


def test_healthy_gateway_shows_no_defect(make_client: MakeClient, env: dict[str, str]) -> None:
    assert visible_defects(make_client, env, frozenset()) == set()


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_switch_shows_exactly_its_defect(
    make_client: MakeClient, env: dict[str, str], defect: str
) -> None:
    assert visible_defects(make_client, env, frozenset({defect})) == {defect}


def test_defects_specific_shapes(make_client: MakeClient, env: dict[str, str]) -> None:
    wildcard = make_client(frozenset({"cors_wildcard"}))
    response = wildcard.get("/version", headers={"Origin": FOREIGN_ORIGIN})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-credentials"] == "true"

    leaky = make_client(frozenset({"version_leak"}))
    headers = leaky.get("/health/live").headers
    assert headers["server"] == "gateway/1.4.2 uvicorn"
    assert "1.4.2" in headers["x-powered-by"]

    unlimited = make_client(frozenset({"no_rate_limit"}))
    token = bearer(login(unlimited, env, "acme"))
    assert "x-ratelimit-limit" not in unlimited.get("/api/v1/venues", headers=token).headers

    trusting = make_client(frozenset({"trust_internal_headers"}))
    token = bearer(login(trusting, env, "acme"))
    spoofed = trusting.get("/api/v1/venues", headers={**token, "X-Tenant-ID": "globex"})
    assert {venue["tenant"] for venue in spoofed.json()["items"]} == {"globex"}

    open_events = make_client(frozenset({"unauthenticated_route"})).get("/api/v1/events")
    assert {event["tenant"] for event in open_events.json()["items"]} == {"acme", "globex"}


# -- the real server -----------------------------------------------------------------------


def test_uvicorn_subprocess_over_loopback(
    tmp_path: Path, env: dict[str, str], downstream: DownstreamProcess
) -> None:
    gateway = start_gateway(
        tmp_path / "gateway", env={**env, "DOWNSTREAM_SERVICES": downstream.env_value()}
    )
    try:
        assert gateway.url == f"http://127.0.0.1:{gateway.port}"
        with httpx.Client(base_url=gateway.url, timeout=10, trust_env=False) as http:
            live = http.get("/health/live")
            assert live.status_code == 200
            assert "server" not in live.headers  # uvicorn's own Server header is off
            assert "date" in live.headers
            assert http.get("/health/ready").status_code == 200
            email, password = credentials(env, "DEMO_USERS", "acme")
            token = http.post("/api/v1/auth/login", json={"email": email, "password": password})
            venues = http.get("/api/v1/venues", headers=bearer(token.json()["access_token"]))
            assert {v["id"] for v in venues.json()["items"]} == {v.id for v in venues_of("acme")}
            assert 'route="/api/v1/venues",status="200"' in http.get("/metrics").text
        log = gateway.log_path.read_text()
        assert '"route": "/api/v1/venues"' in log  # the JSON access log
        for secret in (env["JWT_SECRET"], password, token.json()["access_token"]):
            assert secret not in log
    finally:
        gateway.stop()
    assert not pid_alive(gateway.pid)


def test_every_venue_has_a_unique_id() -> None:
    ids = [venue.id for venue in VENUES]
    assert len(ids) == len(set(ids))
