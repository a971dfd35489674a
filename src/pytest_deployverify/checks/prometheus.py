"""Prometheus checks over the plain data of its HTTP API (``PromApi`` returns exactly that).

Targets (``/api/v1/targets``), rule groups (``/api/v1/rules``), connected Alertmanagers
(``/api/v1/alertmanagers``) and alerts (``/api/v1/alerts``, or Alertmanager's ``/api/v2/alerts``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pytest_deployverify.checks.findings import Finding, Severity


def _finding(check_id: str, severity: Severity, subject: str, message: str) -> Finding:
    return Finding(check_id=check_id, severity=severity, subject=subject, message=message)


# -- scrape targets --------------------------------------------------------------------------------


def job_targets(targets: Mapping[str, Any], job: str) -> list[dict[str, Any]]:
    """The active targets of scrape job ``job`` (by the ``job`` label or the scrape pool)."""
    return [
        t
        for t in targets.get("activeTargets") or []
        if (t.get("labels") or {}).get("job") == job or t.get("scrapePool") == job
    ]


def target_summary(targets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Instance, health and last error of each target, for evidence."""
    return [
        {
            "instance": (t.get("labels") or {}).get("instance") or t.get("scrapeUrl"),
            "health": t.get("health"),
            "lastError": t.get("lastError") or None,
        }
        for t in targets
    ]


def target_findings(
    targets: Mapping[str, Any],
    job: str,
    *,
    min_targets: int = 1,
    expected_count: int | None = None,
    check_id: str = "prometheus-targets",
) -> list[Finding]:
    """The job exists, every target is up, and there are as many targets as expected.

    ``expected_count`` is the number of ready pods when Kubernetes is configured.
    """
    subject = f"prometheus scrape job {job}"
    mine = job_targets(targets, job)
    if not mine:
        jobs = sorted(
            {(t.get("labels") or {}).get("job", "?") for t in targets.get("activeTargets") or []}
        )
        return [
            _finding(
                check_id,
                Severity.CRITICAL,
                subject,
                f"has no active targets (jobs scraped: {', '.join(jobs) or 'none'}); expected "
                f"at least {max(min_targets, 1)} target(s) for job {job!r}",
            )
        ]
    found: list[Finding] = []
    for target in mine:
        if target.get("health") != "up":
            instance = (target.get("labels") or {}).get("instance") or target.get("scrapeUrl")
            error = target.get("lastError") or "no error reported"
            found.append(
                _finding(
                    check_id,
                    Severity.HIGH,
                    f"{subject} target {instance}",
                    f"is {target.get('health')} ({error}); expected up",
                )
            )
    if len(mine) < min_targets:
        found.append(
            _finding(
                check_id,
                Severity.HIGH,
                subject,
                f"has {len(mine)} target(s); expected at least {min_targets}",
            )
        )
    if expected_count is not None and len(mine) != expected_count:
        found.append(
            _finding(
                check_id,
                Severity.HIGH,
                subject,
                f"has {len(mine)} target(s) but {expected_count} pod(s) are ready; expected one "
                "target per ready pod (is service discovery missing pods?)",
            )
        )
    return found


