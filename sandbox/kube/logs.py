"""Container logs the emulator serves at ``GET .../pods/{name}/log`` (the ``pods/log`` subresource).

Every started container of a stored pod has a log: what a test set with `PodLogs.set`, else a
deterministic healthy one (a start-up line and request lines, no secret in any). A restarted
container also has the log of its previous instance (``previous=true``); asking for it when the
container never restarted answers 400, as the real API server does.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from typing import Any

Key = tuple[str, str, str, bool]  # namespace, pod, container, previous

_PATHS = ("/api/v1/venues", "/api/v1/events", "/health/ready", "/api/v1/me", "/metrics")


def default_lines(namespace: str, pod: str, container: str, previous: bool) -> list[str]:
    """A healthy container's log: structured JSON lines, deterministic per container."""
    seed = hashlib.sha256(f"{namespace}/{pod}/{container}/{previous}".encode()).digest()
    lines = [
        json.dumps(
            {
                "level": "info",
                "time": "2026-11-21T10:00:00.000Z",
                "pod": pod,
                "msg": "shutting down: SIGTERM" if previous else "server listening on :3000",
            }
        )
    ]
    for index in range(20):
        byte = seed[index % len(seed)]
        lines.append(
            json.dumps(
                {
                    "level": "info",
                    "time": f"2026-11-21T10:00:{index:02d}.{byte:03d}Z",
                    "msg": "request completed",
                    "method": "GET",
                    "path": _PATHS[byte % len(_PATHS)],
                    "status": 200,
                    "duration_ms": 3 + byte % 40,
                    "request_id": seed[index : index + 6].hex(),
                }
            )
        )
    return lines


class PodLogs:
    """The logs tests set, per (namespace, pod, container, previous); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[Key, list[str]] = {}

    def set(
        self,
        namespace: str,
        pod: str,
        container: str,
        lines: str | Iterable[str],
        *,
        previous: bool = False,
    ) -> None:
        """Replace one container's log (a text is split into lines)."""
        text = lines.splitlines() if isinstance(lines, str) else list(lines)
        with self._lock:
            self._logs[(namespace, pod, container, previous)] = text

    def append(
        self, namespace: str, pod: str, container: str, line: str, *, previous: bool = False
    ) -> None:
        """Add one line to a container's log (its default log when none was set)."""
        key = (namespace, pod, container, previous)
        with self._lock:
            current = self._logs.get(key)
            if current is None:
                current = self._logs[key] = default_lines(*key)
            current.append(line)

    def clear(self) -> None:
        with self._lock:
            self._logs.clear()

    def lines(self, namespace: str, pod: str, container: str, previous: bool) -> list[str]:
        with self._lock:
            found = self._logs.get((namespace, pod, container, previous))
        return (
            list(found) if found is not None else default_lines(namespace, pod, container, previous)
        )


def resolve_container(
    pod: dict[str, Any], container: str | None, previous: bool
) -> tuple[str, str | None]:
    """(the container whose log is asked for, why the API server would refuse it with a 400)."""
    spec = pod.get("spec") or {}
    regular = [str(c.get("name")) for c in spec.get("containers") or []]
    names = [str(c.get("name")) for c in spec.get("initContainers") or []] + regular
    pod_name = (pod.get("metadata") or {}).get("name")
    if container is None:
        if len(regular) != 1:
            problem = (
                f"a container name must be specified for pod {pod_name}, choose one of: {regular}"
            )
            return "", problem
        container = regular[0]
    if container not in names:
        return container, f"container {container} is not valid for pod {pod_name}"
    status = pod.get("status") or {}
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    mine = next((s for s in statuses if s.get("name") == container), None) or {}
    if previous:
        if not (mine.get("lastState") or {}).get("terminated"):
            return container, (
                f'previous terminated container "{container}" in pod "{pod_name}" not found'
            )
        return container, None
    state = mine.get("state") or {}
    if not (state.get("running") or state.get("terminated")):
        return container, f'container "{container}" in pod "{pod_name}" is waiting to start'
    return container, None
