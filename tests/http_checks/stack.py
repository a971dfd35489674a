"""The real gateway stack the HTTP checks run against, and a runner for every gateway check.

A stack is the demo gateway (uvicorn subprocess, optional defect switches) behind the sandbox's
nginx (TLS 1.3 by default, a plain-HTTP port that redirects), with the 19 downstream stand-ins.
Each stack gets its own gateway: the rate-limit burst spends the anonymous allowance of the
gateway it probes, so two check runs must never share one.

Fixtures here are imported by the test modules explicitly (no conftest.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_deployverify.checks.http import (
    auth,
    catalog,
    downstream,
    flows,
    headers,
    latency,
    openapi,
    ratelimit,
    smoke,
    tenants,
    tls,
)
from pytest_deployverify.checks.http.common import Outcome
from pytest_deployverify.components.catalog import load_profile
from pytest_deployverify.components.http import HttpConfig, http_client
from pytest_deployverify.components.httpcommon import tls_verify
from pytest_deployverify.profile.model import Profile
from sandbox.certs import CertFiles, make_certs
from sandbox.gateway import DEFAULT_SERVICES, demo_env, start_downstream
from sandbox.gateway.catalog import venues_of
from sandbox.gateway.downstream import DownstreamProcess
from sandbox.gateway.launcher import GatewayProcess, start_gateway
from sandbox.gateway.settings import DEFAULT_VERSION
from sandbox.servers.nginx import NginxServer, start_nginx

RATE_LIMIT_MAX = 60  # per window; a full check run spends about a third of it anonymously
BURST = 90
ALLOWED_ORIGIN = "https://app.gateway.test"
GLOBEX_VENUE = venues_of("globex")[0]
PUBLIC_ROUTES = (
    "GET /health/live",
    "GET /health/ready",
    "GET /metrics",
    "GET /version",
    "GET /openapi.json",
    "POST /api/v1/auth/login",
    "POST /oauth/token",
)

# Each gateway defect and each nginx misconfiguration, with the checks it must fail.
GATEWAY_DEFECTS: dict[str, set[str]] = {
    "unauthenticated_route": {"SEC-GW-AUTH-REQUIRED"},
    "alg_none": {"SEC-GW-JWT[alg-none]"},
    "cross_tenant": {"SEC-GW-TENANT-ISOLATION"},
    "cors_wildcard": {"SEC-GW-CORS"},
    "version_leak": {"SEC-GW-HDR-VERSION-LEAK"},
    # No limiter at all: no headers, and the burst is never refused.
    "no_rate_limit": {"SEC-GW-RATE-HEADERS", "SEC-GW-RATE-BURST"},
    # One switch, two checklist items: the tenant header is believed, X-Internal-* are echoed.
    "trust_internal_headers": {"SEC-GW-TENANT-HEADER", "SEC-GW-HDR-INTERNAL"},
}
NGINX_DEFECTS: dict[str, set[str]] = {
    "tls12_allowed": {"SEC-GW-TLS-VERSION"},
    "cert_expiring": {"SEC-GW-TLS-EXPIRY"},
}


@dataclass(frozen=True)
class StackSpec:
    name: str
    defects: frozenset[str] = frozenset()
    tls_protocols: str = "TLSv1.3"
    cert: str = "server"  # or "expiring" (3 days left)

    @classmethod
    def for_defect(cls, defect: str) -> StackSpec:
        if defect == "tls12_allowed":
            return cls(defect, tls_protocols="TLSv1.2 TLSv1.3")
        if defect == "cert_expiring":
            return cls(defect, cert="expiring")
        return cls(defect, defects=frozenset({defect}))


@dataclass
class GatewayStack:
    spec: StackSpec
    env: dict[str, str] = field(repr=False)
    certs: CertFiles
    gateway: GatewayProcess
    nginx: NginxServer
    services: dict[str, str]

    def stop(self) -> None:
        self.nginx.stop()
        self.gateway.stop()

    # -- the profile ---------------------------------------------------------------------

    def secrets(self) -> dict[str, str]:
        """The environment variables the profile's ``${VAR}`` placeholders read."""
        users = _triples(self.env["DEMO_USERS"])
        clients = _triples(self.env["OAUTH_CLIENTS"])
        return {
            "GW_ACME_USER": users["acme"][0],
            "GW_ACME_PASSWORD": users["acme"][1],
            "GW_GLOBEX_USER": users["globex"][0],
            "GW_GLOBEX_PASSWORD": users["globex"][1],
            "GW_CLIENT_ID": clients["acme"][0],
            "GW_CLIENT_SECRET": clients["acme"][1],
            "GW_BURST_CLIENT_ID": clients["globex"][0],
            "GW_BURST_CLIENT_SECRET": clients["globex"][1],
            "GW_JWT_TEST_KEY": self.env["JWT_SECRET"],
        }

    def profile_data(self, **expect_overrides: Any) -> dict[str, Any]:
        """The profile as plain data, secrets as ``${VAR}`` placeholders."""
        acme_login = {"username": "${GW_ACME_USER}", "password": "${GW_ACME_PASSWORD}"}
        globex_login = {"username": "${GW_GLOBEX_USER}", "password": "${GW_GLOBEX_PASSWORD}"}
        expect: dict[str, Any] = {
            "public_routes": list(PUBLIC_ROUTES),
            "auth": {
                "login_path": "/api/v1/auth/login",
                "login": acme_login,
                "token_url": "/oauth/token",
                "client_id": "${GW_CLIENT_ID}",
                "client_secret": "${GW_CLIENT_SECRET}",
                "jwt_signing_key": "${GW_JWT_TEST_KEY}",
            },
            "tenants": {
                "header": "X-Tenant-ID",
                "a": {
                    "tenant": "acme",
                    "login": acme_login,
                    "own_paths": ["/api/v1/venues", "/api/v1/me"],
                },
                "b": {
                    "tenant": "globex",
                    "login": globex_login,
                    "resources": [
                        f"/api/v1/venues/{GLOBEX_VENUE.id}",
                        "/api/v1/tenants/globex/venues",
                    ],
                },
            },
            "cors": {"allowed_origin": ALLOWED_ORIGIN, "probe_path": "/api/v1/venues"},
            "rate_limit": {
                "probe_path": "/api/v1/venues",
                "burst": BURST,
                # globex's OAuth client is used by nothing else: the burst spends its allowance
                "client_id": "${GW_BURST_CLIENT_ID}",
                "client_secret": "${GW_BURST_CLIENT_SECRET}",
            },
            "tls": {"min_version": "1.3", "http_url": self.nginx.http_url + "/"},
            "latency": {"requests": 40, "concurrency": 4},
            "load": {"users": 20, "requests": 80, "time_limit": 30},
            "flows": [
                {"name": "browse venues", "path": "/api/v1/venues", "json_fields": ["items.0.id"]},
                {"name": "view events", "path": "/api/v1/events", "json_fields": ["items.0.title"]},
                {
                    "name": "failed login is refused",
                    "method": "POST",
                    "path": "/api/v1/auth/login",
                    "status": 401,
                    "authenticated": False,
                    "destructive": True,  # counted in the auth-failure metric: a state change
                    "json_body": json.dumps({"email": "nobody@example.test", "password": "x"}),
                    "json_fields": ["error.code"],
                },
            ],
        }
        expect.update(expect_overrides)
        return {
            "name": self.spec.name.replace("_", "-"),
            "version": DEFAULT_VERSION,
            # Generous on purpose: the tests assert on defects, never on this machine's speed.
            "slo": {"p95_latency_ms": 10_000, "p99_latency_ms": 20_000, "error_rate": 0.0},
            "http": {
                "base_url": self.nginx.https_url,
                "ca_file": str(self.certs.ca_cert),
                "timeout": 5.0,
                "expect": expect,
            },
            "services": [
                {"name": name, "url": f"{url}/health", "timeout": 2.0}
                for name, url in self.services.items()
            ],
        }

    def write_profile(self, folder: Path, **expect_overrides: Any) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        data = self.profile_data(**expect_overrides)
        path = folder / f"{data['name']}.toml"
        path.write_text(to_toml(data))
        return path

    def load(self, folder: Path, **expect_overrides: Any) -> Profile:
        """Write the profile TOML and load it the way the plugin does (``${VAR}`` included)."""
        path = self.write_profile(folder, **expect_overrides)
        return load_profile(path.stem, folder, self.secrets()).profile


