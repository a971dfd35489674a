"""Running the gateway as a real uvicorn subprocess on a free loopback port."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.gateway.childenv import REPO_ROOT, child_env
from sandbox.gateway.settings import DEFECTS
from sandbox.ports import LOOPBACK, free_port
from sandbox.procs import ManagedProcess, start_with_port_retry
from sandbox.servers.http_probe import http_status

READY_TIMEOUT = 20.0


@dataclass
class GatewayProcess:
    url: str
    port: int
    process: ManagedProcess = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_gateway(
    workdir: Path,
    *,
    env: Mapping[str, str],
    defects: Iterable[str] = frozenset(),
    forwarded_allow_ips: str | None = None,
) -> GatewayProcess:
    """Start ``python -m sandbox.gateway`` with exactly ``env`` (plus PATH/PYTHONPATH), the
    ``defects`` added to GATEWAY_DEFECTS; return once ``/health/live`` answers 200.

    ``forwarded_allow_ips`` is for running behind a proxy (e.g. ``"127.0.0.1"`` for a local
    nginx): only then is X-Forwarded-For believed.
    """
    listed = env.get("GATEWAY_DEFECTS", "").split(",")
    wanted = set(defects) | {name.strip() for name in listed if name.strip()}
    unknown = wanted - DEFECTS
    if unknown:
        raise ValueError(f"unknown defect switch(es) {sorted(unknown)}; valid: {sorted(DEFECTS)}")
    child = child_env({**env, "GATEWAY_DEFECTS": ",".join(sorted(wanted))})
    workdir.mkdir(parents=True, exist_ok=True)

    def attempt() -> GatewayProcess:
        port = free_port()
        argv = [sys.executable, "-m", "sandbox.gateway", "--host", LOOPBACK, "--port", str(port)]
        if forwarded_allow_ips is not None:
            argv += ["--forwarded-allow-ips", forwarded_allow_ips]
        process = ManagedProcess("gateway", argv, workdir, port=port, env=child, cwd=REPO_ROOT)
        process.start()
        url = f"http://{LOOPBACK}:{port}"
        with process.stopped_on_error():
            process.wait_until(
                lambda: http_status(url + "/health/live") == 200,
                READY_TIMEOUT,
                "answering /health/live",
            )
        return GatewayProcess(url=url, port=port, process=process)

    return start_with_port_retry(attempt)
