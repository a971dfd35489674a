"""Read-only readers of the gateway: health, metrics, version, OpenAPI, errors, routes without a
token, CORS, headers, answers the edge proxy makes itself, rate-limit headers.

Each reader asks for the component's client first (``ctx.client``): an unreachable gateway fails
there, once, with the message the registry cached. Requests of one reader that do not depend on
each other are sent side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.checks.http.auth import AnonymousProbe
from pytest_deployverify.checks.http.exchange import Exchange, fill_path
from pytest_deployverify.checks.http.expectations import SAFE_METHODS
from pytest_deployverify.checks.http.headers import CorsExchange, CorsProbe
from pytest_deployverify.checks.http.openapi import (
    OpenApiSnapshot,
    RoutePlan,
    route_plan,
    validator_problem,
)
from pytest_deployverify.checks.http.smoke import MetricsProbe
from pytest_deployverify.components.base import ReadContext
from pytest_deployverify.components.errors import ReadError
from pytest_deployverify.components.http.client import (
    AUTHORIZATION,
    anonymous_strip,
    bare,
    concurrently,
    send,
)
from pytest_deployverify.components.http.config import HttpConfig
from pytest_deployverify.profile.secrets import Endpoint

if TYPE_CHECKING:
    import httpx

# A header longer than any edge proxy accepts by default (nginx 8 KiB, HAProxy and ALB 16 KiB,
# Envoy 60 KiB): the proxy refuses the request itself, before the application sees it.
OVERSIZED_HEADER = "X-Deployverify-Oversized"
OVERSIZED_LENGTH = 65 * 1024


def _gateway(ctx: ReadContext) -> tuple[httpx.Client, HttpConfig]:
    """The probed client (raises the cached ``ComponentUnavailable``) and the ``[http]`` table."""
    client: httpx.Client = ctx.client
    section: HttpConfig = ctx.section
    return client, section


def get_all(client: httpx.Client, paths: Sequence[str], **kwargs: Any) -> tuple[Exchange, ...]:
    """GET every path side by side."""
    return tuple(concurrently([partial(send, client, "GET", path, **kwargs) for path in paths]))


def read_endpoint(ctx: ReadContext) -> dict[str, object]:
    """The gateway as the checks name it; reading it proves the base URL answered."""
    _, section = _gateway(ctx)
    return {"base_url": section.base_url.display, "https": section.https}


def read_health(ctx: ReadContext) -> tuple[Exchange, ...]:
    client, section = _gateway(ctx)
    if not section.expect.health_paths:
        raise NotApplicable("[http.expect] health_paths is empty")
    return get_all(client, section.expect.health_paths, timeout=section.timeout)


def probe_metrics(
    client: httpx.Client, path: str, internal: Endpoint | None = None
) -> MetricsProbe:
    """The metrics path through the public URL, and the internal metrics URL side by side."""
    calls = [partial(send, client, "GET", path)]
    if internal is not None:
        calls.append(partial(send, client, "GET", internal.get(), shown=internal.display))
    answers = concurrently(calls)
    return MetricsProbe(answers[0], answers[1] if len(answers) > 1 else None)


def read_metrics(ctx: ReadContext) -> MetricsProbe:
    client, section = _gateway(ctx)
    expect = section.expect
    if expect.metrics_path is None:
        raise NotApplicable("[http.expect] metrics_path is not set")
    internal = expect.metrics_url if not expect.metrics_public else None
    return probe_metrics(client, expect.metrics_path, internal)


def read_version(ctx: ReadContext) -> Exchange:
    client, section = _gateway(ctx)
    if section.expect.version_path is None:
        raise NotApplicable("[http.expect] version_path is not set")
    return send(client, "GET", section.expect.version_path)


def validate_document(document: dict[str, Any]) -> tuple[str, ...] | None:
    """What ``openapi-spec-validator`` says of the document: ``()`` when valid, else its
    complaint; ``None`` when the optional validator is not installed."""
    try:
        from openapi_spec_validator import validate as validate_spec
    except ImportError:
        return None
    try:
        validate_spec(document)
    except Exception as exc:  # the validator's errors share no useful base class across versions
        return (validator_problem(exc),)
    return ()


def read_openapi(ctx: ReadContext) -> OpenApiSnapshot:
    """The published document."""
    client, section = _gateway(ctx)
    path = section.expect.openapi_path
    if path is None:
        raise NotApplicable("[http.expect] openapi_path is not set")
    exchange = send(client, "GET", path)
    document = exchange.json() if exchange.status == 200 else None
    return OpenApiSnapshot(exchange, document if isinstance(document, dict) else None)


def read_openapi_validation(ctx: ReadContext) -> tuple[str, ...] | None:
    """The validator's verdict on the published document (CPU only, no request)."""
    snapshot: OpenApiSnapshot = ctx.read("http.openapi")
    return validate_document(snapshot.document) if snapshot.document is not None else ()


def openapi_document(ctx: ReadContext) -> dict[str, object] | None:
    """The published document, or None when the profile names none or it could not be read
    (the OpenAPI check reports that)."""
    if ctx.section.expect.openapi_path is None:
        return None
    try:
        snapshot: OpenApiSnapshot = ctx.read("http.openapi")
    except (NotApplicable, ReadError):
        return None
    return snapshot.document


