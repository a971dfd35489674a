"""The sandbox's real servers: each starts on free loopback ports, works with the real client,
and is gone (PID and ports) after stop()."""

from __future__ import annotations

import datetime as dt
import json
import signal
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from cryptography import x509
from redis.backoff import NoBackoff
from redis.retry import Retry

from sandbox.certs import CertFiles, make_certs
from sandbox.ports import LOOPBACK, free_port, port_is_free, port_is_open, wait_port
from sandbox.procs import ManagedProcess, ServerStartError, pid_alive
from sandbox.servers.alertmanager import start_alertmanager
from sandbox.servers.nginx import start_nginx
from sandbox.servers.openmetrics import latest_timestamp
from sandbox.servers.postgres import SAMPLE_TABLE, start_postgres
from sandbox.servers.prometheus import (
    counter_series,
    openmetrics_document,
    openmetrics_series,
    past_timestamps,
    start_prometheus,
)
from sandbox.servers.redis import start_redis


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certs(tmp_path_factory.mktemp("certs"))


def assert_gone(pid: int, *ports: int | None) -> None:
    assert not pid_alive(pid), f"pid {pid} still running after stop()"
    for port in ports:
        if port is not None:
            assert port_is_free(port), f"port {port} still held after stop()"


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    """Poll until ``predicate()`` is truthy; fail the test (not a timing check) otherwise."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


# -- ports, processes, certificates ------------------------------------------------------------


def test_free_port_is_bindable_and_wait_port_times_out() -> None:
    port = free_port()
    assert port_is_free(port)
    with pytest.raises(TimeoutError, match=str(port)):
        wait_port(LOOPBACK, port, timeout=0.2)


def test_managed_process_not_ready_is_stopped_with_log_tail(tmp_path: Path) -> None:
    script = "print('booting the fake server', flush=True); import time; time.sleep(60)"
    proc = ManagedProcess("fake", [sys.executable, "-c", script], tmp_path, port=1234).start()
    pid = proc.pid
    assert (tmp_path / "fake.pid").read_text().strip() == str(pid)
    with pytest.raises(ServerStartError) as excinfo, proc.stopped_on_error():
        proc.wait_until(lambda: False, timeout=0.3, what="ready")
    message = str(excinfo.value)
    assert "fake on 127.0.0.1:1234" in message
    assert "booting the fake server" in message
    assert_gone(pid)
    assert not (tmp_path / "fake.pid").exists()
    proc.stop()  # idempotent


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ignoring', flush=True); time.sleep(60)"
    )
    proc = ManagedProcess("stubborn", [sys.executable, "-c", script], tmp_path).start()
    proc.wait_until(lambda: "ignoring" in proc.log_tail(), timeout=10, what="ignoring SIGTERM")
    proc.stop(timeout=0.3)
    assert_gone(proc.pid)
    assert proc.returncode == -signal.SIGKILL


def test_certificates_have_the_promised_lifetimes(certs: CertFiles) -> None:
    now = dt.datetime.now(dt.UTC)
    server = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
    expiring = x509.load_pem_x509_certificate(certs.expiring_cert.read_bytes())
    expired = x509.load_pem_x509_certificate(certs.expired_cert.read_bytes())
    other = x509.load_pem_x509_certificate(certs.other_server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(certs.ca_cert.read_bytes())
    other_ca = x509.load_pem_x509_certificate(certs.other_ca_cert.read_bytes())

    assert server.not_valid_after_utc - now > dt.timedelta(days=30)
    assert dt.timedelta(days=2) < expiring.not_valid_after_utc - now <= dt.timedelta(days=3)
    assert expired.not_valid_after_utc < now
    assert server.issuer == ca.subject
    assert other.issuer == other_ca.subject != ca.subject
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "api.example.com" in names.get_values_for_type(x509.DNSName)
    assert oct(certs.server_key.stat().st_mode & 0o777) == "0o600"


# -- redis ---------------------------------------------------------------------------------------


def test_redis_with_password_and_tls(tmp_path: Path, certs: CertFiles) -> None:
    server = start_redis(tmp_path, password="s3cret pw/1", tls=True, certs=certs)
    try:
        plain = redis.Redis.from_url(server.url, socket_timeout=2)
        assert plain.set("deploy", "v1.2.3")
        assert plain.get("deploy") == b"v1.2.3"
        assert plain.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert plain.config_get("appendonly") == {"appendonly": "yes"}
        assert plain.config_get("bind")["bind"] == LOOPBACK

        anonymous = redis.Redis(
            host=LOOPBACK, port=server.port or 0, retry=Retry(NoBackoff(), retries=0)
        )
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()

        secure = redis.Redis.from_url(
            server.tls_url, ssl_ca_certs=str(server.ca_file), socket_timeout=2
        )
        assert secure.get("deploy") == b"v1.2.3"

        wrong_ca = redis.Redis.from_url(
            server.tls_url, ssl_ca_certs=str(certs.other_ca_cert), socket_timeout=2
        )
        with pytest.raises(redis.ConnectionError, match=r"(?i)certificate"):
            wrong_ca.ping()
    finally:
        server.stop()
    assert_gone(server.pid, server.port, server.tls_port)


def test_redis_like_a_managed_service(tmp_path: Path, certs: CertFiles) -> None:
    server = start_redis(
        tmp_path, password="pw", tls=True, plaintext=False, rename_config=True, certs=certs
    )
    try:
        assert server.port is None
        with pytest.raises(ValueError, match="plaintext"):
            _ = server.url
        client = server.client(tls=True)
        assert client.ping()
        with pytest.raises(redis.ResponseError, match="unknown command"):
            client.config_get("maxmemory")
    finally:
        server.stop()
    assert_gone(server.pid, server.tls_port)


def test_redis_bad_config_fails_with_name_port_and_log(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError) as excinfo:
        start_redis(tmp_path, password="pw", maxmemory_policy="keep-everything-forever")
    error = excinfo.value
    assert error.server == "redis"
    assert error.port is not None
    assert f"127.0.0.1:{error.port}" in str(error)
    assert "keep-everything-forever" in error.log_tail
    assert not (tmp_path / "redis.pid").exists()


def test_port_taken_in_the_meantime_is_retried_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sandbox.servers.redis as redis_launcher

    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        offered = iter([taken])
        # The first "free" port is already held by someone else, as in a lost race.
        monkeypatch.setattr(redis_launcher, "free_port", lambda: next(offered, None) or free_port())
        server = redis_launcher.start_redis(tmp_path, password=None)
        try:
            assert server.port != taken
            assert server.client().ping()
            assert "Address already in use" in (tmp_path / "redis.log").read_text()
        finally:
            server.stop()
    assert_gone(server.pid, server.port)


# -- postgres ------------------------------------------------------------------------------------


def test_postgres_app_role_and_wal_archiving(tmp_path: Path) -> None:
    server = start_postgres(tmp_path, app_password="app-pw'1")
    try:
        with psycopg.connect(server.dsn, connect_timeout=5) as conn:
            version = conn.execute("SELECT version()").fetchone()
            assert version is not None
            assert version[0].startswith("PostgreSQL ")
            row = conn.execute(
                "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles"
                " WHERE rolname = current_user"
            ).fetchone()
            assert row == (False, False, False)
            conn.execute(f"INSERT INTO {SAMPLE_TABLE} (name) VALUES ('from-test')")
            count = conn.execute(f"SELECT count(*) FROM {SAMPLE_TABLE}").fetchone()
            assert count is not None
            assert count[0] > 1
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("CREATE TABLE app_may_not_create (x int)")

        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(server.dsn.replace("app-pw", "wrong-pw"), connect_timeout=5)

        with psycopg.connect(server.admin_dsn, autocommit=True, connect_timeout=5) as admin:
            listen = admin.execute("SHOW listen_addresses").fetchone()
            assert listen == ("127.0.0.1",)
            before = admin.execute("SELECT archived_count FROM pg_stat_archiver").fetchone()
            assert before is not None
            admin.execute(f"UPDATE {SAMPLE_TABLE} SET name = name || '-x'")
            admin.execute("SELECT pg_switch_wal()")

            def archived() -> int:
                row = admin.execute(
                    "SELECT archived_count, failed_count FROM pg_stat_archiver"
                ).fetchone()
                assert row is not None
                assert row[1] == 0, "archive_command failed"
                return int(row[0])

            wait_for(lambda: archived() > before[0], 20, "a second archived WAL segment")
        assert before[0] > 0
        assert any(server.archive_dir.iterdir())
    finally:
        server.stop()
    assert_gone(server.pid, server.port)
    assert not server.data_dir.exists() or server.private_root is None


# -- prometheus + alertmanager -----------------------------------------------------------------


def test_prometheus_range_query_returns_backfilled_values(tmp_path: Path) -> None:
    stamps = past_timestamps(window_s=1800, step_s=15)
    values = {ts: float((i * 7) % 23) / 4 for i, ts in enumerate(stamps)}
    document = openmetrics_document(
        ("queue_depth", "gauge", [openmetrics_series("queue_depth", {"queue": "orders"}, values)]),
        (
            "http_requests",
            "counter",
            [counter_series("http_requests_total", {"code": "200"}, per_second=4.0)],
        ),
    )
    rules = {
        "slo": "groups:\n- name: slo\n  rules:\n  - alert: QueueBacklog\n"
        "    expr: queue_depth > 100\n    for: 5m\n"
    }
    server = start_prometheus(
        tmp_path, scrape_configs=[], rule_files=rules, backfill_openmetrics=document
    )
    try:
        data = server.api(
            "query_range",
            query='queue_depth{queue="orders"}',
            start=stamps[0],
            end=stamps[-1],
            step=15,
        )
        (series,) = data["result"]
        assert [(int(t), float(v)) for t, v in series["values"]] == list(values.items())

        rate = server.api("query", query="rate(http_requests_total[5m])", time=stamps[-1])
        (sample,) = rate["result"]
        assert float(sample["value"][1]) == pytest.approx(4.0)

        groups = server.api("rules")["groups"]
        assert [rule["name"] for group in groups for rule in group["rules"]] == ["QueueBacklog"]
    finally:
        server.stop()
    assert_gone(server.pid, server.port)


def test_prometheus_refuses_backfill_from_the_future(tmp_path: Path) -> None:
    future = int(time.time()) + 600
    document = openmetrics_document(("g", "gauge", [openmetrics_series("g", {}, {future: 1})]))
    assert latest_timestamp(document) == future
    with pytest.raises(ValueError, match="future"):
        start_prometheus(tmp_path, backfill_openmetrics=document)
    assert not (tmp_path / "prometheus.pid").exists()


def test_alertmanager_status_lists_receivers(tmp_path: Path) -> None:
    receivers = [
        {"name": "ops-webhook", "type": "webhook"},
        {"name": "team-slack", "type": "slack"},
        {"name": "oncall-pagerduty", "type": "pagerduty"},
    ]
    server = start_alertmanager(tmp_path, receivers=receivers, route_receiver="ops-webhook")
    webhook = server.webhook
    assert webhook is not None
    try:
        status = server.api("status")
        assert status["cluster"]["status"] == "disabled"
        original = status["config"]["original"]
        for name in ("ops-webhook", "team-slack", "oncall-pagerduty"):
            assert f"name: {name}" in original
        assert f"url: {webhook.url}/webhook/ops-webhook" in original
        assert "api_url: <secret>" in original  # Alertmanager hides the Slack URL
        names = {item["name"] for item in server.api("receivers")}
        assert names == {"ops-webhook", "team-slack", "oncall-pagerduty"}
    finally:
        server.stop()
    assert_gone(server.pid, server.port)
    assert not port_is_open(LOOPBACK, webhook.port)


def test_alert_travels_from_prometheus_rule_to_webhook(tmp_path: Path) -> None:
    manager = start_alertmanager(
        tmp_path / "am", receivers=[{"name": "ops", "type": "webhook"}], route_receiver="ops"
    )
    assert manager.webhook is not None
    rules = {
        "always": "groups:\n- name: demo\n  rules:\n  - alert: DeployCanaryFiring\n"
        "    expr: vector(1)\n    labels:\n      severity: critical\n"
    }
    prometheus = None
    try:
        prometheus = start_prometheus(
            tmp_path / "prom", rule_files=rules, alertmanager_urls=[manager.url]
        )
        arrived = manager.webhook.wait_for(lambda found: len(found) > 0, timeout=30)
        assert arrived, "no notification reached the webhook receiver"
        (alert, *_) = manager.webhook.alerts("/webhook/ops")
        assert alert["labels"] == {"alertname": "DeployCanaryFiring", "severity": "critical"}
    finally:
        if prometheus is not None:
            prometheus.stop()
        manager.stop()
    assert prometheus is not None
    assert_gone(prometheus.pid, prometheus.port)
    assert_gone(manager.pid, manager.port)


# -- nginx ---------------------------------------------------------------------------------------


class _EchoHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer((LOOPBACK, 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOOPBACK}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _tls_context(ca: Path, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if version is not None:
        context.minimum_version = version
        context.maximum_version = version
    return context


def _handshake(port: int, context: ssl.SSLContext) -> str | None:
    with (
        socket.create_connection((LOOPBACK, port), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname="api.example.com") as tls,
    ):
        return tls.version()


def test_nginx_terminates_tls13_proxies_and_redirects(
    tmp_path: Path, certs: CertFiles, upstream: str
) -> None:
    server = start_nginx(
        tmp_path,
        upstream=upstream,
        cert=certs.server_cert,
        key=certs.server_key,
        extra_headers={"Strict-Transport-Security": "max-age=63072000; includeSubDomains"},
    )
    try:
        context = _tls_context(certs.ca_cert)
        with httpx.Client(verify=context, trust_env=False, timeout=5) as client:
            response = client.get(
                f"{server.https_url}/v1/health?probe=1", headers={"Host": "api.example.com"}
            )
        assert response.status_code == 200
        echoed = response.json()
        assert echoed["path"] == "/v1/health?probe=1"
        assert echoed["headers"]["X-Forwarded-Proto"] == "https"
        assert echoed["headers"]["Host"] == "api.example.com"
        assert response.headers["strict-transport-security"].startswith("max-age=63072000")
        assert response.headers["server"] == "nginx"  # server_tokens off: no version

        assert _handshake(server.https_port, _tls_context(certs.ca_cert)) == "TLSv1.3"
        with pytest.raises(ssl.SSLError):
            _handshake(server.https_port, _tls_context(certs.ca_cert, ssl.TLSVersion.TLSv1_2))
        with pytest.raises(ssl.SSLCertVerificationError):
            _handshake(server.https_port, _tls_context(certs.other_ca_cert))

        with httpx.Client(trust_env=False, timeout=5) as plain:
            redirect = plain.get(
                f"{server.http_url}/v1/items?page=2", headers={"Host": "api.example.com"}
            )
        assert redirect.status_code == 301
        assert redirect.headers["location"] == (
            f"https://api.example.com:{server.https_port}/v1/items?page=2"
        )
        assert "/v1/health" in server.access_log.read_text()
        # nginx's own pidfile lives in the workdir, not /run
        assert (tmp_path / "nginx.run.pid").read_text().strip() == str(server.pid)
    finally:
        server.stop()
    assert_gone(server.pid, server.https_port, server.http_port)


def test_nginx_misconfigured_allows_tls12_and_plain_http(
    tmp_path: Path, certs: CertFiles, upstream: str
) -> None:
    server = start_nginx(
        tmp_path,
        upstream=upstream,
        cert=certs.expiring_cert,
        key=certs.expiring_key,
        tls_protocols="TLSv1.2 TLSv1.3",
        http_redirect=False,
        server_tokens=True,
    )
    try:
        tls12 = _tls_context(certs.ca_cert, ssl.TLSVersion.TLSv1_2)
        assert _handshake(server.https_port, tls12) == "TLSv1.2"
        with httpx.Client(trust_env=False, timeout=5) as plain:
            response = plain.get(f"{server.http_url}/v1/health")
        assert response.status_code == 200
        assert response.json()["headers"]["X-Forwarded-Proto"] == "http"
        assert response.headers["server"].startswith("nginx/")
    finally:
        server.stop()
    assert_gone(server.pid, server.https_port, server.http_port)
