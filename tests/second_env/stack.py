"""The second healthy environment: built here, independently of the sandbox, and deliberately
different from it where healthy setups differ.

| what | the sandbox | here |
| --- | --- | --- |
| HTTP service | Starlette gateway behind nginx, JWT logins, tenants, rate limit, OpenAPI | aiohttp REST service, TLS 1.2+ itself, an API key, none of those (declared absent) |
| 404 | JSON error body | aiohttp's plain-text ``404: Not Found`` |
| release | ``1.4.2`` | ``v2.0.1`` reported, ``2.0.1`` expected |
| metrics | status code in ``status`` | status code in ``code`` |
| Kubernetes | Helm, ``imagePullPolicy: Always`` | kubectl-applied, tags pinned, ``IfNotPresent``, its own fixture set |
| PostgreSQL | WAL archived | no WAL archiving (backups otherwise) |
| Redis | TLS only, the default user | plaintext on a private network, a monitoring ACL user named ``smoke`` |

``SecondEnv.start`` starts every server on loopback and keeps light traffic flowing to the service
(as a live service has), ``profile`` writes the profile (secrets as ``${VAR}``, values in
``secrets()``). ``with_defect`` gives the same environment with one component swapped for a broken
one: the matrix of ``DEFECTS``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import shutil
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_deployverify.checks.manual import SHIPPED_MANUAL
from sandbox.kube.emulator import KubeEmulator
from sandbox.servers.alertmanager import start_alertmanager
from sandbox.servers.postgres import PostgresServer, start_postgres
from sandbox.servers.prometheus import start_prometheus
from sandbox.servers.redis import MONITOR_RULES, RedisServer, start_redis
from tests.http_checks.stack import to_toml
from tests.second_env.launch import ServiceCerts, ServiceProcess, make_service_certs, start_service

FIXTURES = Path(__file__).parent / "kube"
RELEASE = "2.0.1"
DROPPED_MANUAL = {"dr-multi-region": "one region by design"}
MONITOR_USER = "smoke"  # the Redis monitoring login: a name that equals a checklist section
TRAFFIC_INTERVAL = 0.25  # seconds between two requests of the background traffic
TRAFFIC_LIMIT = 3600.0  # the traffic stops by itself after this long at the latest

# The service's alerting rules (labelled by the code label, as its metrics are).
ALERT_RULES = """
groups:
  - name: items-availability
    rules:
      - alert: ItemsHighErrorRate
        expr: >-
          sum(rate(http_requests_total{job="items",code=~"5.."}[5m]))
          / sum(rate(http_requests_total{job="items"}[5m])) > 0.05
        for: 5m
        labels: {severity: critical, service: items}
        annotations: {summary: More than 5 % of the requests fail}
      - alert: ItemsDown
        expr: up{job="items"} == 0
        for: 2m
        labels: {severity: critical, service: items}
        annotations: {summary: Prometheus cannot scrape the items service}
