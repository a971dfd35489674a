"""Pure ASGI middleware, outermost first: observability, security headers, CORS, rate limit,
and a last-resort handler that keeps even a crash in the documented error shape.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.gateway.errors import error_response
from sandbox.gateway.metrics import Metrics
from sandbox.gateway.ratelimit import Decision, RateLimiter
from sandbox.gateway.settings import GatewaySettings
from sandbox.gateway.tokens import TokenError, bearer_token, verify_token

access_log = logging.getLogger("gateway.access")
error_log = logging.getLogger("gateway.error")

SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type"
CORS_EXPOSED = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The matched route's path template, so metrics don't get one series per venue id."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return str(getattr(route, "path", "unmatched"))
    return "unmatched"


class ObservabilityMiddleware:
    """Counts and times every answer (429s and preflights included) and logs one JSON line."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_template(self.routes, scope)
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe_request(scope["method"], route, status, elapsed)
            # Path and status only: headers and query strings may carry credentials.
            access_log.info(
                json.dumps(
                    {
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    }
                )
            )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: GatewaySettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if self.settings.has_defect("version_leak"):
                    headers["Server"] = f"gateway/{self.settings.app_version} uvicorn"
                    headers["X-Powered-By"] = f"Starlette (gateway {self.settings.app_version})"
                else:
                    for name in ("server", "x-powered-by"):
                        del headers[name]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CorsMiddleware:
    """Only the configured origin may read responses from a browser, with credentials."""

    def __init__(self, app: ASGIApp, settings: GatewaySettings) -> None:
        self.app = app
        self.settings = settings

    def _allow_origin_value(self, origin: str | None) -> str | None:
        if origin is None:
            return None
        if self.settings.has_defect("cors_wildcard"):
            return "*"
        return origin if origin == self.settings.cors_origin else None

    def _cors_headers(self, origin: str | None) -> dict[str, str]:
        allowed = self._allow_origin_value(origin)
        if allowed is None:
            return {}
        return {"Access-Control-Allow-Origin": allowed, "Access-Control-Allow-Credentials": "true"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = request_headers.get("origin")
        is_preflight = (
            scope["method"] == "OPTIONS" and "access-control-request-method" in request_headers
        )
        if is_preflight and origin is not None:
            await self._preflight(origin, scope, receive, send)
            return
        extra = self._cors_headers(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Origin")
                if extra:
                    headers.update(extra)
                    headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, scope: Scope, receive: Receive, send: Send) -> None:
        headers = self._cors_headers(origin)
        response: Response
        if not headers:
            response = error_response(403, "cors_origin_denied", "Origin not allowed.")
        else:
            headers.update(
                {
                    "Access-Control-Allow-Methods": CORS_METHODS,
                    "Access-Control-Allow-Headers": CORS_HEADERS,
                    "Access-Control-Max-Age": "600",
                }
            )
            response = Response(status_code=204, headers=headers)
        response.headers.add_vary_header("Origin")
        await response(scope, receive, send)


class RateLimitMiddleware:
    """Fixed-window limit on /api/*, per client IP and caller (token subject, else anonymous)."""

    def __init__(
        self, app: ASGIApp, settings: GatewaySettings, limiter: RateLimiter, metrics: Metrics
    ) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter
        self.metrics = metrics

    def _identity(self, scope: Scope) -> str:
        client = scope.get("client")
        address = client[0] if client else "unknown"
        try:
            token = bearer_token(Headers(scope=scope).get("authorization"))
            principal = verify_token(self.settings, token)
        except TokenError:
            return f"{address}|anonymous"
        return f"{address}|{principal.tenant}|{principal.sub}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith("/api/")
            or self.settings.has_defect("no_rate_limit")
        ):
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(self._identity(scope))
        if decision is None:  # limiter unavailable: fail open, without made-up headers
            await self.app(scope, receive, send)
            return
        headers = _rate_headers(decision)
        if not decision.allowed:
            self.metrics.count_rate_limited()
            headers["Retry-After"] = str(decision.reset_seconds)
            response = error_response(
                429, "rate_limited", "Too many requests; retry after the window resets.", headers
            )
            await response(scope, receive, send)
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(headers)
            await send(message)

        await self.app(scope, receive, send_with_limits)


def _rate_headers(decision: Decision) -> dict[str, str]:
    # X-RateLimit-Reset is in seconds until the window resets (delta, not an epoch time).
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_seconds),
    }


class CatchAllMiddleware:
    """Turns an unhandled exception into the documented 500 shape, inside the header layers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if response_started:
                raise
            response = error_response(500, "internal_error", "Internal server error.")
            await response(scope, receive, send)
