"""Prometheus and Alertmanager clients: plain data back, a timeout on every call, no retries.

``PromApi`` (httpx) covers what checks need and ``prometheus_api_client`` lacks: targets, rules,
alerts, alertmanagers, readiness, range queries as plain data. ``PromApi.connect`` is a
``PrometheusConnect`` sharing the same URL, token, CA and timeout, with its default retry adapter
(3 retries, backoff, on 5xx too) replaced by one that never retries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any, Self

import httpx
import yaml

from pytest_deployverify.components.alertmanager import AlertmanagerConfig
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.components.errors import ComponentUnavailable, ReadError
from pytest_deployverify.components.httpcommon import explain_http_error, tls_verify
from pytest_deployverify.expectations.monitoring import MetricGate, PrometheusExpectations
from pytest_deployverify.profile.fields import HttpUrl, Seconds
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Secret

Params = Mapping[str, str | int | float]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrometheusConfig:
    url: HttpUrl
    bearer_token: Secret | None = None
    ca_file: str | None = None
    timeout: Seconds = 5.0
    job: str | None = None
    expect: PrometheusExpectations = dataclasses.field(default_factory=PrometheusExpectations)


class ApiError(Exception):
    """An HTTP API answered with an error (or could not be reached) after the probe succeeded."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


class _JsonApi:
    """Shared plumbing: one httpx client, masked endpoint in every message."""

    component = "http"

    @classmethod
    def from_config(cls, config: PrometheusConfig | AlertmanagerConfig) -> Self:
        """Built from a profile section (both sections share url, timeout, token and CA)."""
        return cls(
            config.url.get(),
            display=config.url.display,
            timeout=config.timeout,
            bearer_token=config.bearer_token.get() if config.bearer_token else None,
            ca_file=config.ca_file,
        )

    def __init__(
        self,
        url: str,
        *,
        display: str,
        timeout: float,
        bearer_token: str | None = None,
        ca_file: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.display = display
        self.timeout = timeout
        headers = {"Accept": "application/json"}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        self.http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            headers=headers,
            verify=tls_verify(ca_file),
            follow_redirects=False,
        )

    def _fail(self, what: str, problem: str) -> ApiError:
        return ApiError(f"{self.component} at {self.display} {problem} ({what})", problem)

    def _get(self, path: str, params: Params | None = None) -> httpx.Response:
        try:
            return self.http.get(path, params=dict(params) if params else None)
        except httpx.HTTPError as exc:
            raise self._fail(f"GET {path}", explain_http_error(exc, self.timeout)) from exc

    def _json(self, path: str, params: Params | None = None) -> Any:
        response = self._get(path, params)
        if response.status_code in (401, 403):
            raise self._fail(
                f"GET {path}",
                f"rejected the credentials ({response.status_code}): check bearer_token",
            )
        try:
            doc = response.json()
        except ValueError:
            raise self._fail(
                f"GET {path}",
                f"answered {response.status_code} with a body that is not JSON: "
                f"{response.text[:200]!r}",
            ) from None
        if response.is_error:
            detail = doc.get("error") if isinstance(doc, dict) else None
            raise self._fail(
                f"GET {path}", f"answered {response.status_code}: {detail or response.text[:200]}"
            )
        return doc

    def ready(self) -> str:
        """``GET /-/ready``; raises ``ApiError`` unless it answers 200. Returns the body text."""
        response = self._get("/-/ready")
        if response.status_code in (401, 403):
            raise self._fail(
                "GET /-/ready",
                f"rejected the credentials ({response.status_code}): check bearer_token",
            )
        if response.status_code != 200:
            raise self._fail(
                "GET /-/ready",
                f"is not ready: /-/ready answered {response.status_code} "
                f"{response.text.strip()[:200]!r}",
            )
        return response.text.strip()

    def close(self) -> None:
        self.http.close()


