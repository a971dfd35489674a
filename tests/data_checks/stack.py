"""Shared support for the data-check tests: profile sections, scrape targets, faulty peers, a TCP
proxy, the backfilled history for gates, a Redis Sentinel, and polling. Imported explicitly (no
conftest).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from pytest_deployverify.components.postgres import PostgresConfig
from pytest_deployverify.components.redis import RedisConfig, no_retry
from pytest_deployverify.profile.schema import build
from sandbox.ports import LOOPBACK, free_port
from sandbox.procs import ManagedProcess
from sandbox.servers.http_probe import get_json
from sandbox.servers.openmetrics import (
    counter_series,
    openmetrics_document,
    openmetrics_series,
    past_timestamps,
)

REDIS_PASSWORD = "dv-test-redis-pw-4b1f"
JOB = "api-gateway"
# Scrape settings for the test's jobs: a 2 s timeout keeps targets "up" on a busy 2-core machine.
SCRAPE = {"scrape_interval": "2s", "scrape_timeout": "2s"}


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until ``predicate()`` is truthy and return it; fail the test (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(0.1)


# -- profile sections --------------------------------------------------------------------------------


def redis_config(url: str, **values: Any) -> RedisConfig:
    return build(RedisConfig, {"url": url, "timeout": 1.0, **values})


def postgres_config(dsn: str, **values: Any) -> PostgresConfig:
    return build(PostgresConfig, {"dsn": dsn, "timeout": 2.0, **values})


# -- a scrape target whose series the test controls ---------------------------------------------------


class MetricsTarget:
    """Serves ``/metrics`` with the lines the test sets; ``failing`` answers 500 instead."""

    def __init__(self) -> None:
        self.series: dict[str, float] = {}
        self.failing = False
        self._lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with target._lock:
                    failing = target.failing
                    body = "".join(f"{name} {value:g}\n" for name, value in target.series.items())
                payload = b"scrape refused by the test\n" if failing else body.encode()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self._server.server_address[1]}"

    def set(self, name: str, value: float) -> None:
        with self._lock:
            self.series[name] = value

    def remove(self, name: str) -> None:
        with self._lock:
            self.series.pop(name, None)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class TcpProxy:
    """Forwards every connection on a free loopback port to ``127.0.0.1:target_port``: the ingress
    or load balancer a verifier goes through while the cluster's own components talk directly."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            try:
                upstream = socket.create_connection((LOOPBACK, self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            source.settimeout(None)
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()


class GarbageServer:
    """Accepts connections and answers every one with bytes no protocol expects, then closes."""

    JUNK = b"\x00\xff\xfeGARBAGE \x13\x37 not a protocol\r\n" * 4

    def __init__(self) -> None:
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                peer, _ = self._listener.accept()
            except OSError:
                continue
            with contextlib.suppress(OSError), peer:
                peer.sendall(self.JUNK)
                peer.settimeout(0.2)
                with contextlib.suppress(OSError):
                    peer.recv(4096)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()


# -- Redis Sentinel ------------------------------------------------------------------------------------


@dataclass
class Sentinel:
    port: int
    process: ManagedProcess

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self.process.stop()


def start_sentinel(
    workdir: Path, master_port: int, password: str, *, name: str = "mymaster", quorum: int = 1
) -> Sentinel:
    """One redis-server in Sentinel mode watching ``127.0.0.1:master_port`` (it rewrites its file)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "sentinel.conf"
    conf.write_text(
        f'bind {LOOPBACK}\nport {port}\ndaemonize no\nlogfile ""\ndir {workdir}\n'
        f"sentinel monitor {name} {LOOPBACK} {master_port} {quorum}\n"
        f"sentinel auth-pass {name} {password}\n"
        f"sentinel down-after-milliseconds {name} 5000\n"
    )
    process = ManagedProcess("sentinel", [binary, str(conf), "--sentinel"], workdir, port=port)
    process.start()
    client = redis.Redis(host=LOOPBACK, port=port, socket_timeout=1, retry=no_retry())
    with process.stopped_on_error():
        process.wait_until(lambda: bool(client.ping()), 10, "answering PING")
    client.close()
    return Sentinel(port, process)


# -- the backfilled past for metric gates ------------------------------------------------------------

HISTORY_S = 3600
STEP_S = 15
# Cumulative share of requests at or under each bucket bound.
FAST = {0.1: 0.70, 0.25: 0.96, 0.5: 0.99, 1.0: 1.0, 2.5: 1.0, 5.0: 1.0, math.inf: 1.0}
SLOW = {0.1: 0.05, 0.25: 0.10, 0.5: 0.20, 1.0: 0.50, 2.5: 0.80, 5.0: 1.0, math.inf: 1.0}
# Windows (minutes before the end of history) where the "spiky" job answers 500s.
SPIKES = ((26, 24), (16, 14))


@dataclass(frozen=True)
class History:
    """The OpenMetrics document and the timestamp of its newest samples (the gates' "now")."""

    document: str
    end: int


def _rising(name: str, labels: Mapping[str, str], per_second: float, stamps: list[int]) -> str:
    return openmetrics_series(name, labels, [(ts, per_second * (ts - stamps[0])) for ts in stamps])


def _flat(name: str, labels: Mapping[str, str], value: float, stamps: list[int]) -> str:
    return openmetrics_series(name, labels, [(ts, value) for ts in stamps])


def gate_history() -> History:
    """An hour of history for a healthy ``api-gateway``, a broken ``checkout``, an ``idle`` service
    (no requests at all), a ``spiky`` one with two short bursts of 500s, and request counters
    labelled otherwise: ``clean`` (no 5xx series), ``coded`` and ``coded-broken`` (status in
    ``code``), ``unlabelled`` (no status label)."""
    stamps = past_timestamps(HISTORY_S, STEP_S)
    end = stamps[-1]
    requests, buckets, breakers, cpu, memory, limits, hpa, cache = ([] for _ in range(8))

    def service(job: str, ok: float, errors: float, shape: Mapping[float, float]) -> None:
        for status, rate in (("200", ok), ("500", errors)):
            requests.append(
                counter_series(
                    "http_requests_total",
                    {"job": job, "status": status},
                    per_second=rate,
                    window_s=HISTORY_S,
                    step_s=STEP_S,
                    end=end + 1,
                )
            )
        for bound, share in shape.items():
            le = "+Inf" if math.isinf(bound) else f"{bound:g}"
            buckets.append(
                _rising(
                    "http_request_duration_seconds_bucket",
                    {"job": job, "le": le},
                    (ok + errors) * share,
                    stamps,
                )
            )

    service(JOB, 100.0, 0.05, FAST)  # 0.05 % errors, P95 about 0.24 s
    service("checkout", 100.0, 8.0, SLOW)  # 7.4 % errors, P95 about 4.4 s
    service("idle", 0.0, 0.0, FAST)  # no traffic: every ratio is NaN

    # Services labelled differently, as healthy setups are: ``clean`` never answered a 5xx (it
    # has no 5xx series at all), ``coded`` and ``coded-broken`` carry the status in ``code``,
    # ``unlabelled`` counts requests without any status label.
    for job, labels, rate in (
        ("clean", {"status": "200"}, 100.0),
        ("coded", {"code": "200"}, 100.0),
        ("coded", {"code": "500"}, 0.05),
        ("coded-broken", {"code": "200"}, 100.0),
        ("coded-broken", {"code": "503"}, 8.0),
        ("unlabelled", {"method": "GET"}, 100.0),
    ):
        requests.append(
            counter_series(
                "http_requests_total",
                {"job": job, **labels},
                per_second=rate,
                window_s=HISTORY_S,
                step_s=STEP_S,
                end=end + 1,
            )
        )

    spiky_errors, total = [], 0.0
    for ts in stamps:
        minutes_before = (end - ts) / 60
        if any(late < minutes_before <= early for early, late in SPIKES):
            total += STEP_S * 1.0
        spiky_errors.append((ts, total))
    requests.append(
        counter_series(
            "http_requests_total",
            {"job": "spiky", "status": "200"},
            per_second=10.0,
            window_s=HISTORY_S,
            step_s=STEP_S,
            end=end + 1,
        )
    )
    requests.append(
        openmetrics_series("http_requests_total", {"job": "spiky", "status": "500"}, spiky_errors)
    )

    for job, open_services in ((JOB, ()), ("checkout", ("payment", "ticket"))):
        for name in ("auth", "payment", "ticket"):
            value = 1.0 if name in open_services else 0.0
            breakers.append(
                _flat("gateway_circuit_breaker_open", {"job": job, "service": name}, value, stamps)
            )
    for pod, share in (("api-gateway-a", 0.4), ("checkout-a", 0.96)):
        labels = {"pod": pod, "container": "app", "namespace": "prod"}
        cpu.append(
            counter_series(
                "container_cpu_usage_seconds_total",
                labels,
                per_second=0.5 * share,
                window_s=HISTORY_S,
                step_s=STEP_S,
                end=end + 1,
            )
        )
        memory.append(_flat("container_memory_working_set_bytes", labels, 512e6 * share, stamps))
        for resource, limit in (("cpu", 0.5), ("memory", 512e6)):
            limits.append(
                _flat(
                    "kube_pod_container_resource_limits",
                    {**labels, "resource": resource},
                    limit,
                    stamps,
                )
            )
    for hpa_name, current in ((JOB, 3), ("checkout", 10)):
        labels = {"namespace": "prod", "horizontalpodautoscaler": hpa_name}
        hpa.append(
            _flat("kube_horizontalpodautoscaler_status_current_replicas", labels, current, stamps)
        )
        hpa.append(_flat("kube_horizontalpodautoscaler_spec_max_replicas", labels, 10, stamps))
    for cache_name, hits, misses in (("main", 95.0, 5.0), ("cold", 50.0, 50.0)):
        for family, rate in (
            ("redis_keyspace_hits_total", hits),
            ("redis_keyspace_misses_total", misses),
        ):
            cache.append(
                counter_series(
                    family,
                    {"cache": cache_name},
                    per_second=rate,
                    window_s=HISTORY_S,
                    step_s=STEP_S,
                    end=end + 1,
                )
            )
    document = openmetrics_document(
        ("http_requests", "counter", requests),
        ("http_request_duration_seconds_bucket", "gauge", buckets),
        ("gateway_circuit_breaker_open", "gauge", breakers),
        ("container_cpu_usage_seconds", "counter", cpu),
        ("container_memory_working_set_bytes", "gauge", memory),
        ("kube_pod_container_resource_limits", "gauge", limits),
        ("kube_horizontalpodautoscaler_status_current_replicas", "gauge", hpa[0::2]),
        ("kube_horizontalpodautoscaler_spec_max_replicas", "gauge", hpa[1::2]),
        ("redis_keyspace_hits", "counter", cache[0::2]),
        ("redis_keyspace_misses", "counter", cache[1::2]),
    )
    return History(document, end)


class FakeClock:
    """A clock for soaks over the past: ``sleep`` advances it instead of waiting."""

    def __init__(self, start: float) -> None:
        self.now = float(start)
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- Alertmanager configuration changes ---------------------------------------------------------------


def reload_alertmanager(server: Any, config: Mapping[str, Any]) -> None:
    """Rewrite the running Alertmanager's file and reload it (SIGHUP), waiting until it serves it."""
    text = yaml.safe_dump(dict(config), sort_keys=False)
    server.config_file.write_text(text)
    os.kill(server.pid, signal.SIGHUP)
    wanted = yaml.safe_load(text)

    def served() -> bool:
        status = get_json(server.url, "/api/v2/status")
        original = yaml.safe_load(status["config"]["original"])
        return [r["name"] for r in original.get("receivers", [])] == [
            r["name"] for r in wanted.get("receivers", [])
        ] and len(original["route"].get("routes") or []) == len(wanted["route"].get("routes") or [])

    wait_for(served, 10, "Alertmanager to serve the new configuration")
