"""Metric gates: a PromQL query held to a threshold over a past window, judged like an Argo
Rollouts analysis.

One evaluation is one range query over ``[now - window, now]`` at ``step``; each series' points are
reduced (``max``/``min``/``avg``/``last``) or tested point by point (``all``/``any``) and compared
with the threshold. "Error rate < 0.1 % over the last 15 minutes" therefore needs no waiting. No data
(no series, too few points, NaN everywhere) is decided by an explicit policy, ``fail`` by default:
never a pass by accident. A soak re-evaluates every ``interval`` for ``watch`` and fails once more
than ``failure_limit`` evaluations failed (in total, or in a row); clock and sleep are injectable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from pytest_deployverify.components.prometheus import ApiError
from pytest_deployverify.expectations.monitoring import (
    Aggregation,
    Condition,
    FailureCount,
    MetricGate,
    NoDataPolicy,
    format_duration,
    parse_duration,
)
from pytest_deployverify.profile.model import Slo

DEFAULT_WINDOW = 900.0
DEFAULT_STEP = 30.0
DEFAULT_INTERVAL = 60.0


class GateConfigError(ValueError):
    """A ``[[gates]]`` entry that cannot be evaluated; the message names the gate and the fix."""


class RangeQueryApi(Protocol):
    def query_range(
        self, promql: str, start: float, end: float, step: float | str
    ) -> list[dict[str, Any]]: ...


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


# -- ready-made gates from the source checklists --------------------------------------------------


def matchers(*parts: str) -> str:
    """``{a, b}`` from the non-empty label matchers given (``{}`` when none)."""
    inner = ",".join(p.strip().strip(",") for p in parts if p and p.strip())
    return "{" + inner + "}"


DEFAULT_PARAMS: dict[str, str] = {
    "selector": "",  # matchers of the service's own metrics, e.g. job="api-gateway"
    "requests_metric": "http_requests_total",
    "error_matcher": 'status=~"5.."',
    "duration_metric": "http_request_duration_seconds",
    "rate_window": "5m",
    "pod_selector": "",  # matchers of the service's pods, e.g. namespace="prod",pod=~"api-.*"
    "hpa_selector": "",  # e.g. horizontalpodautoscaler="api-gateway"
    "cache_selector": "",  # matchers of the Redis exporter's series
}


def _error_rate(p: Mapping[str, str]) -> str:
    errors = matchers(p["selector"], p["error_matcher"])
    total = matchers(p["selector"])
    return (
        f"sum(rate({p['requests_metric']}{errors}[{p['rate_window']}]))"
        f" / sum(rate({p['requests_metric']}{total}[{p['rate_window']}]))"
    )


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
    """A gate from the source checklists; ``threshold`` may read the profile's ``[slo]``."""

    build: Callable[[Mapping[str, str]], str]
    condition: Condition
    threshold: Callable[[Slo], float]
    window: float
    aggregation: Aggregation
    description: str


