"""HTTP headers: CORS, security headers, version leaks, internal headers, rate-limit headers."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence

import httpx

from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.common import Exchange, Outcome, bearer, send

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


# -- CORS ---------------------------------------------------------------------------------


def cors(
    client: httpx.Client,
    path: str,
    *,
    allowed_origin: str | None,
    foreign_origin: str,
) -> Outcome:
    """A foreign origin is neither reflected nor matched by ``*``; ``*`` never comes with
    credentials; the production origin (when given) is allowed."""
    outcome = Outcome()
    preflight_headers = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    for origin, kind in ((foreign_origin, "foreign"), (allowed_origin, "allowed")):
        if origin is None:
            continue
        preflight = send(client, "OPTIONS", path, headers={"Origin": origin, **preflight_headers})
        simple = send(client, "GET", path, headers={"Origin": origin})
        for exchange, label in ((preflight, "preflight"), (simple, "GET")):
            allow = exchange.header(ACAO)
            credentials = (exchange.header(ACAC) or "").lower() == "true"
            outcome.observed.append(
                {
                    **exchange.summary(),
                    "origin": kind,
                    "allow_origin": allow,
                    "allow_credentials": credentials,
                }
            )
            subject = f"{label} {path} with Origin {origin}"
            if allow == "*" and credentials:
                outcome.findings.append(
                    catalog.CORS.finding(
                        subject,
                        "Access-Control-Allow-Origin is * together with Allow-Credentials: "
                        "true; allow only the production origin",
                    )
                )
            elif kind == "foreign" and allow in ("*", origin, "null"):
                outcome.findings.append(
                    catalog.CORS.finding(
                        subject,
                        f"a foreign origin is allowed (Access-Control-Allow-Origin: {allow}); "
                        f"expected only {allowed_origin or 'the production origin'}",
                    )
                )
            elif kind == "allowed" and allow != origin:
                outcome.findings.append(
                    catalog.CORS.finding(
                        subject,
                        f"the production origin is not allowed (Access-Control-Allow-Origin: "
                        f"{allow or 'absent'}); browsers at {origin} cannot use the API",
                    )
                )
    return outcome


# -- security headers and leaks -----------------------------------------------------------


def security_headers(
    client: httpx.Client, paths: Sequence[str], *, https: bool, hsts_min_age: int
) -> Outcome:
    """HSTS (on HTTPS, with a long enough max-age), nosniff, and framing forbidden
    (X-Frame-Options or CSP frame-ancestors) on every probed answer."""
    outcome = Outcome()
    for path in paths:
        exchange = send(client, "GET", path)
        outcome.observed.append(_headers_seen(exchange))
        if exchange.status is None:
            outcome.findings.append(
                catalog.SECURITY_HEADERS.finding(path, f"no answer: {exchange.error}")
            )
            continue
        for problem in _security_header_problems(exchange, https, hsts_min_age):
            outcome.findings.append(catalog.SECURITY_HEADERS.finding(path, problem))
    return outcome


def _headers_seen(exchange: Exchange) -> dict[str, object]:
    names = (
        "Strict-Transport-Security",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Content-Security-Policy",
    )
    return {**exchange.summary(), **{name: exchange.header(name) for name in names}}


def _security_header_problems(exchange: Exchange, https: bool, hsts_min_age: int) -> list[str]:
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
    frame = (exchange.header("X-Frame-Options") or "").strip().upper()
    csp = exchange.header("Content-Security-Policy") or ""
    if frame not in FRAME_OPTIONS and "frame-ancestors" not in csp.lower():
        problems.append(
            "framing is not restricted: neither X-Frame-Options DENY/SAMEORIGIN nor a "
            "Content-Security-Policy frame-ancestors directive"
        )
    return problems


def version_leak(client: httpx.Client, paths: Sequence[str]) -> Outcome:
    """No answer names the software's version or framework (Server, Via, X-Powered-By, ...)."""
    outcome = Outcome()
    for path in paths:
        exchange = send(client, "GET", path)
        shown = {
            name: exchange.header(name)
            for name in (*PRODUCT_HEADERS, *ADVERTISING_HEADERS)
            if exchange.header(name) is not None
        }
        outcome.observed.append({**exchange.summary(), "headers": shown})
        for name, value in shown.items():
            assert value is not None
            problem = _leak(name, value)
            if problem:
                outcome.findings.append(
                    catalog.VERSION_LEAK.finding(
                        f"{path} header {name}", f"{value!r} {problem}; remove or blank it"
                    )
                )
    return outcome


def _leak(name: str, value: str) -> str | None:
    if name in ADVERTISING_HEADERS:
        return "advertises the software"
    framework = FRAMEWORKS.search(value)
    if framework:
        return f"names the framework ({framework.group(0)})"
    if _DIGIT.search(value):
        return "carries a version number"
    return None


# -- internal headers ---------------------------------------------------------------------


def internal_headers(
    client: httpx.Client, token: str | None, paths: Sequence[str], names: Sequence[str]
) -> Outcome:
    """Internal headers sent by a client (random values) are not echoed in the answer's
    headers or body, and do not change the answer's status."""
    outcome = Outcome()
    auth = bearer(token) if token else {}
    for path in paths:
        sent = {name: f"deployverify-{secrets.token_hex(6)}" for name in names}
        plain = send(client, "GET", path, headers=auth)
        probed = send(client, "GET", path, headers={**auth, **sent})
        echoed = _echoed(probed, sent)
        outcome.observed.append(
            {**probed.summary(), "sent": sorted(sent), "echoed": echoed, "baseline": plain.status}
        )
        if echoed:
            outcome.findings.append(
                catalog.INTERNAL_HEADERS.finding(
                    path,
                    f"client-sent {', '.join(echoed)} came back in the answer; strip internal "
                    "headers at the edge",
                )
            )
        elif probed.status != plain.status:
            outcome.findings.append(
                catalog.INTERNAL_HEADERS.finding(
                    path,
                    f"client-sent {', '.join(sent)} changed the answer from {plain.status} to "
                    f"{probed.status}: the service trusts them",
                )
            )
    return outcome


def _echoed(exchange: Exchange, sent: Mapping[str, str]) -> list[str]:
    if exchange.response is None:
        return []
    haystack = exchange.text() + "\n" + "\n".join(exchange.response.headers.values())
    return [name for name, value in sent.items() if value in haystack]


# -- rate-limit headers -------------------------------------------------------------------


def rate_limit_headers(
    client: httpx.Client, path: str, names: Sequence[str], token: str | None = None
) -> Outcome:
    """One request to a rate-limited route carries every rate-limit header, as integers."""
    outcome = Outcome()
    exchange = send(client, "GET", path, headers=bearer(token) if token else {})
    values = {name: exchange.header(name) for name in names}
    outcome.observed.append({**exchange.summary(), "headers": values})
    if exchange.status is None:
        outcome.findings.append(catalog.RATE_HEADERS.finding(path, f"no answer: {exchange.error}"))
        return outcome
    missing = [name for name, value in values.items() if value is None]
    if missing:
        outcome.findings.append(
            catalog.RATE_HEADERS.finding(
                path,
                f"answered {exchange.status} without {', '.join(missing)}: is rate limiting "
                "configured (RATE_LIMIT_MAX / RATE_LIMIT_WINDOW_MS)?",
            )
        )
    malformed = [f"{n}: {v!r}" for n, v in values.items() if v is not None and not _int(v)]
    if malformed:
        outcome.findings.append(
            catalog.RATE_HEADERS.finding(path, f"not integers: {', '.join(malformed)}")
        )
    return outcome


def _int(value: str) -> bool:
    return value.strip().isdigit()
