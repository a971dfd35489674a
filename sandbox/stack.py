"""The whole local environment the checklist is verified against: every component on loopback.

``Stack.start(state_dir)`` starts the Kubernetes API emulator, Redis (password + TLS only), PostgreSQL,
Alertmanager, Prometheus (history backfilled, scraping the gateway), the downstream stand-ins, the
demo gateway and nginx (TLS 1.3) in front of it, then writes ``env.sh``: the ``SANDBOX_*`` variables
that ``verify/environments/sandbox.toml`` reads. The profile is therefore an ordinary profile, and the
sandbox is verified exactly as a real environment would be.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.certs import CertFiles, make_certs
from sandbox.kube.emulator import KubeEmulator
from sandbox.servers.alertmanager import start_alertmanager
from sandbox.servers.nginx import start_nginx
from sandbox.servers.postgres import start_postgres
from sandbox.servers.prometheus import start_prometheus
from sandbox.servers.redis import start_redis

ENV_FILE = "env.sh"
RELEASE = "1.4.2"
SCRAPE_WAIT_S = 60.0


@dataclass
class Stack:
    state: Path
    env: dict[str, str] = field(default_factory=dict)
    _stops: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    handles: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, state: Path, *, log: Callable[[str], None] = print) -> Stack:
        state.mkdir(parents=True, exist_ok=True)
        # Servers keep their data under state/servers: start from nothing so no earlier run leaks in.
        shutil.rmtree(state / "servers", ignore_errors=True)
        stack = cls(state=state)
        try:
            stack._start_all(log)
        except BaseException:
            stack.stop(log=log)
            raise
        return stack

    @property
    def servers(self) -> Path:
        return self.state / "servers"

    def _keep(self, name: str, handle: Any) -> Any:
        self.handles[name] = handle
        self._stops.append((name, handle.stop))
        return handle

    def _start_all(self, log: Callable[[str], None]) -> None:
        from sandbox.gateway import demo_env, start_downstream, start_gateway
        from sandbox.history import gateway_history, gateway_rules

        certs: CertFiles = make_certs(self.servers / "certs")
        env = self.env
        env["SANDBOX_CA_FILE"] = str(certs.ca_cert)

        kube = self._keep("kubernetes", KubeEmulator(token=secrets.token_urlsafe(32)).start())
        kubeconfig = kube.write_kubeconfig(self.servers / "kubeconfig", context_name="sandbox")
        env["SANDBOX_KUBECONFIG"] = str(kubeconfig)
        log(f"kubernetes API emulator  {kube.url}")

        redis_password = secrets.token_urlsafe(24)
        redis = self._keep(
            "redis",
            start_redis(
                self.servers / "redis",
                password=redis_password,
                tls=True,
                plaintext=False,
                certs=certs,
            ),
        )
        env["SANDBOX_REDIS_URL"] = f"rediss://127.0.0.1:{redis.tls_port}/0"
        env["SANDBOX_REDIS_PASSWORD"] = redis_password
        log(f"redis (TLS only)         rediss://127.0.0.1:{redis.tls_port}")

        pg_password = secrets.token_urlsafe(24)
        postgres = self._keep(
            "postgres", start_postgres(self.servers / "postgres", app_password=pg_password)
        )
        env["SANDBOX_PG_DSN"] = (
            f"postgresql://app@127.0.0.1:{postgres.port}/integration_api_management"
        )
        env["SANDBOX_PG_PASSWORD"] = pg_password
        log(f"postgresql               127.0.0.1:{postgres.port}")

        downstream = self._keep(
            "downstream", start_downstream(self.servers / "downstream", delay=0.05)
        )
        for index, (name, url) in enumerate(downstream.urls.items()):
            env[f"SANDBOX_SVC_{index}_NAME"] = name
            env[f"SANDBOX_SVC_{index}_URL"] = url
        log(f"downstream services      {len(downstream.urls)} on loopback")

        gateway_env = demo_env(
            APP_VERSION=RELEASE,
            REDIS_URL=(
                f"rediss://:{redis_password}@127.0.0.1:{redis.tls_port}/0"
                f"?ssl_ca_certs={certs.ca_cert}"
            ),
            DOWNSTREAM_SERVICES=downstream.env_value(),
        )
        gateway = self._keep(
            "gateway",
            start_gateway(
                self.servers / "gateway", env=gateway_env, forwarded_allow_ips="127.0.0.1"
            ),
        )
        for key in ("JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "CORS_ORIGIN"):
            env[f"SANDBOX_GW_{key}"] = gateway_env[key]
        for prefix, spec in (
            ("USER", gateway_env["DEMO_USERS"]),
            ("CLIENT", gateway_env["OAUTH_CLIENTS"]),
        ):
            for index, entry in enumerate(spec.split(",")):
                ident, secret, tenant = entry.split(":")
                env[f"SANDBOX_GW_{prefix}_{index}_ID"] = ident
                env[f"SANDBOX_GW_{prefix}_{index}_SECRET"] = secret
                env[f"SANDBOX_GW_{prefix}_{index}_TENANT"] = tenant
        log(f"demo gateway (uvicorn)   {gateway.url}")

        nginx = self._keep(
            "nginx",
            start_nginx(
                self.servers / "nginx",
                upstream=gateway.url,
                cert=certs.server_cert,
                key=certs.server_key,
                tls_protocols="TLSv1.3",
            ),
        )
        env["SANDBOX_GATEWAY_URL"] = nginx.https_url
        env["SANDBOX_GATEWAY_HTTP_URL"] = nginx.http_url
        log(f"nginx (TLS 1.3)          {nginx.https_url}")

        alertmanager = self._keep(
            "alertmanager",
            start_alertmanager(
                self.servers / "alertmanager",
                receivers=[
                    {"name": "pagerduty-oncall", "type": "pagerduty"},
                    {"name": "slack-ops", "type": "slack"},
                ],
                route_receiver="pagerduty-oncall",
                # Warnings also go to Slack; critical alerts page through PagerDuty.
                routes=[
                    {"receiver": "slack-ops", "matchers": ['severity="warning"'], "continue": True}
                ],
            ),
        )
        env["SANDBOX_ALERTMANAGER_URL"] = alertmanager.url
        log(f"alertmanager             {alertmanager.url}")

        prometheus = self._keep(
            "prometheus",
            start_prometheus(
                self.servers / "prometheus",
                scrape_configs=[
                    {
                        "job_name": "api-gateway",
                        "metrics_path": "/metrics",
                        "static_configs": [{"targets": [gateway.url.split("://", 1)[1]]}],
                    }
                ],
                rule_files=gateway_rules(),
                alertmanager_urls=[alertmanager.url],
                backfill_openmetrics=gateway_history(),
            ),
        )
        env["SANDBOX_PROMETHEUS_URL"] = prometheus.url
        log(f"prometheus               {prometheus.url}")
        _warm_cache(redis.client(tls=True))
        _wait_for_scrapes(prometheus)
        log("prometheus scrapes the gateway and reaches alertmanager")
        self._start_observability(gateway.log_path, log)
        self._start_dns(log)
        self.write_env()

    def _start_dns(self, log: Callable[[str], None]) -> None:
        """A real resolver (unbound) answering for the public host the Ingress serves, with the
        load-balancer address the emulated cluster reports, as a DNS provider would."""
        from sandbox.servers.dns import Record, Zone, start_unbound

        zone = Zone("example.com", records=(Record("api", "A", "127.0.0.1", ttl=300),))
        dns = self._keep("dns", start_unbound(self.servers / "dns", [zone]))
        self.env["SANDBOX_DNS_RESOLVER"] = dns.address
        log(f"dns (unbound)            {dns.address}")

    def _start_observability(self, gateway_log: Path, log: Callable[[str], None]) -> None:
        """Grafana, Jaeger and Loki cannot be installed here: small servers answer as their HTTP
        APIs document, holding what a healthy deployment would show (dashboard, traces, logs)."""
        from sandbox.observability_stubs import GrafanaStub, JaegerStub, LokiStub

        env = self.env
        token = secrets.token_urlsafe(24)
        grafana = self._keep("grafana", GrafanaStub(token=token))
        grafana.add_dashboard("api-gateway", "API Gateway", datasource_uids=("prometheus",))
        grafana.set_datasource("prometheus", healthy=True)
        grafana.start()
        env["SANDBOX_GRAFANA_URL"] = grafana.url
        env["SANDBOX_GRAFANA_TOKEN"] = token
        jaeger = self._keep("jaeger", JaegerStub())
        for age in (20, 45, 90, 300):
            jaeger.add_trace("api-gateway", age_s=age)
        # Keep traces coming for as long as the sandbox runs, as a traced service would.
        jaeger.keep_recent("api-gateway", every_s=30)
        jaeger.start()
        env["SANDBOX_JAEGER_URL"] = jaeger.url
        loki = self._keep("loki", LokiStub())
        # The gateway's own access log since it started: real lines for the secret scan.
        lines = (
            gateway_log.read_text(errors="replace").splitlines()[-200:]
            if gateway_log.exists()
            else []
        )
        for line in lines or ['{"level":"info","msg":"gateway started"}']:
            loki.push({"app": "api-gateway", "namespace": "api-gateway"}, line, age_s=5)
        # And every line the gateway writes from now on, as a log shipper would.
        loki.follow(gateway_log, {"app": "api-gateway", "namespace": "api-gateway"})
        loki.start()
        env["SANDBOX_LOKI_URL"] = loki.url
        log(f"grafana/jaeger/loki API stand-ins  {grafana.url} {jaeger.url} {loki.url}")

    def write_env(self) -> Path:
        path = self.state / ENV_FILE
        lines = [f"export {key}={shlex.quote(value)}" for key, value in sorted(self.env.items())]
        # Secrets live here for the length of the run only: private file, removed by `down`.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    def stop(self, *, log: Callable[[str], None] = print) -> None:
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception as exc:  # keep stopping the rest; report what could not be stopped
                log(f"sandbox: stopping {name} failed: {exc}")
        with contextlib.suppress(FileNotFoundError):
            (self.state / ENV_FILE).unlink()
        shutil.rmtree(self.servers, ignore_errors=True)


def _warm_cache(client: Any) -> None:
    """Cache traffic a running gateway would have caused: 1,200 hits and 36 misses (97 %)."""
    keys = [f"venue:{n}" for n in range(40)]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, "cached", ex=3600)
    for _ in range(30):
        for key in keys:
            pipe.get(key)
    for n in range(36):
        pipe.get(f"venue:missing:{n}")
    pipe.execute()
    client.close()


def _wait_for_scrapes(prometheus: Any) -> None:
    """Prometheus finds its targets and Alertmanager some seconds after start; the sandbox is only
    ready once the gateway is scraped and an Alertmanager is active, as in a settled environment."""
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while time.monotonic() < deadline:
        targets = prometheus.api("targets").get("activeTargets", [])
        scraped = any(
            t.get("labels", {}).get("job") == "api-gateway" and t.get("health") == "up"
            for t in targets
        )
        managers = prometheus.api("alertmanagers").get("activeAlertmanagers", [])
        if scraped and managers:
            return
        time.sleep(0.5)
    raise RuntimeError(
        f"prometheus did not scrape the gateway and reach alertmanager within {SCRAPE_WAIT_S:.0f} s"
    )
