"""Prometheus: what the checklist expects (``[prometheus.expect]``), the checks over the plain data
of its HTTP API, and their declarations.

Targets (``/api/v1/targets``), rule groups (``/api/v1/rules``), connected Alertmanagers
(``/api/v1/alertmanagers``) and alerts (``/api/v1/alerts``, or Alertmanager's ``/api/v2/alerts``).
The reading lives in ``components.prometheus``.

Which Alertmanager Prometheus sends to is judged from what both report, not from addresses alone:
in a cluster Prometheus reaches Alertmanager by an internal name (a service, pod IPs) while the
verifier uses an external URL. An active Alertmanager is the profile's one when its address is the
profile's URL or one of ``[alertmanager] internal_urls``, when it is a member of the cluster the
profile's Alertmanager reports (``/api/v2/status`` peers), or when the profile's Alertmanager holds
the alerts Prometheus fires.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pytest_deployverify.checks.declarations import declare, flag, needs
from pytest_deployverify.checks.findings import Finding, Rule, Severity
from pytest_deployverify.profile.fields import Count, parse_duration

model = dataclasses.dataclass(frozen=True, kw_only=True)

# Prometheus re-sends firing alerts every minute (--rules.alert.resend-delay): an alert firing for
# two minutes has reached every Alertmanager Prometheus sends to.
DELIVERY_GRACE_S = 120.0


# -- expectations --------------------------------------------------------------------------------


@model
class PrometheusExpectations:
    """``[prometheus.expect]``; the scrape job itself is ``[prometheus] job``."""

    # At least this many targets in the job (and, with pod_selector and Kubernetes configured,
    # exactly as many as there are ready pods).
    min_targets: Count = 1
    # A label selector of the service's pods in [kubernetes] namespace: the job must then have
    # one target per ready pod (`pod_selector = "app=api-gateway"`).
    pod_selector: str | None = None
    # fnmatch patterns of the service's rule groups, e.g. ["api_gateway*"]; each must match a group.
    rule_groups: tuple[str, ...] = ()
    # Prometheus must send alerts to an active Alertmanager (the profile's [alertmanager] when
    # set); false makes MON-PROM-ALERTMANAGER not applicable.
    require_alertmanager: bool = True
    # Labels that select the service's alerts, e.g. {service = "api-gateway"}.
    alert_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Values of the severity label that make a firing alert fail MON-ALERTS-FIRING.
    blocking_alert_severities: tuple[str, ...] = ("critical",)
    # Integration types each of which some Alertmanager receiver must use, e.g. ["pagerduty", "slack"].
    alertmanager_integrations: tuple[str, ...] = ()
    # A receiver no route sends to never gets a notification: by default that fails the check.
    require_routed_receivers: bool = True


# -- snapshots -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyProbe:
    """What ``GET /-/ready`` answered when the client was built."""

    endpoint: str
    status: int
    body: str


@dataclass(frozen=True)
class AlertmanagerLink:
    """Where Prometheus sends alerts, and what identifies the profile's Alertmanager among them.

    ``data`` is ``/api/v1/alertmanagers``. ``expected_url`` is the profile's ``[alertmanager] url``
    (None: any active Alertmanager will do), ``internal_urls`` the addresses Prometheus may use for
    it. ``peers`` are the addresses the profile's Alertmanager reports for its cluster, ``held``
    the label sets of the alerts it holds, ``firing`` those of the alerts Prometheus fires and
    ``settled`` those it has fired long enough to have delivered them (``settled_firing``). None:
    not read; ``problem`` says why when reading failed."""

    data: Mapping[str, Any]
    expected_url: str | None = None
    expected_display: str | None = None
    internal_urls: tuple[str, ...] = ()
    peers: tuple[str, ...] | None = None
    held: tuple[Mapping[str, str], ...] | None = None
    firing: tuple[Mapping[str, str], ...] | None = None
    settled: tuple[Mapping[str, str], ...] | None = None
    problem: str | None = None

    @property
    def active(self) -> list[str]:
        return [str(a.get("url")) for a in self.data.get("activeAlertmanagers") or []]

    @property
    def dropped(self) -> int:
        return len(self.data.get("droppedAlertmanagers") or [])


# -- rules and declarations -----------------------------------------------------------------------

READY = Rule("prometheus-ready", Severity.CRITICAL, "Prometheus answers /-/ready")
TARGETS = Rule("prometheus-targets", Severity.HIGH, "scrape job present and every target up")
RULES = Rule("prometheus-rules", Severity.HIGH, "rule groups loaded, no evaluation error")
ALERTMANAGER = Rule(
    "prometheus-alertmanager", Severity.HIGH, "alerts reach the profile's Alertmanager"
)
FIRING = Rule("alerts-firing", Severity.CRITICAL, "no blocking alert of the service firing")

_P = ("prometheus",)
PROM_READY = declare(
    "MON-PROM-READY",
    title="Prometheus is ready",
    section="monitoring",
    severity="critical",
    components=_P,
    keys=("prometheus.url",),
    reads=("prometheus.ready",),
)
PROM_TARGETS = declare(
    "MON-PROM-TARGETS",
    title="Scrape job present, every target up, one target per ready pod",
    section="monitoring",
    severity="critical",
    components=_P,
    keys=(
        "prometheus.job",
        "prometheus.expect.min_targets",
        "prometheus.expect.pod_selector",
    ),
    reads=("prometheus.targets",),
    applies=needs("prometheus.job"),
    description="The service's scrape job has at least min_targets targets, all up; with "
    "pod_selector and Kubernetes configured, one target per ready pod.",
)
PROM_RULES = declare(
    "MON-PROM-RULES",
    title="Alert rules loaded and evaluating",
    section="monitoring",
    severity="high",
    components=_P,
    keys=("prometheus.expect.rule_groups",),
    reads=("prometheus.rules",),
)
PROM_ALERTMANAGER = declare(
    "MON-PROM-ALERTMANAGER",
    title="Prometheus sends alerts to Alertmanager",
    section="monitoring",
    severity="high",
    components=_P,
    keys=(
        "prometheus.expect.require_alertmanager",
        "alertmanager.url",
        "alertmanager.internal_urls",
    ),
    reads=("prometheus.alertmanager_link",),
    applies=flag("prometheus.expect.require_alertmanager"),
    description="Prometheus has an active Alertmanager, and it is the profile's one: the same "
    "address, one of [alertmanager] internal_urls, a peer of the cluster the profile's "
    "Alertmanager reports, or the Alertmanager holding the alerts Prometheus fires.",
)
ALERTS_FIRING = declare(
    "MON-ALERTS-FIRING",
    title="No critical alert firing for the service",
    section="monitoring",
    severity="critical",
    components=_P,
    keys=("prometheus.expect.alert_labels", "prometheus.expect.blocking_alert_severities"),
    reads=("prometheus.alerts",),
)

CHECKS = (PROM_READY, PROM_TARGETS, PROM_RULES, PROM_ALERTMANAGER, ALERTS_FIRING)


# -- readiness -------------------------------------------------------------------------------------


def ready_findings(probe: ReadyProbe) -> list[Finding]:
    if probe.status == 200:
        return []
    return [
        READY(
            f"prometheus {probe.endpoint}",
            f"/-/ready answered {probe.status} {probe.body[:200]!r}; expected 200",
        )
    ]


# -- scrape targets --------------------------------------------------------------------------------


def job_targets(targets: Mapping[str, Any], job: str) -> list[dict[str, Any]]:
    """The active targets of scrape job ``job`` (by the ``job`` label or the scrape pool)."""
    return [
        t
        for t in targets.get("activeTargets") or []
        if (t.get("labels") or {}).get("job") == job or t.get("scrapePool") == job
    ]


# A target Prometheus has discovered but not scraped yet reports health "unknown": right after a
# rollout the new pods' targets are in that state for up to one scrape interval. The read waits
# that long (plus a grace period) instead of judging them down; never longer than this.
UNSCRAPED_WAIT_CAP = 120.0
UNSCRAPED_GRACE = 2.0


def unscraped(targets: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Active targets not scraped yet (health "unknown")."""
    return [t for t in targets.get("activeTargets") or [] if t.get("health") == "unknown"]


