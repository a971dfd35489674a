"""Starting the second environment's REST service (``service.py``) as a real subprocess, with its
own certificates: a server certificate, and a client CA with one client certificate it trusts."""

from __future__ import annotations

import secrets
import ssl
import sys
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import trustme

from sandbox.gateway.childenv import REPO_ROOT, child_env
from sandbox.ports import LOOPBACK, free_port
from sandbox.procs import ManagedProcess, start_with_port_retry

READY_TIMEOUT = 20.0
VERSION = "v2.0.1"  # what the service reports; the profile expects 2.0.1


@dataclass(frozen=True)
class ServiceCerts:
    """The service's server certificate (and its CA), and a client certificate its client CA
    signed, as PEM files."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_ca_cert: Path
    client_cert: Path  # certificate and chain
    client_key: Path


def make_service_certs(folder: Path) -> ServiceCerts:
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="second environment CA")
    server = ca.issue_cert(LOOPBACK, "localhost", "items.second.test")
    client_ca = trustme.CA(organization_name="second environment client CA")
    client = client_ca.issue_cert("deployverify@second.test", common_name="deployverify")
    paths = ServiceCerts(
        ca_cert=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_ca_cert=folder / "client-ca.pem",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
    )
    ca.cert_pem.write_to_path(str(paths.ca_cert))
    server.cert_chain_pems[0].write_to_path(str(paths.server_cert))
    server.private_key_pem.write_to_path(str(paths.server_key))
    client_ca.cert_pem.write_to_path(str(paths.client_ca_cert))
    client.cert_chain_pems[0].write_to_path(str(paths.client_cert))
    client.private_key_pem.write_to_path(str(paths.client_key))
    return paths


@dataclass
class ServiceProcess:
    url: str
    style: str
    env: dict[str, str] = field(repr=False)
    certs: ServiceCerts
    process: ManagedProcess = field(repr=False)

    @property
    def api_key(self) -> str:
        return self.env["SVC_API_KEY"]

    @property
    def basic(self) -> tuple[str, str]:
        return self.env["SVC_BASIC_USER"], self.env["SVC_BASIC_PASSWORD"]

    def stop(self) -> None:
        self.process.stop()


def _ready(url: str, certs: ServiceCerts) -> bool:
    context = ssl.create_default_context(cafile=str(certs.ca_cert))
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1.0, context=context) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def start_service(
    workdir: Path,
    certs: ServiceCerts,
    *,
    style: str = "api-key",
    defects: Iterable[str] = (),
    version: str = VERSION,
    basic_user: str = "reporting",
) -> ServiceProcess:
    """Start the service over HTTPS on a free loopback port; return once ``/healthz`` answers."""
    env = {
        "SVC_AUTH": style,
        "SVC_VERSION": version,
        "SVC_API_KEY": secrets.token_urlsafe(24),
        "SVC_BASIC_USER": basic_user,
        "SVC_BASIC_PASSWORD": secrets.token_urlsafe(18),
        "SVC_DEFECTS": ",".join(sorted(defects)),
        "SVC_TLS_CERT": str(certs.server_cert),
        "SVC_TLS_KEY": str(certs.server_key),
        "SVC_CLIENT_CA": str(certs.client_ca_cert),
    }
    workdir.mkdir(parents=True, exist_ok=True)

    def attempt() -> ServiceProcess:
        port = free_port()
        argv = [sys.executable, "-m", "tests.second_env.service", "--port", str(port)]
        process = ManagedProcess(
            "items-service", argv, workdir, port=port, env=child_env(env), cwd=REPO_ROOT
        )
        process.start()
        url = f"https://{LOOPBACK}:{port}"
        with process.stopped_on_error():
            process.wait_until(lambda: _ready(url, certs), READY_TIMEOUT, "answering /healthz")
        return ServiceProcess(url, style, env, certs, process)

    return start_with_port_retry(attempt)
