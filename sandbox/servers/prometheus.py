"""A real Prometheus on loopback, optionally backfilled with a known past.

Backfill: ``promtool tsdb create-blocks-from openmetrics <file> <datadir>`` runs *before* the
server starts, so the blocks are simply loaded at start-up and range queries over the past hour
return exactly the values written (format: ``sandbox.servers.openmetrics``). Prometheus 2.39+
always accepts blocks that overlap each other or the head, so no extra flag is needed for that.

Two limits matter:

* Retention is measured back from the newest block, so an hour-old backfill is safe with the
  default 15 days; we pass it explicitly so a distro default cannot surprise us.
* "Out of bounds": after loading blocks, the head refuses samples older than the newest block's
  max time. A backfilled sample stamped in the future would therefore make every scrape until
  that moment fail (``Out of bounds metric`` in the debug log; ``up`` stays empty). So backfilled
  samples must all lie in the past; ``start_prometheus`` refuses a document that breaks this.

A backfill therefore ends when the server starts, and its series go stale five minutes later. Series
that must go on for as long as the server runs are continued by recording rules passed in
``rule_files`` (``sandbox.history`` does this for the sandbox): their samples are stamped when the
rules are evaluated, after the newest block, and a counter written as ``rate * (t - anchor)`` on
both sides continues without a step.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from sandbox.ports import LOOPBACK, free_port
from sandbox.procs import (
    INSTALL_HINT,
    ManagedProcess,
    ServerStartError,
    start_with_port_retry,
)
from sandbox.servers.http_probe import get_json, http_status
from sandbox.servers.openmetrics import (
    counter_series,
    latest_timestamp,
    openmetrics_document,
    openmetrics_series,
    past_timestamps,
)

__all__ = [
    "PrometheusServer",
    "counter_series",
    "openmetrics_document",
    "openmetrics_series",
    "past_timestamps",
    "start_prometheus",
]

READY_TIMEOUT = 20.0
RETENTION = "15d"
ALERT_RESEND_DELAY = "2s"


@dataclass
class PrometheusServer:
    port: int
    workdir: Path
    config_file: Path
    data_dir: Path
    process: ManagedProcess = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def api(self, path: str, **params: str | int | float) -> Any:
        """GET ``/api/v1/<path>`` and return the ``data`` member (raises on a non-success)."""
        body = get_json(self.url, f"/api/v1/{path.lstrip('/')}", params)
        if body.get("status") != "success":
            raise RuntimeError(f"prometheus {path}: {body}")
        return body["data"]

    def stop(self) -> None:
        self.process.stop()


def _alerting(alertmanager_urls: Sequence[str]) -> dict[str, Any]:
    managers = []
    for url in alertmanager_urls:
        parts = urlsplit(url)
        if not parts.hostname or not parts.port:
            raise ValueError(f"alertmanager URL needs a host and port: {url!r}")
        managers.append(
            {
                "scheme": parts.scheme or "http",
                "path_prefix": parts.path or "/",
                "static_configs": [{"targets": [f"{parts.hostname}:{parts.port}"]}],
            }
        )
    return {"alertmanagers": managers}


def render_prometheus_config(
    *,
    scrape_configs: Sequence[Mapping[str, Any]],
    rule_paths: Sequence[Path],
    alertmanager_urls: Sequence[str],
    evaluation_interval: str,
    scrape_interval: str,
) -> str:
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "evaluation_interval": evaluation_interval,
        },
        "rule_files": [str(path) for path in rule_paths],
        "scrape_configs": [dict(item) for item in scrape_configs],
    }
    if alertmanager_urls:
        config["alerting"] = _alerting(alertmanager_urls)
    text: str = yaml.safe_dump(config, sort_keys=False)
    return text


def _backfill(promtool: str, document: str, workdir: Path, data_dir: Path) -> None:
    newest = latest_timestamp(document)
    if newest is not None and newest > time.time():
        raise ValueError(
            f"backfill sample at {newest:.0f} lies in the future; the head would then reject "
            "every scrape as out of bounds until then (see sandbox.servers.prometheus)"
        )
    source = workdir / "backfill.om"
    source.write_text(document)
    result = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    (workdir / "backfill.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise ServerStartError(
            "prometheus",
            None,
            f"promtool could not backfill {source} (exit {result.returncode})",
            (result.stdout + result.stderr)[-4000:],
        )


def start_prometheus(
    workdir: Path,
    *,
    scrape_configs: Sequence[Mapping[str, Any]] = (),
    rule_files: Mapping[str, str] | None = None,
    alertmanager_urls: Sequence[str] = (),
    backfill_openmetrics: str | None = None,
    evaluation_interval: str = "1s",
    scrape_interval: str = "1s",
) -> PrometheusServer:
    """Start Prometheus in ``workdir`` (lifecycle and admin APIs off); ready when ``/-/ready``
    answers 200. ``rule_files`` maps file names to YAML rule groups; ``backfill_openmetrics`` is
    an OpenMetrics document (``openmetrics_document``) loaded into the TSDB before start."""
    binary = shutil.which("prometheus")
    promtool = shutil.which("promtool")
    if binary is None or promtool is None:
        missing = "prometheus" if binary is None else "promtool"
        raise ServerStartError("prometheus", None, f"{missing} not found; {INSTALL_HINT}", "")
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    data_dir.mkdir(exist_ok=True)
    rules_dir = workdir / "rules"
    rules_dir.mkdir(exist_ok=True)
    rule_paths = []
    for name, text in (rule_files or {}).items():
        path = rules_dir / (name if name.endswith((".yml", ".yaml")) else f"{name}.yml")
        path.write_text(text)
        rule_paths.append(path)
    config_file = workdir / "prometheus.yml"
    config_file.write_text(
        render_prometheus_config(
            scrape_configs=scrape_configs,
            rule_paths=rule_paths,
            alertmanager_urls=alertmanager_urls,
            evaluation_interval=evaluation_interval,
            scrape_interval=scrape_interval,
        )
    )
    if backfill_openmetrics is not None:
        _backfill(promtool, backfill_openmetrics, workdir, data_dir)

    def attempt() -> PrometheusServer:
        port = free_port()
        process = ManagedProcess(
            "prometheus",
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={data_dir}",
                f"--storage.tsdb.retention.time={RETENTION}",
                f"--web.listen-address={LOOPBACK}:{port}",
                # Firing alerts are re-sent every minute by default; alerts that fire before the
                # notifier has discovered Alertmanager (~5 s) would wait that long to arrive.
                f"--rules.alert.resend-delay={ALERT_RESEND_DELAY}",
                # Debian's defaults point at /etc/prometheus; keep every path in the workdir.
                f"--web.console.templates={workdir / 'consoles'}",
                f"--web.console.libraries={workdir / 'console_libraries'}",
            ],
            workdir,
            port=port,
        ).start()
        server = PrometheusServer(
            port=port, workdir=workdir, config_file=config_file, data_dir=data_dir, process=process
        )
        with process.stopped_on_error():
            process.wait_until(
                lambda: http_status(f"{server.url}/-/ready") == 200,
                READY_TIMEOUT,
                "answering 200 on /-/ready",
            )
        return server

    return start_with_port_retry(attempt)
