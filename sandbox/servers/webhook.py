"""A tiny HTTP receiver (thread) that records what Alertmanager posts to it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.ports import LOOPBACK


@dataclass(frozen=True)
class Delivery:
    """One POST received: the path (which receiver) and the decoded JSON body."""

    path: str
    body: Any


class _Handler(BaseHTTPRequestHandler):
    server: _RecordingServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body: Any = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
        self.server.record(Delivery(path=self.path, body=body))
        payload = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # Keep test output clean; deliveries are inspected through WebhookReceiver.deliveries.
        return


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.deliveries: list[Delivery] = []
        self.changed = threading.Condition()

    def record(self, delivery: Delivery) -> None:
        with self.changed:
            self.deliveries.append(delivery)
            self.changed.notify_all()


class WebhookReceiver:
    """Records every JSON POST; ``url`` is its base (post to any path under it)."""

    def __init__(self) -> None:
        self._server = _RecordingServer()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        self._stopped = False

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def deliveries(self) -> list[Delivery]:
        with self._server.changed:
            return list(self._server.deliveries)

    def alerts(self, path: str | None = None) -> list[dict[str, Any]]:
        """Every alert in Alertmanager webhook payloads received (optionally on one path)."""
        found: list[dict[str, Any]] = []
        for delivery in self.deliveries:
            if path is not None and delivery.path != path:
                continue
            if isinstance(delivery.body, dict):
                found.extend(delivery.body.get("alerts", []))
        return found

    def wait_for(self, predicate: Callable[[list[Delivery]], bool], timeout: float) -> bool:
        """Wait until ``predicate(deliveries)`` holds; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._server.changed:
            while not predicate(list(self._server.deliveries)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._server.changed.wait(remaining)
            return True

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
