"""The real gateway stack the HTTP checks run against, and a runner for every HTTP check.

A stack is the demo gateway (uvicorn subprocess, optional defect switches) behind the sandbox's
nginx (TLS 1.3 by default, a plain-HTTP port that redirects), with the 19 downstream stand-ins.
Each stack gets its own gateway: the rate-limit burst spends the anonymous allowance of the
gateway it probes, so two check runs must never share one.

``run_all`` judges every declared HTTP check the way the checklist items do: the read-only
snapshots read through the components (``ComponentRegistry``, prefetched concurrently), the
destructive probes afterwards through the component.

Fixtures here are imported by the test modules explicitly (no conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checks.declarations import CheckSpec
from pytest_deployverify.checks.findings import Finding, NotApplicable
from pytest_deployverify.checks.http import (
    auth,
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
from pytest_deployverify.checks.http import catalog as hc
from pytest_deployverify.components import http as gateway
from pytest_deployverify.components import services as services_component
from pytest_deployverify.components.catalog import load_profile
from pytest_deployverify.components.registry import ComponentRegistry
from pytest_deployverify.profile.model import Profile
from sandbox.certs import CertFiles, make_certs
from sandbox.gateway import DEFAULT_SERVICES, demo_env, start_downstream
from sandbox.gateway.catalog import venues_of
from sandbox.gateway.downstream import DownstreamProcess
from sandbox.gateway.launcher import GatewayProcess, start_gateway
from sandbox.gateway.settings import DEFAULT_VERSION
from sandbox.servers.nginx import EDGE_HEALTH_PATH, NginxServer, start_nginx

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
    # nginx names its version in what it answers itself (proxied answers still hide it).
    "server_tokens": {"SEC-GW-HDR-VERSION-LEAK"},
}
# A release that is not the one the profile expects.
RELEASE_DEFECTS: dict[str, set[str]] = {"old_release": {"SMOKE-GW-VERSION"}}

# Healthy setups that differ from the demo's defaults where healthy setups differ: each passes
# every check with the profile keys that describe it, and the stricter profile fails exactly the
# listed checks.  name: (profile overrides for the healthy run, strict overrides, checks failed)
HEALTHY_VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any], set[str]]] = {
    # A framework's default 404 is plain text: the error shape is judged only when declared.
    "plain_404": ({"error_fields": []}, {}, {"SMOKE-GW-ERROR-SHAPE"}),
    # An API that serves no HTML sets no framing headers.
    "no_framing": (
        {"headers": {"framing": "html", "edge_paths": [EDGE_HEALTH_PATH]}},
        {},
        {"SEC-GW-HDR-SECURITY"},
    ),
    # The service reports its release with a leading v and build metadata; another release
    # still fails.
    "v_version": ({}, {"version": "1.4.3"}, {"SMOKE-GW-VERSION"}),
}


@dataclass(frozen=True)
class StackSpec:
    name: str
    defects: frozenset[str] = frozenset()
    tls_protocols: str = "TLSv1.3"
    cert: str = "server"  # or "expiring" (3 days left)
    server_tokens: bool = False  # nginx names its version in the answers it makes itself
    plain_404: bool = False  # unknown routes get nginx's plain-text 404 (a framework default)
    hide_framing: bool = False  # nginx drops the gateway's framing headers
    app_version: str = DEFAULT_VERSION  # what the gateway reports
    acme_user: str | None = None  # tenant acme's login name (default: an e-mail address)

    @classmethod
    def for_defect(cls, defect: str) -> StackSpec:
        if defect == "tls12_allowed":
            return cls(defect, tls_protocols="TLSv1.2 TLSv1.3")
        if defect == "cert_expiring":
            return cls(defect, cert="expiring")
        if defect == "server_tokens":
            return cls(defect, server_tokens=True)
        if defect == "old_release":
            return cls(defect, app_version="1.4.1")
        return cls(defect, defects=frozenset({defect}))

    @classmethod
    def for_variant(cls, variant: str) -> StackSpec:
        if variant == "plain_404":
            return cls(variant, plain_404=True)
        if variant == "no_framing":
            return cls(variant, hide_framing=True)
        if variant == "v_version":
            return cls(variant, app_version=f"v{DEFAULT_VERSION}+build.7")
        raise ValueError(f"unknown variant {variant!r}")


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
        """The environment variables the profile's ``${VAR}`` placeholders read (account names
        and client ids among them: they are not secret, but they come from the environment)."""
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

    def secret_values(self) -> list[str]:
        """The values that are secrets: passwords, client secrets, the signing key."""
        return [v for k, v in self.secrets().items() if k.endswith(("PASSWORD", "SECRET", "KEY"))]

    def profile_data(
        self, *, version: str = DEFAULT_VERSION, **expect_overrides: Any
    ) -> dict[str, Any]:
        """The profile as plain data, secrets as ``${VAR}`` placeholders; ``version`` is the
        release it expects, the keywords replace ``[http.expect]`` keys."""
        acme_login = {"username": "${GW_ACME_USER}", "password": "${GW_ACME_PASSWORD}"}
        globex_login = {"username": "${GW_GLOBEX_USER}", "password": "${GW_GLOBEX_PASSWORD}"}
        expect: dict[str, Any] = {
            "public_routes": list(PUBLIC_ROUTES),
            "error_fields": ["error.code", "error.message"],  # the gateway's documented shape
            "headers": {"edge_paths": [EDGE_HEALTH_PATH]},
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
            "version": version,
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

    def write_profile(self, folder: Path, **overrides: Any) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        data = self.profile_data(**overrides)
        path = folder / f"{data['name']}.toml"
        path.write_text(to_toml(data))
        return path

    def load(self, folder: Path, **overrides: Any) -> Profile:
        """Write the profile TOML and load it the way the plugin does (``${VAR}`` included)."""
        path = self.write_profile(folder, **overrides)
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
    env = demo_env(
        RATE_LIMIT_MAX=str(RATE_LIMIT_MAX),
        DOWNSTREAM_SERVICES=services.env_value(),
        APP_VERSION=spec.app_version,
    )
    if spec.acme_user is not None:
        users = [entry.split(":") for entry in env["DEMO_USERS"].split(",")]
        env["DEMO_USERS"] = ",".join(
            f"{spec.acme_user if tenant == 'acme' else name}:{password}:{tenant}"
            for name, password, tenant in users
        )
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
            server_tokens=spec.server_tokens,
            proxied_server_tokens=False,  # the application's answers never show it
            plain_404=spec.plain_404,
            hide_framing=spec.hide_framing,
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


# -- every check, as the checklist items judge them ---------------------------------------------


@dataclass
class Judged:
    """What one check found; ``skipped`` says why it did not apply."""

    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None


def registry_for(profile: Profile) -> ComponentRegistry:
    """The run's registry for the gateway and the downstream services."""
    return ComponentRegistry(profile, [gateway.component, services_component.component])


