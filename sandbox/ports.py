"""Loopback ports for sandbox servers: chosen at run time, never fixed.

Other processes on the machine (a distro service, another test run) may hold the usual ports, so
every server asks the kernel for a free one and we wait for it to open before using it.
"""

from __future__ import annotations

import socket
import time

LOOPBACK = "127.0.0.1"

# What redis, nginx, prometheus/alertmanager (Go) and postgres all print (strerror of EADDRINUSE)
# when the port we picked was taken between our probe and their bind.
_CLASH_MARKER = "address already in use"


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port that is free on ``host`` right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when ``port`` can be bound on ``host`` (nobody listens there any more)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so sockets of a just-stopped server in TIME_WAIT do not count as "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until ``host:port`` accepts connections; raise ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        if port_is_open(host, port, timeout=0.5):
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.1f}s")
        time.sleep(0.05)


def looks_like_port_clash(log_text: str) -> bool:
    """True when a server's log says its port was already taken (worth retrying elsewhere)."""
    return _CLASH_MARKER in log_text.lower()
