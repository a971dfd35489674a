"""A TCP listener on loopback that accepts connections and never answers: the "black-holed" peer.

It counts accepted connections, so a test can prove how many connection attempts a client made
(one per run, not one per check) without timing anything.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from types import TracebackType

LOOPBACK = "127.0.0.1"


class BlackHole:
    """Accepts on a free loopback port, reads and discards whatever arrives, never writes."""

    def __init__(self, host: str = LOOPBACK) -> None:
        self.host = host
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._accepted = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._peers: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name=f"blackhole-{self.port}")
        self._thread.daemon = True

    @property
    def accepted(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return self._accepted

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> BlackHole:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    with contextlib.suppress(BlockingIOError):
                        peer, _ = self._listener.accept()
                        peer.setblocking(False)
                        self._peers.append(peer)
                        self._selector.register(peer, selectors.EVENT_READ)
                        with self._lock:
                            self._accepted += 1
                else:
                    # Drain what the client sends so its writes never block; answer nothing.
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self._selector.unregister(sock)
                        sock.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for peer in self._peers:
            with contextlib.suppress(OSError):
                peer.close()
        self._selector.close()
        self._listener.close()

    def __enter__(self) -> BlackHole:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def refused_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on (bound and released at once, so connecting is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port
