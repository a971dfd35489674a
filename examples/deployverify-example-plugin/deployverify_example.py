"""An example pytest-deployverify component in one module: a service's JSON status endpoint.

Everything a component needs, written only against the plugin's public API:

* the profile table ``[status_endpoint]`` (a dataclass, validated like the built-in tables);
* ``connect``: one cheap probe (a TCP connection to the endpoint's host and port);
* one reader, ``document``: GET the endpoint, keep the status and the named sub-checks;
* one declared check, its rule and its pure function;
* the checklist item that judges the snapshot;
* ``component``, which the entry point in ``pyproject.toml`` names.

The endpoint answers a document like ``{"status": "ok", "checks": {"database": "ok"}}``; the
check passes when it answers 2xx, its status is healthy and every sub-check the profile
``require``s is reported healthy.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_deployverify import (
    Component,
    ComponentUnavailable,
    Endpoint,
    Evidence,
    Finding,
    Profile,
    ReadContext,
    ReadError,
    Rule,
    SectionSpec,
    Severity,
    declare,
)
from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.support import conclude

NAME = "status_endpoint"
HEALTHY = ("ok", "pass", "up", "healthy")


@dataclasses.dataclass(frozen=True, kw_only=True)
class StatusEndpointConfig:
    """``[status_endpoint]``: where the service reports its health, and what must be healthy."""

    url: Endpoint
    timeout: float = 2.0
    require: tuple[str, ...] = ()  # sub-checks the document must report healthy

    def __post_init__(self) -> None:
        if self.url.scheme not in ("http", "https") or not self.url.host:
            raise ValueError(f"url {self.url.display!r} must be an http:// or https:// URL")
        if not 0 < self.timeout <= 60:
            raise ValueError(f"timeout = {self.timeout:g}: expected seconds above 0, at most 60")


@dataclasses.dataclass(frozen=True)
class StatusDocument:
    """What the endpoint answered: HTTP status, the document's status and its sub-checks."""

    url: str
    http_status: int
    status: str | None
    checks: Mapping[str, str]


# -- reading -----------------------------------------------------------------------------------


def _connect(section: StatusEndpointConfig, profile: Profile) -> StatusEndpointConfig:
    """The cheap probe: something accepts TCP connections on the endpoint's host and port."""
    port = section.url.port or (443 if section.url.scheme == "https" else 80)
    try:
        socket.create_connection((section.url.host, port), timeout=section.timeout).close()
    except OSError as exc:
        raise ComponentUnavailable(NAME, section.url.display, f"is unreachable: {exc}") from exc
    return section  # urllib needs no client object: the probed table serves as one


def _document(ctx: ReadContext) -> StatusDocument:
    section: StatusEndpointConfig = ctx.client
    request = urllib.request.Request(section.url.get(), headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=section.timeout) as response:
            code, body = response.status, response.read()
    except urllib.error.HTTPError as exc:  # a 503 with a document still says what is wrong
        code, body = exc.code, exc.read()
    except OSError as exc:
        raise ReadError(NAME, section.url.display, "GET", str(exc)) from exc
    try:
        data = json.loads(body)
    except ValueError:
        raise ReadError(
            NAME, section.url.display, "GET", f"HTTP {code}: the body is not JSON"
        ) from None
    if not isinstance(data, dict):
        raise ReadError(NAME, section.url.display, "GET", "the document is not a JSON object")
    checks = data.get("checks")
    if not isinstance(checks, dict):
        checks = {}
    status = data.get("status")
    return StatusDocument(
        url=section.url.display,
        http_status=code,
        status=str(status) if status is not None else None,
        checks={str(k): str(v) for k, v in checks.items()},
    )


# -- the check ---------------------------------------------------------------------------------

UNHEALTHY = Rule("status-endpoint-healthy", Severity.HIGH, "the status endpoint reports a problem")

STATUS_ENDPOINT = declare(
    "SMOKE-STATUS-ENDPOINT",
    title="Status endpoint reports the service and its dependencies healthy",
    section="smoke",
    severity="high",
    components=(NAME,),
    keys=("status_endpoint.url", "status_endpoint.require"),
    reads=("status_endpoint.document",),
    description="""The service's status endpoint answers 2xx with a healthy status, and every
    sub-check the profile requires is reported healthy.""",
)


def status_findings(doc: StatusDocument, require: Sequence[str]) -> list[Finding]:
    """Pure: what is wrong with the document (empty: healthy)."""
    subject = f"status endpoint {doc.url}"
    found: list[Finding] = []
    if not 200 <= doc.http_status < 300:
        found.append(UNHEALTHY(subject, f"answered HTTP {doc.http_status}; expected 2xx"))
    if (doc.status or "").lower() not in HEALTHY:
        found.append(
            UNHEALTHY(subject, f"reports status {doc.status!r}; expected one of {HEALTHY}")
        )
    for name in require:
        value = doc.checks.get(name)
        if value is None:
            found.append(UNHEALTHY(subject, f"does not report the required check {name!r}"))
        elif value.lower() not in HEALTHY:
            found.append(UNHEALTHY(subject, f"reports {name}: {value!r}; expected healthy"))
    return found


@item(STATUS_ENDPOINT)
def test_status_endpoint(snapshot: Any, evidence: Evidence) -> None:
    doc: StatusDocument = snapshot("status_endpoint.document")
    require = snapshot.section(NAME).require
    findings = status_findings(doc, require)
    evidence.record(
        "status",
        {"http": doc.http_status, "status": doc.status, "checks": dict(doc.checks)},
        expected={"status": "ok", "healthy": list(require)},
        source=doc.url,
        ok=not findings,
    )
    conclude(findings)


component = Component(
    name=NAME,
    title="Status endpoint",
    sections=(SectionSpec(NAME, StatusEndpointConfig, "the service's JSON status endpoint"),),
    connect=_connect,
    reads={"document": _document},
    checks=(STATUS_ENDPOINT,),
    checklist=(__name__,),
    close=lambda client: None,
)
