"""Alertmanager checks over its running configuration (``/api/v2/status`` → ``config.original``).

Receivers are parsed with their integration types (``pagerduty_configs`` → ``pagerduty``), and the
route tree tells which receivers can ever be notified.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pytest_deployverify.checks.findings import Finding, Severity

CONFIG_SUFFIX = "_configs"


def _finding(severity: Severity, subject: str, message: str) -> Finding:
    return Finding(
        check_id="alertmanager-receivers", severity=severity, subject=subject, message=message
    )


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
                _finding(
                    Severity.HIGH,
                    subject,
                    f"is not configured (receivers: {present or 'none'}); expected it present",
                )
            )
        elif not receivers[name]:
            found.append(
                _finding(
                    Severity.HIGH,
                    subject,
                    "has no integration (no *_configs): notifications to it go nowhere",
                )
            )
        elif name not in routed:
            found.append(
                _finding(
                    Severity.MEDIUM,
                    subject,
                    "is configured but no route sends to it; expected the route tree to use it",
                )
            )
    for kind in expected_integrations:
        users = [n for n, kinds in receivers.items() if kind.lower() in kinds and n in routed]
        if not users:
            found.append(
                _finding(
                    Severity.HIGH,
                    f"alertmanager integration {kind}",
                    f"no routed receiver uses {kind} (receivers: {present or 'none'}); "
                    f"expected a {kind} integration",
                )
            )
    return found


def cluster_summary(status: Mapping[str, Any]) -> dict[str, Any]:
    """Version, cluster status and uptime from ``/api/v2/status``, for evidence."""
    cluster = status.get("cluster") or {}
    return {
        "version": (status.get("versionInfo") or {}).get("version"),
        "cluster": cluster.get("status"),
        "peers": len(cluster.get("peers") or []),
        "uptime": status.get("uptime"),
    }
