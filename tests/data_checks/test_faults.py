"""Every component this suite reads, stopped (refused), black-holed (accepts, never answers) or
answering garbage: each read ends within its short timeout in one clear error naming the component
and its address. Timeouts here are 0.5 s (2 s for libpq, its minimum); no wall time is asserted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from pytest_deployverify.checks.gates import GateOutcome, MetricGate, resolve_gate
from pytest_deployverify.checks.redis import (
    RedisSentinelExpectations,
    auth_findings,
    sentinel_findings,
)
from pytest_deployverify.components.alertmanager import AlertmanagerApi
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.components.grafana import GrafanaConfig, grafana_api
from pytest_deployverify.components.logs import LogsConfig, logs_api
from pytest_deployverify.components.postgres import build_postgres, read_server
from pytest_deployverify.components.prometheus import ApiError, PromApi, evaluate_at
from pytest_deployverify.components.redis import (
    no_retry,
    probe_unauthenticated,
    read_sentinels,
    read_snapshot,
)
from pytest_deployverify.components.tracing import TracingConfig, tracing_api
from pytest_deployverify.profile.schema import build
from sandbox.servers.postgres import start_postgres
from sandbox.servers.prometheus import start_prometheus
from sandbox.servers.redis import start_redis
from tests.clients.blackhole import BlackHole, refused_port

from .stack import GarbageServer, postgres_config, redis_config

TIMEOUT = 0.5
FAULTS = ("refused", "black-holed", "garbage")
# What each fault looks like in a message.
SYMPTOM = {
    "refused": "connection refused",
    "black-holed": "timed out after",
    "garbage": "",  # each protocol words it its own way; checked per component below
}


@dataclass
class Peer:
    fault: str
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def peers() -> Iterator[dict[str, Peer]]:
    hole = BlackHole().start()
    junk = GarbageServer()
    try:
        yield {
            "refused": Peer("refused", refused_port()),
            "black-holed": Peer("black-holed", hole.port),
            "garbage": Peer("garbage", junk.port),
        }
    finally:
        hole.stop()
        junk.stop()


def check_message(message: str, component: str, peer: Peer, garbage_words: tuple[str, ...]) -> None:
    assert message.startswith(component), message
    assert peer.address in message, message
    if peer.fault == "garbage":
        assert any(word in message for word in garbage_words), message
    else:
        assert SYMPTOM[peer.fault] in message, message


@pytest.mark.parametrize("fault", FAULTS)
def test_redis_reads(peers: dict[str, Peer], fault: str) -> None:
    peer = peers[fault]
    client = redis.Redis(
        host="127.0.0.1",
        port=peer.port,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        retry=no_retry(),
    )
    with pytest.raises(ComponentUnavailable) as excinfo:
        read_snapshot(client, timeout=TIMEOUT)
    client.close()
    check_message(
        str(excinfo.value), "redis at", peer, ("not the Redis protocol", "Protocol Error", "reset")
    )


@pytest.mark.parametrize("fault", FAULTS)
def test_redis_probes(peers: dict[str, Peer], fault: str) -> None:
    peer = peers[fault]
    config = redis_config(f"redis://{peer.address}/0", timeout=TIMEOUT)
    [finding] = auth_findings(probe_unauthenticated(config))
    assert finding.subject == f"redis {peer.address}"
    expected = {
        "refused": "could not test authentication: connection refused",
        "black-holed": "could not test authentication: no answer within 0.5 s",
        "garbage": "could not test authentication: answered bytes that are not RESP",
    }[fault]
    assert finding.message.startswith(expected)
    spec = build(RedisSentinelExpectations, {"addresses": [peer.address], "min_sentinels": 1})
    findings = sentinel_findings(read_sentinels(spec, TIMEOUT), spec)
    assert findings[0].subject == f"redis sentinel {peer.address}"
    assert findings[0].message.startswith("could not be asked: ")


@pytest.mark.parametrize("fault", FAULTS)
def test_postgres_session(peers: dict[str, Peer], fault: str) -> None:
    peer = peers[fault]
    config = postgres_config(f"postgresql://app:pw-not-shown@{peer.address}/app", timeout=TIMEOUT)
    with pytest.raises(ComponentUnavailable) as excinfo:
        build_postgres(config)
    message = str(excinfo.value)
    assert message.startswith(f"postgres at postgresql://app:***@{peer.address}/app")
    assert "pw-not-shown" not in message
    if fault == "refused":
        assert "connection refused" in message
    elif fault == "black-holed":
        assert "timed out after 2 s" in message
    else:
        assert "failed" in message or "unreachable" in message or "refused" in message


HTTP_GARBAGE = ("RemoteProtocolError", "illegal", "reset", "Server disconnected", "not JSON")


@pytest.mark.parametrize("fault", FAULTS)
def test_prometheus_gate_and_reads(peers: dict[str, Peer], fault: str) -> None:
    peer = peers[fault]
    api = PromApi(f"http://{peer.address}", display=f"http://{peer.address}", timeout=TIMEOUT)
    try:
        spec = resolve_gate(build(MetricGate, {"name": "error_rate"}))
        evaluation = evaluate_at(api, spec, 1_800_000_000.0)
        with pytest.raises(ApiError) as excinfo:
            api.targets()
    finally:
        api.close()
    assert evaluation.outcome is GateOutcome.ERROR
    assert evaluation.message.startswith("gate error_rate: could not be evaluated: prometheus at ")
    check_message(str(excinfo.value), "prometheus at", peer, HTTP_GARBAGE)


@pytest.mark.parametrize("fault", FAULTS)
def test_alertmanager_config(peers: dict[str, Peer], fault: str) -> None:
    peer = peers[fault]
    api = AlertmanagerApi(
        f"http://{peer.address}", display=f"http://{peer.address}", timeout=TIMEOUT
    )
    try:
        with pytest.raises(ApiError) as excinfo:
            api.config()
    finally:
        api.close()
    check_message(str(excinfo.value), "alertmanager at", peer, HTTP_GARBAGE)


BUILDERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "grafana": (
        "grafana at",
        lambda url: grafana_api(build(GrafanaConfig, {"url": url, "timeout": TIMEOUT})),
    ),
    "jaeger": (
        "tracing (jaeger) at",
        lambda url: tracing_api(
            build(TracingConfig, {"url": url, "service": "gw", "timeout": TIMEOUT})
        ),
    ),
    "tempo": (
        "tracing (tempo) at",
        lambda url: tracing_api(
            build(
                TracingConfig, {"url": url, "service": "gw", "backend": "tempo", "timeout": TIMEOUT}
            )
        ),
    ),
    "loki": (
        "logs (loki) at",
        lambda url: logs_api(
            build(LogsConfig, {"url": url, "selector": '{a="b"}', "timeout": TIMEOUT})
        ),
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("backend", sorted(BUILDERS))
def test_observability_backends(peers: dict[str, Peer], fault: str, backend: str) -> None:
    peer = peers[fault]
    prefix, builder = BUILDERS[backend]
    with pytest.raises(ComponentUnavailable) as excinfo:
        builder(f"http://{peer.address}")
    check_message(str(excinfo.value), prefix, peer, HTTP_GARBAGE)


# -- real servers stopped while the verifier holds a client ----------------------------------------


def test_stopped_servers_mid_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = start_redis(tmp_path_factory.mktemp("stopped-redis"), password=None)
    database = start_postgres(tmp_path_factory.mktemp("stopped-pg"))
    prometheus = start_prometheus(tmp_path_factory.mktemp("stopped-prom"))
    client = cache.client(timeout=TIMEOUT)
    session = build_postgres(postgres_config(database.dsn))
    api = PromApi(prometheus.url, display=prometheus.url, timeout=TIMEOUT)
    try:
        assert read_snapshot(client).get("redis_version")
        assert read_server(session).major >= 10
        cache.stop()
        database.stop()
        prometheus.stop()
        with pytest.raises(ComponentUnavailable) as redis_error:
            read_snapshot(client, timeout=TIMEOUT)
        with pytest.raises(ComponentUnavailable) as pg_error:
            read_server(session)
        evaluation = evaluate_at(api, resolve_gate(build(MetricGate, {"name": "error_rate"})), 0)
    finally:
        client.close()
        session.close()
        api.close()
        for server in (cache, database, prometheus):
            server.stop()
    assert str(redis_error.value).startswith(f"redis at 127.0.0.1:{cache.port} ")
    assert "connection refused" in str(redis_error.value) or "reset" in str(redis_error.value)
    assert str(pg_error.value).startswith(f"postgres at 127.0.0.1:{database.port}/")
    assert "failed a read-only query" in str(pg_error.value)
    assert evaluation.outcome is GateOutcome.ERROR
    assert (
        f"prometheus at {prometheus.url} is unreachable: connection refused" in evaluation.message
    )
