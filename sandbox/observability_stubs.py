"""Small local HTTP servers that answer like Grafana, Jaeger, Tempo and Loki document their APIs.

Only the endpoints the verifier reads are served, with the documented shapes:

* Grafana: ``GET /api/health``, ``/api/dashboards/uid/{uid}``, ``/api/datasources/uid/{uid}/health``
  (``Authorization: Bearer <service account token>`` when a token is set);
* Jaeger query: ``GET /api/services``, ``/api/traces?service=&start=&end=&limit=`` (microseconds);
* Tempo: ``GET /ready``, ``/api/search?tags=service.name=X&start=&end=&limit=`` (seconds);
* Loki: ``GET /ready``, ``/loki/api/v1/query_range?query={stream selector}&start=&end=&limit=``
  (nanoseconds; the selector's ``=``, ``!=``, ``=~`` and ``!~`` matchers are honoured).

Tempo and Loki require ``X-Scope-OrgID`` when a tenant is set, as multi-tenant installs do. Each stub
runs in a daemon thread on a free loopback port; ``stop()`` closes it. Data is set by the test, or
kept live for a long-running sandbox: ``keep_recent`` makes a trace store answer as a service
sampled every so often would (one trace per interval, up to the moment of the query), and
``LokiStub.follow`` ships the lines a log file gains, as promtail would, stamped when first read.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from sandbox.ports import LOOPBACK

Reply = tuple[int, Any]  # status and a JSON-able body (str bodies are sent as text/plain)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        stub = self.server.stub
        stub.record(parts.path)
        try:
            status, body = stub.answer(parts.path, query, dict(self.headers.items()))
        except Exception as exc:  # a stub bug must show up as a 500, not a hung client
            status, body = 500, {"message": f"stub error: {exc}"}
        if isinstance(body, str):
            payload, kind = body.encode(), "text/plain; charset=utf-8"
        else:
            payload, kind = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output clean; requests are in StubServer.requests


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, stub: StubServer) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.stub = stub


class StubServer:
    """Base: a threaded HTTP server; subclasses implement ``route``."""

    name = "stub"

    def __init__(self, *, token: str | None = None, tenant: str | None = None) -> None:
        self.token = token
        self.tenant = tenant
        self.requests: list[str] = []
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns at once
            name=f"{self.name}-stub",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{self.name} stub is not running")
        port: int = self._server.server_address[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # -- requests --------------------------------------------------------------------------------

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def answer(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Reply:
        lowered = {k.lower(): v for k, v in headers.items()}
        if self.token is not None and lowered.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Unauthorized"}
        if self.tenant is not None and lowered.get("x-scope-orgid") != self.tenant:
            return 401, "no org id\n"
        with self._lock:
            return self.route(path, query)

    def route(self, path: str, query: Mapping[str, str]) -> Reply:
        raise NotImplementedError


# -- Grafana -----------------------------------------------------------------------------------------


class GrafanaStub(StubServer):
    """``/api/health``, dashboards by uid, data source health by uid."""

    name = "grafana"

    def __init__(self, *, token: str | None = None, version: str = "10.4.2") -> None:
        super().__init__(token=token)
        self.version = version
        self.database = "ok"
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.datasources: dict[str, tuple[bool, str]] = {}

    def add_dashboard(
        self, uid: str, title: str, datasource_uids: Sequence[str] = ("prometheus",)
    ) -> None:
        """A dashboard with one time-series panel per data source (plus a ``$datasource`` variable)."""
        panels = [
            {
                "id": index + 1,
                "type": "timeseries",
                "title": f"Requests ({ds})",
                "datasource": {"type": "prometheus", "uid": ds},
                "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[5m]))"}],
            }
            for index, ds in enumerate(datasource_uids)
        ]
        with self._lock:
            self.dashboards[uid] = {
                "uid": uid,
                "title": title,
                "version": 3,
                "panels": panels,
                "templating": {
                    "list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]
                },
            }

    def set_datasource(self, uid: str, healthy: bool = True, message: str | None = None) -> None:
        text = message or (
            "Successfully queried the Prometheus API."
            if healthy
            else 'Post "http://prometheus:9090/api/v1/query": dial tcp: connection refused'
        )
        with self._lock:
            self.datasources[uid] = (healthy, text)

    def route(self, path: str, query: Mapping[str, str]) -> Reply:
        if path == "/api/health":
            status = 200 if self.database == "ok" else 503
            return status, {"commit": "stub", "database": self.database, "version": self.version}
        match = re.fullmatch(r"/api/dashboards/uid/([^/]+)", path)
        if match:
            dashboard = self.dashboards.get(match.group(1))
            if dashboard is None:
                return 404, {"message": "Dashboard not found"}
            meta = {"slug": dashboard["title"].lower().replace(" ", "-"), "folderTitle": "General"}
            return 200, {"dashboard": dashboard, "meta": meta}
        match = re.fullmatch(r"/api/datasources/uid/([^/]+)/health", path)
        if match:
            entry = self.datasources.get(match.group(1))
            if entry is None:
                return 404, {"message": "Data source not found"}
            healthy, message = entry
            return (
                (200, {"status": "OK", "message": message})
                if healthy
                else (
                    400,
                    {"status": "ERROR", "message": message},
                )
            )
        return 404, {"message": "Not found"}


# -- traces ------------------------------------------------------------------------------------------


@dataclass
class StubTrace:
    service: str
    start: float  # epoch seconds
    operation: str = "GET /api/v1/venues"
    duration_ms: float = 12.0
    trace_id: str = field(default_factory=lambda: secrets.token_hex(16))


@dataclass(frozen=True)
class _Steady:
    """A service sampled every ``every_s`` seconds since ``since``: one trace per interval."""

    service: str
    every_s: float
    since: float
    operation: str

    def traces(self, start: float, end: float) -> list[StubTrace]:
        first = max(0, math.ceil((start - self.since) / self.every_s))
        out = []
        k = first
        while (at := self.since + k * self.every_s) <= end:
            digest = hashlib.sha256(f"{self.service}:{k}".encode()).hexdigest()[:32]
            out.append(StubTrace(self.service, at, self.operation, trace_id=digest))
            k += 1
        return out


class _TraceStore(StubServer):
    def __init__(self, *, token: str | None = None, tenant: str | None = None) -> None:
        super().__init__(token=token, tenant=tenant)
        self.traces: list[StubTrace] = []
        self._steady: list[_Steady] = []

    def keep_recent(
        self, service: str, *, every_s: float = 60.0, operation: str = "GET /api/v1/venues"
    ) -> None:
        """From now on, one trace of ``service`` every ``every_s`` seconds, for as long as the
        stub runs (a sandbox that stays healthy for hours)."""
        with self._lock:
            self._steady.append(_Steady(service, every_s, time.time(), operation))

    def add_trace(
        self, service: str, *, age_s: float = 30.0, operation: str = "GET /api/v1/venues"
    ) -> StubTrace:
        trace = StubTrace(service, time.time() - age_s, operation)
        with self._lock:
            self.traces.append(trace)
        return trace

    def _find(self, service: str, start: float, end: float, limit: int) -> list[StubTrace]:
        steady = [t for s in self._steady if s.service == service for t in s.traces(start, end)]
        found = [
            t for t in [*self.traces, *steady] if t.service == service and start <= t.start <= end
        ]
        found.sort(key=lambda t: t.start, reverse=True)
        return found[:limit]


class JaegerStub(_TraceStore):
    """Jaeger query service (``/api/services``, ``/api/traces``; times in microseconds)."""

    name = "jaeger"

    def route(self, path: str, query: Mapping[str, str]) -> Reply:
        if path == "/api/services":
            services = sorted({t.service for t in self.traces} | {s.service for s in self._steady})
            return 200, {"data": services, "total": len(services), "errors": None}
        if path == "/api/traces":
            service = query.get("service")
            if not service:
                return 400, {"data": None, "errors": [{"code": 400, "msg": "service is required"}]}
            now_us = time.time() * 1e6
            end = float(query.get("end", now_us)) / 1e6
            start = float(query.get("start", now_us - 3600e6)) / 1e6
            traces = self._find(service, start, end, int(query.get("limit", 20)))
            return 200, {
                "data": [self._jaeger(t) for t in traces],
                "total": 0,
                "limit": 0,
                "offset": 0,
                "errors": None,
            }
        return 404, "404 page not found\n"

    @staticmethod
    def _jaeger(trace: StubTrace) -> dict[str, Any]:
        span = {
            "traceID": trace.trace_id,
            "spanID": trace.trace_id[:16],
            "operationName": trace.operation,
            "references": [],
            "startTime": int(trace.start * 1e6),
            "duration": int(trace.duration_ms * 1000),
            "tags": [{"key": "http.status_code", "type": "int64", "value": 200}],
            "processID": "p1",
        }
        return {
            "traceID": trace.trace_id,
            "spans": [span],
            "processes": {"p1": {"serviceName": trace.service, "tags": []}},
            "warnings": None,
        }


class TempoStub(_TraceStore):
    """Tempo (``/ready``, ``/api/search?tags=service.name=X``; times in seconds)."""

    name = "tempo"

    def route(self, path: str, query: Mapping[str, str]) -> Reply:
        if path == "/ready":
            return 200, "ready\n"
        if path == "/api/search":
            tags = dict(pair.split("=", 1) for pair in query.get("tags", "").split() if "=" in pair)
            service = tags.get("service.name", "")
            now = time.time()
            start = float(query.get("start", now - 3600))
            end = float(query.get("end", now))
            traces = self._find(service, start, end, int(query.get("limit", 20)))
            return 200, {
                "traces": [
                    {
                        "traceID": t.trace_id,
                        "rootServiceName": t.service,
                        "rootTraceName": t.operation,
                        "startTimeUnixNano": str(int(t.start * 1e9)),
                        "durationMs": int(t.duration_ms),
                    }
                    for t in traces
                ],
                "metrics": {"inspectedTraces": len(self.traces)},
            }
        return 404, "404 page not found\n"


# -- logs --------------------------------------------------------------------------------------------

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_stream_selector(selector: str) -> list[tuple[str, str, str]]:
    """``{app="x", pod=~"api-.*"}`` (an optional ``| …`` pipeline is ignored) → matchers.

    Raises ValueError like Loki answers 400 for a query it cannot parse."""
    text = selector.strip()
    match = re.match(r"^\{(.*?)\}\s*(\|.*)?$", text, re.S)
    if not match:
        raise ValueError(f"parse error: unexpected input, expected a stream selector: {selector!r}")
    body, out, pos = match.group(1), [], 0
    while pos < len(body):
        found = _MATCHER.match(body, pos)
        if not found:
            raise ValueError(f"parse error at position {pos + 1}: {body[pos:]!r}")
        out.append((found.group(1), found.group(2), found.group(3).replace('\\"', '"')))
        pos = found.end()
    if not out:
        raise ValueError("parse error: queries require at least one matcher")
    return out


def _selected(labels: Mapping[str, str], matchers: Iterable[tuple[str, str, str]]) -> bool:
    for name, op, value in matchers:
        actual = labels.get(name, "")
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
        if op == "=~" and not re.fullmatch(value, actual):
            return False
        if op == "!~" and re.fullmatch(value, actual):
            return False
    return True


@dataclass
class _Followed:
    """A log file shipped as it grows: what has been read so far."""

    path: Path
    labels: dict[str, str]
    offset: int
    rest: bytes = b""

    def new_lines(self) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                if handle.seek(0, 2) < self.offset:
                    self.offset, self.rest = 0, b""  # rotated or truncated: start over
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return []
        self.offset += len(data)
        *lines, self.rest = (self.rest + data).split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines if line.strip()]


class LokiStub(StubServer):
    """Loki (``/ready``, ``/loki/api/v1/query_range`` returning streams; times in nanoseconds)."""

    name = "loki"

    def __init__(self, *, token: str | None = None, tenant: str | None = None) -> None:
        super().__init__(token=token, tenant=tenant)
        self.entries: list[tuple[dict[str, str], int, str]] = []
        self._followed: list[_Followed] = []

    def push(self, labels: Mapping[str, str], line: str, *, age_s: float = 10.0) -> None:
        with self._lock:
            self.entries.append((dict(labels), int((time.time() - age_s) * 1e9), line))

    def follow(self, path: Path, labels: Mapping[str, str], *, from_start: bool = False) -> None:
        """Ship every line ``path`` gains from now on (all of it with ``from_start``) under
        ``labels``, each stamped when the stub first reads it (on the next query)."""
        offset = 0 if from_start or not path.exists() else path.stat().st_size
        with self._lock:
            self._followed.append(_Followed(path, dict(labels), offset))

    def _ship_followed(self, until: int) -> None:
        # Stamped when read, but never after the end of the query that read them (a shipper
        # would have read them a moment before the query came).
        now = min(time.time_ns(), until)
        for followed in self._followed:
            for line in followed.new_lines():
                self.entries.append((dict(followed.labels), now, line))

    def route(self, path: str, query: Mapping[str, str]) -> Reply:
        if path == "/ready":
            return 200, "ready\n"
        if path != "/loki/api/v1/query_range":
            return 404, "404 page not found\n"
        try:
            matchers = parse_stream_selector(query.get("query", ""))
        except ValueError as exc:
            return 400, f"{exc}\n"
        now = time.time_ns()
        start = int(query.get("start", now - 3600 * 10**9))
        end = int(query.get("end", now))
        self._ship_followed(end)
        limit = int(query.get("limit", 100))
        picked = sorted(
            (e for e in self.entries if start <= e[1] <= end and _selected(e[0], matchers)),
            key=lambda e: e[1],
            reverse=query.get("direction", "backward") == "backward",
        )[:limit]
        streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
        for labels, ts, line in picked:
            streams.setdefault(tuple(sorted(labels.items())), []).append([str(ts), line])
        result = [{"stream": dict(key), "values": values} for key, values in streams.items()]
        stats = {"summary": {"totalLinesProcessed": len(picked)}}
        return 200, {
            "status": "success",
            "data": {"resultType": "streams", "result": result, "stats": stats},
        }
