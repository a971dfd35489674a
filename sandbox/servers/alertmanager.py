"""A real Alertmanager on loopback (Debian's ``prometheus-alertmanager``), clustering off.

Receivers are described as ``{"name": ..., "type": "webhook" | "slack" | "pagerduty"}`` plus an
optional ``"url"``. Without a URL every receiver points at a ``WebhookReceiver`` we start (path
``/<type>/<name>``), so notifications stay on the machine and can be inspected in tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sandbox.ports import LOOPBACK, free_port
from sandbox.procs import (
    INSTALL_HINT,
    ManagedProcess,
    ServerStartError,
    start_with_port_retry,
)
from sandbox.servers.http_probe import get_json, http_status
from sandbox.servers.webhook import WebhookReceiver

READY_TIMEOUT = 15.0
RECEIVER_TYPES = ("webhook", "slack", "pagerduty")
_BINARIES = ("prometheus-alertmanager", "alertmanager")


@dataclass
class AlertmanagerServer:
    port: int
    workdir: Path
    config_file: Path
    webhook: WebhookReceiver | None
    process: ManagedProcess = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def api(self, path: str) -> Any:
        """GET ``/api/v2/<path>`` as JSON."""
        return get_json(self.url, f"/api/v2/{path.lstrip('/')}")

    def stop(self) -> None:
        self.process.stop()
        if self.webhook is not None:
            self.webhook.stop()


def _receiver_config(spec: Mapping[str, Any], default_base: str | None) -> dict[str, Any]:
    name = spec.get("name")
    kind = spec.get("type")
    if not name or kind not in RECEIVER_TYPES:
        raise ValueError(f"receiver needs a name and a type in {RECEIVER_TYPES}: {dict(spec)}")
    url = spec.get("url") or f"{default_base}/{kind}/{name}"
    if kind == "webhook":
        return {"name": name, "webhook_configs": [{"url": url, "send_resolved": True}]}
    if kind == "slack":
        slack = {"api_url": url, "channel": spec.get("channel", "#deploy-alerts")}
        return {"name": name, "slack_configs": [{**slack, "send_resolved": True}]}
    pagerduty = {
        "url": url,
        # Looks like an Events API v2 integration key; nothing leaves the machine.
        "routing_key": spec.get("routing_key", "0123456789abcdef0123456789abcdef"),
        "send_resolved": True,
    }
    return {"name": name, "pagerduty_configs": [pagerduty]}


def render_alertmanager_config(
    receivers: Sequence[Mapping[str, Any]],
    route_receiver: str,
    default_base: str | None,
    routes: Sequence[Mapping[str, Any]] = (),
) -> str:
    names = [spec.get("name") for spec in receivers]
    if route_receiver not in names:
        raise ValueError(f"route_receiver {route_receiver!r} is not among receivers {names}")
    route: dict[str, Any] = {
        "receiver": route_receiver,
        "group_by": ["alertname"],
        # Short waits so a test sees a notification within seconds.
        "group_wait": "1s",
        "group_interval": "1s",
        "repeat_interval": "1h",
    }
    for child in routes:
        if child.get("receiver") not in names:
            raise ValueError(f"route receiver {child.get('receiver')!r} is not among {names}")
    if routes:
        route["routes"] = [dict(child) for child in routes]
    config = {
        "route": route,
        "receivers": [_receiver_config(spec, default_base) for spec in receivers],
    }
    text: str = yaml.safe_dump(config, sort_keys=False)
    return text


def start_alertmanager(
    workdir: Path,
    *,
    receivers: Sequence[Mapping[str, Any]],
    route_receiver: str,
    routes: Sequence[Mapping[str, Any]] = (),
) -> AlertmanagerServer:
    """Start Alertmanager in ``workdir``; ready when ``/-/ready`` answers 200. If a receiver has no
    ``url``, a ``WebhookReceiver`` is started (``.webhook``) and stopped with the server."""
    binary = next((found for name in _BINARIES if (found := shutil.which(name))), None)
    if binary is None:
        raise ServerStartError(
            "alertmanager", None, f"prometheus-alertmanager not found; {INSTALL_HINT}", ""
        )
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "data"
    storage.mkdir(exist_ok=True)
    webhook = WebhookReceiver() if any(not spec.get("url") for spec in receivers) else None
    try:
        config_file = workdir / "alertmanager.yml"
        config_file.write_text(
            render_alertmanager_config(
                receivers, route_receiver, webhook.url if webhook is not None else None, routes
            )
        )
    except BaseException:
        if webhook is not None:
            webhook.stop()
        raise

    def attempt() -> AlertmanagerServer:
        port = free_port()
        process = ManagedProcess(
            "alertmanager",
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.path={storage}",
                f"--web.listen-address={LOOPBACK}:{port}",
                f"--web.external-url=http://{LOOPBACK}:{port}/",
                # An empty address turns the gossip cluster off (no UDP/TCP port 9094).
                "--cluster.listen-address=",
            ],
            workdir,
            port=port,
        ).start()
        server = AlertmanagerServer(
            port=port, workdir=workdir, config_file=config_file, webhook=webhook, process=process
        )
        with process.stopped_on_error():
            process.wait_until(
                lambda: http_status(f"{server.url}/-/ready") == 200,
                READY_TIMEOUT,
                "answering 200 on /-/ready",
            )
        return server

    try:
        return start_with_port_retry(attempt)
    except BaseException:
        if webhook is not None:
            webhook.stop()
        raise
