"""The gateway's endpoints. Each is a method so it sees the settings and collaborators it needs."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from sandbox.gateway import catalog
from sandbox.gateway.downstream_health import OK, DownstreamMonitor
from sandbox.gateway.errors import error_response
from sandbox.gateway.metrics import CONTENT_TYPE, Metrics
from sandbox.gateway.ratelimit import RateLimiter
from sandbox.gateway.settings import GatewaySettings
from sandbox.gateway.tokens import Principal, TokenError, bearer_token, issue_token, verify_token

INTERNAL_HEADER_PREFIX = "x-internal-"
TENANT_HEADER = "x-tenant-id"
# RFC 6749 section 5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class GatewayHandlers:
    def __init__(
        self,
        settings: GatewaySettings,
        metrics: Metrics,
        limiter: RateLimiter,
        monitor: DownstreamMonitor,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.limiter = limiter
        self.monitor = monitor
        # Filled in by create_app once the route table (which needs these handlers) exists.
        self.openapi_document: dict[str, Any] = {}

    # -- who is calling ------------------------------------------------------------------

    def principal(self, request: Request) -> Principal:
        """The caller named by the bearer token; raises TokenError (answered with 401)."""
        token = bearer_token(request.headers.get("authorization"))
        principal = verify_token(self.settings, token)
        spoofed = request.headers.get(TENANT_HEADER)
        if spoofed and self.settings.has_defect("trust_internal_headers"):
            return Principal(sub=principal.sub, tenant=spoofed)
        # Healthy: the tenant comes from the signed token only; the header is ignored.
        return principal

    # -- public --------------------------------------------------------------------------

    async def live(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(self, request: Request) -> Response:
        checks: dict[str, Any] = {}
        if self.settings.redis_url:
            checks["redis"] = OK if await self.limiter.ping() else "unavailable"
        downstream = await self.monitor.check_all()
        checks["downstream"] = downstream
        failing = sorted(name for name, status in downstream.items() if status != OK)
        if checks.get("redis", OK) != OK:
            failing.insert(0, "redis")
        if not failing:
            return JSONResponse({"status": "ready", "checks": checks})
        body = {
            "error": {"code": "not_ready", "message": f"Not ready: {', '.join(failing)}."},
            "checks": checks,
        }
        return JSONResponse(body, status_code=503)

    async def metrics_endpoint(self, request: Request) -> Response:
        return PlainTextResponse(self.metrics.render(), media_type=CONTENT_TYPE)

    async def version(self, request: Request) -> Response:
        return JSONResponse({"version": self.settings.app_version})

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(self.openapi_document)

    async def login(self, request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return error_response(400, "bad_request", "The body must be a JSON object.")
        email = payload.get("email") if isinstance(payload, dict) else None
        password = payload.get("password") if isinstance(payload, dict) else None
        if not isinstance(email, str) or not isinstance(password, str):
            return error_response(400, "invalid_request", "Both email and password are required.")
        user = next((u for u in self.settings.demo_users if u.email.lower() == email.lower()), None)
        if user is None or not hmac.compare_digest(user.password, password):
            self.metrics.count_auth_failure("invalid_credentials")
            return error_response(401, "invalid_credentials", "Email or password is incorrect.")
        return self._token_response(sub=user.email, tenant=user.tenant)

    async def oauth_token(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return error_response(
                400, "invalid_request", "Send application/x-www-form-urlencoded parameters."
            )
        form = {
            key: values[0]
            for key, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        if form.get("grant_type") != "client_credentials":
            return error_response(
                400, "unsupported_grant_type", "Only grant_type=client_credentials is supported."
            )
        client_id, client_secret = _basic_credentials(request.headers.get("authorization"))
        client_id = client_id or form.get("client_id", "")
        client_secret = client_secret or form.get("client_secret", "")
        client = next((c for c in self.settings.oauth_clients if c.client_id == client_id), None)
        if client is None or not hmac.compare_digest(client.client_secret, client_secret):
            self.metrics.count_auth_failure("invalid_client")
            return error_response(
                401,
                "invalid_client",
                "Client authentication failed.",
                {"WWW-Authenticate": 'Basic realm="gateway"'},
            )
        return self._token_response(sub=client.client_id, tenant=client.tenant)

    def _token_response(self, *, sub: str, tenant: str) -> Response:
        token = issue_token(self.settings, sub=sub, tenant=tenant)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.settings.jwt_ttl_seconds,
        }
        return JSONResponse(body, headers=NO_STORE)

    # -- protected -----------------------------------------------------------------------

    async def venues(self, request: Request) -> Response:
        principal = self.principal(request)
        return JSONResponse({"items": [v.as_json() for v in catalog.venues_of(principal.tenant)]})

    async def venue(self, request: Request) -> Response:
        principal = self.principal(request)
        venue = catalog.venue_by_id(request.path_params["id"])
        foreign = venue is not None and venue.tenant != principal.tenant
        if venue is None or (foreign and not self.settings.has_defect("cross_tenant")):
            # The same answer for "absent" and "another tenant's": no existence oracle.
            return error_response(404, "not_found", "Venue not found.")
        return JSONResponse(venue.as_json())

    async def events(self, request: Request) -> Response:
        try:
            principal = self.principal(request)
        except TokenError:
            if not self.settings.has_defect("unauthenticated_route"):
                raise
            return JSONResponse({"items": [e.as_json() for e in catalog.EVENTS]})
        return JSONResponse({"items": [e.as_json() for e in catalog.events_of(principal.tenant)]})

    async def tenant_venues(self, request: Request) -> Response:
        principal = self.principal(request)
        tenant = request.path_params["tenant"]
        if tenant != principal.tenant:
            return error_response(403, "forbidden", "You may only read your own tenant.")
        return JSONResponse({"items": [v.as_json() for v in catalog.venues_of(tenant)]})

    async def me(self, request: Request) -> Response:
        principal = self.principal(request)
        body: dict[str, Any] = {"sub": principal.sub, "tenant": principal.tenant}
        if not self.settings.has_defect("trust_internal_headers"):
            return JSONResponse(body)
        internal = {
            name: value
            for name, value in request.headers.items()
            if name.startswith(INTERNAL_HEADER_PREFIX)
        }
        body["forwarded_headers"] = internal
        return JSONResponse(body, headers=internal)


def _basic_credentials(authorization: str | None) -> tuple[str, str]:
    """client_secret_basic (RFC 6749 section 2.3.1); empty strings when absent or malformed."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


def token_error_response(metrics: Metrics, exc: TokenError) -> Response:
    metrics.count_auth_failure(exc.reason)
    # One message for every token problem: the reason goes to metrics, not to the caller.
    challenge = 'Bearer realm="gateway"'
    if exc.reason != "missing_token":  # RFC 6750 3.1: no error code when nothing was sent
        challenge += ', error="invalid_token"'
    return error_response(
        401, "unauthorized", "A valid bearer token is required.", {"WWW-Authenticate": challenge}
    )