def _triples(raw: str) -> dict[str, tuple[str, str]]:
    """``id:secret:tenant,...`` -> {tenant: (id, secret)}."""
    found = {}
    for entry in raw.split(","):
        ident, secret, tenant = entry.split(":")
        found[tenant] = (ident, secret)
    return found


def start_stack(
    workdir: Path, spec: StackSpec, certs: CertFiles, services: DownstreamProcess
) -> GatewayStack:
    env = demo_env(RATE_LIMIT_MAX=str(RATE_LIMIT_MAX), DOWNSTREAM_SERVICES=services.env_value())
    gateway = start_gateway(
        workdir / "gateway", env=env, defects=spec.defects, forwarded_allow_ips="127.0.0.1"
    )
    cert, key = (
        (certs.expiring_cert, certs.expiring_key)
        if spec.cert == "expiring"
        else (certs.server_cert, certs.server_key)
    )
    try:
        nginx = start_nginx(
            workdir / "nginx",
            upstream=gateway.url,
            cert=cert,
            key=key,
            tls_protocols=spec.tls_protocols,
        )
    except BaseException:
        gateway.stop()
        raise
    return GatewayStack(spec, env, certs, gateway, nginx, dict(services.urls))


def start_stacks(
    workdir: Path, specs: Sequence[StackSpec], certs: CertFiles, services: DownstreamProcess
) -> dict[str, GatewayStack]:
    """Start several stacks side by side (each waits on its own gateway's start-up)."""
    started: dict[str, GatewayStack] = {}
    lock = threading.Lock()

    def one(spec: StackSpec) -> None:
        stack = start_stack(workdir / spec.name, spec, certs, services)
        with lock:
            started[spec.name] = stack

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(one, spec) for spec in specs]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        for stack in started.values():
            stack.stop()
        raise errors[0]  # type: ignore[misc]
    return started