def unscraped_wait(targets: Mapping[str, Any]) -> float:
    """Seconds to wait for the unscraped targets' first scrape: their longest scrape interval
    (1m, Prometheus' default, where the API does not say) plus a grace period, capped."""
    longest = 0.0
    for target in unscraped(targets):
        try:
            longest = max(longest, parse_duration(str(target.get("scrapeInterval") or "1m")))
        except ValueError:
            longest = max(longest, 60.0)
    if not longest:
        return 0.0
    return min(longest + UNSCRAPED_GRACE, UNSCRAPED_WAIT_CAP)


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
    check_id: str = TARGETS.id,
) -> list[Finding]:
    """The job exists, every target is up, and there are as many targets as expected.

    ``expected_count`` is the number of ready pods when Kubernetes is configured. ``check_id``
    names the rule for another scrape job (``redis-exporter``)."""
    rule = TARGETS if check_id == TARGETS.id else Rule(check_id, TARGETS.severity, TARGETS.title)
    subject = f"prometheus scrape job {job}"
    mine = job_targets(targets, job)
    if not mine:
        jobs = sorted(
            {(t.get("labels") or {}).get("job", "?") for t in targets.get("activeTargets") or []}
        )
        return [
            rule(
                subject,
                f"has no active targets (jobs scraped: {', '.join(jobs) or 'none'}); expected "
                f"at least {max(min_targets, 1)} target(s) for job {job!r}",
                Severity.CRITICAL,
            )
        ]
    found: list[Finding] = []
    for target in mine:
        if target.get("health") != "up":
            instance = (target.get("labels") or {}).get("instance") or target.get("scrapeUrl")
            if target.get("health") == "unknown":
                interval = target.get("scrapeInterval")
                waited = "waited one scrape interval" + (f", {interval}" if interval else "")
                problem = f"has not been scraped yet (health unknown; {waited}); expected up"
            else:
                error = target.get("lastError") or "no error reported"
                problem = f"is {target.get('health')} ({error}); expected up"
            found.append(rule(f"{subject} target {instance}", problem))
    if len(mine) < min_targets:
        found.append(rule(subject, f"has {len(mine)} target(s); expected at least {min_targets}"))
    if expected_count is not None and len(mine) != expected_count:
        found.append(
            rule(
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
                RULES(
                    f"prometheus rule group {pattern}",
                    f"no loaded rule group matches (loaded: {', '.join(names) or 'none'}); "
                    "expected the service's rule file to be loaded",
                )
            )
    for group in matching_groups(groups, patterns):
        for rule in group.get("rules") or []:
            if rule.get("health") == "err":
                found.append(
                    RULES(
                        f"prometheus rule {group.get('name')}/{rule.get('name')}",
                        f"fails to evaluate: {rule.get('lastError') or 'no error text'}; "
                        "expected health ok",
                    )
                )
    if not patterns and not groups:
        found.append(
            RULES(
                "prometheus rules",
                "no rule groups are loaded; expected the service's alert rules",
            )
        )
    return found


# -- alertmanagers ----------------------------------------------------------------------------------


def host_port(address: str) -> tuple[str, int | None]:
    """``(host, port)`` of a URL or a bare ``host:port`` (default ports by scheme)."""
    parts = urlsplit(address if "://" in address else f"//{address}")
    default = {"https": 443, "http": 80}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port or default


def _address(url: str) -> str:
    host, port = host_port(url)
    return f"{host}:{port}" if port else host


def _matches_address(url: str, wanted: str) -> bool:
    """``url`` (an active Alertmanager) is ``wanted``: a URL or ``host:port``, fnmatch patterns
    allowed (``10.0.*:9093``); a pattern without a port matches any port."""
    if any(ch in wanted for ch in "*?["):
        target = url if "://" in wanted else _address(url)
        host_only = host_port(url)[0]
        return fnmatch.fnmatchcase(target.lower(), wanted.lower()) or fnmatch.fnmatchcase(
            host_only, wanted.lower()
        )
    want_host, want_port = host_port(wanted)
    host, port = host_port(url)
    return host == want_host and (want_port is None or port == want_port)


def _subset(labels: Mapping[str, str], of: Mapping[str, str]) -> bool:
    return all(of.get(key) == value for key, value in labels.items())


def identify_alertmanager(link: AlertmanagerLink) -> tuple[str, str] | None:
    """``(active URL, how it was recognised)`` for the profile's Alertmanager, or None."""
    active = link.active
    if link.expected_url is not None:
        for url in active:
            if _matches_address(url, link.expected_url):
                return url, "the profile's [alertmanager] url"
    for pattern in link.internal_urls:
        for url in active:
            if _matches_address(url, pattern):
                return url, f"[alertmanager] internal_urls {pattern!r}"
    peer_hosts = {host_port(peer)[0] for peer in link.peers or ()}
    for url in active:
        if host_port(url)[0] in peer_hosts:
            return url, "a peer of the cluster the profile's Alertmanager reports"
    for alert in link.firing or ():
        if any(_subset(alert, held) for held in link.held or ()):
            name = alert.get("alertname", "?")
            shown = ", ".join(active)
            return shown, f"the profile's Alertmanager holds alert {name} that Prometheus fires"
    return None


def alertmanager_link_findings(link: AlertmanagerLink) -> list[Finding]:
    """Prometheus has an active Alertmanager, and (when the profile names one) it is that one."""
    active = link.active
    subject = "prometheus alerting"
    if not active:
        return [
            ALERTMANAGER(
                subject,
                f"no active Alertmanager ({link.dropped} dropped); expected alerts to be sent "
                "to one",
                Severity.CRITICAL,
            )
        ]
    if link.expected_url is None or identify_alertmanager(link) is not None:
        return []
    host, port = host_port(link.expected_url)
    sends = f"sends alerts to {', '.join(active)}"
    if link.settled and link.held is not None:
        names = sorted({a.get("alertname", "?") for a in link.settled})
        return [
            ALERTMANAGER(
                subject,
                f"{sends}, but the profile's Alertmanager at {host}:{port} holds none of the "
                f"{len(link.settled)} alert(s) Prometheus fires ({', '.join(names)}); expected "
                "Prometheus to deliver its alerts to the profile's Alertmanager",
            )
        ]
    why = f" (could not ask it: {link.problem})" if link.problem else ""
    return [
        ALERTMANAGER(
            subject,
            f"{sends}; expected the profile's Alertmanager at {host}:{port}{why}. If Prometheus "
            "reaches it under another address (a service name, pod IPs), list that address in "
            "[alertmanager] internal_urls",
        )
    ]


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


def _epoch(stamp: Any) -> float | None:
    """Seconds since the epoch of an RFC 3339 time as Prometheus writes it (nanoseconds allowed)."""
    if not isinstance(stamp, str) or not stamp:
        return None
    text = stamp.strip().replace("Z", "+00:00")
    main, dot, rest = text.partition(".")
    if dot:  # keep at most microseconds: fromisoformat takes no more
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{main}.{digits[:6]}{zone}"
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def firing_label_sets(alerts: Sequence[Mapping[str, Any]]) -> tuple[dict[str, str], ...]:
    """The labels of every firing alert (Prometheus or Alertmanager shape)."""
    return tuple(
        {str(k): str(v) for k, v in (a.get("labels") or {}).items()}
        for a in alerts
        if _is_firing(a)
    )


def settled_firing(
    alerts: Sequence[Mapping[str, Any]], now: float, grace_s: float = DELIVERY_GRACE_S
) -> tuple[dict[str, str], ...]:
    """The labels of the alerts Prometheus has fired for at least ``grace_s`` seconds before
    ``now``: long enough to have been sent to every Alertmanager it knows."""
    out = []
    for alert in alerts:
        since = _epoch(alert.get("activeAt"))
        if _is_firing(alert) and since is not None and now - since >= grace_s:
            out.append({str(k): str(v) for k, v in (alert.get("labels") or {}).items()})
    return tuple(out)


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
            FIRING(
                f"{source} alert {alert_labels.get('alertname', '?')}",
                f"is firing with severity {alert_labels.get('severity')} since {since} "
                f"({scope})"
                + (f": {summary}" if summary else "")
                + f"; expected no {'/'.join(severities)} alert firing",
            )
        )
    return found
