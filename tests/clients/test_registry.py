"""ComponentRegistry on its own: laziness, failure caching, snapshots, prefetch, threads (no servers)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from pytest_deployverify.checks.findings import NotApplicable
from pytest_deployverify.components import (
    Component,
    ComponentRegistry,
    ComponentUnavailable,
    NotConfigured,
    ReadError,
    SectionSpec,
)
from pytest_deployverify.components.catalog import all_components
from pytest_deployverify.components.http import HttpConfig
from pytest_deployverify.components.postgres import PostgresConfig
from pytest_deployverify.components.redis import RedisConfig
from pytest_deployverify.profile.model import Profile
from tests.clients.servers import make_profile

PROFILE = make_profile(
    redis={"url": "rediss://:hunter2-secret@127.0.0.1:6380/0", "timeout": 2.0},
    http={"base_url": "https://api.example.com/"},
)


class FakeClient:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class CountingFactory:
    def __init__(self, error: Exception | None = None, gate: threading.Event | None = None):
        self.calls = 0
        self.error = error
        self.gate = gate
        self.clients: list[FakeClient] = []

    def __call__(self, section: Any, profile: Profile) -> FakeClient:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(5)
        if self.error is not None:
            raise self.error
        client = FakeClient()
        self.clients.append(client)
        return client


SECTIONS = {"redis": RedisConfig, "http": HttpConfig, "postgres": PostgresConfig}


def component(name: str, connect: Any = None, **reads: Any) -> Component:
    return Component(
        name=name,
        title=name,
        sections=(SectionSpec(name, SECTIONS[name]),),
        connect=connect,
        reads=reads,
    )


def test_nothing_is_built_until_a_check_asks() -> None:
    factory = CountingFactory()
    registry = ComponentRegistry(PROFILE, [component("redis", factory)])
    assert factory.calls == 0
    first = registry.client("redis")
    assert registry.client("redis") is first
    assert factory.calls == 1


def test_not_configured_names_component_environment_and_table() -> None:
    registry = ComponentRegistry(PROFILE, [component("postgres", CountingFactory())])
    with pytest.raises(NotConfigured) as info:
        registry.client("postgres")
    assert str(info.value) == (
        "postgres is not configured for environment clients-test (no [postgres] table in the profile)"
    )


def test_unknown_component_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="unknown component 'rabbitmq'"):
        ComponentRegistry(PROFILE, []).client("rabbitmq")


def test_a_builtin_component_not_loaded_is_known_and_not_configured() -> None:
    # A run of only the team's checks loads the components its profile configures; a test that
    # asks for another built-in one is told it is not configured, as in a full load.
    with pytest.raises(NotConfigured, match="grafana is not configured"):
        ComponentRegistry(PROFILE, []).client("grafana")


def test_failure_is_built_once_and_replayed_with_the_same_message() -> None:
    error = ComponentUnavailable("redis", "rediss://:***@127.0.0.1:6380/0", "is unreachable: x")
    factory = CountingFactory(error)
    registry = ComponentRegistry(PROFILE, [component("redis", factory)])
    messages = []
    for _ in range(5):
        with pytest.raises(ComponentUnavailable) as info:
            registry.client("redis")
        messages.append(str(info.value))
    assert factory.calls == 1
    assert set(messages) == {"redis at rediss://:***@127.0.0.1:6380/0 is unreachable: x"}
    assert registry.failure("redis") is not None


def test_unexpected_factory_error_becomes_unavailable_without_secrets() -> None:
    # A library error that echoes the URL with its password must not leak it.
    factory = CountingFactory(RuntimeError("boom for rediss://:hunter2-secret@127.0.0.1:6380"))
    registry = ComponentRegistry(PROFILE, [component("redis", factory)])
    with pytest.raises(ComponentUnavailable) as info:
        registry.client("redis")
    message = str(info.value)
    assert message.startswith("redis at rediss://:***@127.0.0.1:6380/0 could not be set up:")
    assert "RuntimeError" in message
    assert "hunter2-secret" not in message


def test_a_missing_client_library_names_the_extra() -> None:
    def connect(section: Any, profile: Profile) -> Any:
        raise ModuleNotFoundError("No module named 'redis'", name="redis")

    registry = ComponentRegistry(PROFILE, [component("redis", connect)])
    with pytest.raises(ComponentUnavailable, match=r"pip install 'pytest-deployverify\[redis\]'"):
        registry.client("redis")


def test_a_dead_component_does_not_affect_another() -> None:
    dead = CountingFactory(ComponentUnavailable("redis", "r", "is unreachable: refused"))
    alive = CountingFactory()
    registry = ComponentRegistry(PROFILE, [component("redis", dead), component("http", alive)])
    with pytest.raises(ComponentUnavailable):
        registry.client("redis")
    assert isinstance(registry.client("http"), FakeClient)


def test_close_closes_every_built_client_and_later_gets_fail() -> None:
    redis, http = CountingFactory(), CountingFactory()
    registry = ComponentRegistry(PROFILE, [component("redis", redis), component("http", http)])
    registry.client("redis")
    registry.client("http")
    registry.close()
    assert [c.closed for c in redis.clients + http.clients] == [True, True]
    with pytest.raises(RuntimeError, match="closed"):
        registry.client("redis")


def test_concurrent_first_uses_build_once() -> None:
    gate = threading.Event()
    factory = CountingFactory(gate=gate)
    registry = ComponentRegistry(PROFILE, [component("redis", factory)])
    results: list[Any] = []

    def use() -> None:
        results.append(registry.client("redis"))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    assert factory.calls == 1
    assert len(results) == 8
    assert all(r is results[0] for r in results)


# -- snapshots ------------------------------------------------------------------------------------


def test_a_snapshot_is_read_once_and_uses_the_client() -> None:
    calls: list[str] = []

    def info(ctx: Any) -> dict[str, Any]:
        calls.append("info")
        return {"client": type(ctx.client).__name__, "timeout": ctx.section.timeout}

    registry = ComponentRegistry(PROFILE, [component("redis", CountingFactory(), info=info)])
    assert registry.read("redis.info") == {"client": "FakeClient", "timeout": 2.0}
    assert registry.read("redis.info") is registry.read("redis.info")
    assert calls == ["info"]


def test_a_failed_read_is_replayed_and_does_not_poison_other_reads() -> None:
    calls = {"bad": 0}

    def bad(ctx: Any) -> Any:
        calls["bad"] += 1
        raise ReadError("redis", "h:1", "CONFIG GET", "refused")

    registry = ComponentRegistry(
        PROFILE, [component("redis", CountingFactory(), bad=bad, good=lambda ctx: 1)]
    )
    for _ in range(3):
        with pytest.raises(ReadError, match="redis at h:1: CONFIG GET: refused"):
            registry.read("redis.bad")
    assert calls["bad"] == 1
    assert registry.read("redis.good") == 1


def test_a_read_of_a_dead_component_fails_with_the_component_message() -> None:
    dead = CountingFactory(
        ComponentUnavailable("redis", "r", "is unreachable: timed out after 2 s")
    )
    registry = ComponentRegistry(
        PROFILE, [component("redis", dead, a=lambda ctx: ctx.client, b=lambda ctx: ctx.client)]
    )
    for ref in ("redis.a", "redis.b", "redis.a"):
        with pytest.raises(ComponentUnavailable, match="timed out after 2 s"):
            registry.read(ref)
    assert dead.calls == 1


def test_reads_of_an_unconfigured_component_are_not_configured_before_any_io() -> None:
    factory = CountingFactory()
    registry = ComponentRegistry(PROFILE, [component("postgres", factory, x=lambda ctx: 1)])
    with pytest.raises(NotConfigured):
        registry.read("postgres.x")
    assert factory.calls == 0


def test_not_applicable_from_a_reader_is_replayed() -> None:
    def needs_key(ctx: Any) -> Any:
        raise NotApplicable("[redis.expect] sentinel is not set")

    registry = ComponentRegistry(PROFILE, [component("redis", CountingFactory(), s=needs_key)])
    for _ in range(2):
        with pytest.raises(NotApplicable, match="sentinel is not set"):
            registry.read("redis.s")


def test_an_unexplained_reader_error_is_one_line_without_secrets() -> None:
    def boom(ctx: Any) -> Any:
        raise RuntimeError("bad answer from rediss://:hunter2-secret@127.0.0.1:6380")

    registry = ComponentRegistry(PROFILE, [component("redis", CountingFactory(), boom=boom)])
    with pytest.raises(ReadError) as info:
        registry.read("redis.boom")
    assert "reading boom: RuntimeError" in str(info.value)
    assert "hunter2-secret" not in str(info.value)


def test_unknown_read_is_a_programming_error() -> None:
    registry = ComponentRegistry(PROFILE, [component("redis", CountingFactory(), a=lambda c: 1)])
    with pytest.raises(KeyError, match="has no read 'b'; reads: a"):
        registry.read("redis.b")


def test_prefetch_reads_concurrently_and_caches() -> None:
    started = threading.Barrier(3, timeout=5)

    def slow(ctx: Any) -> float:
        started.wait()  # all three must be in flight at once, or this times out
        return time.monotonic()

    registry = ComponentRegistry(
        PROFILE,
        [
            component("redis", CountingFactory(), a=slow, b=slow),
            component("http", CountingFactory(), c=slow),
        ],
    )
    registry.prefetch(["redis.a", "redis.b", "http.c"], max_workers=4)
    assert all(registry.cached(ref) for ref in ("redis.a", "redis.b", "http.c"))
    assert isinstance(registry.read("redis.a"), float)
    registry.close()


def test_prefetch_swallows_failures_that_the_check_then_sees() -> None:
    dead = CountingFactory(ComponentUnavailable("redis", "r", "is unreachable: refused"))
    registry = ComponentRegistry(PROFILE, [component("redis", dead, a=lambda ctx: ctx.client)])
    registry.prefetch(["redis.a"])
    with pytest.raises(ComponentUnavailable, match="refused"):
        registry.read("redis.a")
    assert dead.calls == 1
    registry.close()


def test_a_reader_may_read_another_snapshot_which_is_read_once() -> None:
    calls = {"base": 0}

    def base(ctx: Any) -> int:
        calls["base"] += 1
        return 20

    registry = ComponentRegistry(
        PROFILE,
        [
            component(
                "redis",
                CountingFactory(),
                base=base,
                double=lambda ctx: ctx.read("redis.base") * 2,
                triple=lambda ctx: ctx.read("redis.base") * 3,
            )
        ],
    )
    registry.prefetch(["redis.double", "redis.triple", "redis.base"])
    assert (registry.read("redis.double"), registry.read("redis.triple")) == (40, 60)
    assert calls["base"] == 1
    registry.close()


def test_builtin_components_cover_every_target_of_the_checklist() -> None:
    names = {c.name for c in all_components()}
    assert {
        "kubernetes",
        "redis",
        "postgres",
        "prometheus",
        "alertmanager",
        "http",
        "grafana",
        "tracing",
        "logs",
        "services",
    } <= names


def test_an_exclusive_read_waits_for_the_prefetch_and_is_never_prefetched() -> None:
    release = threading.Event()
    order: list[str] = []

    def slow(ctx: Any) -> str:
        release.wait(5)
        order.append("slow")
        return "slow"

    def latency(ctx: Any) -> str:
        order.append("latency")
        return "measured"

    made = Component(
        name="http",
        title="http",
        sections=(SectionSpec("http", HttpConfig),),
        connect=CountingFactory(),
        reads={"slow": slow, "latency": latency},
        exclusive=frozenset({"latency"}),
    )
    registry = ComponentRegistry(PROFILE, [made])
    registry.prefetch(["http.slow", "http.latency"], wait=False)
    assert not registry.cached("http.latency")  # never started by the prefetch
    threading.Timer(0.2, release.set).start()
    assert registry.read("http.latency") == "measured"
    assert order == ["slow", "latency"]  # it waited for the read in flight
    registry.close()


def test_exclusive_reads_must_be_reads() -> None:
    with pytest.raises(ValueError, match=r"exclusive reads \['nope'\] are not reads"):
        Component(
            name="http",
            title="http",
            sections=(SectionSpec("http", HttpConfig),),
            reads={"a": lambda ctx: 1},
            exclusive=frozenset({"nope"}),
        )
