"""Faults a test can switch on while the emulator runs: latency, errors, drops, black holes."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from enum import Enum


class FaultKind(Enum):
    LATENCY = "latency"  # answer normally, after a delay
    ERROR = "error"  # answer with an HTTP error Status (500 unless told otherwise)
    DROP = "drop"  # close the connection without answering
    BLACKHOLE = "blackhole"  # keep the connection open and never answer


@dataclass
class _FaultRule:
    kind: FaultKind
    pattern: re.Pattern[str]
    seconds: float = 0.0
    status: int = 500
    remaining: int | None = None  # None: until cleared

    def matches(self, path: str) -> bool:
        return self.pattern.search(path) is not None


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request: wait `latency` seconds, then `action` (None: serve it)."""

    latency: float = 0.0
    action: FaultKind | None = None
    status: int = 500


class Faults:
    """Fault rules matched by regular expression against the request path (`""` = every path).

    `times` limits a rule to the next N matching requests, e.g. to let a retry succeed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_FaultRule] = []

    def set_latency(self, seconds: float, path: str = "", times: int | None = None) -> None:
        self._add(_FaultRule(FaultKind.LATENCY, re.compile(path), seconds=seconds, remaining=times))

    def fail(self, path: str = "", status: int = 500, times: int | None = None) -> None:
        self._add(_FaultRule(FaultKind.ERROR, re.compile(path), status=status, remaining=times))

    def drop(self, path: str = "", times: int | None = None) -> None:
        self._add(_FaultRule(FaultKind.DROP, re.compile(path), remaining=times))

    def blackhole(self, path: str = "", times: int | None = None) -> None:
        self._add(_FaultRule(FaultKind.BLACKHOLE, re.compile(path), remaining=times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def active(self) -> bool:
        with self._lock:
            return bool(self._rules)

    def decide(self, path: str) -> FaultDecision:
        """Consume the rules matching `path`: all latencies add up; the first other fault wins."""
        latency = 0.0
        action: FaultKind | None = None
        status = 500
        with self._lock:
            for fault in list(self._rules):
                if not fault.matches(path):
                    continue
                if fault.kind is FaultKind.LATENCY:
                    latency += fault.seconds
                elif action is None:
                    action, status = fault.kind, fault.status
                else:
                    continue  # not applied, so not consumed
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._rules.remove(fault)
        return FaultDecision(latency, action, status)

    def _add(self, fault: _FaultRule) -> None:
        with self._lock:
            self._rules.append(fault)
