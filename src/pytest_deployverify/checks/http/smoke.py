"""Smoke checks: health endpoints, metrics exposition, reported version, error shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.common import Exchange, Outcome, clip, lookup, send


def health(client: httpx.Client, paths: Sequence[str], *, timeout: float | None = None) -> Outcome:
    """Every health path answers 200 within ``timeout`` (default: the client's timeout)."""
    outcome = Outcome()
    for path in paths:
        exchange = send(client, "GET", path, timeout=timeout)
        outcome.observed.append(exchange.summary())
        if exchange.status != 200:
            outcome.findings.append(
                catalog.HEALTH.finding(path, f"{_answer(exchange)}; expected 200 in time")
            )
    return outcome


def _answer(exchange: Exchange) -> str:
    if exchange.status is None:
        return f"no answer: {exchange.error}"
    body = exchange.json()
    found, message = lookup(body, "error.message")
    detail = f" ({clip(str(message))})" if found else ""
    return f"answered {exchange.status}{detail}"


# -- metrics ------------------------------------------------------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABELS = r'\{(?:\s*[a-zA-Z_][a-zA-Z0-9_]*\s*=\s*"(?:[^"\\]|\\.)*"\s*,?)*\s*\}'
_SAMPLE = re.compile(rf"^({_NAME})({_LABELS})?\s+(\S+)(?:\s+(-?\d+(?:\.\d+)?))?\s*$")
_TYPES = {
    "counter",
    "gauge",
    "histogram",
    "summary",
    "untyped",
    "unknown",
    "info",
    "stateset",
    "gaugehistogram",
}


@dataclass
class Exposition:
    """The result of parsing Prometheus text exposition (format 0.0.4 / OpenMetrics)."""

    samples: int = 0
    families: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def parse_exposition(text: str) -> Exposition:
    """Parse the text format line by line; every malformed line is reported with its number."""
    parsed = Exposition()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped == "# EOF":
            continue
        if stripped.startswith("#"):
            parts = stripped.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not re.fullmatch(_NAME, parts[2]):
                    parsed.errors.append(f"line {number}: # {parts[1]} without a metric name")
                elif parts[1] == "TYPE" and (len(parts) < 4 or parts[3].strip() not in _TYPES):
                    parsed.errors.append(f"line {number}: unknown metric type")
                else:
                    parsed.families.add(parts[2])
            continue
        match = _SAMPLE.match(stripped)
        if match is None or not _is_number(match.group(3)):
            parsed.errors.append(f"line {number}: not a sample: {clip(stripped, 80)!r}")
            continue
        parsed.samples += 1
        parsed.families.add(match.group(1))
    return parsed


def _is_number(text: str) -> bool:
    try:
        float(text)  # accepts NaN, +Inf and -Inf as the format does
    except ValueError:
        return False
    return True


def metrics(
    client: httpx.Client,
    path: str,
    *,
    public: bool = True,
    internal_url: str | None = None,
) -> Outcome:
    """Metrics answer in Prometheus text format: at ``path`` when public; else ``path`` must NOT
    answer through the public URL, and ``internal_url`` (when given) must."""
    outcome = Outcome()
    exchange = send(client, "GET", path)
    outcome.observed.append(exchange.summary())
    if public:
        outcome.findings += _exposition_findings(exchange, path)
        return outcome
    if exchange.status == 200 and parse_exposition(exchange.text()).samples:
        outcome.findings.append(
            catalog.METRICS.finding(
                path,
                "metrics are reachable through the public URL (answered 200 with samples); "
                "the profile says they must not be public (metrics_public = false)",
            )
        )
    if internal_url:
        inner = send(client, "GET", internal_url)
        outcome.observed.append(inner.summary())
        outcome.findings += _exposition_findings(inner, internal_url)
    return outcome


def _exposition_findings(exchange: Exchange, where: str) -> list[Finding]:
    if exchange.status != 200:
        return [catalog.METRICS.finding(where, f"{_answer(exchange)}; expected 200 with metrics")]
    parsed = parse_exposition(exchange.text())
    if parsed.errors:
        shown = "; ".join(parsed.errors[:3])
        more = f" (+{len(parsed.errors) - 3} more)" if len(parsed.errors) > 3 else ""
        return [catalog.METRICS.finding(where, f"not valid Prometheus text format: {shown}{more}")]
    if parsed.samples == 0:
        return [catalog.METRICS.finding(where, "answered 200 but exposes no samples")]
    return []


# -- version and error shape --------------------------------------------------------------


@dataclass
class VersionOutcome(Outcome):
    observed_version: str | None = None


def version(client: httpx.Client, path: str, field_path: str, expected: str) -> VersionOutcome:
    """The version the service reports (JSON ``field_path`` at ``path``) equals ``expected``."""
    outcome = VersionOutcome()
    exchange = send(client, "GET", path)
    outcome.observed.append(exchange.summary())
    if exchange.status != 200:
        outcome.findings.append(
            catalog.VERSION.finding(path, f"{_answer(exchange)}; expected 200 with the version")
        )
        return outcome
    found, value = lookup(exchange.json(), field_path)
    if not found or not isinstance(value, str | int | float) or isinstance(value, bool):
        outcome.findings.append(
            catalog.VERSION.finding(path, f"the JSON answer has no {field_path!r} field")
        )
        return outcome
    outcome.observed_version = str(value)
    if outcome.observed_version != expected:
        outcome.findings.append(
            catalog.VERSION.finding(
                path,
                f"reports version {outcome.observed_version!r}; the profile expects {expected!r} "
                "(old pods still serving, or the wrong image?)",
            )
        )
    return outcome


def error_shape(client: httpx.Client, paths: Sequence[str], fields: Sequence[str]) -> Outcome:
    """A request for an unknown path answers 4xx with JSON holding every field, non-empty."""
    outcome = Outcome()
    for path in paths:
        exchange = send(client, "GET", path)
        outcome.observed.append(exchange.summary())
        if exchange.status is None or not 400 <= exchange.status < 500:
            outcome.findings.append(
                catalog.ERROR_SHAPE.finding(path, f"{_answer(exchange)}; expected a 4xx error")
            )
            continue
        body = exchange.json()
        if body is None:
            kind = exchange.header("content-type") or "no content type"
            outcome.findings.append(
                catalog.ERROR_SHAPE.finding(
                    path, f"the {exchange.status} answer is not JSON ({kind})"
                )
            )
            continue
        missing = [f for f in fields if not _non_empty(lookup(body, f))]
        if missing:
            outcome.findings.append(
                catalog.ERROR_SHAPE.finding(
                    path,
                    f"the {exchange.status} answer lacks {', '.join(missing)} "
                    f"(expected fields: {', '.join(fields)})",
                )
            )
    return outcome


def _non_empty(found_value: tuple[bool, object]) -> bool:
    found, value = found_value
    return found and value not in (None, "", [], {})
