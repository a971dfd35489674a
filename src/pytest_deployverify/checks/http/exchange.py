"""One HTTP request and its answer as plain data, and the small helpers every HTTP check shares.

The component (``components.http``) sends the requests and records each one as an ``Exchange``:
status, headers, body text, or the transport error that stopped it. Checks judge exchanges; they
never see a client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_PARAM = re.compile(r"\{[^{}/]+\}")


@dataclass(frozen=True)
class Exchange:
    """One request and what came back: a status with headers and body, or a transport error."""

    method: str
    target: str  # the path (or URL) as the profile names it: safe to show
    status: int | None
    error: str | None = None
    elapsed_ms: float = 0.0
    # Header names in lower case, in the order received (a name may repeat).
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    body: str = field(default="", repr=False, compare=False)
    note: str | None = None  # what was special about the request ("no token", "Origin: ...")

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def ok(self) -> bool:
        """Answered 2xx."""
        return self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def header_values(self) -> list[str]:
        return [value for _, value in self.headers]

    def json(self) -> Any:
        """The decoded JSON body; ``None`` when there is none or it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self) -> str:
        return self.body

    @property
    def request(self) -> str:
        return f"{self.method} {self.target}"

    def shown(self) -> str:
        """The status, or the error when there was no answer."""
        return str(self.status) if self.status is not None else f"no answer ({self.error})"

    def summary(self) -> dict[str, Any]:
        """Plain data for evidence (never the body: it may hold a token)."""
        data: dict[str, Any] = {"request": self.request, "status": self.status}
        if self.note:
            data["note"] = self.note
        if self.error:
            data["error"] = self.error
        data["elapsed_ms"] = round(self.elapsed_ms, 1)
        return data


def answer(exchange: Exchange) -> str:
    """``answered 503 (the error message)`` or ``no answer: <error>``, for messages."""
    if exchange.status is None:
        return f"no answer: {exchange.error}"
    found, message = lookup(exchange.json(), "error.message")
    detail = f" ({clip(str(message))})" if found else ""
    return f"answered {exchange.status}{detail}"


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


def clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
