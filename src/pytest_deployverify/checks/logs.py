"""Logs (Loki): the snapshot of the service's recent lines, the checks (lines arriving, no secret
in them), their declarations. The query lives in ``components.logs``; the secret scan is
``checks.secret_scan``, shared with the pod logs the Kubernetes checks read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_deployverify.checks.declarations import declare, flag
from pytest_deployverify.checks.findings import Finding, Rule, Severity
from pytest_deployverify.checks.secret_scan import SecretMatch
from pytest_deployverify.profile.fields import format_duration


@dataclass(frozen=True)
class LogLine:
    timestamp: float  # epoch seconds
    labels: Mapping[str, str]
    text: str


@dataclass(frozen=True)
class LogQuery:
    selector: str
    start: float
    end: float
    lines: tuple[LogLine, ...]


RECENT = Rule("logs-recent", Severity.MEDIUM, "the service's logs reach the aggregator")
NO_SECRETS = Rule("logs-no-secrets", Severity.CRITICAL, "no secret or token in the logs")

_L = ("logs",)
LOGS_RECENT = declare(
    "MON-LOGS-RECENT",
    title="Recent logs of the service aggregated",
    section="monitoring",
    severity="medium",
    components=_L,
    keys=("logs.selector", "logs.lookback", "logs.min_lines"),
    reads=("logs.recent",),
)
LOGS_SECRETS = declare(
    "SEC-LOGS-SECRETS",
    title="Recent logs contain no secrets or tokens",
    section="security",
    severity="critical",
    components=_L,
    keys=("logs.scan_secrets", "logs.limit"),
    reads=("logs.recent",),
    applies=flag("logs.scan_secrets"),
    description="The newest lines of [logs] selector (up to limit) are scanned for private keys, "
    "JWTs, cloud keys, bearer tokens and passwords; matches are reported redacted.",
)

CHECKS = (LOGS_RECENT, LOGS_SECRETS)


def log_findings(query: LogQuery, min_lines: int) -> list[Finding]:
    if len(query.lines) >= min_lines:
        return []
    window = format_duration(query.end - query.start)
    return [
        RECENT(
            f"loki stream {query.selector}",
            f"{len(query.lines)} log line(s) in the last {window}; expected at least {min_lines} "
            "(is log shipping from the pods working?)",
        )
    ]


def log_lines_for_scan(query: LogQuery) -> list[tuple[str, str]]:
    """``(where, text)`` pairs for ``secret_scan.scan_lines``: the line's number and labels."""

    def where(index: int, line: LogLine) -> str:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(line.labels.items())[:4])
        return f"line {index + 1} {{{labels}}}"

    return [(where(i, line), line.text) for i, line in enumerate(query.lines)]


def secret_findings(matches: Sequence[SecretMatch], source: str) -> list[Finding]:
    return [
        NO_SECRETS(
            f"{source} {m.where}",
            f"contains a {m.kind}: {m.redacted}; expected secrets and tokens masked in logs",
        )
        for m in matches
    ]
