"""Smoke checks: health endpoints, metrics exposition, reported version, error shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pytest_deployverify.checks.findings import Finding, NotApplicable
from pytest_deployverify.checks.http import catalog
from pytest_deployverify.checks.http.exchange import Exchange, answer, clip, lookup
from pytest_deployverify.checks.versions import VersionComparison, compare_versions


def health_findings(exchanges: Sequence[Exchange]) -> list[Finding]:
    """Every health path answered 200 within the timeout."""
    return [
        catalog.HEALTH(exchange.target, f"{answer(exchange)}; expected 200 in time")
        for exchange in exchanges
        if exchange.status != 200
    ]


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


@dataclass(frozen=True)
class MetricsProbe:
    """The metrics path through the public URL, and the internal metrics URL when the profile
    gives one."""

    public: Exchange
    internal: Exchange | None = None

    @property
    def exchanges(self) -> list[Exchange]:
        return [e for e in (self.public, self.internal) if e is not None]


def metrics_findings(probe: MetricsProbe, *, public: bool = True) -> list[Finding]:
    """Metrics answer in Prometheus text format: at the path when public; else the path must NOT
    answer through the public URL, and the internal URL (when given) must."""
    if public:
        return _exposition_findings(probe.public)
    found: list[Finding] = []
    exchange = probe.public
    if exchange.status == 200 and parse_exposition(exchange.text()).samples:
        found.append(
            catalog.METRICS(
                exchange.target,
                "metrics are reachable through the public URL (answered 200 with samples); "
                "the profile says they must not be public (metrics_public = false)",
            )
        )
    if probe.internal is not None:
        found += _exposition_findings(probe.internal)
    return found


def exposition_summary(exchange: Exchange) -> dict[str, object]:
    """What the metrics answer held, for evidence."""
    parsed = parse_exposition(exchange.text()) if exchange.status == 200 else Exposition()
    return {
        **exchange.summary(),
        "samples": parsed.samples,
        "families": len(parsed.families),
        "errors": parsed.errors[:3],
    }


def _exposition_findings(exchange: Exchange) -> list[Finding]:
    where = exchange.target
    if exchange.status != 200:
        return [catalog.METRICS(where, f"{answer(exchange)}; expected 200 with metrics")]
    parsed = parse_exposition(exchange.text())
    if parsed.errors:
        shown = "; ".join(parsed.errors[:3])
        more = f" (+{len(parsed.errors) - 3} more)" if len(parsed.errors) > 3 else ""
        return [catalog.METRICS(where, f"not valid Prometheus text format: {shown}{more}")]
    if parsed.samples == 0:
        return [catalog.METRICS(where, "answered 200 but exposes no samples")]
    return []


# -- version --------------------------------------------------------------------------------


def reported_version(exchange: Exchange, field_path: str) -> str | None:
    """The version the answer reports at ``field_path`` (a string or a number), else None."""
    if exchange.status != 200:
        return None
    found, value = lookup(exchange.json(), field_path)
    if not found or not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    return str(value)


def version_comparison(
    exchange: Exchange, field_path: str, expected: str
) -> VersionComparison | None:
    """What was compared (as written and normalised), when the answer reports a version."""
    observed = reported_version(exchange, field_path)
    return None if observed is None else compare_versions(expected, observed)


def version_findings(exchange: Exchange, field_path: str, expected: str) -> list[Finding]:
    """The version the service reports names the expected release (``v1.4.2`` is ``1.4.2``, and
    build metadata does not make another release)."""
    path = exchange.target
    if exchange.status != 200:
        return [catalog.VERSION(path, f"{answer(exchange)}; expected 200 with the version")]
    comparison = version_comparison(exchange, field_path, expected)
    if comparison is None:
        return [catalog.VERSION(path, f"the JSON answer has no {field_path!r} field")]
    if comparison.same:
        return []
    return [
        catalog.VERSION(
            path,
            f"reports version {comparison.observed!r}; the profile expects {expected!r} "
            f"(compared {comparison.observed_normalized} with {comparison.expected_normalized}: "
            "old pods still serving, or the wrong image?)",
        )
    ]


# -- error shape ----------------------------------------------------------------------------


def error_shape_findings(exchanges: Sequence[Exchange], fields: Sequence[str]) -> list[Finding]:
    """Each request for an unknown path answered 4xx with JSON holding every field, non-empty.

    Only a shape the profile declares is judged: without ``fields`` (a framework's default
    plain-text 404 is no defect by itself) the check does not apply."""
    if not fields:
        raise NotApplicable(
            "[http.expect] error_fields is not set: no documented error shape to judge against"
        )
    found: list[Finding] = []
    for exchange in exchanges:
        path = exchange.target
        if exchange.status is None or not 400 <= exchange.status < 500:
            found.append(catalog.ERROR_SHAPE(path, f"{answer(exchange)}; expected a 4xx error"))
            continue
        body = exchange.json()
        if body is None:
            kind = exchange.header("content-type") or "no content type"
            found.append(
                catalog.ERROR_SHAPE(
                    path,
                    f"the {exchange.status} answer is not JSON ({kind}); the profile declares "
                    f"the error shape {', '.join(fields)}",
                )
            )
            continue
        missing = [f for f in fields if not _non_empty(lookup(body, f))]
        if missing:
            found.append(
                catalog.ERROR_SHAPE(
                    path,
                    f"the {exchange.status} answer lacks {', '.join(missing)} "
                    f"(expected fields: {', '.join(fields)})",
                )
            )
    return found


def error_summary(exchange: Exchange, fields: Sequence[str]) -> dict[str, object]:
    """The error answer and which declared fields it holds, for evidence."""
    body = exchange.json()
    return {
        **exchange.summary(),
        "content_type": exchange.header("content-type"),
        "fields": {f: _non_empty(lookup(body, f)) for f in fields},
    }


def _non_empty(found_value: tuple[bool, object]) -> bool:
    found, value = found_value
    return found and value not in (None, "", [], {})
