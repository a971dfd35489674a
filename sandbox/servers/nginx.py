"""A real nginx on loopback: TLS-terminating reverse proxy plus an HTTP port that redirects.

nginx answers some requests itself: its health endpoint (``/nginx-health``), requests it refuses
before the application sees them (an oversized header, TRACE), and the plain-HTTP redirect. It
does not disclose its version (``server_tokens off``) unless asked to (``server_tokens``), and can
be asked to disclose it only in what it makes itself (``proxied_server_tokens=False``): the
disclosure a check that only looks at proxied answers misses.

Everything nginx writes (pid, logs, lock, temp folders) lives in the workdir: it never touches
/var/lib/nginx, /var/log/nginx or /run. Errors (start-up ones included, via ``-e stderr``) go to
stderr, which lands in ``nginx.log`` next to ``access.log``.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.ports import LOOPBACK, free_port, port_is_open
from sandbox.procs import (
    INSTALL_HINT,
    ManagedProcess,
    ServerStartError,
    start_with_port_retry,
)

READY_TIMEOUT = 10.0
EDGE_HEALTH_PATH = "/nginx-health"  # answered by nginx itself, never proxied
_TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@dataclass
class NginxServer:
    https_port: int
    http_port: int
    server_name: str
    workdir: Path
    config_file: Path
    process: ManagedProcess = field(repr=False)

    @property
    def https_url(self) -> str:
        return f"https://{LOOPBACK}:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    @property
    def error_log(self) -> Path:
        return self.process.log_path

    def stop(self) -> None:
        self.process.stop()


def _q(value: str | Path) -> str:
    """Quote a value for nginx.conf."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _user_directive() -> str:
    # Only meaningful when the master runs as root; nginx's default "nobody nobody" fails on
    # Debian (the group is "nogroup"). Workers keep our own identity: their temp folders sit in
    # a private (0700) test folder that no other account could enter.
    if os.geteuid() != 0:
        return ""
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return f"user {user} {group};"


def render_nginx_conf(
    *,
    workdir: Path,
    https_port: int,
    http_port: int,
    upstream: str,
    cert: Path,
    key: Path,
    tls_protocols: str,
    server_name: str,
    extra_headers: Mapping[str, str],
    http_redirect: bool,
    server_tokens: bool,
    health_path: str | None = EDGE_HEALTH_PATH,
    plain_404: bool = False,
    hide_framing: bool = False,
    proxied_server_tokens: bool | None = None,
) -> str:
    temp = workdir / "tmp"
    temp_paths = "\n".join(f"    {kind}_temp_path {_q(temp / kind)};" for kind in _TEMP_KINDS)
    headers = "\n".join(
        f"        add_header {name} {_q(value)} always;" for name, value in extra_headers.items()
    )
    variant = ""
    if proxied_server_tokens is not None and proxied_server_tokens != server_tokens:
        variant += f"\n            server_tokens {'on' if proxied_server_tokens else 'off'};"
    if hide_framing:  # an API that serves no HTML and sets no framing headers
        variant += (
            "\n            proxy_hide_header X-Frame-Options;"
            "\n            proxy_hide_header Content-Security-Policy;"
        )
    if plain_404:  # a framework's default 404: plain text, no JSON error body
        variant += (
            "\n            proxy_intercept_errors on;\n            error_page 404 = @not_found;"
        )
    proxy = f"""
        location / {{
            proxy_pass {upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 5s;
            proxy_read_timeout 30s;{variant}
        }}"""
    own = ""
    if health_path:
        own += f"""
        location = {health_path} {{
            default_type text/plain;
            return 200 "ok\\n";
        }}"""
    if plain_404:
        own += """
        location @not_found {
            default_type text/plain;
            add_header Strict-Transport-Security "max-age=63072000" always;
            add_header X-Content-Type-Options nosniff always;
            add_header X-Frame-Options DENY always;
            return 404 "Not Found\\n";
        }"""
    if http_redirect:
        # $host drops the port, so the https port is spelled out to keep the redirect usable.
        http_body = f"        return 301 https://$host:{https_port}$request_uri;"
    else:
        http_body = proxy  # the misconfiguration the HTTP-redirect check should catch
    return f"""# generated by sandbox.servers.nginx
{_user_directive()}
daemon off;
master_process on;
worker_processes 1;
pid {_q(workdir / "nginx.run.pid")};
lock_file {_q(workdir / "nginx.lock")};
error_log stderr notice;

events {{
    worker_connections 256;
}}

http {{
    access_log {_q(workdir / "access.log")};
{temp_paths}
    default_type application/octet-stream;
    server_tokens {"on" if server_tokens else "off"};
    sendfile off;

    server {{
        listen {LOOPBACK}:{http_port};
        server_name {server_name} localhost {LOOPBACK};
{http_body}
    }}

    server {{
        listen {LOOPBACK}:{https_port} ssl http2;
        server_name {server_name} localhost {LOOPBACK};
        ssl_certificate {_q(cert)};
        ssl_certificate_key {_q(key)};
        ssl_protocols {tls_protocols};
        ssl_prefer_server_ciphers off;
        ssl_session_cache off;
{headers}
{proxy}
{own}
    }}
}}
"""


