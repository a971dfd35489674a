"""HTTPS plumbing: a threaded HTTP/1.1 keep-alive server whose connections can all be cut at stop.

TLS is negotiated in each connection's own thread (not in `accept`), so a silent client cannot
stall the accept loop. Every open connection is tracked so `close_connections()` can unblock
threads parked on idle keep-alive sockets, and every wait (latency, black hole, watch) is on the
shared stop event, so stopping never waits for a timeout to run out.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.kube.api import ApiRequest, ApiResponse, KubeApi, WatchStream
from sandbox.kube.faults import FaultKind, Faults
from sandbox.kube.requestlog import RequestLog, RequestRecord
from sandbox.kube.status import injected_failure

_IDLE_KEEPALIVE_SECONDS = 120
_HANDSHAKE_SECONDS = 10
_MAX_BODY = 4 * 1024 * 1024


class EmulatorHTTPServer(HTTPServer):
    """Accepts on 127.0.0.1; one thread per connection, each tracked for a clean stop."""

    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        ssl_context: ssl.SSLContext,
        api: KubeApi,
        faults: Faults,
        log: RequestLog,
        stop_event: threading.Event,
    ) -> None:
        super().__init__(address, _Handler)
        self.ssl_context = ssl_context
        self.api = api
        self.faults = faults
        self.log = log
        self.stop_event = stop_event
        self._conn_lock = threading.Lock()
        self._connections: dict[int, socket.socket] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._ids = itertools.count(1)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve a FQDN (a DNS lookup); loopback needs none.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        conn_id = next(self._ids)
        thread = threading.Thread(
            target=self._serve_connection,
            args=(conn_id, request, client_address),
            name=f"kube-emulator-{self.server_port}-conn-{conn_id}",
            daemon=True,
        )
        with self._conn_lock:
            # Finished threads are forgotten here; live ones stay listed until they end, so
            # stop() can join every one of them.
            for done in [i for i, t in self._threads.items() if not t.is_alive()]:
                del self._threads[done]
            self._connections[conn_id] = request
            self._threads[conn_id] = thread
        thread.start()

    def _serve_connection(self, conn_id: int, raw: socket.socket, client_address: Any) -> None:
        conn: socket.socket = raw
        try:
            raw.settimeout(_HANDSHAKE_SECONDS)
            # Wrap without handshaking, register, then handshake: the socket that may block is
            # always the registered one, so close_connections() can cut it (wrapping detaches
            # the raw socket's descriptor).
            tls = self.ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            conn = tls
            with self._conn_lock:
                self._connections[conn_id] = tls
            if not self.stop_event.is_set():
                tls.do_handshake()
                self.finish_request(tls, client_address)
        except (OSError, ssl.SSLError):
            pass  # client went away, handshake failed, or we cut it at stop
        finally:
            with self._conn_lock:
                self._connections.pop(conn_id, None)
            _close_quietly(conn)

    def close_connections(self) -> None:
        """Cut every open connection; parked reads in connection threads return at once."""
        with self._conn_lock:
            conns = list(self._connections.values())
        for conn in conns:
            # The plain-socket shutdown: leaves the TLS object alone for its own thread.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)

    def connection_threads(self) -> list[threading.Thread]:
        """Connection threads not known to have finished (joinable; finished ones are no-ops)."""
        with self._conn_lock:
            return list(self._threads.values())

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # connection errors are expected under fault injection; stay quiet


def _close_quietly(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection pool is exercised
    timeout = _IDLE_KEEPALIVE_SECONDS
    server: EmulatorHTTPServer
    server_version = "kube-emulator"
    sys_version = ""
    # Headers and body go out in separate writes; without this each answer waits ~40 ms on the
    # peer's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        srv = self.server
        split = urlsplit(self.path)
        record = srv.log.add(
            RequestRecord(self.command, split.path, parse_qs(split.query, keep_blank_values=True))
        )
        body = self._read_body(record)
        if body is None:
            return  # unreadable body: connection already marked for closing
        decision = srv.faults.decide(split.path)
        if decision.latency > 0 and srv.stop_event.wait(decision.latency):
            self.close_connection = True
            return
        if decision.action is FaultKind.BLACKHOLE:
            record.fault = "blackhole"
            srv.stop_event.wait()
            self.close_connection = True
            return
        if decision.action is FaultKind.DROP:
            record.fault = "drop"
            self.close_connection = True
            self._cut()
            return
        if decision.action is FaultKind.ERROR:
            record.fault = "error"
            status = injected_failure(decision.status)
            self._send(ApiResponse(decision.status, _dumps(status)), record)
            return
        request = ApiRequest(
            method=self.command,
            path=split.path,
            query=record.query,
            body=body,
            authorization=self.headers.get("Authorization"),
        )
        answer = srv.api.handle(request, record)
        if isinstance(answer, WatchStream):
            self._stream(answer, record)
        else:
            self._send(answer, record)

    def _read_body(self, record: RequestRecord) -> bytes | None:
        length_text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True  # not used by the client; do not guess framing
            self._send(ApiResponse(400, b"chunked request bodies are not supported"), record)
            return None
        try:
            length = int(length_text) if length_text else 0
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY:
            self.close_connection = True
            self._send(ApiResponse(413, b"request body too large"), record)
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response: ApiResponse, record: RequestRecord | None) -> None:
        if record is not None:
            record.status = response.status
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _stream(self, watch: WatchStream, record: RequestRecord) -> None:
        record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in watch.events:
            self._chunk(event)
        # No changes happen during a watch; hold it open like a quiet cluster, then end it.
        self.server.stop_event.wait(watch.timeout)
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _cut(self) -> None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.connection, socket.SHUT_RDWR)


def _dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()
