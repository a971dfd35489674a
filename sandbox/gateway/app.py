"""Assembling the gateway: settings in, an ASGI application out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from sandbox.gateway.downstream_health import DownstreamMonitor
from sandbox.gateway.errors import http_exception_handler
from sandbox.gateway.handlers import GatewayHandlers, token_error_response
from sandbox.gateway.metrics import Metrics
from sandbox.gateway.middleware import (
    CatchAllMiddleware,
    CorsMiddleware,
    ObservabilityMiddleware,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
)
from sandbox.gateway.openapi import build_openapi
from sandbox.gateway.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from sandbox.gateway.routes import gateway_endpoints, starlette_routes
from sandbox.gateway.settings import GatewaySettings
from sandbox.gateway.tokens import TokenError


def make_rate_limiter(settings: GatewaySettings) -> RateLimiter:
    if settings.redis_url:
        return RedisRateLimiter(
            settings.redis_url, settings.rate_limit_max, settings.rate_limit_window_ms
        )
    return MemoryRateLimiter(settings.rate_limit_max, settings.rate_limit_window_ms)


def create_app(settings: GatewaySettings) -> Starlette:
    metrics = Metrics(settings.app_version, (s.name for s in settings.downstream_services))
    limiter = make_rate_limiter(settings)
    handlers = GatewayHandlers(settings, metrics, limiter, DownstreamMonitor(settings, metrics))
    endpoints = gateway_endpoints(handlers)
    handlers.openapi_document = build_openapi(endpoints, settings.app_version)
    routes = starlette_routes(endpoints)

    async def on_token_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TokenError)
        return token_error_response(metrics, exc)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await limiter.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(ObservabilityMiddleware, metrics=metrics, routes=routes),
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(CorsMiddleware, settings=settings),
            Middleware(RateLimitMiddleware, settings=settings, limiter=limiter, metrics=metrics),
            Middleware(CatchAllMiddleware),
        ],
        exception_handlers={HTTPException: http_exception_handler, TokenError: on_token_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    return app