# -- fixtures (import them into a test module) --------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DownstreamProcess]:
    """The 19 downstream stand-ins, each answering /health after 0.2 s."""
    with start_downstream(tmp_path_factory.mktemp("downstream"), DEFAULT_SERVICES, delay=0.2) as d:
        yield d


# -- every check, as the verify/ files wire them ------------------------------------------


def run_all(profile: Profile) -> dict[str, Outcome]:
    """Every gateway check against the profile's target, keyed by check id; the destructive
    ones last (the burst spends the anonymous allowance)."""
    http = profile.http
    assert http is not None
    expect = http.expect
    results: dict[str, Outcome] = {}
    with http_client(http) as client:
        document = openapi.fetch(client, str(expect.openapi_path)).document
        assert document is not None, "the gateway publishes an OpenAPI document"
        token_result = auth.obtain_token(client, expect.auth)
        assert token_result is not None
        assert token_result.token is not None, token_result.problem
        token = token_result.token
        paths = auth.probe_paths(expect.auth, document)

        results[catalog.HEALTH.check_id] = smoke.health(client, expect.health_paths)
        results[catalog.METRICS.check_id] = smoke.metrics(client, str(expect.metrics_path))
        assert profile.version is not None
        results[catalog.VERSION.check_id] = smoke.version(
            client, str(expect.version_path), expect.version_field, profile.version
        )
        results[catalog.OPENAPI.check_id] = openapi.validate(document, str(expect.openapi_path))
        results[catalog.ERROR_SHAPE.check_id] = smoke.error_shape(
            client, expect.error_probe_paths, expect.error_fields
        )
        report = downstream.probe_services(downstream.targets(profile.services))
        results[catalog.DOWNSTREAM.check_id] = Outcome(findings=report.findings)
        read_only = [f for f in expect.flows if not f.destructive]
        results[catalog.FLOWS.check_id] = flows.run_flows(client, read_only, token, catalog.FLOWS)
        results[catalog.LATENCY.check_id] = _latency(http, profile)

        plan = openapi.route_plan(document, expect.protected_routes, expect.public_routes)
        results[catalog.AUTH_REQUIRED.check_id] = auth.unauthenticated(
            client, plan, param_value=expect.path_param_value
        )
        key = expect.auth.jwt_signing_key
        for variant in catalog.JWT_VARIANTS:
            results[catalog.JWT.variant(variant).check_id] = auth.forgery(
                client, variant, token, paths, signing_key=key.get() if key else None
            )
        assert expect.auth.login_path
        assert expect.auth.login
        assert expect.auth.token_url
        assert expect.auth.client_id
        assert expect.auth.client_secret
        for name, result in (
            ("login", auth.login(client, expect.auth.login_path, expect.auth.login)),
            (
                "client-credentials",
                auth.client_credentials(
                    client,
                    expect.auth.token_url,
                    expect.auth.client_id.get(),
                    expect.auth.client_secret.get(),
                ),
            ),
        ):
            check = catalog.TOKEN_FLOW.variant(name)
            results[check.check_id] = auth.token_flow(client, result, paths, check)

        assert expect.tenants is not None
        token_a, token_b = (
            _must(auth.login(client, expect.auth.login_path, account.login))
            for account in (expect.tenants.a, expect.tenants.b)
        )
        results[catalog.TENANT_ISOLATION.check_id] = tenants.cross_tenant_reads(
            client, expect.tenants, token_a, token_b
        )
        results[catalog.TENANT_HEADER.check_id] = tenants.spoofed_tenant_header(
            client, expect.tenants, token_a
        )
        results[catalog.INTERNAL_HEADERS.check_id] = headers.internal_headers(
            client, token, paths, expect.headers.internal_headers
        )
        results[catalog.CORS.check_id] = headers.cors(
            client,
            expect.cors.probe_path,
            allowed_origin=expect.cors.allowed_origin,
            foreign_origin=expect.cors.foreign_origin,
        )
        header_paths = [*expect.health_paths, *expect.error_probe_paths]
        results[catalog.SECURITY_HEADERS.check_id] = headers.security_headers(
            client, header_paths, https=True, hsts_min_age=expect.headers.hsts_min_age
        )
        results[catalog.VERSION_LEAK.check_id] = headers.version_leak(client, header_paths)
        limit = expect.rate_limit
        assert limit.probe_path is not None
        results[catalog.RATE_HEADERS.check_id] = headers.rate_limit_headers(
            client, limit.probe_path, limit.headers
        )

        target = tls.TlsTarget.from_url(http.base_url.get(), timeout=http.timeout)
        results[catalog.TLS_VERSION.check_id] = tls.min_version(target, expect.tls.min_version)
        results[catalog.TLS_TRUST.check_id] = tls.trust(target, http.ca_file)
        results[catalog.TLS_EXPIRY.check_id] = tls.certificate_expiry(
            target, profile.slo.cert_min_days
        )
        assert expect.tls.http_url is not None
        results[catalog.TLS_REDIRECT.check_id] = tls.http_redirect(expect.tls.http_url.get())

        # Destructive, last.
        writes = [f for f in expect.flows if f.destructive]
        results[catalog.FLOWS_WRITE.check_id] = flows.run_flows(
            client, writes, token, catalog.FLOWS_WRITE
        )
        results[catalog.LOAD.check_id] = _load(http, profile)
        burst_token = auth.token_for(
            client, expect.auth, client_id=limit.client_id, client_secret=limit.client_secret
        )
        assert burst_token is not None
        results[catalog.RATE_BURST.check_id] = ratelimit.burst(
            client,
            limit.probe_path,
            count=limit.burst,
            concurrency=limit.concurrency,
            token=_must(burst_token),
        )
    return results