"""

# One defect per case: (what is swapped, the check ids that must fail).
DEFECTS: dict[str, set[str]] = {
    "api_key_ignored": {"SEC-GW-CREDENTIAL"},  # any API key is accepted
    "old_release": {"SMOKE-GW-VERSION"},  # the service still reports v2.0.0
    "redis_without_password": {"SEC-REDIS-AUTH"},
    "pg_superuser": {"SEC-PG-ROLE"},
    # :latest with IfNotPresent: unpinned, pulled once per node, and the pods' image names no
    # release (so the rollout cannot be shown to be 2.0.1).
    "image_latest": {"K8S-IMAGE-TAG", "K8S-PULL-POLICY", "K8S-ROLLOUT"},
}


@dataclass
class Traffic:
    """Requests to the service's protected route, a few a second, as a live service gets."""

    url: str
    api_key: str
    ca_file: Path
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Traffic:
        self._thread = threading.Thread(target=self._run, name="second-env-traffic", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        deadline = time.monotonic() + TRAFFIC_LIMIT
        while not self._stop.is_set() and time.monotonic() < deadline:
            request = urllib.request.Request(
                f"{self.url}/api/items", headers={"X-API-Key": self.api_key}
            )
            with contextlib.suppress(OSError):
                urllib.request.urlopen(request, timeout=2.0, context=context).close()
            self._stop.wait(TRAFFIC_INTERVAL)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass
class SecondEnv:
    workdir: Path
    certs: ServiceCerts
    service: ServiceProcess
    kube: KubeEmulator
    kubeconfig: Path
    redis: RedisServer
    monitor_password: str = field(repr=False)
    postgres: PostgresServer
    prometheus: Any
    alertmanager: Any
    stops: list[Callable[[], None]] = field(default_factory=list, repr=False)

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def start(cls, workdir: Path) -> SecondEnv:
        stops: list[Callable[[], None]] = []
        try:
            certs = make_service_certs(workdir / "certs")
            service = start_service(workdir / "service", certs)
            stops.append(service.stop)
            kube, kubeconfig = start_kube(workdir / "kube", FIXTURES)
            stops.append(kube.stop)
            monitor_password = secrets.token_urlsafe(18)
            redis = start_app_redis(workdir / "redis", monitor_password)
            stops.append(redis.stop)
            postgres = start_postgres(
                workdir / "postgres", app_user="items_app", database="items", archive=False
            )
            stops.append(postgres.stop)
            alertmanager = start_alertmanager(
                workdir / "alertmanager",
                receivers=[{"name": "ops-webhook", "type": "webhook"}],
                route_receiver="ops-webhook",
            )
            stops.append(alertmanager.stop)
            prometheus = start_prometheus(
                workdir / "prometheus",
                scrape_configs=[
                    {
                        "job_name": "items",
                        "scheme": "https",
                        "tls_config": {"ca_file": str(certs.ca_cert)},
                        "static_configs": [{"targets": [service.url.split("://", 1)[1]]}],
                    }
                ],
                rule_files={"items": ALERT_RULES},
                alertmanager_urls=[alertmanager.url],
            )
            stops.append(prometheus.stop)
            traffic = Traffic(service.url, service.api_key, certs.ca_cert).start()
            stops.append(traffic.stop)
            env = cls(
                workdir,
                certs,
                service,
                kube,
                kubeconfig,
                redis,
                monitor_password,
                postgres,
                prometheus,
                alertmanager,
                stops,
            )
            env.wait_until_settled()
            return env
        except BaseException:
            for stop in reversed(stops):
                with contextlib.suppress(Exception):
                    stop()
            raise

    def stop(self) -> None:
        while self.stops:
            with contextlib.suppress(Exception):
                self.stops.pop()()

    def wait_until_settled(self, timeout: float = 60.0) -> None:
        """Prometheus scrapes the service (with traffic to rate) and reaches Alertmanager."""
        deadline = time.monotonic() + timeout
        query = 'sum(rate(http_requests_total{job="items"}[1m]))'
        while time.monotonic() < deadline:
            targets = self.prometheus.api("targets").get("activeTargets", [])
            up = any(t.get("health") == "up" for t in targets)
            managers = self.prometheus.api("alertmanagers").get("activeAlertmanagers", [])
            result = self.prometheus.api("query", query=query).get("result", [])
            if up and managers and result and float(result[0]["value"][1]) > 0:
                return
            time.sleep(0.5)
        raise RuntimeError("the second environment did not settle within the timeout")

    # -- the profile ----------------------------------------------------------------------------

    def secrets(self) -> dict[str, str]:
        return {
            "SECOND_KUBECONFIG": str(self.kubeconfig),
            "SECOND_CA_FILE": str(self.certs.ca_cert),
            "SECOND_ITEMS_URL": self.service.url,
            "SECOND_ITEMS_API_KEY": self.service.api_key,
            "SECOND_REDIS_URL": f"redis://127.0.0.1:{self.redis.port}/0",
            "SECOND_REDIS_PASSWORD": self.redis.password or "",
            "SECOND_REDIS_MONITOR_PASSWORD": self.monitor_password,
            "SECOND_PG_DSN": self.postgres.dsn.replace(f":{self.postgres.app_password}@", "@"),
            "SECOND_PG_PASSWORD": self.postgres.app_password,
            "SECOND_PROMETHEUS_URL": self.prometheus.url,
            "SECOND_ALERTMANAGER_URL": self.alertmanager.url,
        }

    def secret_values(self) -> list[str]:
        names = ("API_KEY", "PASSWORD")
        return [v for k, v in self.secrets().items() if k.endswith(names) and v]

    def profile_data(self) -> dict[str, Any]:
        return {
            "description": "Second healthy environment: aiohttp service, built apart from the sandbox",
            "protected": False,
            "version": RELEASE,
            "kubernetes": {
                "kubeconfig": "${SECOND_KUBECONFIG}",
                "context": "second",
                "namespace": "items",
                "workloads": ["items"],
                "timeout": 10,
            },
            "redis": {
                "url": "${SECOND_REDIS_URL}",
                "password": "${SECOND_REDIS_PASSWORD}",
                "monitor_username": MONITOR_USER,
                "monitor_password": "${SECOND_REDIS_MONITOR_PASSWORD}",
                "timeout": 2,
                "expect": {"min_hit_samples": 100},
            },
            "postgres": {
                "dsn": "${SECOND_PG_DSN}",
                "password": "${SECOND_PG_PASSWORD}",
                "timeout": 5,
                "expect": {"major_version": self.postgres_major()},
            },
            "prometheus": {"url": "${SECOND_PROMETHEUS_URL}", "job": "items"},
            "alertmanager": {"url": "${SECOND_ALERTMANAGER_URL}", "receivers": ["ops-webhook"]},
            "http": {
                "base_url": "${SECOND_ITEMS_URL}",
                "ca_file": "${SECOND_CA_FILE}",
                "timeout": 5,
                "expect": {
                    "health_paths": ["/healthz", "/readyz"],
                    "openapi_path": "",  # no OpenAPI document
                    "protected_routes": ["GET /api/items", "GET /api/items/{id}"],
                    "path_param_value": "item-1",
                    "auth": {
                        "api_key": {"header": "X-API-Key", "key": "${SECOND_ITEMS_API_KEY}"},
                        "probe_paths": ["/api/items"],
                    },
                    "headers": {"framing": "html"},  # an API that serves no HTML
                    "tls": {"min_version": "1.2", "check_redirect": False},
                    "latency": {"path": "/healthz", "requests": 40, "concurrency": 4},
                    "load": {"path": "/healthz", "users": 8, "requests": 80, "time_limit": 30},
                    "flows": [
                        {"name": "list items", "path": "/api/items", "json_fields": ["items.0.id"]},
                        {"name": "one item", "path": "/api/items/item-2", "json_fields": ["id"]},
                    ],
                },
            },
            "slo": {"error_rate": 0.01, "p95_latency_ms": 2000, "p99_latency_ms": 4000},
            "gates": [
                {"name": "error_rate", "params": {"selector": 'job="items"'}},
                {"name": "p95_latency", "params": {"selector": 'job="items"'}},
            ],
            # This team signs with the platform checklist's six roles, has no second region and
            # attests the shipped manual items in its profile, bound to the release.
            "roles": "platform",
            "shipped_manual": {"drop": dict(DROPPED_MANUAL)},
            "manual": [
                {
                    "id": item.id,
                    "attested_by": "Second Team Release Manager",
                    "attested_at": dt.date.today(),
                    "release": RELEASE,
                }
                for item in SHIPPED_MANUAL
                if item.id not in DROPPED_MANUAL
            ],
        }

    def postgres_major(self) -> int:
        import psycopg

        with psycopg.connect(self.postgres.dsn, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
        assert row is not None
        return int(row[0]) // 10000

    def write_profile(self, folder: Path, name: str = "second") -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.toml"
        path.write_text(to_toml(self.profile_data()))
        return path

    # -- one defect at a time ---------------------------------------------------------------------

    @contextlib.contextmanager
    def with_defect(self, defect: str, workdir: Path) -> Iterator[SecondEnv]:
        """This environment with one component swapped for a broken one (see ``DEFECTS``)."""
        if defect not in DEFECTS:
            raise ValueError(f"unknown defect {defect!r}; one of {sorted(DEFECTS)}")
        swapped: list[Callable[[], None]] = []
        try:
            if defect in ("api_key_ignored", "old_release"):
                service = start_service(
                    workdir / "service",
                    self.certs,
                    defects=("any_credential",) if defect == "api_key_ignored" else (),
                    version="v2.0.0" if defect == "old_release" else "v2.0.1",
                )
                swapped.append(service.stop)
                yield replace(self, service=service, stops=[])
            elif defect == "redis_without_password":
                redis = start_app_redis(workdir / "redis", self.monitor_password, password=None)
                swapped.append(redis.stop)
                yield replace(self, redis=redis, stops=[])
            elif defect == "pg_superuser":
                postgres = start_postgres(
                    workdir / "postgres",
                    app_user="items_app",
                    database="items",
                    archive=False,
                    app_superuser=True,
                )
                swapped.append(postgres.stop)
                yield replace(self, postgres=postgres, stops=[])
            else:
                fixtures = workdir / "fixtures"
                shutil.copytree(FIXTURES, fixtures)
                items = fixtures / "20-items.yaml"
                items.write_text(
                    items.read_text().replace(
                        "image: ghcr.io/example/items:2.0.1", "image: ghcr.io/example/items:latest"
                    )
                )
                kube, kubeconfig = start_kube(workdir / "kube", fixtures)
                swapped.append(kube.stop)
                yield replace(self, kube=kube, kubeconfig=kubeconfig, stops=[])
        finally:
            for stop in reversed(swapped):
                with contextlib.suppress(Exception):
                    stop()


def start_kube(workdir: Path, fixtures: Path) -> tuple[KubeEmulator, Path]:
    kube = KubeEmulator(fixtures_dir=fixtures, token=secrets.token_urlsafe(32)).start()
    workdir.mkdir(parents=True, exist_ok=True)
    kubeconfig = kube.write_kubeconfig(
        workdir / "kubeconfig", context_name="second", namespace="items"
    )
    return kube, kubeconfig


def start_app_redis(
    workdir: Path, monitor_password: str, *, password: str | None = "generate"
) -> RedisServer:
    """Plaintext Redis (a private network), AOF only, the monitoring ACL user, a warm cache."""
    server = start_redis(
        workdir,
        password=secrets.token_urlsafe(24) if password == "generate" else password,
        save="",
        acl_users={MONITOR_USER: (monitor_password, MONITOR_RULES)},
    )
    client = server.client()
    try:
        pipe = client.pipeline(transaction=False)
        for n in range(20):
            pipe.set(f"item:{n}", "cached", ex=3600)
        for _ in range(30):
            for n in range(20):
                pipe.get(f"item:{n}")
        for n in range(12):
            pipe.get(f"item:missing:{n}")
        pipe.execute()
    finally:
        client.close()
    return server
