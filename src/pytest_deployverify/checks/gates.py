"""Metric gates: a PromQL query held to a threshold over a past window, judged like an Argo
Rollouts analysis (``[[gates]]``).

One evaluation is one range query over ``[now - window, now]`` at ``step``; each series' points are
reduced (``max``/``min``/``avg``/``last``) or tested point by point (``all``/``any``) and compared
with the threshold. "Error rate < 0.1 % over the last 15 minutes" therefore needs no waiting. No data
(no series, too few points, NaN everywhere) is decided by an explicit policy, ``fail`` by default:
never a pass by accident. A soak re-evaluates every ``interval`` for ``watch`` and fails once more
than ``failure_limit`` evaluations failed (in total, or in a row).

Pure: the range queries, the status-label question and the soak's clock live in
``components.prometheus``; here a gate is resolved, a query result judged and a soak tallied.

Error-rate gates count a service with traffic and no 5xx series as a zero error rate (only absent
traffic is no data), and they need the label that carries the HTTP status code: ``status``,
``code``, ``status_code``… The component asks Prometheus which one the request metric carries
(``label_probe``); ``params.status_label`` or ``params.error_matcher`` say it outright. Every no-data
message names the label that was assumed and the key to set.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from pytest_deployverify.checks.declarations import declare
from pytest_deployverify.profile.fields import (
    Count,
    Duration,
    NoDataPolicy,
    format_duration,
    parse_duration,
)
from pytest_deployverify.profile.model import Slo, replaced
from pytest_deployverify.profile.schema import Range

model = dataclasses.dataclass(frozen=True, kw_only=True)

DEFAULT_WINDOW = 900.0
DEFAULT_STEP = 30.0
DEFAULT_INTERVAL = 60.0


# -- expectations: [[gates]] -------------------------------------------------------------------------


class Condition(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="


class Aggregation(StrEnum):
    """How the points of the window are reduced before the comparison.

    ``all``: every point must satisfy the condition; ``any``: at least one point must.
    """

    MAX = "max"
    MIN = "min"
    AVG = "avg"
    LAST = "last"
    ALL = "all"
    ANY = "any"


class FailureCount(StrEnum):
    """How a soak counts failed evaluations against ``failure_limit``."""

    TOTAL = "total"
    CONSECUTIVE = "consecutive"


@model
class MetricGate:
    """``[[gates]]``: a PromQL query held to a threshold over a past window.

    ``name`` alone enables a ready-made gate (``pytest_deployverify.checks.gates.READY_MADE``);
    any other key overrides it. A gate with a ``query`` of its own needs ``condition`` and
    ``threshold``. Unset keys fall back to the ready-made gate, then to the defaults in gates.py.
    """

    # The gate's name, unique among the gates and shown in the reports; a ready-made gate's
    # name alone enables it (`name = "error_rate"`).
    name: str
    # A PromQL query of the gate's own (unset: the ready-made gate's, built from params); every
    # series it returns is held to the condition.
    query: str | None = None
    # What the gate guards, shown in the reports (default: the ready-made gate's).
    description: str = ""
    # false: the gate is listed but not evaluated (not applicable).
    enabled: bool = True
    # How far back the range query looks, a duration such as "15m" (default: the ready-made
    # gate's, else 15m).
    window: Duration | None = None
    # The range query's resolution, a duration (default: 30s, or the window when shorter).
    step: Duration | None = None
    # How the value compares with threshold: "<", "<=", ">", ">=" or "==" (default: the
    # ready-made gate's; required with a query of the gate's own).
    condition: Condition | None = None
    # The value the condition compares with, in the query's unit (seconds for latency, 0 to 1
    # for a ratio); default: the ready-made gate's, from [slo] where it has one there.
    threshold: float | None = None
    # How each series' points are reduced before the comparison: "max", "min", "avg", "last",
    # or "all"/"any" (every point, at least one point, must hold); default: the ready-made
    # gate's, else max.
    aggregation: Aggregation | None = None
    # What an answer without data means (no series, too few points, NaN): "fail" (default),
    # "pass" or "inconclusive".
    no_data: NoDataPolicy | None = None
    # The fewest usable points a series needs to be judged (default: 1).
    min_points: Annotated[int, Range(ge=1)] | None = None
    # Values for the placeholders of a ready-made query: selector, requests_metric, status_label
    # (the label holding the HTTP status code; detected when unset), error_matcher, rate_window…
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Soak: evaluate again every ``interval`` for ``watch``; fail after more than failure_limit
    # failed evaluations (in total, or in a row).
    watch: Duration | None = None
    # Time between two evaluations of a soak, a duration (default: 1m).
    interval: Duration | None = None
    # Failed evaluations a soak tolerates (default: 0); an evaluation that errors counts as failed.
    failure_limit: Count | None = None
    # How failure_limit counts: "total" failed evaluations (default) or "consecutive" ones.
    count_failures: FailureCount | None = None


class GateConfigError(ValueError):
    """A ``[[gates]]`` entry that cannot be evaluated; the message names the gate and the fix."""


class GateOutcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


# -- ready-made gates from the source checklists --------------------------------------------------


def matchers(*parts: str) -> str:
    """``{a, b}`` from the non-empty label matchers given (``{}`` when none)."""
    inner = ",".join(p.strip().strip(",") for p in parts if p and p.strip())
    return "{" + inner + "}"


# Labels that carry the HTTP status code in the instrumentation libraries' metrics, most usual
# first: Prometheus client examples and most frameworks (status), Go/OpenMetrics (code), others.
STATUS_LABELS = ("status", "code", "status_code", "http_status_code", "http_response_status_code")
DEFAULT_STATUS_LABEL = STATUS_LABELS[0]

DEFAULT_PARAMS: dict[str, str] = {
    "selector": "",  # matchers of the service's own metrics, e.g. job="api-gateway"
    "requests_metric": "http_requests_total",  # the request counter, with a status-code label
    "status_label": "",  # the label holding the HTTP status code; empty: ask Prometheus
    "error_matcher": "",  # the matcher of failed requests; empty: <status_label>=~"5.."
    "duration_metric": "http_request_duration_seconds",  # the latency histogram, in seconds
    "rate_window": "5m",  # the range of the queries' rate(...), e.g. "1m" for a fast scrape
    "pod_selector": "",  # matchers of the service's pods, e.g. namespace="prod",pod=~"api-.*"
    # matchers of the HPA's kube-state-metrics series, e.g. horizontalpodautoscaler="api-gateway"
    "hpa_selector": "",
    "cache_selector": "",  # matchers of the Redis exporter's series
}
_MATCHER_LABEL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)")


def _error_rate(p: Mapping[str, str]) -> str:
    """Failed requests over all requests. A service with traffic and no failed-request series has
    an error rate of 0 (the ``or`` arm: traffic that carries the status label, times 0); a service
    without traffic, or whose requests carry no status label, has no data."""
    label = p["status_label"]
    error_matcher = p["error_matcher"] or f'{label}=~"5.."'
    matched = _MATCHER_LABEL.match(error_matcher)
    labelled = f'{matched.group(1)}!=""' if matched else ""
    metric, window = p["requests_metric"], p["rate_window"]
    errors = f"sum(rate({metric}{matchers(p['selector'], error_matcher)}[{window}]))"
    zero = f"0 * sum(rate({metric}{matchers(p['selector'], labelled)}[{window}]))"
    total = f"sum(rate({metric}{matchers(p['selector'])}[{window}]))"
    return f"({errors} or {zero}) / {total}"


def _quantile(q: float) -> Callable[[Mapping[str, str]], str]:
    def build(p: Mapping[str, str]) -> str:
        return (
            f"histogram_quantile({q}, sum by (le) (rate({p['duration_metric']}_bucket"
            f"{matchers(p['selector'])}[{p['rate_window']}])))"
        )

    return build


def _cpu(p: Mapping[str, str]) -> str:
    used = matchers('container!=""', 'container!="POD"', p["pod_selector"])
    limit = matchers('resource="cpu"', p["pod_selector"])
    return (
        f"sum by (pod) (rate(container_cpu_usage_seconds_total{used}[{p['rate_window']}]))"
        f" / sum by (pod) (kube_pod_container_resource_limits{limit})"
    )


def _memory(p: Mapping[str, str]) -> str:
    used = matchers('container!=""', 'container!="POD"', p["pod_selector"])
    limit = matchers('resource="memory"', p["pod_selector"])
    return (
        f"sum by (pod) (container_memory_working_set_bytes{used})"
        f" / sum by (pod) (kube_pod_container_resource_limits{limit})"
    )


def _hpa(p: Mapping[str, str]) -> str:
    sel = matchers(p["hpa_selector"])
    return (
        f"kube_horizontalpodautoscaler_status_current_replicas{sel}"
        f" / kube_horizontalpodautoscaler_spec_max_replicas{sel}"
    )


def _breakers(p: Mapping[str, str]) -> str:
    return f"sum(gateway_circuit_breaker_open{matchers(p['selector'])})"


def _cache(p: Mapping[str, str]) -> str:
    sel, window = matchers(p["cache_selector"]), p["rate_window"]
    hits = f"sum(rate(redis_keyspace_hits_total{sel}[{window}]))"
    misses = f"sum(rate(redis_keyspace_misses_total{sel}[{window}]))"
    return f"{hits} / ({hits} + {misses})"


@dataclass(frozen=True)
class ReadyMade:
    """A gate from the source checklists; ``threshold`` may read the profile's ``[slo]``.
    ``status_code``: the query selects requests by their HTTP status (``status_label``)."""

    build: Callable[[Mapping[str, str]], str]
    condition: Condition
    threshold: Callable[[Slo], float]
    window: float
    aggregation: Aggregation
    description: str
    status_code: bool = False


READY_MADE: dict[str, ReadyMade] = {
    "error_rate": ReadyMade(
        _error_rate,
        Condition.LT,
        lambda s: s.error_rate,
        900,
        Aggregation.MAX,
        "error rate under [slo] error_rate (0.1 %) over the last 15 minutes",
        status_code=True,
    ),
    "p95_latency": ReadyMade(
        _quantile(0.95),
        Condition.LT,
        lambda s: s.p95_latency_ms / 1000,
        900,
        Aggregation.MAX,
        "P95 latency under [slo] p95_latency_ms (1 s) over the last 15 minutes",
    ),
    "p99_latency": ReadyMade(
        _quantile(0.99),
        Condition.LT,
        lambda s: s.p99_latency_ms / 1000,
        900,
        Aggregation.MAX,
        "P99 latency under [slo] p99_latency_ms (2 s) over the last 15 minutes",
    ),
    "cpu_saturation": ReadyMade(
        _cpu,
        Condition.LT,
        lambda s: 0.9,
        600,
        Aggregation.ANY,
        "CPU use of each pod not at >90 % of its limit for the whole last 10 minutes",
    ),
    "memory_saturation": ReadyMade(
        _memory,
        Condition.LT,
        lambda s: 0.9,
        600,
        Aggregation.ANY,
        "memory of each pod not at >90 % of its limit for the whole last 10 minutes",
    ),
    # "No open circuit breakers" (the source checklists): zero open, not "fewer than two". A
    # [[gates]] entry may set threshold (and condition) to tolerate some.
    "circuit_breakers_open": ReadyMade(
        _breakers,
        Condition.LE,
        lambda s: 0,
        300,
        Aggregation.LAST,
        "no circuit breaker to a downstream service open (zero open breakers)",
    ),
    "hpa_at_max": ReadyMade(
        _hpa,
        Condition.LT,
        lambda s: 1,
        300,
        Aggregation.LAST,
        "the HPA below its maximum replica count (headroom left to scale)",
    ),
    "cache_hit_rate": ReadyMade(
        _cache,
        Condition.GE,
        lambda s: s.cache_hit_rate,
        900,
        Aggregation.AVG,
        "Redis keyspace hit rate at least [slo] cache_hit_rate (90 %) over 15 minutes",
    ),
    "rollback_error_rate": ReadyMade(
        _error_rate,
        Condition.LE,
        lambda s: 0.05,
        300,
        Aggregation.ANY,
        "rollback trigger: error rate above 5 % for the whole last 5 minutes",
        status_code=True,
    ),
    "rollback_p95_latency": ReadyMade(
        _quantile(0.95),
        Condition.LE,
        lambda s: 2.0,
        600,
        Aggregation.ANY,
        "rollback trigger: P95 latency above 2 s for the whole last 10 minutes",
    ),
}


def recovery_gate(gate: MetricGate, window: float) -> MetricGate:
    """A rollback trigger as a rollback verification judges it (``--rollback-to``): recovered
    means its condition held at every point of the last ``window`` seconds, once, not merely
    at one point (the trigger's own ``any``) nor over a soak."""
    return replaced(
        gate,
        window=window,
        aggregation=Aggregation.ALL,
        watch=None,
        description=gate.description
        or f"rollback recovery: {gate.name} held at every point of the last "
        f"{format_duration(window)}",
    )


@dataclass(frozen=True)
class GateSpec:
    """A gate with every value decided (profile entry over ready-made gate over defaults).

    ``label_probe``: the series selector whose label names tell the status-code label (None when
    the gate needs none or the profile named it); ``notes``: what the query assumes, shown in the
    evidence and in every no-data message; ``hint``: the key to set when that assumption is wrong.
    """

    name: str
    query: str
    condition: Condition
    threshold: float
    window_s: float = DEFAULT_WINDOW
    step_s: float = DEFAULT_STEP
    aggregation: Aggregation = Aggregation.MAX
    no_data: NoDataPolicy = NoDataPolicy.FAIL
    min_points: int = 1
    description: str = ""
    watch_s: float | None = None
    interval_s: float = DEFAULT_INTERVAL
    failure_limit: int = 0
    count_failures: FailureCount = FailureCount.TOTAL
    label_probe: str | None = None
    notes: tuple[str, ...] = ()
    hint: str = ""

    @property
    def expectation(self) -> str:
        """E.g. ``max < 0.001 over the last 15m``, ``every point < 1 over the last 15m``."""
        how = {Aggregation.ALL: "every point", Aggregation.ANY: "at least one point"}.get(
            self.aggregation, self.aggregation.value
        )
        window = format_duration(self.window_s)
        return f"{how} {self.condition.value} {self.threshold:g} over the last {window}"


def choose_status_label(names: Sequence[str]) -> str | None:
    """The first of ``STATUS_LABELS`` among a metric's label names, or None."""
    present = set(names)
    return next((label for label in STATUS_LABELS if label in present), None)


def _status_label(
    gate: MetricGate,
    params: Mapping[str, str],
    probe: str,
    window: float,
    names: Sequence[str] | None,
) -> tuple[str, str, str]:
    """``(label, note, hint)`` for a gate that selects requests by status code."""
    hint = (
        f"if the status code is in another label, set params.status_label (or "
        f"params.error_matcher) in the [[gates]] entry {gate.name!r}"
    )
    if params.get("error_matcher"):
        return "", f"failed requests selected by params.error_matcher {params['error_matcher']}", ""
    if params.get("status_label"):
        label = params["status_label"]
        return label, f"status-code label {label!r} from params.status_label", hint
    if names is None:
        return DEFAULT_STATUS_LABEL, f"status-code label {DEFAULT_STATUS_LABEL!r} assumed", hint
    found = choose_status_label(names)
    if found is not None:
        return found, f"status-code label {found!r} detected on {probe}", hint
    if not names:
        note = (
            f"status-code label {DEFAULT_STATUS_LABEL!r} assumed: no {probe} series in the last "
            f"{format_duration(window)} to detect it on (no traffic?)"
        )
    else:
        note = (
            f"status-code label {DEFAULT_STATUS_LABEL!r} assumed: {probe} carries none of "
            f"{', '.join(STATUS_LABELS)} (its labels: "
            f"{', '.join(sorted(n for n in names if n != '__name__'))})"
        )
    return DEFAULT_STATUS_LABEL, note, hint


def resolve_gate(
    gate: MetricGate, slo: Slo | None = None, series_labels: Sequence[str] | None = None
) -> GateSpec:
    """The evaluable spec of a ``[[gates]]`` entry; ``GateConfigError`` says what is missing.

    ``series_labels``: the label names Prometheus reports for the spec's ``label_probe`` over the
    window (an empty list: no such series); None when nobody asked (``status`` is assumed)."""
    slo = slo or Slo()
    base = READY_MADE.get(gate.name) if gate.query is None else None
    if gate.query is None and base is None:
        known = ", ".join(sorted(READY_MADE))
        raise GateConfigError(
            f"gate {gate.name!r}: no query and no ready-made gate of that name; "
            f"set query = '...' or use one of: {known}"
        )
    unknown = sorted(set(gate.params) - set(DEFAULT_PARAMS))
    if unknown and base is not None:
        raise GateConfigError(
            f"gate {gate.name!r}: unknown params {', '.join(unknown)}; "
            f"known: {', '.join(DEFAULT_PARAMS)}"
        )
    probe: str | None = None
    notes: tuple[str, ...] = ()
    hint = ""
    if base is not None:
        params = {**DEFAULT_PARAMS, **gate.params}
        window = parse_duration(gate.window) if gate.window is not None else base.window
        if base.status_code:
            probe = f"{params['requests_metric']}{matchers(params['selector'])}"
            label, note, hint = _status_label(gate, gate.params, probe, window, series_labels)
            params["status_label"] = label
            notes = (note,)
            if gate.params.get("error_matcher") or gate.params.get("status_label"):
                probe = None  # the profile said it: nothing to ask
        query = base.build(params)
        condition = gate.condition or base.condition
        threshold = gate.threshold if gate.threshold is not None else base.threshold(slo)
        aggregation = gate.aggregation or base.aggregation
        description = gate.description or base.description
    else:
        if gate.condition is None or gate.threshold is None:
            raise GateConfigError(
                f"gate {gate.name!r}: a gate with its own query needs condition and threshold"
            )
        query = str(gate.query)
        condition, threshold = gate.condition, gate.threshold
        window = parse_duration(gate.window) if gate.window is not None else DEFAULT_WINDOW
        aggregation = gate.aggregation or Aggregation.MAX
        description = gate.description
    step = parse_duration(gate.step) if gate.step is not None else min(DEFAULT_STEP, window)
    if step > window:
        raise GateConfigError(
            f"gate {gate.name!r}: step {format_duration(step)} is longer than the window "
            f"{format_duration(window)}"
        )
    watch = parse_duration(gate.watch) if gate.watch is not None else None
    interval = parse_duration(gate.interval) if gate.interval is not None else DEFAULT_INTERVAL
    return GateSpec(
        name=gate.name,
        query=query,
        condition=condition,
        threshold=float(threshold),
        window_s=window,
        step_s=step,
        aggregation=aggregation,
        no_data=gate.no_data or NoDataPolicy.FAIL,
        min_points=gate.min_points or 1,
        description=description,
        watch_s=watch,
        interval_s=interval,
        failure_limit=gate.failure_limit or 0,
        count_failures=gate.count_failures or FailureCount.TOTAL,
        label_probe=probe,
        notes=notes,
        hint=hint,
    )


# -- one evaluation -------------------------------------------------------------------------------


def holds(value: float, condition: Condition, threshold: float) -> bool:
    if condition is Condition.LT:
        return value < threshold
    if condition is Condition.LE:
        return value <= threshold
    if condition is Condition.GT:
        return value > threshold
    if condition is Condition.GE:
        return value >= threshold
    return math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)


