"""The Prometheus component: ``[prometheus]`` and ``[[gates]]``, its HTTP API client, its readers,
and the evaluation of the metric gates (range queries, the status-label question, the soak loop).

Readers: ``ready`` (the ``/-/ready`` answer of the probe), ``targets``, ``rules``, ``alerts``,
``alertmanagers`` (``/api/v1/...`` as plain data), ``alertmanager_link`` (where Prometheus sends
alerts, with what identifies the profile's Alertmanager among them) and ``gates`` (every enabled
``[[gates]]`` entry evaluated, concurrently). ``PromApi.connect`` is a ``PrometheusConnect`` on the
same server for a team's own tests, its retries turned off. httpx is imported when the client is
built.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pytest_deployverify.checks import gates as gc
from pytest_deployverify.checks import prometheus as pc
from pytest_deployverify.checks.alertmanager import cluster_peers
from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.components.alertmanager import AlertmanagerConfig
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.components.errors import ComponentError
from pytest_deployverify.components.httpapi import ApiError, JsonApi, Params
from pytest_deployverify.profile.fields import ExistingFile, HeaderValue, HttpUrl, Seconds
from pytest_deployverify.profile.model import Profile, Slo

COMPONENT = "prometheus"
MAX_GATE_WORKERS = 16

__all__ = [
    "ApiError",
    "PromApi",
    "PrometheusConfig",
    "build_prom_api",
    "component",
    "evaluate_at",
    "evaluate_gates",
    "run_gate",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrometheusConfig:
    """``[prometheus]``: the Prometheus that scrapes the service."""

    # Prometheus's base URL as the verifier reaches it; its /-/ready must answer 200
    # (`url = "http://prometheus.monitoring:9090"`).
    url: HttpUrl
    # A token sent as "Authorization: Bearer" with every request (unset: none).
    bearer_token: HeaderValue | None = None
    # A PEM file of the CA certificates to trust for an https:// url (unset: the system store).
    ca_file: ExistingFile | None = None
    # Seconds each request may take.
    timeout: Seconds = 5.0
    # The service's scrape job, by its job label or scrape pool (`job = "api-gateway"`); unset:
    # MON-PROM-TARGETS is not applicable.
    job: str | None = None
    expect: pc.PrometheusExpectations = dataclasses.field(default_factory=pc.PrometheusExpectations)


class PromApi(JsonApi):
    """Prometheus HTTP API v1 as plain data."""

    component = COMPONENT
    credentials_hint = "check bearer_token"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._bearer_token: str | None = kwargs.get("bearer_token")
        self._ca_file: str | None = kwargs.get("ca_file")
        self._connect: Any = None
        self._connect_lock = threading.Lock()
        self.ready_probe: pc.ReadyProbe | None = None

    def data(self, path: str, params: Params | None = None) -> Any:
        """The ``data`` member of a successful answer; anything else is an ``ApiError``."""
        doc = self.json(path, params)
        if not isinstance(doc, dict) or doc.get("status") != "success":
            error = doc.get("error") if isinstance(doc, dict) else doc
            raise self.fail(f"GET {path}", f"answered an error: {error}")
        return doc.get("data")

    def query(self, promql: str, at: dt.datetime | float | None = None) -> dict[str, Any]:
        """An instant query: ``{"resultType": ..., "result": [...]}``."""
        params: dict[str, str | int | float] = {"query": promql}
        if at is not None:
            params["time"] = _timestamp(at)
        result: dict[str, Any] = self.data("/api/v1/query", params)
        return result

    def query_range(
        self,
        promql: str,
        start: dt.datetime | float,
        end: dt.datetime | float,
        step: float | str,
    ) -> list[dict[str, Any]]:
        """A range query over the past: a list of ``{"metric": {...}, "values": [[t, "v"], ...]}``."""
        data = self.data(
            "/api/v1/query_range",
            {"query": promql, "start": _timestamp(start), "end": _timestamp(end), "step": step},
        )
        result: list[dict[str, Any]] = data.get("result") or []
        return result

    def targets(self, state: str | None = None) -> dict[str, Any]:
        """``{"activeTargets": [...], "droppedTargets": [...]}``; ``state``: active/dropped/any."""
        result: dict[str, Any] = self.data("/api/v1/targets", {"state": state} if state else None)
        return result

    def rules(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Rule groups; ``kind`` "alert" or "record" filters them."""
        data = self.data("/api/v1/rules", {"type": kind} if kind else None)
        groups: list[dict[str, Any]] = data.get("groups") or []
        return groups

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Prometheus currently holds (pending and firing)."""
        data = self.data("/api/v1/alerts")
        alerts: list[dict[str, Any]] = data.get("alerts") or []
        return alerts

    def alertmanagers(self) -> dict[str, Any]:
        """``{"activeAlertmanagers": [...], "droppedAlertmanagers": [...]}``."""
        result: dict[str, Any] = self.data("/api/v1/alertmanagers")
        return result

    def label_values(self, label: str) -> list[str]:
        values: list[str] = self.data(f"/api/v1/label/{label}/values")
        return values

    def label_names(self, match: str, start: float, end: float) -> list[str]:
        """The label names of the series ``match`` selects between ``start`` and ``end``."""
        params: list[tuple[str, str | int | float]] = [
            ("match[]", match),
            ("start", start),
            ("end", end),
        ]
        names: list[str] = self.data("/api/v1/labels", params) or []
        return names

    @property
    def connect(self) -> Any:
        """A ``prometheus_api_client.PrometheusConnect`` for the same server, without retries."""
        with self._connect_lock:
            if self._connect is None:
                self._connect = _prometheus_connect(
                    self.url, self.timeout, self._bearer_token, self._ca_file
                )
            return self._connect

    def close(self) -> None:
        with self._connect_lock:
            if self._connect is not None:
                self._connect.close()
                self._connect = None
        super().close()


def _prometheus_connect(
    url: str, timeout: float, bearer_token: str | None, ca_file: str | None
) -> Any:
    import requests
    from prometheus_api_client import PrometheusConnect
    from urllib3.util.retry import Retry

    session = requests.Session()
    session.verify = ca_file or True
    # total=0: the first error is final; no status-based retries, no backoff sleeps.
    no_retry = Retry(total=0, connect=0, read=0, redirect=0, status=0, backoff_factor=0)
    headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else None
    return PrometheusConnect(
        url=url,
        headers=headers,
        retry=no_retry,
        session=session,
        timeout=timeout,  # a float works: requests takes any number
    )


def _timestamp(value: dt.datetime | float) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def build_prom_api(config: PrometheusConfig) -> PromApi:
    """The probed Prometheus client (``/-/ready`` must answer 200 within the timeout)."""
    api = PromApi.from_section(config)
    response = api.probe("/-/ready")
    api.ready_probe = pc.ReadyProbe(config.url.display, response.status_code, response.text.strip())
    return api


# -- metric gates ----------------------------------------------------------------------------------


def evaluate_at(api: Any, spec: gc.GateSpec, end: float) -> gc.GateEvaluation:
    """One range query over ``[end - window, end]``; an API failure is an ``error`` evaluation."""
    start = end - spec.window_s
    try:
        result = api.query_range(spec.query, start, end, spec.step_s)
    except ApiError as exc:
        return gc.unevaluated(spec, start, end, str(exc))
    return gc.evaluate_gate(spec, result, start, end)


def run_gate(
    api: Any,
    spec: gc.GateSpec,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_evaluation: Callable[[gc.GateEvaluation], None] | None = None,
) -> gc.GateResult:
    """Evaluate once, or (with ``watch_s``) every ``interval_s`` until the soak ends or more than
    ``failure_limit`` evaluations failed (total or consecutive): ``gates.gate_verdict`` judges."""
    evaluations: list[gc.GateEvaluation] = []
    deadline = clock() + (spec.watch_s or 0.0)
    while True:
        evaluation = evaluate_at(api, spec, clock())
        evaluations.append(evaluation)
        if on_evaluation is not None:
            on_evaluation(evaluation)
        if gc.soak_over(spec, evaluations, clock(), deadline):
            break
        sleep(spec.interval_s)
    return gc.gate_verdict(spec, evaluations)


GateVerdict = gc.GateResult | gc.GateProblem


def evaluate_gates(
    api: Any,
    gates: Sequence[gc.MetricGate],
    slo: Slo | None = None,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, GateVerdict]:
    """Every gate by name, evaluated concurrently: one range query per gate (a soak keeps its own
    thread for its whole watch); an error-rate gate first waits for the status-code label of its
    request metric (one question per metric and selector, asked at once)."""
    first: dict[str, gc.GateSpec | gc.GateProblem] = {}
    for gate in gates:
        try:
            first[gate.name] = gc.resolve_gate(gate, slo)
        except gc.GateConfigError as exc:
            first[gate.name] = gc.GateProblem(gate.name, str(exc))
    windows: dict[str, float] = {}
    for spec in first.values():
        if isinstance(spec, gc.GateSpec) and spec.label_probe is not None:
            windows[spec.label_probe] = max(windows.get(spec.label_probe, 0.0), spec.window_s)
    by_name = {gate.name: gate for gate in gates}
    now = clock()

    def ask(probe: str) -> list[str] | None:
        try:
            return list(api.label_names(probe, now - windows[probe], now))
        except (ApiError, AttributeError):
            return None  # assumed; the range query reports what is wrong with Prometheus

    workers = max(1, min(MAX_GATE_WORKERS, len(first) + len(windows)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deployverify-gate") as pool:
        # Submitted first, so they start before any gate that waits for them (no deadlock).
        labels = {probe: pool.submit(ask, probe) for probe in windows}

        def run(name: str, spec: gc.GateSpec | gc.GateProblem) -> GateVerdict:
            if isinstance(spec, gc.GateProblem):
                return spec
            if spec.label_probe is not None:
                spec = gc.resolve_gate(by_name[name], slo, labels[spec.label_probe].result())
            return run_gate(api, spec, clock=clock, sleep=sleep)

        futures = {name: pool.submit(run, name, spec) for name, spec in first.items()}
        return {name: future.result() for name, future in futures.items()}


# -- readers -----------------------------------------------------------------------------------


def _api_read(ctx: ReadContext, call: Callable[[PromApi], Any]) -> Any:
    api: PromApi = ctx.client
    try:
        return call(api)
    except ApiError as exc:
        raise api.read_error(exc, COMPONENT) from exc


def _ready(ctx: ReadContext) -> pc.ReadyProbe:
    api: PromApi = ctx.client
    if api.ready_probe is not None:
        return api.ready_probe  # the probe of connect: no second request
    body = _api_read(ctx, PromApi.ready)
    return pc.ReadyProbe(api.display, 200, body)


def _targets(ctx: ReadContext) -> dict[str, Any]:
    """``/api/v1/targets``: every active and dropped scrape target. Targets not scraped yet (new
    pods) are read again until their first scrape, for at most one scrape interval."""
    targets: dict[str, Any] = _api_read(ctx, lambda api: api.targets())
    deadline = time.monotonic() + pc.unscraped_wait(targets)
    while pc.unscraped(targets) and time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        targets = _api_read(ctx, lambda api: api.targets())
    return targets


def _rules(ctx: ReadContext) -> list[dict[str, Any]]:
    return _api_read(ctx, PromApi.rules)  # type: ignore[no-any-return]


def _alerts(ctx: ReadContext) -> list[dict[str, Any]]:
    return _api_read(ctx, PromApi.alerts)  # type: ignore[no-any-return]


def _alertmanagers(ctx: ReadContext) -> dict[str, Any]:
    return _api_read(ctx, PromApi.alertmanagers)  # type: ignore[no-any-return]


def _alertmanager_link(ctx: ReadContext) -> pc.AlertmanagerLink:
    """The active Alertmanagers; when they are not recognisably the profile's one by address,
    also what the profile's Alertmanager reports (cluster peers, the alerts it holds) and the
    alerts Prometheus fires, read concurrently."""
    data: dict[str, Any] = ctx.read("prometheus.alertmanagers")
    section = ctx.profile.table("alertmanager", AlertmanagerConfig)
    if section is None:
        return pc.AlertmanagerLink(data)
    link = pc.AlertmanagerLink(
        data,
        expected_url=section.url.display,  # masked: only its host and port are compared
        expected_display=section.url.display,
        internal_urls=section.internal_urls,
    )
    if not link.active or pc.identify_alertmanager(link) is not None:
        return link
    refs = ("alertmanager.status", "alertmanager.alerts", "prometheus.alerts")
    with ThreadPoolExecutor(max_workers=len(refs), thread_name_prefix="deployverify-read") as pool:
        futures = {ref: pool.submit(ctx.read, ref) for ref in refs}
    problem = None
    try:
        peers = cluster_peers(futures["alertmanager.status"].result())
        held = tuple(
            {str(k): str(v) for k, v in (a.get("labels") or {}).items()}
            for a in futures["alertmanager.alerts"].result()
        )
    except ComponentError as exc:
        peers, held, problem = None, None, str(exc)
    firing = settled = None
    try:
        alerts = futures["prometheus.alerts"].result()
        firing, settled = pc.firing_label_sets(alerts), pc.settled_firing(alerts, time.time())
    except ComponentError:
        pass  # then only addresses and peers can tell
    return dataclasses.replace(
        link, peers=peers, held=held, firing=firing, settled=settled, problem=problem
    )


def _gates(ctx: ReadContext) -> dict[str, GateVerdict]:
    profile = ctx.profile
    gates: Sequence[gc.MetricGate] = profile.sections.get("gates") or ()
    enabled = [gate for gate in gates if gate.enabled]
    if not enabled:
        raise NotApplicable(f"no enabled [[gates]] for environment {profile.name}")
    return evaluate_gates(ctx.client, enabled, profile.slo)


def _connect(section: PrometheusConfig, profile: Profile) -> PromApi:
    return build_prom_api(section)


component = Component(
    name=COMPONENT,
    title="Prometheus",
    sections=(
        SectionSpec("prometheus", PrometheusConfig, "the Prometheus that scrapes the service"),
        SectionSpec(
            "gates",
            tuple[gc.MetricGate, ...],
            "metric gates: PromQL held to a threshold over a past window",
            unique="name",
        ),
    ),
    connect=_connect,
    reads={
        "ready": _ready,
        "targets": _targets,
        "rules": _rules,
        "alerts": _alerts,
        "alertmanagers": _alertmanagers,
        "alertmanager_link": _alertmanager_link,
        "gates": _gates,
    },
    checks=(*pc.CHECKS, *gc.CHECKS),
    checklist=(
        "pytest_deployverify.checklist.test_prometheus",
        "pytest_deployverify.checklist.test_gates",
    ),
    extra="prometheus",
    description="Readiness, scrape targets, rules, the link to Alertmanager, firing alerts, and "
    "the metric gates of [[gates]].",
)
