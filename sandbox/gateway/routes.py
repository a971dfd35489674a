"""One table of endpoints feeds both the router and the OpenAPI document, so they can't drift."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.gateway.handlers import GatewayHandlers

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Reply:
    status: int
    description: str
    schema: str | None = None  # a name under components/schemas
    media_type: str = "application/json"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    name: str  # the OpenAPI operationId
    summary: str
    tag: str
    public: bool
    handler: Handler
    replies: tuple[Reply, ...]
    request_schema: str | None = None
    request_media_type: str = "application/json"


HEALTH = Reply(200, "Healthy.", "Health")
PROTECTED_ERRORS = (Reply(401, "Missing or invalid token.", "Error"),)
API_ERRORS = (Reply(429, "Rate limit exceeded.", "Error"),)


def gateway_endpoints(h: GatewayHandlers) -> list[Endpoint]:
    protected_list = (*PROTECTED_ERRORS, *API_ERRORS)
    return [
        Endpoint("GET", "/health/live", "getLiveness", "Liveness probe.", "health", True,
                 h.live, (HEALTH,)),
        Endpoint("GET", "/health/ready", "getReadiness",
                 "Readiness: Redis (when configured) and every downstream service.", "health",
                 True, h.ready,
                 (Reply(200, "Ready.", "Readiness"), Reply(503, "Not ready.", "NotReady"))),
        Endpoint("GET", "/metrics", "getMetrics", "Prometheus metrics.", "operations", True,
                 h.metrics_endpoint,
                 (Reply(200, "Text exposition format 0.0.4.", None, "text/plain"),)),
        Endpoint("GET", "/version", "getVersion", "Running release.", "operations", True,
                 h.version, (Reply(200, "The version.", "Version"),)),
        Endpoint("GET", "/openapi.json", "getOpenApi", "This document.", "operations", True,
                 h.openapi, (Reply(200, "OpenAPI document.", None),)),
        Endpoint("POST", "/api/v1/auth/login", "login", "Log in with email and password.",
                 "auth", True, h.login,
                 (Reply(200, "Access token.", "TokenResponse"),
                  Reply(400, "Malformed request.", "Error"),
                  Reply(401, "Wrong email or password.", "Error"), *API_ERRORS),
                 request_schema="LoginRequest"),
        Endpoint("POST", "/oauth/token", "issueClientToken",
                 "OAuth 2.0 client-credentials grant.", "auth", True, h.oauth_token,
                 (Reply(200, "Access token.", "TokenResponse"),
                  Reply(400, "Unsupported grant or malformed request.", "Error"),
                  Reply(401, "Client authentication failed.", "Error")),
                 request_schema="ClientCredentialsRequest",
                 request_media_type="application/x-www-form-urlencoded"),
        Endpoint("GET", "/api/v1/venues", "listVenues", "Venues of the caller's tenant.",
                 "venues", False, h.venues,
                 (Reply(200, "Venues.", "VenueList"), *protected_list)),
        Endpoint("GET", "/api/v1/venues/{id}", "getVenue", "One venue of the caller's tenant.",
                 "venues", False, h.venue,
                 (Reply(200, "The venue.", "Venue"),
                  Reply(404, "No such venue in the caller's tenant.", "Error"), *protected_list)),
        Endpoint("GET", "/api/v1/events", "listEvents", "Events of the caller's tenant.",
                 "events", False, h.events,
                 (Reply(200, "Events.", "EventList"), *protected_list)),
        Endpoint("GET", "/api/v1/tenants/{tenant}/venues", "listTenantVenues",
                 "Venues of a named tenant (only the caller's own).", "venues", False,
                 h.tenant_venues,
                 (Reply(200, "Venues.", "VenueList"),
                  Reply(403, "Another tenant.", "Error"), *protected_list)),
        Endpoint("GET", "/api/v1/me", "getMe", "The caller as the token names it.", "auth",
                 False, h.me, (Reply(200, "The caller.", "Me"), *protected_list)),
    ]  # fmt: skip


def starlette_routes(endpoints: list[Endpoint]) -> list[Route]:
    return [
        Route(endpoint.path, endpoint.handler, methods=[endpoint.method], name=endpoint.name)
        for endpoint in endpoints
    ]