def _must(result: auth.TokenResult) -> str:
    assert result.token is not None, result.problem
    return result.token


def _url(http: HttpConfig, path: str) -> str:
    return http.base_url.get().rstrip("/") + path


def _latency(http: HttpConfig, profile: Profile) -> Outcome:
    cfg = http.expect.latency
    plan = latency.Plan(_url(http, cfg.path), cfg.requests, cfg.concurrency, cfg.time_limit)
    sample = latency.measure(plan, verify=tls_verify(http.ca_file))
    thresholds = latency.Thresholds(
        p95_ms=profile.slo.p95_latency_ms,
        p99_ms=profile.slo.p99_latency_ms,
        max_error_rate=profile.slo.error_rate,
    )
    return latency.judge(sample, thresholds, catalog.LATENCY, cfg.path)


def _load(http: HttpConfig, profile: Profile) -> Outcome:
    cfg = http.expect.load
    plan = latency.Plan(_url(http, cfg.path), cfg.requests, cfg.users, cfg.time_limit)
    sample = latency.measure(plan, verify=tls_verify(http.ca_file))
    thresholds = latency.Thresholds(
        p95_ms=profile.slo.p95_latency_ms, max_error_rate=profile.slo.error_rate
    )
    return latency.judge(sample, thresholds, catalog.LOAD, cfg.path)


def failing(results: Mapping[str, Outcome]) -> set[str]:
    return {check_id for check_id, outcome in results.items() if outcome.findings}


# -- a small TOML writer (tomllib reads, nothing in the stdlib writes) ---------------------


def to_toml(data: Mapping[str, Any]) -> str:
    lines: list[str] = []
    _table(data, (), lines)
    return "\n".join(lines).strip() + "\n"


def _table(data: Mapping[str, Any], path: tuple[str, ...], lines: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not _is_table(v) and not _is_table_array(v)}
    if path and (scalars or not data):
        lines.append(f"\n[{'.'.join(path)}]")
    for key, value in scalars.items():
        lines.append(f"{key} = {_value(value)}")
    for key, value in data.items():
        if _is_table(value):
            _table(value, (*path, key), lines)
        elif _is_table_array(value):
            for item in value:
                lines.append(f"\n[[{'.'.join((*path, key))}]]")
                for k, v in item.items():
                    if _is_table(v):
                        raise ValueError("nested tables inside arrays of tables are not needed")
                    lines.append(f"{k} = {_value(v)}")


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def client_for(profile: Profile) -> httpx.Client:
    assert profile.http is not None
    return http_client(profile.http)