def start_nginx(
    workdir: Path,
    *,
    upstream: str,
    cert: Path,
    key: Path,
    tls_protocols: str = "TLSv1.3",
    server_name: str = "api.example.com",
    extra_headers: Mapping[str, str] | None = None,
    http_redirect: bool = True,
    server_tokens: bool = False,
    health_path: str | None = EDGE_HEALTH_PATH,
    plain_404: bool = False,
    hide_framing: bool = False,
    proxied_server_tokens: bool | None = None,
) -> NginxServer:
    """Start nginx proxying ``https://127.0.0.1:<https_port>`` to ``upstream``
    (``http://127.0.0.1:PORT``); ready when the https port accepts connections.

    ``server_tokens``: nginx names its version in its answers; ``proxied_server_tokens`` sets it
    apart for the proxied location (``server_tokens=True, proxied_server_tokens=False``: only the
    answers nginx makes itself disclose it, the defect the version-leak check must find at the
    edge). ``plain_404`` and ``hide_framing`` are healthy variants: a framework's plain-text 404,
    and an API that sets no framing headers."""
    # /usr/sbin is not on every PATH (non-root shells).
    binary = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if binary is None:
        raise ServerStartError("nginx", None, f"nginx not found; {INSTALL_HINT}", "")
    workdir.mkdir(parents=True, exist_ok=True)
    for kind in _TEMP_KINDS:
        (workdir / "tmp" / kind).mkdir(parents=True, exist_ok=True)

    def attempt() -> NginxServer:
        https_port, http_port = free_port(), free_port()
        config_file = workdir / "nginx.conf"
        config_file.write_text(
            render_nginx_conf(
                workdir=workdir,
                https_port=https_port,
                http_port=http_port,
                upstream=upstream,
                cert=cert,
                key=key,
                tls_protocols=tls_protocols,
                server_name=server_name,
                extra_headers=extra_headers or {},
                http_redirect=http_redirect,
                server_tokens=server_tokens,
                health_path=health_path,
                plain_404=plain_404,
                hide_framing=hide_framing,
                proxied_server_tokens=proxied_server_tokens,
            )
        )
        process = ManagedProcess(
            "nginx",
            [binary, "-p", str(workdir), "-c", str(config_file), "-e", "stderr"],
            workdir,
            port=https_port,
        ).start()
        server = NginxServer(
            https_port=https_port,
            http_port=http_port,
            server_name=server_name,
            workdir=workdir,
            config_file=config_file,
            process=process,
        )
        with process.stopped_on_error():
            process.wait_until(
                lambda: port_is_open(LOOPBACK, https_port) and port_is_open(LOOPBACK, http_port),
                READY_TIMEOUT,
                "accepting connections on both ports",
            )
        return server

    return start_with_port_retry(attempt)
