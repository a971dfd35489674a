"""Dashboards, traces and logs: Grafana, Jaeger or Tempo, Loki, and a secret scan of log lines.

Each backend is read through its documented HTTP API with one small JSON client
(``ObservabilityApi``: timeout, bearer token, CA, tenant header, no redirects, no retries);
readers return plain dataclasses, evaluators return findings. ``scan_for_secrets`` works on any
lines (Loki results, ``kubectl logs`` output) and never returns a secret: matches are redacted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from pytest_deployverify.checks.findings import Finding, Severity
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.components.httpcommon import explain_http_error, tls_verify
from pytest_deployverify.components.prometheus import ApiError
from pytest_deployverify.expectations.monitoring import (
    GrafanaConfig,
    LogsConfig,
    TracingBackend,
    TracingConfig,
    format_duration,
    parse_duration,
)


def _finding(check_id: str, severity: Severity, subject: str, message: str) -> Finding:
    return Finding(check_id=check_id, severity=severity, subject=subject, message=message)


# -- the HTTP client ---------------------------------------------------------------------------------


class ObservabilityApi:
    """GET JSON from one backend; every failure is an ``ApiError`` naming it and its endpoint."""

    def __init__(
        self,
        component: str,
        url: str,
        *,
        display: str,
        timeout: float,
        token: str | None = None,
        ca_file: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.component = component
        self.display = display
        self.timeout = timeout
        all_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            base_url=url.rstrip("/"),
            timeout=timeout,
            headers=all_headers,
            verify=tls_verify(ca_file),
            follow_redirects=False,
        )

    def fail(self, what: str, problem: str) -> ApiError:
        return ApiError(f"{self.component} at {self.display} {problem} ({what})", problem)

    def get(
        self, path: str, params: Mapping[str, str | int | float] | None = None
    ) -> httpx.Response:
        try:
            response = self.http.get(path, params=dict(params) if params else None)
        except httpx.HTTPError as exc:
            raise self.fail(f"GET {path}", explain_http_error(exc, self.timeout)) from exc
        if response.status_code in (401, 403):
            raise self.fail(
                f"GET {path}",
                f"rejected the credentials ({response.status_code}): check the profile's token",
            )
        return response

    def get_json(
        self, path: str, params: Mapping[str, str | int | float] | None = None
    ) -> tuple[int, Any]:
        """``(status, decoded body)``; a body that is not JSON is an ``ApiError``."""
        response = self.get(path, params)
        try:
            return response.status_code, response.json()
        except ValueError:
            raise self.fail(
                f"GET {path}",
                f"answered {response.status_code} with a body that is not JSON: "
                f"{response.text[:120]!r}",
            ) from None

    def close(self) -> None:
        self.http.close()


# Cheap, documented readiness endpoints used as the probe when the client is built.
PROBES = {
    "grafana": "/api/health",
    TracingBackend.JAEGER.value: "/api/services",
    TracingBackend.TEMPO.value: "/ready",
    "loki": "/ready",
}


def _build(component: str, probe: str, config: Any, headers: Mapping[str, str]) -> ObservabilityApi:
    token = getattr(config, "api_token", None) or getattr(config, "bearer_token", None)
    api = ObservabilityApi(
        component,
        config.url.get(),
        display=config.url.display,
        timeout=config.timeout,
        token=token.get() if token else None,
        ca_file=config.ca_file,
        headers=headers,
    )
    try:
        response = api.get(probe)
    except ApiError as exc:
        api.close()
        raise ComponentUnavailable(component, config.url.display, exc.problem) from exc
    if response.status_code >= 400:
        api.close()
        raise ComponentUnavailable(
            component,
            config.url.display,
            f"is not ready: GET {probe} answered {response.status_code} {response.text[:120]!r}",
        )
    return api


def grafana_api(config: GrafanaConfig) -> ObservabilityApi:
    """A probed Grafana client (``GET /api/health``); ``ComponentUnavailable`` when it fails."""
    headers = {"X-Grafana-Org-Id": str(config.org_id)} if config.org_id is not None else {}
    return _build("grafana", PROBES["grafana"], config, headers)


def tracing_api(config: TracingConfig) -> ObservabilityApi:
    """A probed Jaeger (``/api/services``) or Tempo (``/ready``) client."""
    headers = {"X-Scope-OrgID": config.tenant} if config.tenant else {}
    return _build(
        f"tracing ({config.backend.value})", PROBES[config.backend.value], config, headers
    )


def logs_api(config: LogsConfig) -> ObservabilityApi:
    """A probed Loki client (``/ready``)."""
    headers = {"X-Scope-OrgID": config.tenant} if config.tenant else {}
    return _build("logs (loki)", PROBES["loki"], config, headers)


# -- Grafana -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrafanaHealth:
    status: int
    database: str | None
    version: str | None


def read_grafana_health(api: ObservabilityApi) -> GrafanaHealth:
    status, body = api.get_json("/api/health")
    body = body if isinstance(body, Mapping) else {}
    return GrafanaHealth(status, body.get("database"), body.get("version"))


def grafana_health_findings(health: GrafanaHealth) -> list[Finding]:
    if health.status == 200 and health.database == "ok":
        return []
    return [
        _finding(
            "grafana-health",
            Severity.HIGH,
            "grafana",
            f"/api/health answered {health.status} with database {health.database!r}; "
            "expected 200 and database 'ok'",
        )
    ]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    status: int
    title: str | None = None
    datasources: tuple[str, ...] = ()  # uids referenced by panels and template variables
    message: str | None = None


_BUILTIN_DATASOURCES = {"grafana", "-- grafana --", "-- mixed --", "-- dashboard --", "__expr__"}


def dashboard_datasources(doc: Any) -> list[str]:
    """Datasource uids a dashboard JSON refers to (variables like ``${DS}`` and built-ins skipped)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            ref = node.get("datasource")
            if isinstance(ref, Mapping):
                uid = ref.get("uid")
                if (
                    isinstance(uid, str)
                    and uid
                    and not uid.startswith("$")
                    and uid.lower() not in _BUILTIN_DATASOURCES
                    and uid not in found
                ):
                    found.append(uid)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)
    return found


