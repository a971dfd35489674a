"""What every HTTP check shares: one request as plain data, JSON look-ups, path templates."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from pytest_deployverify.checks.findings import Finding

_PARAM = re.compile(r"\{[^{}/]+\}")


@dataclass(frozen=True)
class Exchange:
    """One request and what came back: a status, or the transport error that stopped it."""

    method: str
    target: str  # the path (or URL) as the profile names it: safe to show
    status: int | None
    error: str | None
    elapsed_ms: float
    response: httpx.Response | None = field(default=None, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        return self.response.headers.get(name) if self.response is not None else None

    def json(self) -> Any:
        """The decoded JSON body; ``None`` when there is none or it is not JSON."""
        if self.response is None:
            return None
        try:
            return self.response.json()
        except (ValueError, UnicodeDecodeError):
            return None

    def text(self) -> str:
        if self.response is None:
            return ""
        try:
            return self.response.text
        except UnicodeDecodeError:
            return ""

    def summary(self) -> dict[str, Any]:
        """Plain data for evidence."""
        data: dict[str, Any] = {"request": f"{self.method} {self.target}", "status": self.status}
        if self.error:
            data["error"] = self.error
        data["elapsed_ms"] = round(self.elapsed_ms, 1)
        return data


def send(
    client: httpx.Client,
    method: str,
    target: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    strip: Sequence[str] = (),
    **kwargs: Any,
) -> Exchange:
    """Send one request; a transport failure becomes ``Exchange.error`` instead of an exception."""
    started = time.perf_counter()
    extra: dict[str, Any] = dict(kwargs)
    auth = extra.pop("auth", None)  # build_request takes no auth; send applies it
    if timeout is not None:
        extra["timeout"] = timeout
    try:
        request = client.build_request(method, target, headers=dict(headers or {}), **extra)
        for name in strip:
            # e.g. a static Authorization from the profile's [http].headers, for "no token" probes
            request.headers.pop(name, None)
        response = client.send(request, auth=auth) if auth is not None else client.send(request)
        response.read()
    except httpx.HTTPError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return Exchange(method, target, None, describe_error(exc), elapsed)
    elapsed = (time.perf_counter() - started) * 1000
    return Exchange(method, target, response.status_code, None, elapsed, response)


def describe_error(exc: BaseException) -> str:
    """One phrase for a failed request (verifier requests never carry userinfo in the URL)."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {exc}"
    return f"{type(exc).__name__}: {exc}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    """``(found, value)`` for a dotted path into JSON data; integer parts index lists."""
    current: Any = data
    for part in dotted.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def fill_path(template: str, value: str) -> str:
    """The template with every ``{param}`` replaced by a harmless value."""
    return _PARAM.sub(value, template)


def has_params(template: str) -> bool:
    return _PARAM.search(template) is not None


@dataclass(frozen=True, order=True)
class Route:
    """An operation: method and path template (``GET /api/v1/venues/{id}``)."""

    method: str
    path: str

    @classmethod
    def parse(cls, text: str) -> Route:
        """``"GET /x"``, ``"post /x"`` or ``"/x"`` (GET)."""
        parts = text.split()
        if len(parts) == 1:
            return cls("GET", parts[0])
        if len(parts) == 2:
            return cls(parts[0].upper(), parts[1])
        raise ValueError(f"route {text!r}: write 'METHOD /path' or '/path'")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Outcome:
    """What one check found and observed; ``skipped`` says why it could not run at all."""

    findings: list[Finding] = field(default_factory=list)
    observed: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return self.skipped is None and not self.findings


def clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