def _judges(
    registry: ComponentRegistry, profile: Profile
) -> dict[str, Callable[[], list[Finding]]]:
    """Each item's judgement, keyed by check id (parametrized items once per variant), in the
    order the plugin runs them: read-only first, the destructive ones last."""
    http = profile.http
    assert http is not None
    expect = http.expect
    read = registry.read
    judges: dict[str, Callable[[], list[Finding]]] = {
        hc.HEALTH.id: lambda: smoke.health_findings(read("http.health")),
        hc.METRICS.id: lambda: smoke.metrics_findings(
            read("http.metrics"), public=expect.metrics_public
        ),
        hc.VERSION.id: lambda: smoke.version_findings(
            read("http.version"), expect.version_field, str(profile.version)
        ),
        hc.OPENAPI.id: lambda: [
            *openapi.published_findings(read("http.openapi")),
            *openapi.validation_findings(read("http.openapi"), read("http.openapi_validation")),
        ],
        hc.ERROR_SHAPE.id: lambda: smoke.error_shape_findings(
            read("http.errors"), expect.error_fields
        ),
        hc.DOWNSTREAM.id: lambda: downstream.downstream_findings(read("services.health")),
        hc.FLOWS.id: lambda: flows.flow_findings(read("http.flows"), hc.FLOWS),
        hc.LATENCY.id: lambda: latency.latency_findings(
            read("http.latency"),
            latency.latency_thresholds(expect.latency, profile.slo),
            hc.LATENCY,
            str(expect.latency.path),
        ),
        hc.AUTH_REQUIRED.id: lambda: auth.unauthenticated_findings(
            read("http.anonymous"), expect.auth.unauthenticated_status
        ),
        **{hc.JWT_RULES[v].id: partial(_forgery, registry, v) for v in hc.JWT_VARIANTS},
        hc.WRONG_CREDENTIAL.id: lambda: auth.wrong_credential_findings(
            read("http.wrong_credentials")
        ),
        **{hc.TOKEN_FLOW_RULES[f].id: partial(_token_flow, registry, f) for f in hc.TOKEN_FLOWS},
        hc.TENANT_ISOLATION.id: lambda: tenants.cross_tenant_findings(read("http.tenants")),
        hc.TENANT_HEADER.id: lambda: tenants.spoofed_header_findings(read("http.tenants")),
        hc.INTERNAL_HEADERS.id: lambda: headers.internal_header_findings(
            read("http.internal_headers")
        ),
        hc.CORS.id: lambda: headers.cors_findings(read("http.cors")),
        hc.SECURITY_HEADERS.id: lambda: headers.security_header_findings(
            read("http.headers"),
            https=http.https,
            hsts_min_age=expect.headers.hsts_min_age,
            framing=expect.headers.framing,
        ),
        hc.VERSION_LEAK.id: lambda: headers.version_leak_findings(
            [*read("http.headers"), *read("http.edge")]
        ),
        hc.RATE_HEADERS.id: lambda: headers.rate_limit_header_findings(
            read("http.rate_headers"), expect.rate_limit.headers
        ),
        hc.TLS_VERSION.id: lambda: tls.min_version_findings(
            read("http.tls_versions"), expect.tls.min_version
        ),
        hc.TLS_TRUST.id: lambda: tls.trust_findings(read("http.tls_trust")),
        hc.TLS_EXPIRY.id: lambda: tls.certificate_findings(
            read("http.certificate"), profile.slo.cert_min_days, dt.datetime.now(dt.UTC)
        ),
        hc.TLS_REDIRECT.id: lambda: tls.redirect_findings(read("http.redirect")),
        # Destructive, last (the burst spends an allowance).
        hc.FLOWS_WRITE.id: lambda: flows.flow_findings(
            gateway.write_flows(registry.client("http"), http, read("http.credential")),
            hc.FLOWS_WRITE,
        ),
        hc.LOAD.id: lambda: latency.latency_findings(
            gateway.load(registry.client("http"), http),
            latency.load_thresholds(expect.load, profile.slo),
            hc.LOAD,
            str(expect.load.path),
        ),
        hc.RATE_BURST.id: lambda: ratelimit.burst_findings(
            gateway.rate_limit_burst(registry.client("http"), http),
            require_retry_after=expect.rate_limit.require_retry_after,
        ),
    }
    return judges