def read_dashboard(api: ObservabilityApi, uid: str) -> Dashboard:
    status, body = api.get_json(f"/api/dashboards/uid/{uid}")
    body = body if isinstance(body, Mapping) else {}
    if status != 200:
        return Dashboard(uid, status, message=str(body.get("message") or "")[:200])
    dashboard = body.get("dashboard") or {}
    return Dashboard(uid, status, dashboard.get("title"), tuple(dashboard_datasources(dashboard)))


def dashboard_findings(dashboards: Sequence[Dashboard]) -> list[Finding]:
    return [
        _finding(
            "grafana-dashboard",
            Severity.HIGH,
            f"grafana dashboard {d.uid}",
            f"GET /api/dashboards/uid/{d.uid} answered {d.status} ({d.message or 'no message'}); "
            "expected the dashboard to exist",
        )
        for d in dashboards
        if d.status != 200
    ]


@dataclass(frozen=True)
class DatasourceHealth:
    uid: str
    status: int
    state: str | None  # "OK" or "ERROR" as Grafana reports it
    message: str | None


def read_datasource_health(api: ObservabilityApi, uid: str) -> DatasourceHealth:
    status, body = api.get_json(f"/api/datasources/uid/{uid}/health")
    body = body if isinstance(body, Mapping) else {}
    return DatasourceHealth(uid, status, body.get("status"), str(body.get("message") or "")[:200])


