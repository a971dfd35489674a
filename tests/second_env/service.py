"""A plain REST service, built on aiohttp (not the sandbox's Starlette gateway): the HTTP target of
the second healthy environment and of the credential-style tests.

Deliberately ordinary where a healthy service differs from the demo gateway: health at ``/healthz``
and ``/readyz``, aiohttp's own plain-text 404, no tenants, no rate limit, no OpenAPI document, no
login, a release reported as ``v2.0.1``, request metrics labelled ``code``, and one credential
style chosen at start: an API key in ``X-API-Key``, HTTP basic, or a client certificate (mutual
TLS, the certificate checked by the TLS layer against the service's client CA).

Run as ``python -m tests.second_env.service --port N``; settings come from ``SVC_*`` variables
(``start_service`` sets them). Defect switches (``SVC_DEFECTS``) break one behaviour each.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import os
import ssl
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web, web_response

DEFECTS = frozenset(
    {
        "no_auth",  # /api/* answers without a credential
        "any_credential",  # any credential of the configured style is accepted
        "version_leak",  # the Server header names aiohttp and its version
        "server_errors",  # /api/items answers 500 (the error-rate gate's defect)
    }
)
STYLES = ("api-key", "basic", "mtls")
API_KEY_HEADER = "X-API-Key"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ITEMS = [{"id": f"item-{n}", "name": f"Item {n}"} for n in range(1, 6)]
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Settings:
    style: str
    version: str
    api_key: str = field(default="", repr=False)
    basic_user: str = ""
    basic_password: str = field(default="", repr=False)
    defects: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls) -> Settings:
        style = os.environ.get("SVC_AUTH", "api-key")
        defects = frozenset(d for d in os.environ.get("SVC_DEFECTS", "").split(",") if d)
        if style not in STYLES:
            raise SystemExit(f"SVC_AUTH must be one of {', '.join(STYLES)}")
        if defects - DEFECTS:
            raise SystemExit(f"unknown SVC_DEFECTS {sorted(defects - DEFECTS)}")
        return cls(
            style=style,
            version=os.environ.get("SVC_VERSION", "v2.0.1"),
            api_key=os.environ.get("SVC_API_KEY", ""),
            basic_user=os.environ.get("SVC_BASIC_USER", ""),
            basic_password=os.environ.get("SVC_BASIC_PASSWORD", ""),
            defects=defects,
        )


class Metrics:
    """``http_requests_total{method,route,code}`` and a duration histogram, as text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.buckets: Counter[tuple[str, float]] = Counter()
        self.sums: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    def observe(self, method: str, route: str, code: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, str(code))] += 1
            for bound in BUCKETS:
                if seconds <= bound:
                    self.buckets[(route, bound)] += 1
            self.sums[route] += seconds
            self.counts[route] += 1

    def render(self) -> str:
        lines = [
            "# HELP http_requests_total Requests answered, by method, route and status code.",
            "# TYPE http_requests_total counter",
        ]
        with self._lock:
            for (method, route, code), value in sorted(self.requests.items()):
                lines.append(
                    f'http_requests_total{{method="{method}",route="{route}",code="{code}"}} '
                    f"{value}"
                )
            lines += [
                "# HELP http_request_duration_seconds Time to answer a request.",
                "# TYPE http_request_duration_seconds histogram",
            ]
            for route in sorted(self.counts):
                for bound in BUCKETS:
                    lines.append(
                        f'http_request_duration_seconds_bucket{{route="{route}",le="{bound}"}} '
                        f"{self.buckets[(route, bound)]}"
                    )
                lines.append(
                    f'http_request_duration_seconds_bucket{{route="{route}",le="+Inf"}} '
                    f"{self.counts[route]}"
                )
                lines.append(
                    f'http_request_duration_seconds_sum{{route="{route}"}} {self.sums[route]}'
                )
                lines.append(
                    f'http_request_duration_seconds_count{{route="{route}"}} {self.counts[route]}'
                )
        return "\n".join(lines) + "\n"


def _route_of(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


def _unauthorized(settings: Settings) -> web.Response:
    headers = {"WWW-Authenticate": 'Basic realm="items"'} if settings.style == "basic" else {}
    return web.json_response({"error": "unauthorized"}, status=401, headers=headers)


def authenticated(settings: Settings, request: web.Request) -> bool:
    if "no_auth" in settings.defects:
        return True
    if settings.style == "mtls":
        # CERT_OPTIONAL: a presented certificate was verified by the TLS layer; none is None.
        transport = request.transport
        return transport is not None and bool(transport.get_extra_info("peercert"))
    if settings.style == "api-key":
        given = request.headers.get(API_KEY_HEADER, "")
        if "any_credential" in settings.defects:
            return bool(given)
        return bool(given) and hmac.compare_digest(given, settings.api_key)
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    if "any_credential" in settings.defects:
        return user == settings.basic_user
    return hmac.compare_digest(user, settings.basic_user) and hmac.compare_digest(
        password, settings.basic_password
    )


def create_app(settings: Settings) -> web.Application:
    metrics = Metrics()

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        code = 500
        try:
            response = await handler(request)
            code = response.status
            return response
        except web.HTTPException as exc:
            code = exc.status
            raise
        finally:
            metrics.observe(request.method, _route_of(request), code, time.perf_counter() - started)

    @web.middleware
    async def protect(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/") and not authenticated(settings, request):
            return _unauthorized(settings)
        return await handler(request)

    async def headers(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        if "version_leak" in settings.defects:
            response.headers["Server"] = f"Python aiohttp {settings.version}"
        else:
            response.headers.popall("Server", None)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def version(request: web.Request) -> web.Response:
        return web.json_response({"version": settings.version, "service": "items"})

    async def metrics_text(request: web.Request) -> web.Response:
        return web.Response(text=metrics.render(), content_type="text/plain", charset="utf-8")

    async def items(request: web.Request) -> web.Response:
        if "server_errors" in settings.defects:
            return web.json_response({"error": "database unavailable"}, status=500)
        return web.json_response({"items": ITEMS})

    async def one_item(request: web.Request) -> web.Response:
        wanted = request.match_info["id"]
        for entry in ITEMS:
            if entry["id"] == wanted:
                return web.json_response(entry)
        raise web.HTTPNotFound()

    app = web.Application(middlewares=[observe, protect])
    app.on_response_prepare.append(headers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", healthz)
    app.router.add_get("/version", version)
    app.router.add_get("/metrics", metrics_text)
    app.router.add_get("/api/items", items)
    app.router.add_get("/api/items/{id}", one_item)
    return app


def tls_context(cert: str, key: str, client_ca: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.2 and 1.3, unlike the demo's 1.3 only
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(client_ca)
    return context


def hide_server_software() -> None:
    """aiohttp names itself and its version in the ``Server`` header of the answers it makes
    before the application runs (a header too long to parse): a production service turns that
    off, as nginx's ``server_tokens off`` does."""
    web_response.SERVER_SOFTWARE = "items"  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings.from_env()
    if "version_leak" not in settings.defects:
        hide_server_software()
    cert, key = os.environ.get("SVC_TLS_CERT"), os.environ.get("SVC_TLS_KEY")
    context = None
    if cert and key:
        client_ca = os.environ.get("SVC_CLIENT_CA") if settings.style == "mtls" else None
        context = tls_context(cert, key, client_ca)
    web.run_app(
        create_app(settings),
        host=args.host,
        port=args.port,
        ssl_context=context,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
