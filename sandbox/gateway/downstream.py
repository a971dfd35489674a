"""Stand-ins for the gateway's downstream services: one process, one loopback port per service.

Each service answers ``GET /health`` with 200 ``{"status": "ok"}`` after a delay. A service can
start (or be switched at run time) ``unhealthy`` (503) or ``hang`` (no answer until switched back
or stopped), through ``POST /_control/{healthy|unhealthy|hang}`` on its own port.

Run as ``python -m sandbox.gateway.downstream --names a,b --ports-file F``; the process binds
every port itself (port 0, so no race), then writes ``{name: port}`` to ``F``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sandbox.gateway.childenv import REPO_ROOT, child_env
from sandbox.ports import LOOPBACK
from sandbox.procs import ManagedProcess

# The 19 services the source checklist's gateway fronts.
DEFAULT_SERVICES: tuple[str, ...] = (
    "auth-service",
    "venue-service",
    "event-service",
    "ticket-service",
    "payment-service",
    "order-service",
    "notification-service",
    "user-service",
    "search-service",
    "pricing-service",
    "inventory-service",
    "marketplace-service",
    "analytics-service",
    "file-service",
    "compliance-service",
    "integration-service",
    "monitoring-service",
    "blockchain-service",
    "scanning-service",
)
STATES = ("healthy", "unhealthy", "hang")
READY_TIMEOUT = 15.0


# -- the server side (runs in the child process) ---------------------------------------------


class _Service:
    def __init__(self, name: str, delay: float, state: str, stopping: threading.Event) -> None:
        self.name = name
        self.delay = delay
        self.state = state
        self.stopping = stopping


class _Handler(BaseHTTPRequestHandler):
    server: _ServiceServer

    def do_GET(self) -> None:
        service = self.server.service
        if self.path != "/health":
            self._reply(404, {"error": {"code": "not_found", "message": "No such path."}})
            return
        # Waiting on the stop event (not sleep) lets a shutdown end a hanging request at once.
        if service.stopping.wait(service.delay):
            return
        while service.state == "hang":
            if service.stopping.wait(0.05):
                return
        if service.state == "unhealthy":
            self._reply(503, {"status": "unhealthy", "service": service.name})
        else:
            self._reply(200, {"status": "ok", "service": service.name})

    def do_POST(self) -> None:
        prefix = "/_control/"
        state = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
        if state not in STATES:
            self._reply(404, {"error": {"code": "not_found", "message": "No such path."}})
            return
        self.server.service.state = state
        self._reply(200, {"service": self.server.service.name, "state": state})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the prober timed out and left

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the gateway's probes would flood the log


class _ServiceServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hanging request must not hold up shutdown

    def __init__(self, service: _Service) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.service = service


def serve(
    names: Iterable[str],
    ports_file: Path,
    *,
    delay: float,
    unhealthy: frozenset[str] = frozenset(),
    hanging: frozenset[str] = frozenset(),
) -> None:
    """Serve every named service until SIGTERM/SIGINT; write ``{name: port}`` once bound."""
    stopping = threading.Event()
    servers: dict[str, _ServiceServer] = {}
    for name in names:
        state = "hang" if name in hanging else "unhealthy" if name in unhealthy else "healthy"
        servers[name] = _ServiceServer(_Service(name, delay, state, stopping))
    for server in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()

    ports = {name: server.server_address[1] for name, server in servers.items()}
    partial = ports_file.with_suffix(".tmp")
    partial.write_text(json.dumps(ports))
    partial.replace(ports_file)  # atomic: the parent never reads half a file

    finished = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: finished.set())
    while not finished.wait(0.5):
        pass
    stopping.set()
    # shutdown() waits up to one poll interval per server: do them side by side, not in a row.
    closers = [threading.Thread(target=server.shutdown) for server in servers.values()]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join()
    for server in servers.values():
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.gateway.downstream")
    parser.add_argument("--names", default=",".join(DEFAULT_SERVICES))
    parser.add_argument("--ports-file", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--unhealthy", default="")
    parser.add_argument("--hang", default="")
    args = parser.parse_args(argv)
    serve(
        _split(args.names),
        args.ports_file,
        delay=args.delay,
        unhealthy=frozenset(_split(args.unhealthy)),
        hanging=frozenset(_split(args.hang)),
    )
    return 0


def _split(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


# -- the launcher side (runs in tests and sandbox scripts) -----------------------------------


@dataclass
class DownstreamProcess:
    urls: dict[str, str]
    process: ManagedProcess = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def env_value(self) -> str:
        """The ``DOWNSTREAM_SERVICES`` value (name=url,...) for the gateway."""
        return ",".join(f"{name}={url}" for name, url in self.urls.items())

    def set_state(self, name: str, state: str) -> None:
        """Switch one service to healthy, unhealthy (503) or hang, while running."""
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {state!r}")
        request = urllib.request.Request(f"{self.urls[name]}/_control/{state}", method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=5):
            pass

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> DownstreamProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_downstream(
    workdir: Path,
    names: Iterable[str] = DEFAULT_SERVICES,
    *,
    delay: float = 0.2,
    unhealthy: Iterable[str] = frozenset(),
    hanging: Iterable[str] = frozenset(),
    env: Mapping[str, str] | None = None,
) -> DownstreamProcess:
    """Start the stand-in services in one child process; return once every port answers."""
    names = list(names)
    unknown = (set(unhealthy) | set(hanging)) - set(names)
    if unknown:
        raise ValueError(f"unhealthy/hanging names not among the services: {sorted(unknown)}")
    workdir.mkdir(parents=True, exist_ok=True)
    ports_file = workdir / "downstream-ports.json"
    ports_file.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "sandbox.gateway.downstream",
        "--names",
        ",".join(names),
        "--ports-file",
        str(ports_file),
        "--delay",
        str(delay),
        "--unhealthy",
        ",".join(unhealthy),
        "--hang",
        ",".join(hanging),
    ]
    process = ManagedProcess(
        "downstream", argv, workdir, env=child_env(env or {}), cwd=REPO_ROOT
    ).start()
    with process.stopped_on_error():
        process.wait_until(ports_file.exists, READY_TIMEOUT, "writing its ports file")
        ports: dict[str, int] = json.loads(ports_file.read_text())
        # The sockets listen before the file is written: a port read here already accepts.
        urls = {name: f"http://{LOOPBACK}:{ports[name]}" for name in names}
    return DownstreamProcess(urls=urls, process=process)


if __name__ == "__main__":
    sys.exit(main())
