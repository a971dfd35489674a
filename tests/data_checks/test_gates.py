"""Metric gates against a real Prometheus backfilled with an exactly known hour (see stack.py).

The gates' "now" is the newest backfilled sample, so every window holds exactly the written values.
Error-rate gates are also run against services labelled as other healthy setups label them: no 5xx
series at all, the status code in ``code``, no status label.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checks.gates import (
    READY_MADE,
    Aggregation,
    Condition,
    FailureCount,
    GateConfigError,
    GateOutcome,
    GateProblem,
    GateResult,
    GateSpec,
    MetricGate,
    NoDataPolicy,
    evaluate_gate,
    resolve_gate,
)
from pytest_deployverify.components.prometheus import (
    PromApi,
    evaluate_at,
    evaluate_gates,
    run_gate,
)
from pytest_deployverify.profile.model import Slo
from pytest_deployverify.profile.schema import SchemaError, build
from sandbox.history import gateway_history, gateway_rules
from sandbox.servers.openmetrics import latest_timestamp
from sandbox.servers.prometheus import start_prometheus

from .stack import JOB, FakeClock, History, gate_history, wait_for

REPO = Path(__file__).resolve().parents[2]

HEALTHY = {
    "selector": f'job="{JOB}"',
    "pod_selector": 'pod=~"api-gateway-.*"',
    "hpa_selector": f'horizontalpodautoscaler="{JOB}"',
    "cache_selector": 'cache="main"',
}
BROKEN = {
    "selector": 'job="checkout"',
    "pod_selector": 'pod=~"checkout-.*"',
    "hpa_selector": 'horizontalpodautoscaler="checkout"',
    "cache_selector": 'cache="cold"',
}
# What each ready-made gate observes for the broken service (see stack.gate_history).
BROKEN_VALUES = {
    "error_rate": "max was 0.0740741",
    "p95_latency": "max was 4.375",
    "p99_latency": "max was 4.875",
    "cpu_saturation": "21 of 21 points broke it",
    "memory_saturation": "21 of 21 points broke it",
    "circuit_breakers_open": "last was 2",
    "hpa_at_max": "last was 1",
    "cache_hit_rate": "avg was 0.5",
    "rollback_error_rate": "11 of 11 points broke it",
    "rollback_p95_latency": "21 of 21 points broke it",
}


@pytest.fixture(scope="module")
def history() -> History:
    return gate_history()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, history: History) -> Iterator[PromApi]:
    server = start_prometheus(
        tmp_path_factory.mktemp("gates-prometheus"), backfill_openmetrics=history.document
    )
    client = PromApi(server.url, display=server.url, timeout=5.0)
    try:
        yield client
    finally:
        client.close()
        server.stop()


def gate(**values: Any) -> GateSpec:
    return resolve_gate(build(MetricGate, values), Slo())


def test_every_ready_made_gate_is_covered() -> None:
    assert set(BROKEN_VALUES) == set(READY_MADE)


@pytest.mark.parametrize("name", sorted(READY_MADE))
def test_ready_made_gate_passes_for_the_healthy_service(
    api: PromApi, history: History, name: str
) -> None:
    result = run_gate(api, gate(name=name, params=HEALTHY), clock=lambda: history.end)
    assert result.outcome is GateOutcome.PASS, result.message
    observed = result.evidence()["observed"]
    assert observed["series"], "a passing gate must have looked at data"
    assert all(s["points"] > 0 for s in observed["series"])


@pytest.mark.parametrize("name", sorted(READY_MADE))
def test_ready_made_gate_fails_for_the_broken_service(
    api: PromApi, history: History, name: str
) -> None:
    result = run_gate(api, gate(name=name, params=BROKEN), clock=lambda: history.end)
    assert result.outcome is GateOutcome.FAIL
    assert BROKEN_VALUES[name] in result.message
    assert f"gate {name}:" in result.message
    assert "expected " in result.message


def test_window_is_exact_and_evidence_summarizes_the_series(api: PromApi, history: History) -> None:
    spec = gate(name="error_rate", params=HEALTHY, window="15m", step="30s")
    evaluation = evaluate_at(api, spec, history.end)
    assert evaluation.outcome is GateOutcome.PASS
    assert evaluation.end - evaluation.start == 900
    [series] = evaluation.series
    assert series.points == 31  # 15 minutes at 30 s, both ends included
    assert series.nan_points == 0
    assert series.min == pytest.approx(0.05 / 100.05)
    assert series.max == pytest.approx(0.05 / 100.05)
    evidence = evaluation.evidence()
    assert evidence["window"] == "15m"
    assert evidence["step"] == "30s"
    assert evidence["series"][0]["avg"] == pytest.approx(0.05 / 100.05)


def test_threshold_override_turns_the_healthy_error_rate_into_a_failure(
    api: PromApi, history: History
) -> None:
    result = run_gate(
        api, gate(name="error_rate", params=HEALTHY, threshold=0.0001), clock=lambda: history.end
    )
    assert result.outcome is GateOutcome.FAIL
    assert "max was 0.00049975" in result.message
    assert "expected max < 0.0001 over the last 15m" in result.message


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [
        (NoDataPolicy.FAIL, GateOutcome.FAIL),
        (NoDataPolicy.PASS, GateOutcome.PASS),
        (NoDataPolicy.INCONCLUSIVE, GateOutcome.INCONCLUSIVE),
    ],
)
def test_no_data_follows_the_explicit_policy(
    api: PromApi, history: History, policy: NoDataPolicy, outcome: GateOutcome
) -> None:
    spec = gate(
        name="orders",
        query="sum(orders_queue_depth)",
        condition="<",
        threshold=10,
        no_data=policy.value,
    )
    result = run_gate(api, spec, clock=lambda: history.end)
    assert result.outcome is outcome
    assert "no data: the query returned no series over the last 15m" in result.message
    assert f"no-data policy: {policy.value}" in result.message


def test_nan_everywhere_is_no_data_not_a_pass(api: PromApi, history: History) -> None:
    result = run_gate(
        api, gate(name="error_rate", params={"selector": 'job="idle"'}), clock=lambda: history.end
    )
    assert result.outcome is GateOutcome.FAIL
    assert "0 (31 NaN)" in result.message
    assert "no-data policy: fail" in result.message


def test_min_points_guards_a_short_history(api: PromApi, history: History) -> None:
    # The history starts an hour before its end: a 15-minute window ending 3 minutes after that
    # start holds only the few points where rate() already has two samples.
    spec = gate(name="error_rate", params=HEALTHY, min_points=10)
    result = run_gate(api, spec, clock=lambda: history.end - 3600 + 180)
    assert result.outcome is GateOutcome.FAIL
    assert "fewer than 10 usable point(s)" in result.message


@pytest.mark.parametrize(
    ("aggregation", "condition", "threshold", "outcome"),
    [
        (Aggregation.ALL, Condition.LT, 0.001, GateOutcome.PASS),
        (Aggregation.ANY, Condition.GT, 0.001, GateOutcome.FAIL),
        (Aggregation.AVG, Condition.LE, 0.0005, GateOutcome.PASS),
        (Aggregation.LAST, Condition.EQ, 0.05 / 100.05, GateOutcome.PASS),
        (Aggregation.MIN, Condition.GE, 0.001, GateOutcome.FAIL),
    ],
)
def test_aggregations_and_conditions(
    api: PromApi,
    history: History,
    aggregation: Aggregation,
    condition: Condition,
    threshold: float,
    outcome: GateOutcome,
) -> None:
    spec = gate(
        name="error_rate",
        params=HEALTHY,
        aggregation=aggregation.value,
        condition=condition.value,
        threshold=threshold,
    )
    assert run_gate(api, spec, clock=lambda: history.end).outcome is outcome


def test_query_error_is_an_error_outcome_naming_prometheus(api: PromApi, history: History) -> None:
    spec = gate(name="broken", query="sum(rate(http_requests_total[5m]", condition="<", threshold=1)
    result = run_gate(api, spec, clock=lambda: history.end)
    assert result.outcome is GateOutcome.ERROR
    assert "could not be evaluated: prometheus at http://127.0.0.1:" in result.message
    assert "parse error" in result.message


# -- error rates of services labelled as other healthy setups label them ------------------------------

ERROR_GATES = ("error_rate", "rollback_error_rate")


def evaluated(history: History, api: PromApi, **values: Any) -> GateResult | GateProblem:
    """One gate evaluated as the checklist evaluates it: the status-code label asked first."""
    entry = build(MetricGate, values)
    return evaluate_gates(api, [entry], Slo(), clock=lambda: history.end)[entry.name]


def hint(name: str) -> str:
    return (
        "if the status code is in another label, set params.status_label (or "
        f"params.error_matcher) in the [[gates]] entry {name!r}"
    )


@pytest.mark.parametrize("name", ERROR_GATES)
def test_traffic_without_any_5xx_series_is_a_zero_error_rate(
    api: PromApi, history: History, name: str
) -> None:
    result = evaluated(history, api, name=name, params={"selector": 'job="clean"'})
    assert isinstance(result, GateResult)
    assert result.outcome is GateOutcome.PASS, result.message
    [series] = result.evaluations[-1].series
    assert series.points > 0
    assert series.max == 0.0
    assert result.spec.notes == (
        "status-code label 'status' detected on http_requests_total{job=\"clean\"}",
    )


@pytest.mark.parametrize("name", ERROR_GATES)
def test_absent_traffic_is_no_data_naming_the_assumed_label_and_the_key(
    api: PromApi, history: History, name: str
) -> None:
    result = evaluated(history, api, name=name, params={"selector": 'job="ghost"'})
    assert isinstance(result, GateResult)
    assert result.outcome is GateOutcome.FAIL
    window = "15m" if name == "error_rate" else "5m"
    assert f"no data: the query returned no series over the last {window}" in result.message
    assert (
        "status-code label 'status' assumed: no http_requests_total{job=\"ghost\"} series in "
        f"the last {window} to detect it on (no traffic?)"
    ) in result.message
    assert result.message.endswith(hint(name))


@pytest.mark.parametrize(
    ("job", "outcome", "observed"),
    [
        ("coded", GateOutcome.PASS, "held (max 0.00049975)"),
        ("coded-broken", GateOutcome.FAIL, "max was 0.0740741"),
    ],
)
def test_the_status_code_label_is_asked_of_prometheus(
    api: PromApi, history: History, job: str, outcome: GateOutcome, observed: str
) -> None:
    result = evaluated(history, api, name="error_rate", params={"selector": f'job="{job}"'})
    assert isinstance(result, GateResult)
    assert result.outcome is outcome, result.message
    assert observed in result.message
    assert f'http_requests_total{{job="{job}",code=~"5.."}}' in result.spec.query
    assert result.evidence()["assumed"] == [
        f"status-code label 'code' detected on http_requests_total{{job=\"{job}\"}}"
    ]


def test_a_code_labelled_service_without_detection_says_which_label_was_assumed(
    api: PromApi, history: History
) -> None:
    # Not asking (as a caller of resolve_gate alone would): "status" is assumed, the query finds
    # no request carrying it, and the no-data message names the label and the key to set.
    blind = run_gate(
        api,
        gate(name="error_rate", params={"selector": 'job="coded-broken"'}),
        clock=lambda: history.end,
    )
    assert blind.outcome is GateOutcome.FAIL
    assert "no data: the query returned no series over the last 15m" in blind.message
    assert "status-code label 'status' assumed; " + hint("error_rate") in blind.message
    # Said outright, by the label or by the matcher, nothing needs to be asked.
    for params in ({"status_label": "code"}, {"error_matcher": 'code=~"5.."'}):
        spec = gate(name="error_rate", params={"selector": 'job="coded-broken"', **params})
        assert spec.label_probe is None
        told = run_gate(api, spec, clock=lambda: history.end)
        assert told.outcome is GateOutcome.FAIL
        assert "max was 0.0740741" in told.message
    healthy = gate(name="error_rate", params={"selector": 'job="coded"', "status_label": "code"})
    assert run_gate(api, healthy, clock=lambda: history.end).outcome is GateOutcome.PASS


def test_a_request_metric_without_a_status_label_is_no_data_naming_its_labels(
    api: PromApi, history: History
) -> None:
    result = evaluated(history, api, name="error_rate", params={"selector": 'job="unlabelled"'})
    assert isinstance(result, GateResult)
    assert result.outcome is GateOutcome.FAIL
    assert "no data: the query returned no series" in result.message
    assert (
        "status-code label 'status' assumed: http_requests_total{job=\"unlabelled\"} carries none "
        "of status, code, status_code, http_status_code, http_response_status_code (its labels: "
        "job, method)"
    ) in result.message


def test_every_gate_of_a_profile_is_evaluated_at_once(api: PromApi, history: History) -> None:
    entries = [build(MetricGate, {"name": name, "params": HEALTHY}) for name in sorted(READY_MADE)]
    entries.append(build(MetricGate, {"name": "nonsense"}))
    verdicts = evaluate_gates(api, entries, Slo(), clock=lambda: history.end)
    assert list(verdicts) == [entry.name for entry in entries]
    problem = verdicts.pop("nonsense")
    assert isinstance(problem, GateProblem)
    assert problem.message.startswith("gate 'nonsense': no query and no ready-made gate")
    for name, verdict in verdicts.items():
        assert isinstance(verdict, GateResult)
        assert verdict.outcome is GateOutcome.PASS, (name, verdict.message)
    error_rate = verdicts["error_rate"]
    assert isinstance(error_rate, GateResult)
    assert error_rate.spec.notes == (
        f"status-code label 'status' detected on http_requests_total{{job=\"{JOB}\"}}",
    )


# -- soak with an injected clock: the window slides through the backfilled past ---------------------

SPIKY = (
    'sum(rate(http_requests_total{job="spiky",status="500"}[1m]))'
    ' / sum(rate(http_requests_total{job="spiky"}[1m]))'
)


def soak(**values: Any) -> GateSpec:
    base = {
        "name": "spiky_errors",
        "query": SPIKY,
        "condition": "<",
        "threshold": 0.01,
        "window": "2m",
        "step": "15s",
        "watch": "30m",
        "interval": "5m",
    }
    return gate(**{**base, **values})


def test_soak_counts_failures_in_total(api: PromApi, history: History) -> None:
    # Evaluations at -40, -35, …, -10 minutes: the bursts at -26..-24 and -16..-14 hit -25 and -15.
    clock = FakeClock(history.end - 40 * 60)
    seen: list[GateOutcome] = []
    result = run_gate(
        api,
        soak(failure_limit=1, count_failures="total"),
        clock=clock,
        sleep=clock.sleep,
        on_evaluation=lambda e: seen.append(e.outcome),
    )
    assert [o.value for o in seen] == ["pass", "pass", "pass", "fail", "pass", "fail"]
    assert result.outcome is GateOutcome.FAIL
    assert result.failures == 2
    assert "2 of 6 evaluation(s) failed (longest run 1); limit 1 in total" in result.message
    assert clock.sleeps == [300.0] * 5  # stopped early: the -10 minute evaluation never ran


def test_soak_counting_consecutive_failures_tolerates_isolated_ones(
    api: PromApi, history: History
) -> None:
    clock = FakeClock(history.end - 40 * 60)
    result = run_gate(
        api,
        soak(failure_limit=1, count_failures=FailureCount.CONSECUTIVE.value),
        clock=clock,
        sleep=clock.sleep,
    )
    assert result.outcome is GateOutcome.PASS, result.message
    assert [e.outcome.value for e in result.evaluations] == [
        "pass",
        "pass",
        "pass",
        "fail",
        "pass",
        "fail",
        "pass",
    ]
    assert result.max_consecutive_failures == 1
    evidence = result.evidence()
    assert evidence["watch"] == "30m"
    assert evidence["outcomes"][3] == "fail"


def test_soak_with_no_failure_allowed_stops_at_the_first(api: PromApi, history: History) -> None:
    clock = FakeClock(history.end - 40 * 60)
    result = run_gate(api, soak(), clock=clock, sleep=clock.sleep)
    assert result.outcome is GateOutcome.FAIL
    assert len(result.evaluations) == 4
    assert "1 of 4 evaluation(s) failed" in result.message


def test_soak_with_an_inconclusive_evaluation_is_not_a_pass(history: History) -> None:
    class Flaky:
        calls = 0

        def query_range(self, promql: str, start: float, end: float, step: float | str) -> Any:
            self.calls += 1
            values = [[end, "0.0"]] if self.calls != 2 else []
            return [{"metric": {}, "values": values}] if values else []

    clock = FakeClock(history.end)
    spec = soak(no_data="inconclusive", watch="10m")
    result = run_gate(Flaky(), spec, clock=clock, sleep=clock.sleep)
    assert result.outcome is GateOutcome.INCONCLUSIVE
    assert "1 inconclusive" in result.message


# -- resolving [[gates]] entries ------------------------------------------------------------------


def test_ready_made_defaults_come_from_the_slo() -> None:
    spec = resolve_gate(
        build(MetricGate, {"name": "p95_latency"}), build(Slo, {"p95_latency_ms": 800})
    )
    assert spec.threshold == 0.8
    assert spec.window_s == 900
    assert spec.condition is Condition.LT
    assert "http_request_duration_seconds_bucket{}" in spec.query


def test_gate_config_errors_name_the_gate_and_the_fix() -> None:
    with pytest.raises(GateConfigError, match="gate 'nonsense': no query and no ready-made"):
        gate(name="nonsense")
    with pytest.raises(GateConfigError, match="needs condition and threshold"):
        gate(name="custom", query="up")
    with pytest.raises(GateConfigError, match="unknown params selectr"):
        gate(name="error_rate", params={"selectr": "x"})
    with pytest.raises(GateConfigError, match="step 5m is longer than the window 1m"):
        gate(name="error_rate", window="1m", step="5m")
    with pytest.raises(SchemaError, match="not a duration"):
        gate(name="error_rate", window="fifteen minutes")
    with pytest.raises(SchemaError, match="condition: expected one of"):
        gate(name="error_rate", condition="<>")


# -- the sandbox's own history: backfilled, then continued live ---------------------------------------


def test_the_sandbox_history_is_continued_live_and_its_gates_hold(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The sandbox's gates hold on its backfilled hour, and its stand-in series go on after the
    backfill ends (recording rules, counters counting from one instant): no gate decays into "no
    data" some minutes after ``sandbox up``."""
    document = gateway_history()
    end = int(latest_timestamp(document) or 0)
    server = start_prometheus(
        tmp_path_factory.mktemp("sandbox-history"),
        backfill_openmetrics=document,
        rule_files=gateway_rules(),
    )
    api = PromApi(server.url, display=server.url, timeout=5.0)
    hpa = 'kube_horizontalpodautoscaler_status_current_replicas{horizontalpodautoscaler="api-gateway"}'
    try:
        wait_for(
            lambda: float(api.query(f"timestamp({hpa})")["result"][0]["value"][1]) > end,
            40,
            "the recording rules to continue the history",
        )
        now = time.time()
        # Across the seam, a counter's rate is the history's: no step, no reset.
        rate = api.query(
            'sum(rate(http_requests_total{job="api-gateway",pod=~".*-abcde",status="200"}[2m]))'
        )
        [point] = rate["result"]
        assert float(point["value"][1]) == pytest.approx(20.0 * (1 - 0.0002), rel=1e-6)
        # The Watchdog fires from the start: what recognises the sandbox's Alertmanager when the
        # verifier reaches it through a proxy.
        wait_for(
            lambda: [a for a in api.alerts() if a["labels"]["alertname"] == "Watchdog"],
            20,
            "the Watchdog to fire",
        )
        profile = tomllib.loads((REPO / "verify/environments/sandbox.toml").read_text())
        entries = [build(MetricGate, entry) for entry in profile["gates"]]
        verdicts = evaluate_gates(api, entries, Slo(), clock=lambda: now)
    finally:
        api.close()
        server.stop()
    assert len(verdicts) == 9
    for name, verdict in verdicts.items():
        assert isinstance(verdict, GateResult), name
        assert verdict.outcome is GateOutcome.PASS, verdict.message


# ---- the circuit-breaker gate: "no open circuit breakers" means zero (issue 15) ------------------


def _breakers_open(count: float, spec_values: dict[str, Any] | None = None) -> Any:
    spec = gate(name="circuit_breakers_open", params=HEALTHY, **(spec_values or {}))
    end = 1_800_000_000.0
    values = [[end - 300 + 30 * i, str(count)] for i in range(11)]
    return evaluate_gate(spec, [{"metric": {"job": JOB}, "values": values}], end - 300, end)


def test_the_circuit_breaker_gate_defaults_to_zero_open_breakers() -> None:
    spec = gate(name="circuit_breakers_open", params=HEALTHY)
    assert (spec.condition, spec.threshold) == (Condition.LE, 0)
    assert spec.expectation == "last <= 0 over the last 5m"
    assert _breakers_open(0).outcome is GateOutcome.PASS
    # One open breaker is an open breaker: it fails (the old default tolerated one).
    one = _breakers_open(1)
    assert one.outcome is GateOutcome.FAIL
    assert "last was 1" in one.message
    assert "expected last <= 0 over the last 5m" in one.message
    # A profile that accepts some says so in its [[gates]] entry.
    assert _breakers_open(1, {"threshold": 1}).outcome is GateOutcome.PASS
