"""One registry for every component: clients built lazily once, snapshots read once, failures cached.

* ``client(name)`` builds the component's client on first use (``Component.connect``: the client
  plus one cheap probe within the configured timeout). A failure is remembered: every later use of
  that component fails at once with the same message, so a dead component costs one timeout per run.
* ``read("redis.info")`` runs the component's reader once and keeps its snapshot, or its failure
  (``NotApplicable``, ``ReadError``, ``ComponentUnavailable``), replayed to every later caller.
* ``prefetch(refs)`` reads many snapshots concurrently (bounded), so a run waits on the slowest
  component rather than the sum of all of them. Readers may read other snapshots; a read that is
  in flight is waited for, never started twice.

No pytest here: the registry serves scripts, benchmarks and the CLI as well as the plugin.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.components.base import Component, split_ref
from pytest_deployverify.components.errors import (
    ComponentError,
    ComponentUnavailable,
    NotConfigured,
    ReadError,
)
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Redactor

__all__ = [
    "ComponentError",
    "ComponentRegistry",
    "ComponentUnavailable",
    "NotConfigured",
    "ReadError",
]

DEFAULT_PREFETCH_WORKERS = 8


@dataclass
class _Slot:
    """A client or a snapshot: being made (lock held), made, or failed."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    value: Any = None
    done: bool = False
    error: BaseException | None = None


class _Context:
    """The ``ReadContext`` a reader gets."""

    def __init__(self, registry: ComponentRegistry, component: Component) -> None:
        self._registry = registry
        self.component = component

    @property
    def profile(self) -> Profile:
        return self._registry.profile

    @property
    def section(self) -> Any:
        return self._registry.section(self.component.name)

    @property
    def client(self) -> Any:
        return self._registry.client(self.component.name)

    def read(self, ref: str) -> Any:
        return self._registry.read(ref)