@dataclass(frozen=True)
class SeriesSummary:
    """One series over the window: its points and the value that was compared."""

    labels: Mapping[str, str]
    points: int
    nan_points: int
    min: float | None
    max: float | None
    avg: float | None
    last: float | None
    value: float | None  # the aggregate compared (the worst/best point for all/any)
    failing_points: int = 0
    ok: bool | None = None  # None: not enough data

    def plain(self) -> dict[str, Any]:
        return {
            "labels": dict(self.labels),
            "points": self.points,
            "nan_points": self.nan_points,
            "min": self.min,
            "max": self.max,
            "avg": self.avg,
            "last": self.last,
            "value": self.value,
            "failing_points": self.failing_points,
            "ok": self.ok,
        }


@dataclass(frozen=True)
class GateEvaluation:
    gate: str
    query: str
    start: float
    end: float
    window_s: float
    step_s: float
    outcome: GateOutcome
    message: str
    series: tuple[SeriesSummary, ...] = ()

    def evidence(self) -> dict[str, Any]:
        """The observed series summary, small and JSON-safe."""
        return {
            "outcome": self.outcome.value,
            "window": format_duration(self.window_s),
            "step": format_duration(self.step_s),
            "start": self.start,
            "end": self.end,
            "series": [s.plain() for s in self.series[:20]],
            "series_count": len(self.series),
        }