def datasource_findings(healths: Sequence[DatasourceHealth]) -> list[Finding]:
    return [
        _finding(
            "grafana-datasource",
            Severity.HIGH,
            f"grafana datasource {h.uid}",
            f"health check answered {h.status} status {h.state!r}: {h.message or 'no message'}; "
            "expected status OK",
        )
        for h in healths
        if h.status != 200 or str(h.state).upper() != "OK"
    ]


# -- traces -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceSearch:
    backend: str
    service: str
    start: float
    end: float
    count: int
    newest: float | None  # start time (epoch seconds) of the newest trace found


def read_recent_traces(
    api: ObservabilityApi, config: TracingConfig, *, clock: Callable[[], float] = time.time
) -> TraceSearch:
    """Traces of ``config.service`` that started within the lookback window."""
    end = clock()
    start = end - parse_duration(config.lookback)
    limit = max(config.min_traces, 20)
    starts: list[float] = []
    if config.backend is TracingBackend.JAEGER:
        path = "/api/traces"
        status, body = api.get_json(
            path,
            {
                "service": config.service,
                "start": int(start * 1e6),
                "end": int(end * 1e6),
                "limit": limit,
            },
        )
        _expect_ok(api, path, status, body)
        for trace in body.get("data") or []:
            spans = trace.get("spans") or []
            if spans:
                starts.append(min(float(s.get("startTime", 0)) for s in spans) / 1e6)
    else:
        path = "/api/search"
        status, body = api.get_json(
            path,
            {
                "tags": f"service.name={config.service}",
                "start": int(start),
                "end": int(end),
                "limit": limit,
            },
        )
        _expect_ok(api, path, status, body)
        for trace in body.get("traces") or []:
            starts.append(float(trace.get("startTimeUnixNano", 0)) / 1e9)
    recent = [s for s in starts if s >= start]
    return TraceSearch(
        config.backend.value, config.service, start, end, len(recent), max(recent, default=None)
    )


def _expect_ok(api: ObservabilityApi, path: str, status: int, body: Any) -> None:
    if status != 200 or not isinstance(body, Mapping):
        detail = body.get("message") or body.get("errors") if isinstance(body, Mapping) else body
        raise api.fail(f"GET {path}", f"answered {status}: {str(detail)[:200]}")


def trace_findings(search: TraceSearch, min_traces: int) -> list[Finding]:
    if search.count >= min_traces:
        return []
    window = format_duration(search.end - search.start)
    return [
        _finding(
            "tracing-recent",
            Severity.MEDIUM,
            f"{search.backend} service {search.service}",
            f"{search.count} trace(s) in the last {window}; expected at least {min_traces} "
            "(is the OTLP exporter configured and sampling?)",
        )
    ]


# -- logs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    timestamp: float  # epoch seconds
    labels: Mapping[str, str]
    text: str


@dataclass(frozen=True)
class LogQuery:
    selector: str
    start: float
    end: float
    lines: tuple[LogLine, ...]


def read_recent_logs(
    api: ObservabilityApi, config: LogsConfig, *, clock: Callable[[], float] = time.time
) -> LogQuery:
    """Newest lines (up to ``limit``) of ``config.selector`` within the lookback window."""
    end = clock()
    start = end - parse_duration(config.lookback)
    path = "/loki/api/v1/query_range"
    status, body = api.get_json(
        path,
        {
            "query": config.selector,
            "start": int(start * 1e9),
            "end": int(end * 1e9),
            "limit": config.limit,
            "direction": "backward",
        },
    )
    if status != 200 or not isinstance(body, Mapping) or body.get("status") != "success":
        detail = body.get("error") or body.get("message") if isinstance(body, Mapping) else body
        raise api.fail(f"GET {path}", f"answered {status}: {str(detail)[:200]}")
    lines = []
    for stream in (body.get("data") or {}).get("result") or []:
        labels = dict(stream.get("stream") or {})
        for ts, text in stream.get("values") or []:
            lines.append(LogLine(int(ts) / 1e9, labels, str(text)))
    lines.sort(key=lambda line: line.timestamp, reverse=True)
    return LogQuery(config.selector, start, end, tuple(lines))


