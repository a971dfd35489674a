"""The Alertmanager component: ``[alertmanager]``, its API v2 client, and its readers.

Readers: ``status`` (``/api/v2/status``: version, cluster and peers, the running config as YAML),
``config`` (that YAML parsed), ``alerts`` (``/api/v2/alerts``: every alert it holds). The client is
probed with ``GET /-/ready`` when it is built. PyYAML is imported only to parse the config.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pytest_deployverify.checks.alertmanager import CHECKS
from pytest_deployverify.components.base import Component, ReadContext, SectionSpec
from pytest_deployverify.components.httpapi import ApiError, JsonApi
from pytest_deployverify.profile.fields import ExistingFile, HeaderValue, HttpUrl, Seconds
from pytest_deployverify.profile.model import Profile

COMPONENT = "alertmanager"


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlertmanagerConfig:
    """``[alertmanager]``: where alerts are routed, as the verifier reaches it."""

    # Alertmanager's base URL as the verifier reaches it; its /-/ready must answer
    # (`url = "http://alertmanager.monitoring:9093"`).
    url: HttpUrl
    # A token sent as "Authorization: Bearer" with every request (unset: none).
    bearer_token: HeaderValue | None = None
    # A PEM file of the CA certificates to trust for an https:// url (unset: the system store).
    ca_file: ExistingFile | None = None
    # Seconds each request may take.
    timeout: Seconds = 5.0
    # Receivers that must be configured, have an integration and be routed to
    # (`receivers = ["oncall-pagerduty"]`); empty: only [prometheus.expect]
    # alertmanager_integrations is judged, and without it the item is not applicable.
    receivers: tuple[str, ...] = ()
    # The addresses under which Prometheus reaches this Alertmanager when they differ from url
    # (a service name, pod IPs): URLs or host:port, fnmatch patterns allowed ("10.0.*:9093").
    internal_urls: tuple[str, ...] = ()


class AlertmanagerApi(JsonApi):
    """Alertmanager API v2 as plain data."""

    component = COMPONENT
    credentials_hint = "check bearer_token"

    def status(self) -> dict[str, Any]:
        """``/api/v2/status``: cluster, versionInfo, config.original (YAML), uptime."""
        doc = self.json("/api/v2/status")
        if not isinstance(doc, dict):
            raise self.fail(
                "GET /api/v2/status", f"answered something that is not an object: {doc!r:.120}"
            )
        return doc

    def config(self, status: dict[str, Any] | None = None) -> dict[str, Any]:
        """The running configuration, parsed from ``config.original`` (of ``status`` when given)."""
        import yaml

        original = ((status or self.status()).get("config") or {}).get("original") or ""
        try:
            parsed = yaml.safe_load(original) or {}
        except yaml.YAMLError as exc:
            raise self.fail(
                "GET /api/v2/status", f"served a config that is not YAML: {exc}"
            ) from None
        return parsed if isinstance(parsed, dict) else {}

    def receivers(self) -> list[str]:
        """Names of the configured receivers."""
        return [str(r.get("name")) for r in self.config().get("receivers") or [] if r.get("name")]

    def alerts(
        self,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        filters: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """``/api/v2/alerts``; ``filters`` are matchers such as ``alertname="Watchdog"``."""
        params: list[tuple[str, str | int | float]] = [
            ("active", str(active).lower()),
            ("silenced", str(silenced).lower()),
            ("inhibited", str(inhibited).lower()),
        ]
        params += [("filter", f) for f in filters or ()]
        alerts = self.json("/api/v2/alerts", params)
        if not isinstance(alerts, list):
            raise self.fail(
                "GET /api/v2/alerts", f"answered something that is not a list: {alerts!r:.120}"
            )
        return alerts


def build_alertmanager(config: AlertmanagerConfig) -> AlertmanagerApi:
    """The probed Alertmanager client (``/-/ready`` must answer 200 within the timeout)."""
    api = AlertmanagerApi.from_section(config)
    api.probe("/-/ready")
    return api


# -- readers -----------------------------------------------------------------------------------


def _status(ctx: ReadContext) -> dict[str, Any]:
    api: AlertmanagerApi = ctx.client
    try:
        return api.status()
    except ApiError as exc:
        raise api.read_error(exc) from exc


def _config(ctx: ReadContext) -> dict[str, Any]:
    api: AlertmanagerApi = ctx.client
    status = ctx.read("alertmanager.status")
    try:
        return api.config(status)
    except ApiError as exc:
        raise api.read_error(exc) from exc


def _alerts(ctx: ReadContext) -> list[dict[str, Any]]:
    api: AlertmanagerApi = ctx.client
    try:
        return api.alerts()
    except ApiError as exc:
        raise api.read_error(exc) from exc


def _connect(section: AlertmanagerConfig, profile: Profile) -> AlertmanagerApi:
    return build_alertmanager(section)


component = Component(
    name=COMPONENT,
    title="Alertmanager",
    sections=(SectionSpec("alertmanager", AlertmanagerConfig, "where alerts are routed"),),
    connect=_connect,
    reads={"status": _status, "config": _config, "alerts": _alerts},
    checks=CHECKS,
    checklist=("pytest_deployverify.checklist.test_alertmanager",),
    extra="prometheus",
    description="Readiness, its own status, and the receivers and routes of its running config.",
)
