"""`KubeEmulator`: the wire-level Kubernetes API emulator tests start, query and tear down."""

from __future__ import annotations

import secrets
import shutil
import ssl
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import trustme

from sandbox.kube import kubeconfig
from sandbox.kube.access import DEFAULT_USER, AccessPolicy
from sandbox.kube.api import KubeApi
from sandbox.kube.faults import Faults
from sandbox.kube.logs import PodLogs
from sandbox.kube.requestlog import RequestLog, RequestRecord
from sandbox.kube.server import EmulatorHTTPServer
from sandbox.kube.store import ObjectStore

DEFAULT_FIXTURES_DIR = Path(__file__).parent / "fixtures"
_STOP_JOIN_SECONDS = 5.0


class KubeEmulator:
    """An HTTPS Kubernetes API on 127.0.0.1 serving objects from an `ObjectStore`.

    `fixtures_dir=None` starts with an empty store. `token=None` picks a random bearer token.
    Everything test-facing is live while serving: `store`, `access` (RBAC), `faults`, `token`.
    """

    def __init__(
        self,
        fixtures_dir: str | Path | None = DEFAULT_FIXTURES_DIR,
        token: str | None = None,
        *,
        user: str = DEFAULT_USER,
        git_version: str = "v1.32.3",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.store = ObjectStore()
        if fixtures_dir is not None:
            self.store.load_dir(fixtures_dir)
        self.token = token if token is not None else secrets.token_urlsafe(32)
        self.access = AccessPolicy(user=user)
        self.faults = Faults()
        self.logs = PodLogs()
        self._log = RequestLog()
        self._host = host
        self._requested_port = port
        self._ca = trustme.CA(organization_name="kube-emulator")
        self._server_cert = self._ca.issue_cert("127.0.0.1", "localhost")
        self.api = KubeApi(
            self.store,
            self.access,
            token=lambda: self.token,
            server_address=lambda: f"{self._host}:{self.port}",
            git_version=git_version,
            logs=self.logs,
        )
        self._stop_event = threading.Event()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._state_dir: Path | None = None
        self._stopped = False

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None or self._stopped:
            raise RuntimeError("a KubeEmulator starts once; create a new one to start again")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
        self._server_cert.configure_cert(context)
        self._state_dir = Path(tempfile.mkdtemp(prefix="kube-emulator-"))
        self._ca.cert_pem.write_to_path(str(self._state_dir / "ca.crt"))
        self._server = EmulatorHTTPServer(
            (self._host, self._requested_port),
            context,
            self.api,
            self.faults,
            self._log,
            self._stop_event,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            # The port in the name lets a test find this emulator's threads among others'.
            name=f"kube-emulator-{self._server.server_port}-accept",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut every connection and join every thread; idempotent."""
        server, thread = self._server, self._thread
        self._stopped = True
        if server is None or thread is None:
            return
        self._stop_event.set()  # releases latency/black-hole/watch waits at once
        server.shutdown()
        server.server_close()
        server.close_connections()
        thread.join(_STOP_JOIN_SECONDS)
        deadline = time.monotonic() + _STOP_JOIN_SECONDS
        for conn_thread in server.connection_threads():
            conn_thread.join(max(0.0, deadline - time.monotonic()))
        self._server = self._thread = None
        if self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
        leftover = [t.name for t in server.connection_threads() if t.is_alive()]
        if thread.is_alive() or leftover:
            raise RuntimeError(f"kube emulator threads still running after stop: {leftover}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # ---- where and how to connect -------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://{self._host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        """PEM file of the CA that signed the server certificate (exists while running)."""
        if self._state_dir is None or self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._state_dir / "ca.crt"

    @property
    def ca_pem(self) -> bytes:
        return self._ca.cert_pem.bytes()

    def write_kubeconfig(
        self,
        path: str | Path,
        context_name: str = "kube-emulator",
        *,
        namespace: str = "api-gateway",
        embed_ca: bool = False,
    ) -> Path:
        """A kubeconfig for this server: `load_kube_config(config_file=path, context=...)`.

        `embed_ca=True` inlines the CA (for a kubeconfig that must outlive the state dir).
        """
        doc = kubeconfig.kubeconfig_document(
            server=self.url,
            token=self.token,
            ca_file=None if embed_ca else self.ca_file,
            ca_pem=self.ca_pem if embed_ca else None,
            context_name=context_name,
            namespace=namespace,
        )
        return kubeconfig.write_kubeconfig(path, doc)

    # ---- request log --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request received since start or the last `reset_counts()`, oldest first."""
        return self._log.snapshot()

    def count(
        self,
        method: str | None = None,
        path_prefix: str | None = None,
        *,
        verb: str | None = None,
        resource: str | None = None,
        mutating: bool | None = None,
    ) -> int:
        """How many recorded requests match every filter given (None: any).

        `verb` is the Kubernetes verb (list/get/watch/create/delete...), `resource` the plural,
        `mutating` True for write attempts (self-review POSTs are not writes).
        """
        return self._log.count(method, path_prefix, verb=verb, resource=resource, mutating=mutating)

    def reset_counts(self) -> None:
        self._log.reset()
