"""The published OpenAPI document: fetched, validated, and read for the routes that need a token."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.common import Outcome, Route, clip, send

OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
VALIDATOR_MISSING = (
    "openapi-spec-validator is not installed, so the document was fetched but not validated; "
    "install it with: pip install 'pytest-deployverify[http]'"
)


@dataclass
class OpenApiOutcome(Outcome):
    document: dict[str, Any] | None = None


def fetch(client: httpx.Client, path: str) -> OpenApiOutcome:
    """GET the document; a finding when it is not there or not a JSON object."""
    outcome = OpenApiOutcome()
    exchange = send(client, "GET", path)
    outcome.observed.append(exchange.summary())
    if exchange.status != 200:
        shown = exchange.status if exchange.status is not None else exchange.error
        outcome.findings.append(
            catalog.OPENAPI.finding(path, f"answered {shown}; expected 200 with the document")
        )
        return outcome
    document = exchange.json()
    if not isinstance(document, dict):
        outcome.findings.append(catalog.OPENAPI.finding(path, "the answer is not a JSON object"))
        return outcome
    outcome.document = document
    return outcome


def validate(document: Mapping[str, Any], where: str) -> Outcome:
    """Validate against the OpenAPI schema of its version (2.0, 3.0, 3.1).

    ``skipped`` explains itself when the optional validator is not installed."""
    outcome = Outcome()
    try:
        from openapi_spec_validator import validate as validate_spec
    except ImportError:
        outcome.skipped = VALIDATOR_MISSING
        return outcome
    try:
        validate_spec(document)
    except Exception as exc:  # the validator's errors share no useful base class across versions
        message = getattr(exc, "message", None) or str(exc)
        at = getattr(exc, "json_path", None)  # jsonschema's location of the offending part
        located = f" at {at}" if isinstance(at, str) and at != "$" else ""
        outcome.findings.append(
            catalog.OPENAPI.finding(
                where, f"not a valid OpenAPI document{located}: {clip(message, 300)}"
            )
        )
    outcome.observed.append(
        {
            "openapi": document.get("openapi") or document.get("swagger"),
            "title": (document.get("info") or {}).get("title"),
            "operations": len(operations(document)),
        }
    )
    return outcome


@dataclass(frozen=True)
class Operation:
    route: Route
    secured: bool


def operations(document: Mapping[str, Any]) -> list[Operation]:
    """Every operation with whether it requires credentials.

    An operation's ``security`` overrides the document's; an empty list, or a requirement that
    is ``{}``, makes it public (OpenAPI: "optional authentication")."""
    default = document.get("security") or []
    found: list[Operation] = []
    paths = document.get("paths") or {}
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        for method in OPERATION_METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            security = operation.get("security", default) or []
            secured = bool(security) and all(requirement for requirement in security)
            found.append(Operation(Route(method.upper(), str(path)), secured))
    return sorted(found, key=lambda op: op.route)


@dataclass
class RoutePlan:
    """Which routes must refuse anonymous requests, and which look public by accident."""

    protected: list[Route] = field(default_factory=list)
    undeclared_public: list[Route] = field(default_factory=list)


def route_plan(
    document: Mapping[str, Any] | None,
    protected_routes: Iterable[str] = (),
    public_routes: Iterable[str] = (),
) -> RoutePlan:
    """Protected = secured operations + ``protected_routes`` - ``public_routes``.

    When ``public_routes`` is given, an unsecured operation not listed there is reported: the
    document says anyone may call it, and nobody said that was intended."""
    public = {Route.parse(text) for text in public_routes}
    listed = {Route.parse(text) for text in protected_routes}
    ops = operations(document) if document else []
    protected = {op.route for op in ops if op.secured} | listed
    plan = RoutePlan(protected=sorted(protected - public))
    if public:
        plan.undeclared_public = sorted(
            op.route for op in ops if not op.secured and op.route not in public | listed
        )
    return plan