def _labels_text(labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return "{" + inner + "}" if inner else "the series"


def _points(raw: Sequence[Sequence[Any]]) -> tuple[list[float], int]:
    finite, nan = [], 0
    for _, text in raw:
        try:
            value = float(text)
        except (TypeError, ValueError):
            nan += 1
            continue
        if math.isfinite(value):
            finite.append(value)
        else:
            nan += 1
    return finite, nan


def summarize_series(spec: GateSpec, series: Mapping[str, Any]) -> SeriesSummary:
    labels = dict(series.get("metric") or {})
    values, nan = _points(series.get("values") or [])
    if len(values) < spec.min_points:
        return SeriesSummary(labels, len(values), nan, None, None, None, None, None)
    stats = {
        "min": min(values),
        "max": max(values),
        "avg": sum(values) / len(values),
        "last": values[-1],
    }
    failing = sum(1 for v in values if not holds(v, spec.condition, spec.threshold))
    upward = spec.condition in (Condition.LT, Condition.LE)
    agg = spec.aggregation
    if agg is Aggregation.ALL:
        value = stats["max"] if upward else stats["min"]  # the worst point
        ok = failing == 0
    elif agg is Aggregation.ANY:
        value = stats["min"] if upward else stats["max"]  # the best point
        ok = failing < len(values)
    else:
        value = stats[agg.value]
        ok = holds(value, spec.condition, spec.threshold)
    return SeriesSummary(
        labels, len(values), nan, **stats, value=value, failing_points=failing, ok=ok
    )


def _assumed(spec: GateSpec) -> str:
    """What the query assumed and the key to set, for a no-data message."""
    parts = [*spec.notes, *([spec.hint] if spec.hint else [])]
    return f"; {'; '.join(parts)}" if parts else ""


def evaluate_gate(
    spec: GateSpec, result: Sequence[Mapping[str, Any]], start: float, end: float
) -> GateEvaluation:
    """Judge a range-query result (``[{"metric": …, "values": [[t, "v"], …]}, …]``)."""
    summaries = tuple(summarize_series(spec, s) for s in result)
    window = format_duration(spec.window_s)

    def done(outcome: GateOutcome, message: str) -> GateEvaluation:
        return GateEvaluation(
            spec.name,
            spec.query,
            start,
            end,
            spec.window_s,
            spec.step_s,
            outcome,
            f"gate {spec.name}: {message}",
            summaries,
        )

    failed = [s for s in summaries if s.ok is False]
    empty = [s for s in summaries if s.ok is None]
    if failed:
        worst = failed[0]
        more = f" (and {len(failed) - 1} more series)" if len(failed) > 1 else ""
        how = (
            f"{worst.failing_points} of {worst.points} points broke it"
            if spec.aggregation in (Aggregation.ALL, Aggregation.ANY)
            else f"{spec.aggregation.value} was {worst.value:g}"
        )
        return done(
            GateOutcome.FAIL,
            f"{how} for {_labels_text(worst.labels)}{more} over the last {window} "
            f"(min {worst.min:g}, max {worst.max:g}, avg {worst.avg:g}, last {worst.last:g}, "
            f"{worst.points} points); expected {spec.expectation} for {spec.query}",
        )
    note = ""
    if not summaries or empty:
        if not summaries:
            what = f"the query returned no series over the last {window}"
        else:
            counts = ", ".join(f"{s.points} ({s.nan_points} NaN)" for s in empty)
            what = (
                f"{len(empty)} of {len(summaries)} series had fewer than {spec.min_points} "
                f"usable point(s) over the last {window}: {counts}"
            )
        message = (
            f"no data: {what} for {spec.query} (no-data policy: {spec.no_data.value})"
            f"{_assumed(spec)}"
        )
        if spec.no_data is NoDataPolicy.FAIL:
            return done(GateOutcome.FAIL, message)
        if spec.no_data is NoDataPolicy.INCONCLUSIVE:
            return done(GateOutcome.INCONCLUSIVE, message)
        if len(empty) == len(summaries):
            return done(GateOutcome.PASS, message)
        note = f"; {len(empty)} series without data accepted by the no-data policy pass"
    values = ", ".join(f"{s.value:g}" for s in summaries if s.value is not None)
    return done(
        GateOutcome.PASS,
        f"{spec.expectation}: held ({spec.aggregation.value} {values}) for {spec.query}{note}",
    )


def unevaluated(spec: GateSpec, start: float, end: float, problem: str) -> GateEvaluation:
    """The ``error`` evaluation of a range query that could not be made (``problem`` names the
    backend and why)."""
    return GateEvaluation(
        spec.name,
        spec.query,
        start,
        end,
        spec.window_s,
        spec.step_s,
        GateOutcome.ERROR,
        f"gate {spec.name}: could not be evaluated: {problem}",
    )


# -- soak ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    """The verdict of a gate: one evaluation, or every evaluation of a soak."""

    spec: GateSpec
    outcome: GateOutcome
    message: str
    evaluations: tuple[GateEvaluation, ...] = field(default_factory=tuple)
    failures: int = 0
    max_consecutive_failures: int = 0

    def evidence(self) -> dict[str, Any]:
        last = self.evaluations[-1] if self.evaluations else None
        data: dict[str, Any] = {
            "gate": self.spec.name,
            "query": self.spec.query,
            "expected": self.spec.expectation,
            "outcome": self.outcome.value,
            "evaluations": len(self.evaluations),
            "failures": self.failures,
        }
        if self.spec.notes:
            data["assumed"] = list(self.spec.notes)
        if self.spec.watch_s is not None:
            data["watch"] = format_duration(self.spec.watch_s)
            data["interval"] = format_duration(self.spec.interval_s)
            data["failure_limit"] = f"{self.spec.failure_limit} ({self.spec.count_failures.value})"
            data["outcomes"] = [e.outcome.value for e in self.evaluations][:50]
        if last is not None:
            data["observed"] = last.evidence()
        return data


@dataclass(frozen=True)
class GateProblem:
    """A ``[[gates]]`` entry that could not be evaluated at all (its configuration is wrong)."""

    gate: str
    message: str


def _failed(evaluation: GateEvaluation) -> bool:
    return evaluation.outcome in (GateOutcome.FAIL, GateOutcome.ERROR)


def failure_tally(evaluations: Sequence[GateEvaluation]) -> tuple[int, int, int]:
    """``(failures in total, the current run of failures, the longest run)``."""
    failures = run = longest = 0
    for evaluation in evaluations:
        if _failed(evaluation):
            failures, run = failures + 1, run + 1
            longest = max(longest, run)
        else:
            run = 0
    return failures, run, longest


def soak_over(
    spec: GateSpec, evaluations: Sequence[GateEvaluation], now: float, deadline: float
) -> bool:
    """Whether a soak stops after ``evaluations``: too many failures (in total or in a row), no
    soak at all, or no room for another evaluation before ``deadline``."""
    failures, run, _ = failure_tally(evaluations)
    counted = failures if spec.count_failures is FailureCount.TOTAL else run
    if counted > spec.failure_limit:
        return True
    return spec.watch_s is None or now + spec.interval_s > deadline


def gate_verdict(spec: GateSpec, evaluations: Sequence[GateEvaluation]) -> GateResult:
    """One evaluation's outcome, or a soak's: fail once more than ``failure_limit`` evaluations
    failed (errors count as failures); any inconclusive evaluation makes a soak without too many
    failures inconclusive, not a pass."""
    done = tuple(evaluations)
    failures, _, longest = failure_tally(done)
    last = done[-1]
    if spec.watch_s is None:
        return GateResult(spec, last.outcome, last.message, done, failures, longest)
    counted = failures if spec.count_failures is FailureCount.TOTAL else longest
    kind = "in total" if spec.count_failures is FailureCount.TOTAL else "in a row"
    tally = (
        f"{failures} of {len(done)} evaluation(s) failed (longest run {longest}); "
        f"limit {spec.failure_limit} {kind}"
    )
    if counted > spec.failure_limit:
        failed = next(e for e in reversed(done) if _failed(e))
        return GateResult(
            spec,
            GateOutcome.FAIL,
            f"{tally}; last failure: {failed.message}",
            done,
            failures,
            longest,
        )
    inconclusive = [e for e in done if e.outcome is GateOutcome.INCONCLUSIVE]
    if inconclusive:
        return GateResult(
            spec,
            GateOutcome.INCONCLUSIVE,
            f"{tally}; {len(inconclusive)} inconclusive: {inconclusive[-1].message}",
            done,
            failures,
            longest,
        )
    return GateResult(
        spec,
        GateOutcome.PASS,
        f"gate {spec.name}: soak of {format_duration(spec.watch_s)} passed; {tally}",
        done,
        failures,
        longest,
    )


# -- declaration -----------------------------------------------------------------------------------

GATE = declare(
    "MON-GATE",
    title="Metric gate holds over its window",
    section="monitoring",
    severity="high",
    components=("prometheus",),
    keys=("gates",),
    reads=("prometheus.gates",),
    description="Each [[gates]] entry: a PromQL query held to its threshold over a past window "
    "(ready-made: error rate, latency, saturation, circuit breakers, HPA, cache, rollback "
    "triggers), no data failing unless its policy says otherwise; one item per gate.",
)

CHECKS = (GATE,)

__all__ = [
    "CHECKS",
    "DEFAULT_PARAMS",
    "GATE",
    "READY_MADE",
    "STATUS_LABELS",
    "Aggregation",
    "Condition",
    "FailureCount",
    "GateConfigError",
    "GateEvaluation",
    "GateOutcome",
    "GateProblem",
    "GateResult",
    "GateSpec",
    "MetricGate",
    "NoDataPolicy",
    "SeriesSummary",
    "choose_status_label",
    "evaluate_gate",
    "failure_tally",
    "gate_verdict",
    "recovery_gate",
    "resolve_gate",
    "soak_over",
    "unevaluated",
]
