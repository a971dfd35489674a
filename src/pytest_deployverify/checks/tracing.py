"""Tracing (Jaeger or Tempo): the snapshot of a search for the service's recent traces, the check,
its declaration. The search itself lives in ``components.tracing``."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_deployverify.checks.declarations import declare
from pytest_deployverify.checks.findings import Finding, Rule, Severity
from pytest_deployverify.profile.fields import format_duration


@dataclass(frozen=True)
class TraceSearch:
    backend: str
    service: str
    start: float
    end: float
    count: int
    newest: float | None  # start time (epoch seconds) of the newest trace found
    min_traces: int = 1
    trace_ids: tuple[str, ...] = ()  # of the recent traces found (at most 20)


RECENT = Rule("tracing-recent", Severity.MEDIUM, "the service's traces reach the backend")

TRACES_RECENT = declare(
    "MON-TRACES-RECENT",
    title="Recent traces of the service visible",
    section="monitoring",
    severity="medium",
    components=("tracing",),
    keys=("tracing.service", "tracing.lookback", "tracing.min_traces"),
    reads=("tracing.recent",),
)

CHECKS = (TRACES_RECENT,)


def trace_findings(search: TraceSearch, min_traces: int | None = None) -> list[Finding]:
    wanted = search.min_traces if min_traces is None else min_traces
    if search.count >= wanted:
        return []
    window = format_duration(search.end - search.start)
    return [
        RECENT(
            f"{search.backend} service {search.service}",
            f"{search.count} trace(s) in the last {window}; expected at least {wanted} "
            "(is the OTLP exporter configured and sampling?)",
        )
    ]
