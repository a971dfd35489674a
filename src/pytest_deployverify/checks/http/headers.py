"""HTTP headers: CORS, security headers, version leaks, internal headers, rate-limit headers.

Judged on the answers the component recorded (``components.http.probes``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.exchange import Exchange
from pytest_deployverify.checks.http.expectations import FramingPolicy

ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"
FRAME_OPTIONS = ("DENY", "SAMEORIGIN")
# Headers that exist only to advertise the software; present at all is a leak.
ADVERTISING_HEADERS = ("X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version", "X-Generator")
# Headers whose product name is tolerable but whose version (or framework name) is not.
PRODUCT_HEADERS = ("Server", "Via")
FRAMEWORKS = re.compile(
    r"\b(uvicorn|gunicorn|hypercorn|daphne|werkzeug|starlette|fastapi|django|flask|express|"
    r"php|asp\.net|kestrel|jetty|tomcat|node(?:\.js)?|next\.js|puma|unicorn|passenger|"
    r"tornado|aiohttp|spring|wildfly|jboss|iis)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
SECURITY_HEADER_NAMES = (
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Content-Security-Policy",
)


# -- CORS ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorsExchange:
    origin: str
    kind: str  # "foreign" or "allowed"
    label: str  # "preflight" or "GET"
    exchange: Exchange

    def summary(self) -> dict[str, object]:
        return {
            **self.exchange.summary(),
            "origin": self.kind,
            "allow_origin": self.exchange.header(ACAO),
            "allow_credentials": _credentials(self.exchange),
        }


@dataclass(frozen=True)
class CorsProbe:
    """A preflight and a simple GET with a foreign origin, and with the production origin."""

    path: str
    allowed_origin: str | None
    foreign_origin: str
    exchanges: tuple[CorsExchange, ...] = ()


def _credentials(exchange: Exchange) -> bool:
    return (exchange.header(ACAC) or "").lower() == "true"


def cors_findings(probe: CorsProbe) -> list[Finding]:
    """A foreign origin was neither reflected nor matched by ``*``; ``*`` never came with
    credentials; the production origin (when given) was allowed."""
    found: list[Finding] = []
    for seen in probe.exchanges:
        allow = seen.exchange.header(ACAO)
        subject = f"{seen.label} {probe.path} with Origin {seen.origin}"
        if allow == "*" and _credentials(seen.exchange):
            found.append(
                catalog.CORS(
                    subject,
                    "Access-Control-Allow-Origin is * together with Allow-Credentials: "
                    "true; allow only the production origin",
                )
            )
        elif seen.kind == "foreign" and allow in ("*", seen.origin, "null"):
            found.append(
                catalog.CORS(
                    subject,
                    f"a foreign origin is allowed (Access-Control-Allow-Origin: {allow}); "
                    f"expected only {probe.allowed_origin or 'the production origin'}",
                )
            )
        elif seen.kind == "allowed" and allow != seen.origin:
            found.append(
                catalog.CORS(
                    subject,
                    f"the production origin is not allowed (Access-Control-Allow-Origin: "
                    f"{allow or 'absent'}); browsers at {seen.origin} cannot use the API",
                )
            )
    return found


# -- security headers -----------------------------------------------------------------------


def headers_seen(exchange: Exchange) -> dict[str, object]:
    """The answer and its security headers, for evidence."""
    return {
        **exchange.summary(),
        "content_type": exchange.header("content-type"),
        **{name: exchange.header(name) for name in SECURITY_HEADER_NAMES},
    }


def is_html(exchange: Exchange) -> bool:
    """A browser would render the answer as a page (so it could be framed)."""
    kind = (exchange.header("content-type") or "").split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def security_header_findings(
    exchanges: Sequence[Exchange],
    *,
    https: bool,
    hsts_min_age: int,
    framing: FramingPolicy = FramingPolicy.ALWAYS,
) -> list[Finding]:
    """HSTS (on HTTPS, with a long enough max-age), nosniff, and framing forbidden (X-Frame-Options
    or CSP frame-ancestors) on every answer ``framing`` covers."""
    found: list[Finding] = []
    for exchange in exchanges:
        if exchange.status is None:
            found.append(catalog.SECURITY_HEADERS(exchange.target, f"no answer: {exchange.error}"))
            continue
        for problem in _security_header_problems(exchange, https, hsts_min_age, framing):
            found.append(catalog.SECURITY_HEADERS(exchange.target, problem))
    return found


def _security_header_problems(
    exchange: Exchange, https: bool, hsts_min_age: int, framing: FramingPolicy
) -> list[str]:
    problems = []
    if https:
        hsts = exchange.header("Strict-Transport-Security")
        match = re.search(r"max-age\s*=\s*\"?(\d+)", hsts or "", re.IGNORECASE)
        if hsts is None:
            problems.append("Strict-Transport-Security is missing")
        elif match is None or int(match.group(1)) < hsts_min_age:
            age = match.group(1) if match else "none"
            problems.append(
                f"Strict-Transport-Security max-age is {age}; expected at least {hsts_min_age}"
            )
    if (exchange.header("X-Content-Type-Options") or "").strip().lower() != "nosniff":
        problems.append("X-Content-Type-Options: nosniff is missing")
    judged = framing is FramingPolicy.ALWAYS or (
        framing is FramingPolicy.HTML and is_html(exchange)
    )
    frame = (exchange.header("X-Frame-Options") or "").strip().upper()
    csp = exchange.header("Content-Security-Policy") or ""
    if judged and frame not in FRAME_OPTIONS and "frame-ancestors" not in csp.lower():
        where = " on an HTML answer" if framing is FramingPolicy.HTML else ""
        problems.append(
            f"framing is not restricted{where}: neither X-Frame-Options DENY/SAMEORIGIN nor a "
            "Content-Security-Policy frame-ancestors directive"
            + (
                ' (an API that serves no HTML may set [http.expect.headers] framing = "html")'
                if framing is FramingPolicy.ALWAYS
                else ""
            )
        )
    return problems


# -- version leaks --------------------------------------------------------------------------


def identifying_headers(exchange: Exchange) -> dict[str, str]:
    """The headers of an answer that may name the software."""
    shown = {}
    for name in (*PRODUCT_HEADERS, *ADVERTISING_HEADERS):
        value = exchange.header(name)
        if value is not None:
            shown[name] = value
    return shown


def version_leak_summary(exchange: Exchange) -> dict[str, object]:
    return {**exchange.summary(), "headers": identifying_headers(exchange)}


def version_leak_findings(exchanges: Sequence[Exchange]) -> list[Finding]:
    """No answer names the software's version or framework (Server, Via, X-Powered-By, ...).

    The subject says which answer leaked, and for an answer the edge proxy made itself (its
    note), which one."""
    found: list[Finding] = []
    for exchange in exchanges:
        where = exchange.target if not exchange.note else f"{exchange.request} ({exchange.note})"
        for name, value in identifying_headers(exchange).items():
            problem = _leak(name, value)
            if problem:
                found.append(
                    catalog.VERSION_LEAK(
                        f"{where} header {name}", f"{value!r} {problem}; remove or blank it"
                    )
                )
    return found


def _leak(name: str, value: str) -> str | None:
    if name in ADVERTISING_HEADERS:
        return "advertises the software"
    framework = FRAMEWORKS.search(value)
    if framework:
        return f"names the framework ({framework.group(0)})"
    if _DIGIT.search(value):
        return "carries a version number"
    return None


# -- internal headers -----------------------------------------------------------------------


@dataclass(frozen=True)
class InternalProbe:
    """One route asked plainly and with internal headers carrying random values."""

    path: str
    sent: Mapping[str, str]  # header -> the random value sent
    plain: Exchange
    probed: Exchange

    def echoed(self) -> list[str]:
        """The internal headers whose value came back (in a header or the body)."""
        if self.probed.status is None:
            return []
        haystack = self.probed.text() + "\n" + "\n".join(self.probed.header_values())
        return [name for name, value in self.sent.items() if value in haystack]

    def summary(self) -> dict[str, object]:
        return {
            **self.probed.summary(),
            "sent": sorted(self.sent),
            "echoed": self.echoed(),
            "baseline": self.plain.status,
        }


@dataclass(frozen=True)
class InternalHeaders:
    """The internal-header probes, asked with the verifier's token (or why there is none)."""

    probes: tuple[InternalProbe, ...] = ()
    token_problem: str | None = None

    def summary(self) -> list[dict[str, object]]:
        return [probe.summary() for probe in self.probes]