def ready_pods(pods: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names of pods whose Ready condition is True and that are not being deleted."""
    ready = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            continue
        conditions = (pod.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            ready.append(str(meta.get("name")))
    return ready


# -- rules ------------------------------------------------------------------------------------------


def matching_groups(
    groups: Sequence[Mapping[str, Any]], patterns: Sequence[str]
) -> list[Mapping[str, Any]]:
    if not patterns:
        return list(groups)
    return [g for g in groups if any(fnmatch.fnmatchcase(str(g.get("name")), p) for p in patterns)]


def rule_summary(groups: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "group": g.get("name"),
            "rules": len(g.get("rules") or []),
            "errors": sum(1 for r in g.get("rules") or [] if r.get("health") == "err"),
        }
        for g in groups
    ]


def rule_findings(groups: Sequence[Mapping[str, Any]], patterns: Sequence[str]) -> list[Finding]:
    """Each pattern matches a loaded rule group; no rule of those groups failed its evaluation."""
    found: list[Finding] = []
    names = [str(g.get("name")) for g in groups]
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in names):
            found.append(
                _finding(
                    "prometheus-rules",
                    Severity.HIGH,
                    f"prometheus rule group {pattern}",
                    f"no loaded rule group matches (loaded: {', '.join(names) or 'none'}); "
                    "expected the service's rule file to be loaded",
                )
            )
    for group in matching_groups(groups, patterns):
        for rule in group.get("rules") or []:
            if rule.get("health") == "err":
                found.append(
                    _finding(
                        "prometheus-rules",
                        Severity.HIGH,
                        f"prometheus rule {group.get('name')}/{rule.get('name')}",
                        f"fails to evaluate: {rule.get('lastError') or 'no error text'}; "
                        "expected health ok",
                    )
                )
    if patterns == () and not groups:
        found.append(
            _finding(
                "prometheus-rules",
                Severity.HIGH,
                "prometheus rules",
                "no rule groups are loaded; expected the service's alert rules",
            )
        )
    return found


# -- alertmanagers ----------------------------------------------------------------------------------


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "").lower(), parts.port or default


def alertmanager_link_findings(
    data: Mapping[str, Any], expected_url: str | None = None
) -> list[Finding]:
    """Prometheus has an active Alertmanager (the profile's one, when given)."""
    active = [str(a.get("url")) for a in data.get("activeAlertmanagers") or []]
    if not active:
        dropped = len(data.get("droppedAlertmanagers") or [])
        return [
            _finding(
                "prometheus-alertmanager",
                Severity.CRITICAL,
                "prometheus alerting",
                f"no active Alertmanager ({dropped} dropped); expected alerts to be sent to one",
            )
        ]
    if expected_url is not None:
        wanted = _host_port(expected_url)
        if not any(_host_port(url) == wanted for url in active):
            return [
                _finding(
                    "prometheus-alertmanager",
                    Severity.HIGH,
                    "prometheus alerting",
                    f"sends alerts to {', '.join(active)}; expected the profile's Alertmanager "
                    f"at {wanted[0]}:{wanted[1]}",
                )
            ]
    return []


# -- firing alerts ----------------------------------------------------------------------------------


def _is_firing(alert: Mapping[str, Any]) -> bool:
    if "state" in alert and isinstance(alert.get("state"), str):
        return bool(alert["state"] == "firing")  # Prometheus /api/v1/alerts
    status = alert.get("status") or {}
    return status.get("state") == "active"  # Alertmanager /api/v2/alerts (not silenced)


def firing_alerts(
    alerts: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str],
    severities: Sequence[str],
) -> list[Mapping[str, Any]]:
    """Firing alerts carrying all of ``labels`` whose ``severity`` label is one of ``severities``."""
    wanted = {s.lower() for s in severities}
    return [
        a
        for a in alerts
        if _is_firing(a)
        and all((a.get("labels") or {}).get(k) == v for k, v in labels.items())
        and str((a.get("labels") or {}).get("severity", "")).lower() in wanted
    ]


def firing_alert_findings(
    alerts: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str],
    severities: Sequence[str],
    source: str = "prometheus",
) -> list[Finding]:
    scope = ", ".join(f"{k}={v}" for k, v in labels.items()) or "any service"
    found = []
    for alert in firing_alerts(alerts, labels, severities):
        alert_labels = alert.get("labels") or {}
        since = alert.get("activeAt") or alert.get("startsAt") or "?"
        summary = (alert.get("annotations") or {}).get("summary")
        found.append(
            _finding(
                "alerts-firing",
                Severity.CRITICAL,
                f"{source} alert {alert_labels.get('alertname', '?')}",
                f"is firing with severity {alert_labels.get('severity')} since {since} "
                f"({scope})"
                + (f": {summary}" if summary else "")
                + f"; expected no {'/'.join(severities)} alert firing",
            )
        )
    return found
