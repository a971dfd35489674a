"""The published OpenAPI document: judged valid, and read for the routes that need a token.

The component fetches the document (read ``http.openapi``) and, apart, validates it with the
optional ``openapi-spec-validator`` (read ``http.openapi_validation``: the validator's complaints
as plain data), so the readers that only need the document's routes do not wait on validation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.exchange import Exchange, Route, clip

OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
VALIDATOR_MISSING = (
    "openapi-spec-validator is not installed, so the document was fetched but not validated; "
    "install it with: pip install 'pytest-deployverify[http]'"
)


class ValidatorMissing(Exception):
    """The optional validator is not installed: the document cannot be judged here."""


@dataclass(frozen=True)
class OpenApiSnapshot:
    """The answer at the document's path, and the document when it is a JSON object."""

    exchange: Exchange
    document: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def summary(self) -> dict[str, object]:
        data: dict[str, object] = dict(self.exchange.summary())
        if self.document is not None:
            data["openapi"] = self.document.get("openapi") or self.document.get("swagger")
            data["title"] = (self.document.get("info") or {}).get("title")
            data["operations"] = len(operations(self.document))
        return data


def published_findings(snapshot: OpenApiSnapshot) -> list[Finding]:
    """The document is there (200) and is a JSON object."""
    exchange = snapshot.exchange
    if exchange.status != 200:
        return [
            catalog.OPENAPI(
                exchange.target,
                f"answered {exchange.shown()}; expected 200 with the document",
            )
        ]
    if snapshot.document is None:
        return [catalog.OPENAPI(exchange.target, "the answer is not a JSON object")]
    return []


def validation_findings(
    snapshot: OpenApiSnapshot, problems: tuple[str, ...] | None
) -> list[Finding]:
    """The document is valid against the OpenAPI schema of its version (2.0, 3.0, 3.1):
    ``problems`` is what the validator said (``()``: valid; ``None``: no validator installed,
    which raises ``ValidatorMissing``, its message saying how to install it)."""
    if snapshot.document is None:
        return []
    if problems is None:
        raise ValidatorMissing(VALIDATOR_MISSING)
    return [
        catalog.OPENAPI(snapshot.exchange.target, f"not a valid OpenAPI document{problem}")
        for problem in problems
    ]


def validator_problem(exc: BaseException) -> str:
    """The validator's complaint as the finding shows it: `` at <location>: <message>``."""
    message = getattr(exc, "message", None) or str(exc)
    at = getattr(exc, "json_path", None)  # jsonschema's location of the offending part
    located = f" at {at}" if isinstance(at, str) and at != "$" else ""
    return f"{located}: {clip(message, 300)}"


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


@dataclass(frozen=True)
class RoutePlan:
    """Which routes must refuse anonymous requests, and which look public by accident."""

    protected: tuple[Route, ...] = ()
    undeclared_public: tuple[Route, ...] = ()


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
    undeclared: tuple[Route, ...] = ()
    if public:
        undeclared = tuple(
            sorted(op.route for op in ops if not op.secured and op.route not in public | listed)
        )
    return RoutePlan(protected=tuple(sorted(protected - public)), undeclared_public=undeclared)