def internal_header_findings(seen: InternalHeaders) -> list[Finding]:
    """Internal headers sent by a client were not echoed in the answer, and did not change its
    status."""
    if seen.token_problem is not None:
        return [
            catalog.INTERNAL_HEADERS("token", f"could not obtain a token: {seen.token_problem}")
        ]
    found: list[Finding] = []
    for probe in seen.probes:
        echoed = probe.echoed()
        if echoed:
            found.append(
                catalog.INTERNAL_HEADERS(
                    probe.path,
                    f"client-sent {', '.join(echoed)} came back in the answer; strip internal "
                    "headers at the edge",
                )
            )
        elif probe.probed.status != probe.plain.status:
            found.append(
                catalog.INTERNAL_HEADERS(
                    probe.path,
                    f"client-sent {', '.join(probe.sent)} changed the answer from "
                    f"{probe.plain.status} to {probe.probed.status}: the service trusts them",
                )
            )
    return found


# -- rate-limit headers ---------------------------------------------------------------------


def rate_limit_summary(exchange: Exchange, names: Sequence[str]) -> dict[str, object]:
    return {**exchange.summary(), "headers": {name: exchange.header(name) for name in names}}


def rate_limit_header_findings(exchange: Exchange, names: Sequence[str]) -> list[Finding]:
    """One request to a rate-limited route carried every rate-limit header, as integers."""
    path = exchange.target
    if exchange.status is None:
        return [catalog.RATE_HEADERS(path, f"no answer: {exchange.error}")]
    values = {name: exchange.header(name) for name in names}
    found: list[Finding] = []
    missing = [name for name, value in values.items() if value is None]
    if missing:
        found.append(
            catalog.RATE_HEADERS(
                path,
                f"answered {exchange.status} without {', '.join(missing)}: is rate limiting "
                "configured (RATE_LIMIT_MAX / RATE_LIMIT_WINDOW_MS)?",
            )
        )
    malformed = [f"{n}: {v!r}" for n, v in values.items() if v is not None and not _int(v)]
    if malformed:
        found.append(catalog.RATE_HEADERS(path, f"not integers: {', '.join(malformed)}"))
    return found


def _int(value: str) -> bool:
    return value.strip().isdigit()