def _forgery(registry: ComponentRegistry, variant: str) -> list[Finding]:
    return auth.forgery_findings(registry.read("http.forgeries").probe(variant))


def _token_flow(registry: ComponentRegistry, flow: str) -> list[Finding]:
    probe = registry.read("http.token_flows").probe(flow)
    return auth.token_flow_findings(probe, hc.TOKEN_FLOW_RULES[flow])


def _spec(check_id: str) -> CheckSpec:
    base = check_id.split("[", 1)[0]
    return next(s for s in (*hc.CHECKS, *hc.SERVICE_CHECKS) if s.id == base)


def run_all(profile: Profile) -> dict[str, Judged]:
    """Every HTTP check against the profile's target, keyed by check id. The read-only snapshots
    are prefetched side by side first, as the plugin does."""
    registry = registry_for(profile)
    try:
        registry.prefetch([ref for spec in (*hc.CHECKS, *hc.SERVICE_CHECKS) for ref in spec.reads])
        results: dict[str, Judged] = {}
        for check_id, judge in _judges(registry, profile).items():
            spec = _spec(check_id)
            primary = spec.components[0] if spec.components else None
            if primary is not None and not registry.configured(primary):
                results[check_id] = Judged(skipped=f"{primary} is not configured")
                continue
            reason = spec.not_applicable(profile)
            if reason is not None:
                results[check_id] = Judged(skipped=reason)
                continue
            try:
                results[check_id] = Judged(judge())
            except NotApplicable as exc:
                results[check_id] = Judged(skipped=str(exc))
        return results
    finally:
        registry.close()


def failing(results: Mapping[str, Judged]) -> set[str]:
    return {check_id for check_id, judged in results.items() if judged.findings}


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
                    lines.append(f"{k} = {_value(v)}")  # a table inside: written inline


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()  # a TOML local date
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
