"""Errors the client layer raises, and how a low-level failure becomes one sentence a person can act on.

Every message names the component and its endpoint as ``Endpoint.display`` shows it (credentials
masked), never a secret value.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import TypeVar

E = TypeVar("E", bound=BaseException)


class ComponentError(Exception):
    """Base class: a component client could not be handed to a check."""


class NotConfigured(ComponentError):
    """The environment's profile has no section for this component."""

    def __init__(self, component: str, environment: str, key: str | None = None) -> None:
        self.component = component
        self.environment = environment
        self.key = key or component
        super().__init__(
            f"{component} is not configured for environment {environment} "
            f"(no [{self.key}] table in the profile)"
        )


class ComponentUnavailable(ComponentError):
    """The component is configured but its first use failed; the message says where and why."""

    def __init__(self, component: str, endpoint: str, problem: str) -> None:
        self.component = component
        self.endpoint = endpoint
        self.problem = problem
        super().__init__(f"{component} at {endpoint} {problem}")

    @property
    def message(self) -> str:
        return str(self)

    def again(self) -> ComponentUnavailable:
        """A fresh copy to raise for a later use (re-raising one instance grows its traceback)."""
        return ComponentUnavailable(self.component, self.endpoint, self.problem)


class ReadError(ComponentError):
    """One read of a component failed (the component itself may be fine): what was read, why."""

    def __init__(self, component: str, endpoint: str, what: str, problem: str) -> None:
        self.component = component
        self.endpoint = endpoint
        self.what = what
        self.problem = problem
        super().__init__(f"{component} at {endpoint}: {what}: {problem}")

    def again(self) -> ReadError:
        return ReadError(self.component, self.endpoint, self.what, self.problem)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception chained below it (``__cause__``, then ``__context__``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def find_cause(exc: BaseException, kind: type[E]) -> E | None:
    for item in causes(exc):
        if isinstance(item, kind):
            return item
    return None


def timed_out(timeout: float, phase: str | None = None) -> str:
    where = f" ({phase})" if phase else ""
    return f"is unreachable: timed out after {timeout:g} s{where}"


def network_problem(exc: BaseException, timeout: float, phase: str | None = None) -> str | None:
    """A phrase for a transport-level failure found anywhere in the chain, or None.

    The libraries wrap socket and ssl errors in their own types; the root cause tells us most.
    """
    cert = find_cause(exc, ssl.SSLCertVerificationError)
    if cert is not None:
        reason = cert.verify_message or str(cert)
        return (
            f"failed TLS verification: {reason} (is the configured CA the one that signed the "
            "server certificate, and does the certificate name this host?)"
        )
    if find_cause(exc, ConnectionRefusedError) is not None:
        return "is unreachable: connection refused (nothing listens on that port)"
    if find_cause(exc, socket.gaierror) is not None:
        return "is unreachable: the host name does not resolve"
    if find_cause(exc, TimeoutError) is not None:  # socket.timeout is TimeoutError since 3.10
        return timed_out(timeout, phase)
    tls = find_cause(exc, ssl.SSLError)
    if tls is not None:
        return f"is unreachable: TLS handshake failed: {tls.reason or tls}"
    reset = find_cause(exc, ConnectionResetError)
    if reset is not None:
        return "is unreachable: the connection was reset by the server"
    return None