class PromApi(_JsonApi):
    """Prometheus HTTP API v1 as plain data."""

    component = "prometheus"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._bearer_token: str | None = kwargs.get("bearer_token")
        self._ca_file: str | None = kwargs.get("ca_file")
        self._connect: Any = None
        self._connect_lock = threading.Lock()

    def _data(self, path: str, params: Params | None = None) -> Any:
        doc = self._json(path, params)
        if not isinstance(doc, dict) or doc.get("status") != "success":
            error = doc.get("error") if isinstance(doc, dict) else doc
            raise self._fail(f"GET {path}", f"answered an error: {error}")
        return doc.get("data")

    def query(self, promql: str, at: dt.datetime | float | None = None) -> dict[str, Any]:
        """An instant query: ``{"resultType": ..., "result": [...]}``."""
        params: dict[str, str | int | float] = {"query": promql}
        if at is not None:
            params["time"] = _timestamp(at)
        result: dict[str, Any] = self._data("/api/v1/query", params)
        return result

    def query_range(
        self,
        promql: str,
        start: dt.datetime | float,
        end: dt.datetime | float,
        step: float | str,
    ) -> list[dict[str, Any]]:
        """A range query over the past: a list of ``{"metric": {...}, "values": [[t, "v"], ...]}``."""
        data = self._data(
            "/api/v1/query_range",
            {
                "query": promql,
                "start": _timestamp(start),
                "end": _timestamp(end),
                "step": step,
            },
        )
        result: list[dict[str, Any]] = data.get("result") or []
        return result

    def targets(self, state: str | None = None) -> dict[str, Any]:
        """``{"activeTargets": [...], "droppedTargets": [...]}``; ``state``: active/dropped/any."""
        result: dict[str, Any] = self._data("/api/v1/targets", {"state": state} if state else None)
        return result

    def rules(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Rule groups; ``kind`` "alert" or "record" filters them."""
        data = self._data("/api/v1/rules", {"type": kind} if kind else None)
        groups: list[dict[str, Any]] = data.get("groups") or []
        return groups

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Prometheus currently holds (pending and firing)."""
        data = self._data("/api/v1/alerts")
        alerts: list[dict[str, Any]] = data.get("alerts") or []
        return alerts

    def alertmanagers(self) -> dict[str, Any]:
        """``{"activeAlertmanagers": [...], "droppedAlertmanagers": [...]}``."""
        result: dict[str, Any] = self._data("/api/v1/alertmanagers")
        return result

    def label_values(self, label: str) -> list[str]:
        values: list[str] = self._data(f"/api/v1/label/{label}/values")
        return values

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


class AlertmanagerApi(_JsonApi):
    """Alertmanager API v2 as plain data."""

    component = "alertmanager"

    def status(self) -> dict[str, Any]:
        """``/api/v2/status``: cluster, versionInfo, config.original (YAML), uptime."""
        doc: dict[str, Any] = self._json("/api/v2/status")
        return doc

    def config(self) -> dict[str, Any]:
        """The running configuration, parsed from ``config.original``."""
        original = (self.status().get("config") or {}).get("original") or ""
        try:
            parsed = yaml.safe_load(original) or {}
        except yaml.YAMLError as exc:
            raise self._fail(
                "GET /api/v2/status", f"served a config that is not YAML: {exc}"
            ) from None
        return parsed if isinstance(parsed, dict) else {}

    def receivers(self) -> list[str]:
        """Names of the configured receivers."""
        return [str(r.get("name")) for r in self.config().get("receivers") or [] if r.get("name")]

    def alerts(
        self,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        filters: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """``/api/v2/alerts``; ``filters`` are matchers such as ``alertname="Watchdog"``."""
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("active", str(active).lower()),
            ("silenced", str(silenced).lower()),
            ("inhibited", str(inhibited).lower()),
        ]
        params += [("filter", f) for f in filters or ()]
        path = "/api/v2/alerts"
        try:
            response = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise self._fail(f"GET {path}", explain_http_error(exc, self.timeout)) from exc
        if response.is_error:
            raise self._fail(
                f"GET {path}", f"answered {response.status_code}: {response.text[:200]}"
            )
        alerts: list[dict[str, Any]] = response.json()
        return alerts


def _timestamp(value: dt.datetime | float) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def _probe(api: _JsonApi) -> None:
    try:
        api.ready()
    except ApiError as exc:
        api.close()
        raise ComponentUnavailable(api.component, api.display, exc.problem) from exc


def build_prom_api(config: PrometheusConfig) -> PromApi:
    """The probed Prometheus client (``/-/ready`` must answer 200 within the timeout)."""
    api = PromApi.from_config(config)
    _probe(api)
    return api


def build_alertmanager(config: AlertmanagerConfig) -> AlertmanagerApi:
    """The probed Alertmanager client (``/-/ready`` must answer 200 within the timeout)."""
    api = AlertmanagerApi.from_config(config)
    _probe(api)
    return api


def _connect(section: PrometheusConfig, profile: Profile) -> PromApi:
    return build_prom_api(section)


def _targets(ctx: ReadContext) -> dict[str, Any]:
    """``/api/v1/targets``: every active and dropped scrape target."""
    api: PromApi = ctx.client
    try:
        return api.targets()
    except ApiError as exc:
        raise ReadError("prometheus", api.display, "GET /api/v1/targets", exc.problem) from exc


component = Component(
    name="prometheus",
    checklist=("pytest_deployverify.checklist.test_monitoring",),
    title="Prometheus",
    sections=(
        SectionSpec("prometheus", PrometheusConfig, "the Prometheus that scrapes the service"),
        SectionSpec(
            "gates",
            tuple[MetricGate, ...],
            "metric gates: PromQL held to a threshold over a past window",
            unique="name",
        ),
    ),
    connect=_connect,
    reads={"targets": _targets},
    extra="prometheus",
)
