"""Each component against real servers: reachable works; refused, black-holed, wrong credentials
and wrong CA each give one clear message naming the component and its masked endpoint; the
failure is remembered (the next use fails at once, without another connection attempt)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis

from pytest_deployverify.components.alertmanager import AlertmanagerApi
from pytest_deployverify.components.catalog import builtin_components
from pytest_deployverify.components.kubernetes.reader import KubeReader
from pytest_deployverify.components.prometheus import PromApi
from pytest_deployverify.components.registry import ComponentRegistry, ComponentUnavailable
from pytest_deployverify.profile.schema import SchemaError
from sandbox.certs import CertFiles
from sandbox.kube import KubeEmulator, kubeconfig_document, write_kubeconfig
from sandbox.servers.alertmanager import AlertmanagerServer
from sandbox.servers.postgres import PostgresServer
from sandbox.servers.prometheus import PrometheusServer
from sandbox.servers.redis import RedisServer
from tests.clients import servers
from tests.clients.blackhole import BlackHole, refused_port
from tests.clients.servers import REDIS_PASSWORD, HttpServer, make_profile

tls_certs = servers.tls_certs
redis_server = servers.redis_server
postgres_server = servers.postgres_server
prometheus_server = servers.prometheus_server
alertmanager_server = servers.alertmanager_server
http_server = servers.http_server
kube_emulator = servers.kube_emulator
kubeconfig = servers.kubeconfig
blackhole = servers.blackhole

SHORT = 0.5  # seconds: the configured timeout of the failure cases
HOLE = "127.0.0.1:{port}"


class Counted:
    """The built-in components, with a connect that counts how often each one ran."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.components = [
            dataclasses.replace(c, connect=self._wrap(c.name, c.connect))
            for c in builtin_components()
            if c.connect is not None
        ]

    def _wrap(self, name: str, connect: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def counted(section: Any, profile: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return connect(section, profile)

        return counted


@pytest.fixture
def counted() -> Counted:
    return Counted()


@pytest.fixture
def registries(counted: Counted) -> Iterator[Callable[..., ComponentRegistry]]:
    made: list[ComponentRegistry] = []

    def make(**sections: Any) -> ComponentRegistry:
        registry = ComponentRegistry(make_profile(**sections), counted.components)
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.close()


def fails_once(
    registry: ComponentRegistry,
    counted: Counted,
    name: str,
    *fragments: str,
    secrets: tuple[str, ...] = (),
) -> str:
    """The component fails with one message containing ``fragments`` and no secret, and a
    second use replays it without building again."""
    with pytest.raises(ComponentUnavailable) as first:
        registry.get(name)
    message = str(first.value)
    assert message.startswith(f"{name} at "), message
    for fragment in fragments:
        assert fragment in message, message
    for secret in secrets:
        assert secret not in message
    with pytest.raises(ComponentUnavailable) as second:
        registry.get(name)
    assert str(second.value) == message
    assert counted.calls[name] == 1
    return message


# ---- Redis ------------------------------------------------------------------------------------


def test_redis_reachable_plain_and_tls(
    registries: Callable[..., ComponentRegistry], redis_server: RedisServer
) -> None:
    plain = registries(redis={"url": redis_server.url}).get("redis")
    assert plain.ping() is True
    tls = registries(redis={"url": redis_server.tls_url, "ca_file": str(redis_server.ca_file)}).get(
        "redis"
    )
    assert tls.info("server")["redis_version"]
    # The retry policy really is off (redis-py 8 would otherwise retry 10 times).
    assert tls.connection_pool.connection_kwargs["retry"].get_retries() == 0


def test_redis_refused(registries: Callable[..., ComponentRegistry], counted: Counted) -> None:
    port = refused_port()
    registry = registries(redis={"url": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0"})
    fails_once(
        registry,
        counted,
        "redis",
        f"redis at redis://:***@127.0.0.1:{port}/0 is unreachable: connection refused",
        secrets=(REDIS_PASSWORD,),
    )


def test_redis_black_holed_costs_one_attempt(
    registries: Callable[..., ComponentRegistry], counted: Counted, blackhole: BlackHole
) -> None:
    url = f"rediss://:{REDIS_PASSWORD}@127.0.0.1:{blackhole.port}/0"
    registry = registries(redis={"url": url, "timeout": SHORT})
    message = fails_once(
        registry,
        counted,
        "redis",
        f"rediss://:***@127.0.0.1:{blackhole.port}/0 is unreachable: timed out after 0.5 s",
        secrets=(REDIS_PASSWORD,),
    )
    assert "(connect)" in message  # the TLS handshake never completes
    assert blackhole.accepted == 1


def test_redis_wrong_password(
    registries: Callable[..., ComponentRegistry], counted: Counted, redis_server: RedisServer
) -> None:
    registry = registries(redis={"url": redis_server.url, "password": "not-the-password"})
    fails_once(
        registry,
        counted,
        "redis",
        "rejected the credentials",
        "check the profile's redis password",
        secrets=(REDIS_PASSWORD, "not-the-password"),
    )


def test_redis_tls_with_the_wrong_ca(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    redis_server: RedisServer,
    tls_certs: CertFiles,
) -> None:
    registry = registries(
        redis={"url": redis_server.tls_url, "ca_file": str(tls_certs.other_ca_cert)}
    )
    fails_once(
        registry,
        counted,
        "redis",
        f"127.0.0.1:{redis_server.tls_port}/0 failed TLS verification",
        secrets=(REDIS_PASSWORD,),
    )


# ---- PostgreSQL -------------------------------------------------------------------------------


def test_postgres_reachable_and_read_only(
    registries: Callable[..., ComponentRegistry], postgres_server: PostgresServer
) -> None:
    conn = registries(postgres={"dsn": postgres_server.dsn}).get("postgres")
    assert conn.execute("SELECT current_database()").fetchone() == (postgres_server.database,)
    assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
    assert conn.execute("SHOW statement_timeout").fetchone() == ("5s",)
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("CREATE TABLE verifier_must_not_write (id int)")


def test_postgres_refused(registries: Callable[..., ComponentRegistry], counted: Counted) -> None:
    port = refused_port()
    registry = registries(postgres={"dsn": f"postgresql://app:pw-123456@127.0.0.1:{port}/db"})
    fails_once(
        registry,
        counted,
        "postgres",
        f"postgresql://app:***@127.0.0.1:{port}/db is unreachable: connection refused",
        secrets=("pw-123456",),
    )


def test_postgres_black_holed_costs_one_attempt(
    registries: Callable[..., ComponentRegistry], counted: Counted, blackhole: BlackHole
) -> None:
    dsn = f"postgresql://app@127.0.0.1:{blackhole.port}/db?sslmode=disable"
    registry = registries(postgres={"dsn": dsn, "password": "pw-123456", "timeout": SHORT})
    # libpq's connect_timeout has a floor of 2 s; the message states the real bound.
    fails_once(
        registry,
        counted,
        "postgres",
        f"127.0.0.1:{blackhole.port}/db?sslmode=disable is unreachable: timed out after 2 s",
        secrets=("pw-123456",),
    )
    assert blackhole.accepted == 1


def test_postgres_wrong_password(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    postgres_server: PostgresServer,
) -> None:
    registry = registries(postgres={"dsn": postgres_server.dsn, "password": "definitely-wrong-pw"})
    # The profile's password wins over the one in the DSN.
    fails_once(
        registry,
        counted,
        "postgres",
        "rejected the credentials: password authentication failed for user",
        secrets=("definitely-wrong-pw", postgres_server.app_password),
    )


def test_postgres_wrong_monitor_password(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    postgres_server: PostgresServer,
) -> None:
    registry = registries(
        postgres={
            "dsn": postgres_server.dsn,
            "monitor_user": "dv_no_such_monitor",
            "monitor_password": "monitor-wrong-pw",
        }
    )
    # The monitoring login is named, and its key: never the application's password instead.
    fails_once(
        registry,
        counted,
        "postgres",
        "(login dv_no_such_monitor) rejected the credentials: password authentication failed "
        'for user "dv_no_such_monitor" (check the profile\'s postgres monitor_password)',
        secrets=("monitor-wrong-pw", postgres_server.app_password),
    )


# ---- Kubernetes -------------------------------------------------------------------------------


def _kubeconfig(tmp_path: Path, server: str, token: str, ca_file: Path | str) -> str:
    doc = kubeconfig_document(server=server, token=token, ca_file=ca_file, context_name="ctx")
    return str(write_kubeconfig(tmp_path / "kubeconfig", doc))


def test_kube_reachable(
    registries: Callable[..., ComponentRegistry], kubeconfig: Path, kube_emulator: KubeEmulator
) -> None:
    reader = registries(kubernetes={"kubeconfig": str(kubeconfig), "context": "emulator"}).get(
        "kubernetes"
    )
    assert isinstance(reader, KubeReader)
    assert reader.list("namespaces")
    assert reader.api_client.configuration.retries == 0


def test_kube_refused(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    tls_certs: CertFiles,
    tmp_path: Path,
) -> None:
    port = refused_port()
    path = _kubeconfig(tmp_path, f"https://127.0.0.1:{port}", "tok-abcdef", tls_certs.ca_cert)
    registry = registries(kubernetes={"kubeconfig": path, "context": "ctx", "timeout": SHORT})
    fails_once(
        registry,
        counted,
        "kubernetes",
        f"kubernetes at https://127.0.0.1:{port} (context ctx) is unreachable: connection refused",
        secrets=("tok-abcdef",),
    )


def test_kube_black_holed_costs_one_attempt(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    blackhole: BlackHole,
    kube_emulator: KubeEmulator,
    tmp_path: Path,
) -> None:
    server = f"https://127.0.0.1:{blackhole.port}"
    path = _kubeconfig(tmp_path, server, kube_emulator.token, kube_emulator.ca_file)
    registry = registries(kubernetes={"kubeconfig": path, "context": "ctx", "timeout": SHORT})
    fails_once(
        registry,
        counted,
        "kubernetes",
        f"kubernetes at {server} (context ctx) is unreachable: timed out after 0.5 s",
        secrets=(kube_emulator.token,),
    )
    assert blackhole.accepted == 1


def test_kube_wrong_token(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    kube_emulator: KubeEmulator,
    tmp_path: Path,
) -> None:
    path = _kubeconfig(tmp_path, kube_emulator.url, "wrong-token-123", kube_emulator.ca_file)
    registry = registries(kubernetes={"kubeconfig": path, "context": "ctx"})
    fails_once(
        registry,
        counted,
        "kubernetes",
        f"kubernetes at {kube_emulator.url} (context ctx) rejected the credentials (401",
        secrets=("wrong-token-123", kube_emulator.token),
    )


def test_kube_reads_through_the_registry_one_list_per_kind(
    registries: Callable[..., ComponentRegistry], kubeconfig: Path, kube_emulator: KubeEmulator
) -> None:
    """Every read of the component through the registry, prefetched together: the objects are
    one concurrent batch of LISTs, and the other reads are served from it."""
    from pytest_deployverify.checks.kube.snapshots import KubeObjects, PodLogs, VerifierAccess
    from pytest_deployverify.components.kubernetes import component

    kube_emulator.reset_counts()
    registry = registries(
        kubernetes={
            "kubeconfig": str(kubeconfig),
            "context": "emulator",
            "namespace": "api-gateway",
            "workloads": ["api-gateway"],
        }
    )
    registry.prefetch([f"kubernetes.{name}" for name in component.reads])
    objects = registry.read("kubernetes.objects")
    assert isinstance(objects, KubeObjects)
    assert objects.problems == {}  # every kind the checklist needs is served
    ingresses = registry.read("kubernetes.ingresses")
    assert [i["metadata"]["name"] for i in ingresses] == ["api-gateway"]
    assert all(i["kind"] == "Ingress" for i in ingresses)
    assert isinstance(registry.read("kubernetes.access"), VerifierAccess)
    logs = registry.read("kubernetes.pod_logs")
    assert isinstance(logs, PodLogs)
    assert len(logs.logs) == 3
    lists = [(r.resource, r.namespace) for r in kube_emulator.requests if r.verb == "list"]
    assert len(lists) == len(set(lists)), lists
    assert ("ingresses", "api-gateway") in lists
    assert kube_emulator.count(mutating=True) == 0


def test_kube_a_forbidden_ingress_list_fails_the_ingresses_read_naming_the_fix(
    registries: Callable[..., ComponentRegistry], kubeconfig: Path, kube_emulator: KubeEmulator
) -> None:
    from pytest_deployverify.components.registry import ReadError

    kube_emulator.access.forbid("ingresses", "api-gateway")
    try:
        registry = registries(
            kubernetes={
                "kubeconfig": str(kubeconfig),
                "context": "emulator",
                "namespace": "api-gateway",
            }
        )
        with pytest.raises(ReadError) as info:
            registry.read("kubernetes.ingresses")
        message = str(info.value)
        assert "forbids list ingresses.networking.k8s.io in namespace api-gateway" in message
        assert "grant the verifier a Role in namespace api-gateway" in message
        assert kube_emulator.token not in message
        # The objects snapshot itself is fine: only what needs Ingresses fails.
        assert registry.read("kubernetes.objects").objects("Service")
    finally:
        kube_emulator.access.reset()


def test_kube_wrong_ca(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    kube_emulator: KubeEmulator,
    tls_certs: CertFiles,
    tmp_path: Path,
) -> None:
    path = _kubeconfig(tmp_path, kube_emulator.url, kube_emulator.token, tls_certs.other_ca_cert)
    registry = registries(kubernetes={"kubeconfig": path, "context": "ctx"})
    fails_once(
        registry,
        counted,
        "kubernetes",
        f"kubernetes at {kube_emulator.url} (context ctx) failed TLS verification",
        secrets=(kube_emulator.token,),
    )


def test_kube_missing_kubeconfig_refused_at_load(
    registries: Callable[..., ComponentRegistry], tmp_path: Path
) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SchemaError, match=r"kubernetes\.kubeconfig: file .*nope' does not exist"):
        registries(kubernetes={"kubeconfig": str(missing), "context": "ctx"})


def test_kube_unusable_kubeconfig(
    registries: Callable[..., ComponentRegistry], counted: Counted, tmp_path: Path
) -> None:
    # The file exists (the profile accepts it) but holds no context of that name.
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    registry = registries(kubernetes={"kubeconfig": str(broken), "context": "ctx"})
    fails_once(registry, counted, "kubernetes", f"kubeconfig {broken}", "could not be configured")


# ---- Prometheus, Alertmanager, HTTP -----------------------------------------------------------


def test_prometheus_and_alertmanager_reachable(
    registries: Callable[..., ComponentRegistry],
    prometheus_server: PrometheusServer,
    alertmanager_server: AlertmanagerServer,
) -> None:
    registry = registries(
        prometheus={"url": prometheus_server.url}, alertmanager={"url": alertmanager_server.url}
    )
    prom = registry.get("prometheus")
    assert isinstance(prom, PromApi)
    assert prom.query("vector(1)")["result"][0]["value"][1] == "1"
    assert "activeTargets" in prom.targets()
    assert prom.rules() == []
    assert isinstance(prom.alerts(), list)
    # PrometheusConnect shares the settings and retries nothing.
    connect = prom.connect
    assert connect.check_prometheus_connection()
    adapter = connect._session.get_adapter(prometheus_server.url)
    assert adapter.max_retries.total == 0
    am = registry.get("alertmanager")
    assert isinstance(am, AlertmanagerApi)
    assert am.receivers() == ["ops-webhook"]
    assert isinstance(am.alerts(), list)


@pytest.mark.parametrize("component", ["prometheus", "alertmanager", "grafana", "http"])
def test_http_components_refused(
    registries: Callable[..., ComponentRegistry], counted: Counted, component: str
) -> None:
    url = f"http://127.0.0.1:{refused_port()}/"
    field = "base_url" if component == "http" else "url"
    registry = registries(**{component: {field: url, "timeout": SHORT}})
    fails_once(
        registry, counted, component, f"{component} at {url} is unreachable: connection refused"
    )


@pytest.mark.parametrize("component", ["prometheus", "alertmanager", "grafana", "http"])
def test_http_components_black_holed_cost_one_attempt(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    blackhole: BlackHole,
    component: str,
) -> None:
    url = f"http://127.0.0.1:{blackhole.port}/"
    field = "base_url" if component == "http" else "url"
    registry = registries(**{component: {field: url, "timeout": SHORT}})
    fails_once(
        registry,
        counted,
        component,
        f"{component} at {url} is unreachable: timed out after 0.5 s (read)",
    )
    assert blackhole.accepted == 1


def test_every_http_probe_waits_on_the_one_gateway_probe(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    blackhole: BlackHole,
) -> None:
    """Every reader of the gateway (TLS handshakes, latency, token flows, edge probes) and the
    destructive probes' client fail with the connect probe's message, without dialling again."""
    from pytest_deployverify.components import http

    url = f"https://127.0.0.1:{blackhole.port}/"
    auth = {"login_path": "/login", "login": {"username": "u", "password": "pw-0123456789"}}
    registry = registries(http={"base_url": url, "timeout": SHORT, "expect": {"auth": auth}})
    registry.prefetch([f"http.{name}" for name in http.component.reads])
    messages = set()
    for name in http.component.reads:
        with pytest.raises(ComponentUnavailable) as failure:
            registry.read(f"http.{name}")
        messages.add(str(failure.value))
    with pytest.raises(ComponentUnavailable) as destructive:
        registry.client("http")  # what the load, burst and write-flow items ask for
    messages.add(str(destructive.value))
    assert messages == {f"http at {url} is unreachable: timed out after 0.5 s (connect)"}
    assert counted.calls["http"] == 1
    assert blackhole.accepted == 1


def test_http_reachable_sends_secret_headers_and_follows_no_redirects(
    registries: Callable[..., ComponentRegistry], http_server: HttpServer
) -> None:
    client = registries(
        http={"base_url": http_server.url, "headers": {"X-Api-Key": "key-0123456789"}}
    ).get("http")
    assert isinstance(client, httpx.Client)
    assert client.get("/health").text == "ok\n"
    assert client.follow_redirects is False
    assert "GET /health auth=key-0123456789" in http_server.hits


# ---- Isolation --------------------------------------------------------------------------------


def test_a_dead_component_leaves_the_others_working(
    registries: Callable[..., ComponentRegistry],
    counted: Counted,
    blackhole: BlackHole,
    redis_server: RedisServer,
    postgres_server: PostgresServer,
    kubeconfig: Path,
    http_server: HttpServer,
) -> None:
    registry = registries(
        redis={"url": f"redis://127.0.0.1:{blackhole.port}/0", "timeout": SHORT},
        postgres={"dsn": postgres_server.dsn},
        kubernetes={"kubeconfig": str(kubeconfig), "context": "emulator"},
        http={"base_url": http_server.url},
    )
    fails_once(registry, counted, "redis", "timed out after 0.5 s (read)")
    assert registry.get("postgres").execute("SELECT 1").fetchone() == (1,)
    assert registry.get("kubernetes").version()["gitVersion"]
    assert registry.get("http").get("/").status_code == 200
    with pytest.raises(ComponentUnavailable):
        registry.get("redis")
    assert blackhole.accepted == 1
    assert isinstance(redis.Redis, type)  # redis stays importable for the others' sake
