"""Secrets in the workloads' container logs, read through the Kubernetes API.

The component reads a bounded tail of every container's log (and of its previous instance after
a restart); ``pod_log_findings`` scans the lines with the shared scanner
(``checks.secret_scan``) and reports one finding per secret: the pod, the container, the line
and the kind of secret, never the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.snapshots import ContainerLog
from pytest_deployverify.checks.secret_scan import scan_lines

MAX_FINDINGS = 50


def _lines(logs: Iterable[ContainerLog]) -> Iterator[tuple[str, str]]:
    for log in logs:
        for number, text in enumerate(log.lines, start=1):
            yield f"{log.source}\x00{number}\x00{len(log.lines)}", text


def pod_log_findings(logs: Iterable[ContainerLog]) -> list[Finding]:
    """One ``pod-log-secret`` finding per secret-looking value in the logs' lines."""
    found: list[Finding] = []
    for match in scan_lines(_lines(logs), max_matches=MAX_FINDINGS):
        source, number, total = match.where.split("\x00")
        found.append(
            rules.POD_LOG_SECRET(
                source,
                f"line {number} of the last {total} log lines holds a {match.kind} "
                f"({match.redacted}); rotate that secret and stop the application logging it",
            )
        )
    return found


def scanned_summary(logs: Iterable[ContainerLog]) -> dict[str, object]:
    """What was read, per container log: the number of lines, or why it could not be read."""
    return {
        log.source: (f"{len(log.lines)} lines" if log.problem is None else log.problem)
        for log in logs
    }