READY_MADE: dict[str, ReadyMade] = {
    "error_rate": ReadyMade(
        _error_rate,
        Condition.LT,
        lambda s: s.error_rate,
        900,
        Aggregation.MAX,
        "error rate under [slo] error_rate (0.1 %) over the last 15 minutes",
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
    "circuit_breakers_open": ReadyMade(
        _breakers,
        Condition.LT,
        lambda s: 2,
        300,
        Aggregation.LAST,
        "circuit breakers open for fewer than two downstream services",
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


@dataclass(frozen=True)
class GateSpec:
    """A gate with every value decided (profile entry over ready-made gate over defaults)."""

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

    @property
    def expectation(self) -> str:
        """E.g. ``max < 0.001 over the last 15m``, ``every point < 1 over the last 15m``."""
        how = {Aggregation.ALL: "every point", Aggregation.ANY: "at least one point"}.get(
            self.aggregation, self.aggregation.value
        )
        window = format_duration(self.window_s)
        return f"{how} {self.condition.value} {self.threshold:g} over the last {window}"


def resolve_gate(gate: MetricGate, slo: Slo | None = None) -> GateSpec:
    """The evaluable spec of a ``[[gates]]`` entry; ``GateConfigError`` says what is missing."""
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
    if base is not None:
        query = base.build({**DEFAULT_PARAMS, **gate.params})
        condition = gate.condition or base.condition
        threshold = gate.threshold if gate.threshold is not None else base.threshold(slo)
        window = parse_duration(gate.window) if gate.window is not None else base.window
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
    outcome: Outcome
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


def evaluate_gate(
    spec: GateSpec, result: Sequence[Mapping[str, Any]], start: float, end: float
) -> GateEvaluation:
    """Judge a range-query result (``[{"metric": …, "values": [[t, "v"], …]}, …]``)."""
    summaries = tuple(summarize_series(spec, s) for s in result)
    window = format_duration(spec.window_s)

    def done(outcome: Outcome, message: str) -> GateEvaluation:
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
            Outcome.FAIL,
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
        message = f"no data: {what} for {spec.query} (no-data policy: {spec.no_data.value})"
        if spec.no_data is NoDataPolicy.FAIL:
            return done(Outcome.FAIL, message)
        if spec.no_data is NoDataPolicy.INCONCLUSIVE:
            return done(Outcome.INCONCLUSIVE, message)
        if len(empty) == len(summaries):
            return done(Outcome.PASS, message)
        note = f"; {len(empty)} series without data accepted by the no-data policy pass"
    values = ", ".join(f"{s.value:g}" for s in summaries if s.value is not None)
    return done(
        Outcome.PASS,
        f"{spec.expectation}: held ({spec.aggregation.value} {values}) for {spec.query}{note}",
    )


def evaluate_at(api: RangeQueryApi, spec: GateSpec, end: float) -> GateEvaluation:
    """One range query over ``[end - window, end]``; an API failure is an ``error`` outcome."""
    start = end - spec.window_s
    try:
        result = api.query_range(spec.query, start, end, spec.step_s)
    except ApiError as exc:
        return GateEvaluation(
            spec.name,
            spec.query,
            start,
            end,
            spec.window_s,
            spec.step_s,
            Outcome.ERROR,
            f"gate {spec.name}: could not be evaluated: {exc}",
        )
    return evaluate_gate(spec, result, start, end)


# -- soak ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    """The verdict of a gate: one evaluation, or every evaluation of a soak."""

    spec: GateSpec
    outcome: Outcome
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
        if self.spec.watch_s is not None:
            data["watch"] = format_duration(self.spec.watch_s)
            data["interval"] = format_duration(self.spec.interval_s)
            data["failure_limit"] = f"{self.spec.failure_limit} ({self.spec.count_failures.value})"
            data["outcomes"] = [e.outcome.value for e in self.evaluations][:50]
        if last is not None:
            data["observed"] = last.evidence()
        return data


def run_gate(
    api: RangeQueryApi,
    spec: GateSpec,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_evaluation: Callable[[GateEvaluation], None] | None = None,
) -> GateResult:
    """Evaluate once, or (with ``watch_s``) every ``interval_s`` until the soak ends or more than
    ``failure_limit`` evaluations failed (total or consecutive). Errors count as failures; any
    inconclusive evaluation makes a soak without too many failures inconclusive, not a pass."""
    evaluations: list[GateEvaluation] = []
    failures = run = longest = 0
    deadline = clock() + (spec.watch_s or 0.0)
    while True:
        evaluation = evaluate_at(api, spec, clock())
        evaluations.append(evaluation)
        if on_evaluation is not None:
            on_evaluation(evaluation)
        if evaluation.outcome in (Outcome.FAIL, Outcome.ERROR):
            failures, run = failures + 1, run + 1
            longest = max(longest, run)
        else:
            run = 0
        counted = failures if spec.count_failures is FailureCount.TOTAL else run
        if counted > spec.failure_limit:
            break
        if spec.watch_s is None or clock() + spec.interval_s > deadline:
            break
        sleep(spec.interval_s)
    return _verdict(spec, tuple(evaluations), failures, longest)


def _verdict(
    spec: GateSpec, evaluations: tuple[GateEvaluation, ...], failures: int, longest: int
) -> GateResult:
    last = evaluations[-1]
    if spec.watch_s is None:
        return GateResult(spec, last.outcome, last.message, evaluations, failures, longest)
    counted = failures if spec.count_failures is FailureCount.TOTAL else longest
    kind = "in total" if spec.count_failures is FailureCount.TOTAL else "in a row"
    tally = (
        f"{failures} of {len(evaluations)} evaluation(s) failed (longest run {longest}); "
        f"limit {spec.failure_limit} {kind}"
    )
    if counted > spec.failure_limit:
        failed = next(
            e for e in reversed(evaluations) if e.outcome in (Outcome.FAIL, Outcome.ERROR)
        )
        return GateResult(
            spec,
            Outcome.FAIL,
            f"{tally}; last failure: {failed.message}",
            evaluations,
            failures,
            longest,
        )
    inconclusive = [e for e in evaluations if e.outcome is Outcome.INCONCLUSIVE]
    if inconclusive:
        return GateResult(
            spec,
            Outcome.INCONCLUSIVE,
            f"{tally}; {len(inconclusive)} inconclusive: {inconclusive[-1].message}",
            evaluations,
            failures,
            longest,
        )
    return GateResult(
        spec,
        Outcome.PASS,
        f"gate {spec.name}: soak of {format_duration(spec.watch_s)} passed; {tally}",
        evaluations,
        failures,
        longest,
    )
