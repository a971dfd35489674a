"""What the rollback tests run against: the Kubernetes API emulator with the sandbox fixtures
(rolled back with ``sandbox.kube.rollback``, or not), a real Prometheus holding the sandbox
gateway's healthy hour (continued live), and a version endpoint answering the release a test sets.

Imported explicitly by the test modules (no conftest.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sandbox.history import gateway_history, gateway_rules
from sandbox.kube import KubeEmulator
from sandbox.servers.prometheus import PrometheusServer, start_prometheus

ENV = "rb"
FAILED, PREVIOUS = "1.4.2", "1.4.1"


@dataclass
class VersionEndpoint:
    """``GET /version`` answers ``{"version": <version>}``; anything else 404 (HEAD / is 200)."""

    version: str = PREVIOUS
    server: ThreadingHTTPServer | None = None
    requests: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> VersionEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: bytes | None) -> None:
                endpoint.requests.append(f"{self.command} {self.path}")
                found = self.path == "/" or body is not None
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                if body and self.command == "GET":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self._answer(None)

            def do_GET(self) -> None:
                body = json.dumps({"version": endpoint.version}).encode()
                self._answer(body if self.path == "/version" else None)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """The sandbox gateway's healthy hour (error rate 0.02 %, P95 well under 2 s), continued live
    by recording rules, as the sandbox's own Prometheus holds it."""
    server = start_prometheus(
        tmp_path_factory.mktemp("rollback-prometheus"),
        backfill_openmetrics=gateway_history(),
        rule_files=gateway_rules(),
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def version_endpoint() -> Iterator[VersionEndpoint]:
    endpoint = VersionEndpoint().start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeEmulator]:
    """The sandbox fixtures as they are (release 1.4.2 deployed); a test rolls them back."""
    from sandbox.kube import server

    # The emulator's handler writes headers and body separately: without this, Nagle's
    # algorithm delays every answer by ~40 ms (as tests/kube_checklist/cluster.py notes).
    original = server._Handler.disable_nagle_algorithm
    server._Handler.disable_nagle_algorithm = True
    emulator = KubeEmulator()
    try:
        with emulator:
            yield emulator
    finally:
        server._Handler.disable_nagle_algorithm = original


def profile_text(
    kubeconfig: Path, prometheus_url: str, gateway_url: str, *, extra: str = ""
) -> str:
    """The sandbox profile's Kubernetes, Prometheus, gates and HTTP version parts: the profile
    that verified the 1.4.2 deployment, unchanged for its rollback."""
    return f"""\
version = "{FAILED}"
{extra}

[kubernetes]
kubeconfig = "{kubeconfig}"
context = "emulator"
namespace = "api-gateway"
workloads = ["api-gateway"]
timeout = 5

[kubernetes.expect]
container = "api-gateway"

[kubernetes.expect.helm]
release = "api-gateway"
chart = "api-gateway"
chart_version = "0.9.3"

[prometheus]
url = "{prometheus_url}"

[[gates]]
name = "error_rate"
params = {{ selector = 'job="api-gateway"' }}

[[gates]]
name = "rollback_error_rate"
params = {{ selector = 'job="api-gateway"' }}

[[gates]]
name = "rollback_p95_latency"
params = {{ selector = 'job="api-gateway"' }}

[http]
base_url = "{gateway_url}"
timeout = 3
"""


def write_profile(pytester: pytest.Pytester, text: str) -> None:
    folder = pytester.path / "envs"
    folder.mkdir(exist_ok=True)
    (folder / f"{ENV}.toml").write_text(text, encoding="utf-8")


def run_args(*extra: str, select: str = "test_rollback or test_helm_release") -> tuple[str, ...]:
    return (
        "--env",
        ENV,
        "--env-dir",
        "envs",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-rfEs",
        "--checklist",
        "all",
        "-k",
        select,
        "--signoff",
        "signoff.json",
        "--signoff",
        "signoff.md",
        *extra,
    )


def outcomes(signoff: dict[str, Any]) -> dict[str, str]:
    return {check["check_id"]: check["outcome"] for check in signoff["checks"]}


def check(signoff: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in signoff["checks"] if c["check_id"] == check_id)