def log_findings(query: LogQuery, min_lines: int) -> list[Finding]:
    if len(query.lines) >= min_lines:
        return []
    window = format_duration(query.end - query.start)
    return [
        _finding(
            "logs-recent",
            Severity.MEDIUM,
            f"loki stream {query.selector}",
            f"{len(query.lines)} log line(s) in the last {window}; expected at least {min_lines} "
            "(is log shipping from the pods working?)",
        )
    ]


# -- secret scan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretPattern:
    kind: str
    regex: re.Pattern[str]
    group: int  # the group holding the secret itself
    keep: int  # leading characters of it that are safe to show (public prefixes only)


SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "private key",
        re.compile(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY)-----"),
        1,
        99,
    ),
    SecretPattern(
        "JWT", re.compile(r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"), 1, 4
    ),
    SecretPattern("AWS access key id", re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"), 1, 4),
    SecretPattern(
        "AWS secret access key",
        re.compile(r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})"),
        1,
        0,
    ),
    SecretPattern("bearer token", re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})"), 1, 0),
    SecretPattern(
        "password",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|client[_-]?secret)"
            r"[\"']?\s*[:=]\s*[\"']?([^\s\"'&,;}]{3,})"
        ),
        1,
        0,
    ),
)
# Values that are already masked are not leaks.
_MASKED = re.compile(
    r"^(?:\*+|x{3,}|\[?redacted\]?|<redacted>|\*\*\*.*|null|none|true|false|\$\{.*|%s)$", re.I
)


@dataclass(frozen=True)
class SecretMatch:
    kind: str
    where: str  # e.g. "line 12 {app=api-gateway, pod=...}"
    redacted: str  # e.g. "eyJh…(redacted, 142 chars)"


def redact(value: str, keep: int) -> str:
    """``eyJh…(redacted, 142 chars)``: a public prefix at most, and the length."""
    shown = value[:keep] if keep < len(value) else value
    if keep >= len(value):
        return shown
    return f"{shown}…(redacted, {len(value)} chars)"


def scan_line(text: str) -> list[tuple[str, str]]:
    """``(kind, redacted)`` for each secret-looking value in one line (each span reported once)."""
    hits: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in SECRET_PATTERNS:
        for match in pattern.regex.finditer(text):
            start, end = match.span(pattern.group)
            value = match.group(pattern.group)
            if _MASKED.match(value) or any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            label = ""
            if pattern.keep == 0:
                # The key or scheme before the value, without quotes: "password=", "Bearer ".
                label = re.sub(r"[\s\"']", "", match.group(0)[: start - match.start()])
                label += " " if label[-1:].isalnum() else ""
            hits.append((pattern.kind, label + redact(value, pattern.keep)))
    return hits


def scan_for_secrets(
    lines: Iterable[tuple[str, str]], *, max_matches: int = 50
) -> list[SecretMatch]:
    """Scan ``(where, text)`` pairs; the result never contains a secret value."""
    found: list[SecretMatch] = []
    for where, text in lines:
        for kind, shown in scan_line(text):
            found.append(SecretMatch(kind, where, shown))
            if len(found) >= max_matches:
                return found
    return found


def log_lines_for_scan(query: LogQuery) -> list[tuple[str, str]]:
    def where(index: int, line: LogLine) -> str:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(line.labels.items())[:4])
        return f"line {index + 1} {{{labels}}}"

    return [(where(i, line), line.text) for i, line in enumerate(query.lines)]


def secret_findings(matches: Sequence[SecretMatch], source: str) -> list[Finding]:
    return [
        _finding(
            "logs-no-secrets",
            Severity.CRITICAL,
            f"{source} {m.where}",
            f"contains a {m.kind}: {m.redacted}; expected secrets and tokens masked in logs",
        )
        for m in matches
    ]
