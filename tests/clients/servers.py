"""Real servers for the client tests, as session fixtures (imported explicitly by the test modules).

Everything listens on 127.0.0.1 at ports chosen at run time and is stopped by PID at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.components.catalog import profile_from_dict
from pytest_deployverify.profile.model import Profile
from sandbox.certs import CertFiles, make_certs
from sandbox.kube import KubeEmulator, make_pods
from sandbox.servers.alertmanager import AlertmanagerServer, start_alertmanager
from sandbox.servers.postgres import PostgresServer, start_postgres
from sandbox.servers.prometheus import PrometheusServer, start_prometheus
from sandbox.servers.redis import RedisServer, start_redis
from tests.clients.blackhole import LOOPBACK, BlackHole

REDIS_PASSWORD = "redis-Pa55-word-for-tests"
# Pods of a namespace of our own, so counts do not depend on the shared emulator fixtures.
CACHE_NAMESPACE = "cache-test"
CACHE_PODS = 25


def make_profile(**sections: Any) -> Profile:
    """A validated profile named ``clients-test`` with the given component sections."""
    return profile_from_dict({"name": "clients-test", **sections})


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def redis_server(
    tmp_path_factory: pytest.TempPathFactory, tls_certs: CertFiles
) -> Iterator[RedisServer]:
    """redis-server with a password, a plaintext port and a TLS port (sandbox CA)."""
    server = start_redis(
        tmp_path_factory.mktemp("redis"),
        password=REDIS_PASSWORD,
        tls=True,
        certs=tls_certs,
        appendonly=False,
        save="",
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = start_postgres(tmp_path_factory.mktemp("postgres"), archive=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def alertmanager_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AlertmanagerServer]:
    server = start_alertmanager(
        tmp_path_factory.mktemp("alertmanager"),
        receivers=[{"name": "ops-webhook", "type": "webhook"}],
        route_receiver="ops-webhook",
    )
    yield server
    server.stop()


@dataclass
class HttpServer:
    url: str
    hits: list[str]


class _Handler(BaseHTTPRequestHandler):
    def _answer(self, body: bytes) -> None:
        hits: list[str] = self.server.hits  # type: ignore[attr-defined]
        hits.append(f"{self.command} {self.path} auth={self.headers.get('X-Api-Key')}")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(b"ok\n")

    def do_HEAD(self) -> None:
        self._answer(b"ok\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def http_server() -> Iterator[HttpServer]:
    """A tiny local HTTP server that answers 200 and records each request line."""
    server = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
    hits: list[str] = []
    server.hits = hits  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield HttpServer(url=f"http://{LOOPBACK}:{server.server_address[1]}", hits=hits)
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="session")
def kube_emulator() -> Iterator[KubeEmulator]:
    """The Kubernetes API emulator with its default fixtures plus our own namespace of pods."""
    emulator = KubeEmulator()
    emulator.store.put(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CACHE_NAMESPACE}}
    )
    emulator.store.put_many(
        make_pods(CACHE_PODS, namespace=CACHE_NAMESPACE, app="cache-app")
        + make_pods(5, namespace=CACHE_NAMESPACE, app="other-app", labels={"tier": "db"})
    )
    with emulator:
        yield emulator


@pytest.fixture(scope="session")
def kubeconfig(kube_emulator: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kube_emulator.write_kubeconfig(
        tmp_path_factory.mktemp("kube") / "config", context_name="emulator"
    )


@pytest.fixture
def blackhole() -> Iterator[BlackHole]:
    """A loopback port that accepts connections and never answers; counts connection attempts."""
    with BlackHole() as hole:
        yield hole
