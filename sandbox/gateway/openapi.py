"""The OpenAPI 3.1 document the gateway publishes at /openapi.json, built from the route table."""

from __future__ import annotations

import re
from typing import Any

from sandbox.gateway.routes import Endpoint, Reply

OPENAPI_VERSION = "3.1.0"

_STRING = {"type": "string"}
_ITEMS_OF = "#/components/schemas/"

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "description": "The shape of every 4xx and 5xx answer.",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": _STRING, "message": _STRING},
            }
        },
        "example": {
            "error": {"code": "unauthorized", "message": "A valid bearer token is required."}
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}},
    },
    "Readiness": {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"type": "string", "enum": ["ready"]},
            "checks": {"$ref": _ITEMS_OF + "Checks"},
        },
    },
    "NotReady": {
        "allOf": [
            {"$ref": _ITEMS_OF + "Error"},
            {"type": "object", "properties": {"checks": {"$ref": _ITEMS_OF + "Checks"}}},
        ]
    },
    "Checks": {
        "type": "object",
        "properties": {
            "redis": {"type": "string", "enum": ["ok", "unavailable"]},
            "downstream": {
                "type": "object",
                "description": "Per service: ok, unhealthy, timeout, unreachable, circuit_open.",
                "additionalProperties": _STRING,
            },
        },
    },
    "Version": {
        "type": "object",
        "required": ["version"],
        "properties": {"version": _STRING},
        "example": {"version": "1.4.2"},
    },
    "LoginRequest": {
        "type": "object",
        "required": ["email", "password"],
        "properties": {"email": {"type": "string", "format": "email"}, "password": _STRING},
    },
    "ClientCredentialsRequest": {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "client_id": _STRING,
            "client_secret": _STRING,
        },
        "description": "Client credentials in the body or in an HTTP Basic Authorization header.",
    },
    "TokenResponse": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in"],
        "properties": {
            "access_token": _STRING,
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": {"type": "integer", "minimum": 1},
        },
    },
    "Venue": {
        "type": "object",
        "required": ["id", "tenant", "name", "city", "capacity"],
        "properties": {
            "id": _STRING,
            "tenant": _STRING,
            "name": _STRING,
            "city": _STRING,
            "capacity": {"type": "integer", "minimum": 0},
        },
        "example": {
            "id": "ven-7f3a",
            "tenant": "acme",
            "name": "Acme Arena",
            "city": "Lisbon",
            "capacity": 12000,
        },
    },
    "VenueList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"$ref": _ITEMS_OF + "Venue"}}},
    },
    "Event": {
        "type": "object",
        "required": ["id", "tenant", "venue_id", "title", "starts_at"],
        "properties": {
            "id": _STRING,
            "tenant": _STRING,
            "venue_id": _STRING,
            "title": _STRING,
            "starts_at": {"type": "string", "format": "date-time"},
        },
    },
    "EventList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"$ref": _ITEMS_OF + "Event"}}},
    },
    "Me": {
        "type": "object",
        "required": ["sub", "tenant"],
        "properties": {"sub": _STRING, "tenant": _STRING},
        "additionalProperties": False,
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "clientCredentials": {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}},
    },
}

RATE_LIMIT_HEADERS: dict[str, Any] = {
    name: {"description": description, "schema": {"type": "integer"}}
    for name, description in (
        ("X-RateLimit-Limit", "Requests allowed per window."),
        ("X-RateLimit-Remaining", "Requests left in the current window."),
        ("X-RateLimit-Reset", "Seconds until the window resets."),
    )
}


def build_openapi(endpoints: list[Endpoint], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Demo API Gateway",
            "version": version,
            "description": "Errors always use the Error schema. Tokens are HS256 JWTs whose "
            "`tenant` claim alone decides which tenant's data a caller sees.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "responses": {str(reply.status): _response(endpoint, reply) for reply in endpoint.replies},
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _STRING}
        for name in re.findall(r"{(\w+)}", endpoint.path)
    ]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.request_schema:
        operation["requestBody"] = {
            "required": True,
            "content": {
                endpoint.request_media_type: {
                    "schema": {"$ref": _ITEMS_OF + endpoint.request_schema}
                }
            },
        }
    if not endpoint.public:
        operation["security"] = [{"bearerAuth": []}]
    return operation


def _response(endpoint: Endpoint, reply: Reply) -> dict[str, Any]:
    schema = {"$ref": _ITEMS_OF + reply.schema} if reply.schema else {"type": "object"}
    if reply.media_type != "application/json":
        schema = _STRING
    response: dict[str, Any] = {
        "description": reply.description,
        "content": {reply.media_type: {"schema": schema}},
    }
    if endpoint.path.startswith("/api/"):
        response["headers"] = dict(RATE_LIMIT_HEADERS)
    return response
