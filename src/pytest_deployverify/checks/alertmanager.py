"""Alertmanager checks over its own report (``/api/v2/status``) and running configuration
(``config.original``, parsed by ``components.alertmanager``), and their declarations.

Receivers are parsed with their integration types (``pagerduty_configs`` → ``pagerduty``), and the
route tree tells which receivers can ever be notified.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pytest_deployverify.checks.declarations import declare, needs_any
from pytest_deployverify.checks.findings import Finding, Rule, Severity

CONFIG_SUFFIX = "_configs"

STATUS = Rule("alertmanager-status", Severity.HIGH, "Alertmanager reports its status and config")
RECEIVERS = Rule("alertmanager-receivers", Severity.HIGH, "expected receivers configured, routed")

_A = ("alertmanager",)
AM_READY = declare(
    "MON-AM-READY",
    title="Alertmanager is ready",
    section="monitoring",
    severity="high",
    components=_A,
    keys=("alertmanager.url",),
    reads=("alertmanager.status",),
)
AM_RECEIVERS = declare(
    "MON-AM-RECEIVERS",
    title="Alertmanager routes to the expected receivers (PagerDuty, Slack)",
    section="monitoring",
    severity="high",
    components=_A,
    keys=(
        "alertmanager.receivers",
        "prometheus.expect.alertmanager_integrations",
        "prometheus.expect.require_routed_receivers",
    ),
    reads=("alertmanager.config",),
    applies=needs_any("alertmanager.receivers", "prometheus.expect.alertmanager_integrations"),
    description="Each expected receiver exists, has an integration and is routed to; each "
    "expected integration type (pagerduty, slack…) is used by a routed receiver.",
)

CHECKS = (AM_READY, AM_RECEIVERS)


def status_findings(status: Mapping[str, Any], endpoint: str = "") -> list[Finding]:
    """``/api/v2/status`` answered with what an Alertmanager reports: its version and its config."""
    missing = [key for key in ("versionInfo", "config") if not status.get(key)]
    if not missing:
        return []
    return [
        STATUS(
            f"alertmanager {endpoint}".strip(),
            f"/api/v2/status has no {' and no '.join(missing)}; expected an Alertmanager's status "
            "(is the URL an Alertmanager?)",
        )
    ]


def receiver_integrations(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """Receiver name → its integration types, e.g. ``{"oncall": ["pagerduty"]}``."""
    out: dict[str, list[str]] = {}
    for receiver in config.get("receivers") or []:
        if not isinstance(receiver, Mapping) or not receiver.get("name"):
            continue
        kinds = sorted(
            key[: -len(CONFIG_SUFFIX)]
            for key, value in receiver.items()
            if key.endswith(CONFIG_SUFFIX) and value
        )
        out[str(receiver["name"])] = kinds
    return out


def _routes(route: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield route
    for child in route.get("routes") or []:
        if isinstance(child, Mapping):
            yield from _routes(child)


def routed_receivers(config: Mapping[str, Any]) -> set[str]:
    """Receivers some route (the root or a child) sends to."""
    route = config.get("route")
    if not isinstance(route, Mapping):
        return set()
    return {str(r["receiver"]) for r in _routes(route) if r.get("receiver")}


def receiver_findings(
    config: Mapping[str, Any],
    expected_receivers: Sequence[str] = (),
    expected_integrations: Sequence[str] = (),
    *,
    require_routes: bool = True,
) -> list[Finding]:
    """Each expected receiver exists, has an integration and is routed to; each expected
    integration type (``pagerduty``, ``slack`` …) is used by a routed receiver. With
    ``require_routes=False`` any configured receiver counts as routed."""
    receivers = receiver_integrations(config)
    routed = routed_receivers(config) if require_routes else set(receivers)
    found: list[Finding] = []
    present = ", ".join(f"{n} ({'/'.join(k) or 'no integration'})" for n, k in receivers.items())
    for name in expected_receivers:
        subject = f"alertmanager receiver {name}"
        if name not in receivers:
            found.append(
                RECEIVERS(
                    subject,
                    f"is not configured (receivers: {present or 'none'}); expected it present",
                )
            )
        elif not receivers[name]:
            found.append(
                RECEIVERS(
                    subject, "has no integration (no *_configs): notifications to it go nowhere"
                )
            )
        elif name not in routed:
            found.append(
                RECEIVERS(
                    subject,
                    "is configured but no route sends to it; expected the route tree to use it",
                    Severity.MEDIUM,
                )
            )
    for kind in expected_integrations:
        users = [n for n, kinds in receivers.items() if kind.lower() in kinds and n in routed]
        if not users:
            found.append(
                RECEIVERS(
                    f"alertmanager integration {kind}",
                    f"no routed receiver uses {kind} (receivers: {present or 'none'}); "
                    f"expected a {kind} integration",
                )
            )
    return found


def cluster_peers(status: Mapping[str, Any]) -> tuple[str, ...]:
    """The addresses of the cluster members the Alertmanager reports (empty: clustering off)."""
    peers = (status.get("cluster") or {}).get("peers") or []
    return tuple(
        str(p.get("address")) for p in peers if isinstance(p, Mapping) and p.get("address")
    )


def cluster_summary(status: Mapping[str, Any]) -> dict[str, Any]:
    """Version, cluster status and uptime from ``/api/v2/status``, for evidence."""
    cluster = status.get("cluster") or {}
    return {
        "version": (status.get("versionInfo") or {}).get("version"),
        "cluster": cluster.get("status"),
        "peers": len(cluster.get("peers") or []),
        "uptime": status.get("uptime"),
    }
