"""One client per configured component, built lazily once per process; failures cached.

No pytest here: the registry is usable from scripts and the CLI. ``component_fixtures`` turns its
two errors into a loud skip (not configured) or a failure (configured but unusable).

A factory receives the component's profile section, creates the client and makes one cheap probe
request within the configured timeout; it raises ``ComponentUnavailable`` with a message naming
the component and its (masked) endpoint. The first failure is remembered, so a dead component
costs one timeout per run, not one per check.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .clients.errors import ComponentError, ComponentUnavailable, NotConfigured
from .profile import Profile
from .secrets import Redactor

__all__ = [
    "ComponentError",
    "ComponentRegistry",
    "ComponentUnavailable",
    "Factory",
    "NotConfigured",
    "default_factories",
]

Factory = Callable[[Any], Any]


@dataclass
class _Slot:
    """The state of one component: being built (lock held), built, or failed."""

    lock: threading.Lock
    client: Any = None
    built: bool = False
    error: ComponentUnavailable | None = None


def default_factories() -> dict[str, Factory]:
    """The factories for every component the profile knows, importing each client lazily.

    Lazy imports keep optional dependencies optional: a run without Kubernetes never imports it.
    """

    def kubernetes(section: Any) -> Any:
        from .clients.kube import build_kube_reader

        return build_kube_reader(section)

    def redis(section: Any) -> Any:
        from .clients.redis import build_redis

        return build_redis(section)

    def prometheus(section: Any) -> Any:
        from .clients.prom import build_prom_api

        return build_prom_api(section)

    def alertmanager(section: Any) -> Any:
        from .clients.prom import build_alertmanager

        return build_alertmanager(section)

    def http(section: Any) -> Any:
        from .clients.http import build_http_client

        return build_http_client(section)

    def postgres(section: Any) -> Any:
        from .clients.postgres import build_postgres

        return build_postgres(section)

    return {
        "kubernetes": kubernetes,
        "redis": redis,
        "prometheus": prometheus,
        "alertmanager": alertmanager,
        "http": http,
        "postgres": postgres,
    }


class ComponentRegistry:
    """Hands out one client per component; thread-safe; nothing connects until ``get``."""

    def __init__(self, profile: Profile, factories: Mapping[str, Factory] | None = None) -> None:
        self.profile = profile
        self._factories = dict(default_factories() if factories is None else factories)
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._closed = False
        # Exception texts come from libraries; scrub any profile secret they might echo.
        self._redactor = Redactor()
        for secret in profile.iter_secrets():
            self._redactor.add_secret(secret)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._factories)

    def configured(self, name: str) -> bool:
        return self.profile.component(name) is not None

    def get(self, name: str) -> Any:
        """The client for ``name``: built on first use, then reused.

        Raises ``NotConfigured`` when the profile has no such section, and ``ComponentUnavailable``
        when building it failed (now or on an earlier call: the same message, at once).
        """
        if name not in self._factories:
            known = ", ".join(self._factories)
            raise KeyError(f"unknown component {name!r}; known components: {known}")
        section = self.profile.component(name)
        if section is None:
            raise NotConfigured(name, self.profile.name)
        slot = self._slot(name)
        # One lock per component: a slow component never holds up another one, and concurrent
        # first uses of the same component wait for one build instead of starting their own.
        with slot.lock:
            if slot.error is not None:
                raise slot.error.again() from None
            if slot.built:
                return slot.client
            if self._closed:
                raise RuntimeError("the component registry is closed")
            try:
                client = self._factories[name](section)
            except ComponentUnavailable as exc:
                slot.error = self._scrubbed(exc)
            except Exception as exc:  # a bug or an unforeseen library error: still one message
                slot.error = self._scrubbed(
                    ComponentUnavailable(
                        name,
                        _endpoint_of(section),
                        f"could not be set up: {type(exc).__name__}: {exc}",
                    )
                )
            else:
                slot.client, slot.built = client, True
                return client
            raise slot.error.again() from None

    def failure(self, name: str) -> ComponentUnavailable | None:
        """The cached failure of ``name``, if its build failed."""
        slot = self._slots.get(name)
        return slot.error if slot else None

    def built(self) -> dict[str, Any]:
        """The clients built so far, by component name."""
        with self._lock:
            return {name: slot.client for name, slot in self._slots.items() if slot.built}

    def close(self) -> None:
        """Close every built client; later ``get`` calls fail. Errors while closing are ignored:
        the run is over and a half-closed socket must not turn a verdict into an error."""
        with self._lock:
            self._closed = True
            slots = list(self._slots.values())
        for slot in slots:
            with slot.lock:
                if slot.built and slot.client is not None:
                    close = getattr(slot.client, "close", None)
                    if callable(close):
                        with contextlib.suppress(Exception):  # best effort at shutdown
                            close()
                slot.client, slot.built = None, False

    def _slot(self, name: str) -> _Slot:
        with self._lock:
            slot = self._slots.get(name)
            if slot is None:
                slot = self._slots[name] = _Slot(lock=threading.Lock())
            return slot

    def _scrubbed(self, exc: ComponentUnavailable) -> ComponentUnavailable:
        if not self._redactor:
            return exc
        return ComponentUnavailable(
            exc.component,
            self._redactor.redact(exc.endpoint),
            self._redactor.redact(exc.problem),
        )


def _endpoint_of(section: Any) -> str:
    """The masked endpoint of a profile section, for messages."""
    for field in ("url", "base_url", "dsn"):
        value = getattr(section, field, None)
        if value is not None:
            return str(value)  # Endpoint.__str__ is the masked display form
    kubeconfig = getattr(section, "kubeconfig", None)
    if kubeconfig:
        return f"kubeconfig {kubeconfig}"
    return "(in-cluster)" if getattr(section, "in_cluster", False) else "(unknown endpoint)"