class ComponentRegistry:
    """Clients and snapshots of one profile's components; thread-safe; nothing connects until asked."""

    def __init__(self, profile: Profile, components: Iterable[Component]) -> None:
        self.profile = profile
        self._components = {c.name: c for c in components}
        self._clients: dict[str, _Slot] = {}
        self._reads: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        # Exception texts come from libraries; scrub any profile secret they might echo.
        self._redactor = Redactor()
        for secret in profile.iter_secrets():
            self._redactor.add_secret(secret)

    # -- what is known -------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._components)

    @property
    def components(self) -> Mapping[str, Component]:
        return dict(self._components)

    def component(self, name: str) -> Component:
        found = self._components.get(name)
        if found is None:
            # A run loads only the components its profile configures; a built-in one asked for
            # by name is still known (and, having no table, not configured).
            from pytest_deployverify.components.catalog import builtin_named

            found = builtin_named(name)
            if found is None:
                known = ", ".join(self._components) or "none"
                raise KeyError(f"unknown component {name!r}; known components: {known}")
            self._components[name] = found
        return found

    def configured(self, name: str) -> bool:
        return self.component(name).configured_in(self.profile)

    def section(self, name: str) -> Any:
        """The component's profile table; ``NotConfigured`` when the profile has none."""
        component = self.component(name)
        if not component.configured_in(self.profile):
            raise NotConfigured(name, self.profile.name, component.key)
        return self.profile.sections[component.key]

    def endpoint(self, name: str) -> str:
        component = self.component(name)
        if not component.configured_in(self.profile):
            return "(not configured)"
        return self._redactor.redact(component.endpoint(self.section(name)))

    # -- clients ---------------------------------------------------------------------------------

    def client(self, name: str) -> Any:
        """The client for ``name``: built on first use, then reused.

        Raises ``NotConfigured`` when the profile has no such section, and ``ComponentUnavailable``
        when building it failed (now or on an earlier call: the same message, at once).
        """
        component = self.component(name)
        section = self.section(name)
        if component.connect is None:
            return None  # a component read straight from its section (no client of its own)
        slot = self._slot(self._clients, name)
        # One lock per component: a slow component never holds up another one, and concurrent
        # first uses of the same component wait for one build instead of starting their own.
        with slot.lock:
            if slot.error is not None:
                raise _again(slot.error) from None
            if slot.done:
                return slot.value
            if self._closed:
                raise RuntimeError("the component registry is closed")
            try:
                slot.value, slot.done = component.connect(section, self.profile), True
                return slot.value
            except ComponentUnavailable as exc:
                slot.error = self._scrubbed(exc)
            except ImportError as exc:
                slot.error = ComponentUnavailable(
                    name,
                    self.endpoint(name),
                    f"needs a client library that is not installed ({exc.name or exc}): "
                    f"pip install 'pytest-deployverify[{component.extra or name}]'",
                )
            except Exception as exc:  # a bug or an unforeseen library error: still one message
                slot.error = self._scrubbed(
                    ComponentUnavailable(
                        name,
                        self.endpoint(name),
                        f"could not be set up: {type(exc).__name__}: {exc}",
                    )
                )
            raise _again(slot.error) from None

    get = client  # the name the first registry used

    def failure(self, name: str) -> ComponentUnavailable | None:
        """The cached failure of ``name``, if building its client failed."""
        slot = self._clients.get(name)
        error = slot.error if slot else None
        return error if isinstance(error, ComponentUnavailable) else None

    def built(self) -> dict[str, Any]:
        """The clients built so far, by component name."""
        with self._lock:
            return {name: slot.value for name, slot in self._clients.items() if slot.done}

    # -- snapshots --------------------------------------------------------------------------------

    def read(self, ref: str) -> Any:
        """The snapshot ``"component.read"``: read once, then replayed (value or failure)."""
        name, read_name = split_ref(ref)
        component = self.component(name)
        reader = component.reads.get(read_name)
        if reader is None:
            known = ", ".join(component.reads) or "none"
            raise KeyError(f"component {name!r} has no read {read_name!r}; reads: {known}")
        if read_name in component.exclusive and not self.cached(ref):
            self._drain()  # a measurement runs alone, not beside the prefetched reads
        slot = self._slot(self._reads, ref)
        with slot.lock:
            if slot.error is not None:
                raise _again(slot.error) from None
            if slot.done:
                return slot.value
            try:
                self.section(name)  # NotConfigured before any I/O
                slot.value = reader(_Context(self, component))
                slot.done = True
                return slot.value
            except (NotApplicable, NotConfigured) as exc:
                slot.error = exc
            except (ComponentUnavailable, ReadError) as exc:
                slot.error = self._scrubbed(exc)
            except Exception as exc:  # a library error the reader did not explain: still one line
                slot.error = self._scrubbed(
                    ReadError(
                        name,
                        self.endpoint(name),
                        f"reading {read_name}",
                        f"{type(exc).__name__}: {exc}",
                    )
                )
            raise _again(slot.error) from None

    def cached(self, ref: str) -> bool:
        slot = self._reads.get(ref)
        return bool(slot and (slot.done or slot.error is not None))

    def prefetch(
        self,
        refs: Iterable[str],
        *,
        max_workers: int = DEFAULT_PREFETCH_WORKERS,
        wait: bool = True,
    ) -> list[Future[None]]:
        """Read ``refs`` concurrently (at most ``max_workers`` at a time); failures are cached,
        not raised. With ``wait=False`` the reads go on in the background while checks run: a
        check that needs a snapshot still being read waits for that one read only."""
        wanted = [
            ref for ref in dict.fromkeys(refs) if not self.cached(ref) and not self._exclusive(ref)
        ]
        if not wanted:
            return []
        with self._lock:
            if self._closed:
                return []
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, max_workers), thread_name_prefix="deployverify-read"
                )
            pool = self._pool
        futures = [pool.submit(self._quiet_read, ref) for ref in wanted]
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + futures
        if wait:
            for future in futures:
                future.result()
        return futures

    def _exclusive(self, ref: str) -> bool:
        name, _, read_name = ref.partition(".")
        component = self._components.get(name)
        return component is not None and read_name in component.exclusive

    def _drain(self) -> None:
        """Wait for the prefetched reads still in flight (their failures are cached, not raised)."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            with contextlib.suppress(Exception):
                future.result()

    def _quiet_read(self, ref: str) -> None:
        with contextlib.suppress(ComponentError, NotApplicable, KeyError, ValueError):
            self.read(ref)

    # -- the end --------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every built client; later ``client`` calls fail. Errors while closing are ignored:
        the run is over and a half-closed socket must not turn a verdict into an error."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            slots = list(self._clients.items())
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for name, slot in slots:
            with slot.lock:
                if slot.done and slot.value is not None:
                    with contextlib.suppress(Exception):  # best effort at shutdown
                        self._components[name].close(slot.value)
                slot.value, slot.done = None, False

    def _slot(self, table: dict[str, _Slot], key: str) -> _Slot:
        with self._lock:
            slot = table.get(key)
            if slot is None:
                slot = table[key] = _Slot()
            return slot

    def _scrubbed(self, exc: ComponentUnavailable | ReadError) -> ComponentUnavailable | ReadError:
        if not self._redactor:
            return exc
        redact = self._redactor.redact
        if isinstance(exc, ReadError):
            return ReadError(
                exc.component, redact(exc.endpoint), redact(exc.what), redact(exc.problem)
            )
        return ComponentUnavailable(exc.component, redact(exc.endpoint), redact(exc.problem))


def _again(error: BaseException) -> BaseException:
    """A fresh exception to raise for a later use (re-raising one instance grows its traceback)."""
    if isinstance(error, ComponentUnavailable | ReadError):
        return error.again()
    if isinstance(error, NotConfigured):
        return NotConfigured(error.component, error.environment, error.key)
    if isinstance(error, NotApplicable):
        return NotApplicable(*error.args)
    return error
