"""A record of every request the emulator received, for asserting call counts and verbs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only ask a question; a read-only verifier may send them.
_REVIEW_PLURALS = frozenset(
    {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"}
)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    # Filled in as the request is understood; None for discovery and unknown paths.
    verb: str | None = None
    resource: str | None = None  # plural, e.g. "pods"
    namespace: str | None = None
    status: int | None = None  # None: no answer (dropped, black-holed, or still running)
    fault: str | None = None

    @property
    def mutating(self) -> bool:
        """A write attempt: an unsafe method on anything but a self-review."""
        return self.method not in _SAFE_METHODS and self.resource not in _REVIEW_PLURALS


@dataclass
class RequestLog:
    _records: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: RequestRecord) -> RequestRecord:
        with self._lock:
            self._records.append(record)
        return record

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def reset(self) -> None:
        with self._lock:
            self._records.clear()

    def count(
        self,
        method: str | None = None,
        path_prefix: str | None = None,
        *,
        verb: str | None = None,
        resource: str | None = None,
        mutating: bool | None = None,
    ) -> int:
        """How many recorded requests match every filter given."""
        return sum(
            1
            for r in self.snapshot()
            if (method is None or r.method == method.upper())
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (verb is None or r.verb == verb)
            and (resource is None or r.resource == resource)
            and (mutating is None or r.mutating == mutating)
        )