def read_errors(ctx: ReadContext) -> tuple[Exchange, ...]:
    client, section = _gateway(ctx)
    if not section.expect.error_probe_paths:
        raise NotApplicable("[http.expect] error_probe_paths is empty")
    return get_all(client, section.expect.error_probe_paths)


def probe_anonymous(
    client: httpx.Client,
    plan: RoutePlan,
    param_value: str,
    source: str = "",
    *,
    strip: Sequence[str] = (AUTHORIZATION,),
    client_cert: bool = False,
) -> AnonymousProbe:
    """Every protected route of ``plan`` asked without any credential (every header in
    ``strip`` left out; ``client`` presents no certificate), side by side. Only safe methods
    are sent: a POST to a route that wrongly lacks authentication could change state; the
    others are listed as not sent."""
    safe = [route for route in plan.protected if route.method in SAFE_METHODS]
    exchanges = concurrently(
        [
            partial(send, client, route.method, fill_path(route.path, param_value), strip=strip)
            for route in safe
        ]
    )
    return AnonymousProbe(
        plan=plan,
        sent=tuple(zip(safe, exchanges, strict=True)),
        not_sent=tuple(route for route in plan.protected if route.method not in SAFE_METHODS),
        source=source,
        client_cert=client_cert,
        dropped=tuple(strip),
    )


def read_anonymous(ctx: ReadContext) -> AnonymousProbe:
    """The protected routes: the document's secured operations and the profile's
    ``protected_routes``, less its ``public_routes``."""
    client, section = _gateway(ctx)
    expect = section.expect
    plan = route_plan(openapi_document(ctx), expect.protected_routes, expect.public_routes)
    source = expect.openapi_path or "profile protected_routes"
    return probe_anonymous(
        bare(client),
        plan,
        expect.path_param_value,
        source,
        strip=anonymous_strip(section),
        client_cert=expect.auth.client_cert is not None,
    )


def read_cors(ctx: ReadContext) -> CorsProbe:
    """A preflight and a simple GET with a foreign origin, and with the production origin."""
    client, section = _gateway(ctx)
    cors = section.expect.cors
    if cors.probe_path is None:
        raise NotApplicable("[http.expect.cors] probe_path is not set")
    probe_path = cors.probe_path
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    plan: list[tuple[str, str, str, dict[str, str]]] = []
    for origin, kind in ((cors.foreign_origin, "foreign"), (cors.allowed_origin, "allowed")):
        if origin is None:
            continue
        plan.append((origin, kind, "preflight", {"Origin": origin, **preflight}))
        plan.append((origin, kind, "GET", {"Origin": origin}))
    exchanges = concurrently(
        [
            partial(
                send,
                client,
                "OPTIONS" if label == "preflight" else "GET",
                probe_path,
                headers=headers,
            )
            for _, _, label, headers in plan
        ]
    )
    return CorsProbe(
        path=probe_path,
        allowed_origin=cors.allowed_origin,
        foreign_origin=cors.foreign_origin,
        exchanges=tuple(
            CorsExchange(origin, kind, label, exchange)
            for (origin, kind, label, _), exchange in zip(plan, exchanges, strict=True)
        ),
    )


def read_headers(ctx: ReadContext) -> tuple[Exchange, ...]:
    """The answers the security-header and version-leak checks judge: the profile's header
    probe paths, else the health and error-probe answers already read."""
    client, section = _gateway(ctx)
    paths = section.expect.headers.probe_paths
    if paths:
        return get_all(client, paths)
    answers: list[Exchange] = []
    for ref in ("http.health", "http.errors"):
        try:
            answers += ctx.read(ref)
        except NotApplicable:
            continue  # that path list is empty: judge the other one
    if not answers:
        raise NotApplicable(
            "no answers to judge: [http.expect] health_paths and error_probe_paths are empty; "
            "set [http.expect.headers] probe_paths"
        )
    return tuple(answers)


def read_edge(ctx: ReadContext) -> tuple[Exchange, ...]:
    """Answers the edge proxy makes itself: a request it refuses before the application sees it
    (a header longer than it accepts; the TRACE method), its own health endpoints, and the
    plain-HTTP redirect."""
    client, section = _gateway(ctx)
    cfg = section.expect.headers
    calls = []
    if cfg.edge_probes:
        oversized = {OVERSIZED_HEADER: "x" * OVERSIZED_LENGTH}
        note = f"edge: a {OVERSIZED_LENGTH // 1024} KiB header"
        calls.append(partial(send, client, "GET", "/", headers=oversized, note=note))
        calls.append(partial(send, client, "TRACE", "/", note="edge: TRACE method"))
    calls += [
        partial(send, client, "GET", path, note="edge: proxy health endpoint")
        for path in cfg.edge_paths
    ]
    answers = concurrently(calls)
    try:
        redirect = ctx.read("http.redirect")
    except (NotApplicable, ReadError):
        redirect = None
    if redirect is not None and redirect.exchange is not None:
        answers.append(redirect.exchange)
    return tuple(answers)


def read_rate_headers(ctx: ReadContext) -> Exchange:
    client, section = _gateway(ctx)
    path = section.expect.rate_limit.probe_path
    if path is None:
        raise NotApplicable("[http.expect.rate_limit] probe_path is not set")
    return send(client, "GET", path)
