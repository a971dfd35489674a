"""ComponentRegistry on its own: laziness, failure caching, closing, threads (no servers)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pytest_deployverify.components import (
    ComponentRegistry,
    ComponentUnavailable,
    NotConfigured,
    default_factories,
)
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

    def __call__(self, section: Any) -> FakeClient:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(5)
        if self.error is not None:
            raise self.error
        client = FakeClient()
        self.clients.append(client)
        return client


def test_nothing_is_built_until_a_check_asks() -> None:
    factory = CountingFactory()
    registry = ComponentRegistry(PROFILE, {"redis": factory})
    assert factory.calls == 0
    first = registry.get("redis")
    assert registry.get("redis") is first
    assert factory.calls == 1


def test_not_configured_names_component_and_environment() -> None:
    registry = ComponentRegistry(PROFILE, {"postgres": CountingFactory()})
    with pytest.raises(NotConfigured) as info:
        registry.get("postgres")
    assert str(info.value) == "postgres is not configured for environment clients-test"


def test_unknown_component_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="unknown component 'grafana'"):
        ComponentRegistry(PROFILE, {}).get("grafana")


def test_failure_is_built_once_and_replayed_with_the_same_message() -> None:
    error = ComponentUnavailable("redis", "rediss://:***@127.0.0.1:6380/0", "is unreachable: x")
    factory = CountingFactory(error)
    registry = ComponentRegistry(PROFILE, {"redis": factory})
    messages = []
    for _ in range(5):
        with pytest.raises(ComponentUnavailable) as info:
            registry.get("redis")
        messages.append(str(info.value))
    assert factory.calls == 1
    assert set(messages) == {"redis at rediss://:***@127.0.0.1:6380/0 is unreachable: x"}
    assert registry.failure("redis") is not None


def test_unexpected_factory_error_becomes_unavailable_without_secrets() -> None:
    # A library error that echoes the URL with its password must not leak it.
    factory = CountingFactory(RuntimeError("boom for rediss://:hunter2-secret@127.0.0.1:6380"))
    registry = ComponentRegistry(PROFILE, {"redis": factory})
    with pytest.raises(ComponentUnavailable) as info:
        registry.get("redis")
    message = str(info.value)
    assert message.startswith("redis at rediss://:***@127.0.0.1:6380/0 could not be set up:")
    assert "RuntimeError" in message
    assert "hunter2-secret" not in message


def test_a_dead_component_does_not_affect_another() -> None:
    dead = CountingFactory(ComponentUnavailable("redis", "r", "is unreachable: refused"))
    alive = CountingFactory()
    registry = ComponentRegistry(PROFILE, {"redis": dead, "http": alive})
    with pytest.raises(ComponentUnavailable):
        registry.get("redis")
    assert isinstance(registry.get("http"), FakeClient)


def test_close_closes_every_built_client_and_later_gets_fail() -> None:
    redis, http = CountingFactory(), CountingFactory()
    registry = ComponentRegistry(PROFILE, {"redis": redis, "http": http})
    registry.get("redis")
    registry.get("http")
    registry.close()
    assert [c.closed for c in redis.clients + http.clients] == [True, True]
    with pytest.raises(RuntimeError, match="closed"):
        registry.get("redis")


def test_concurrent_first_uses_build_once() -> None:
    gate = threading.Event()
    factory = CountingFactory(gate=gate)
    registry = ComponentRegistry(PROFILE, {"redis": factory})
    results: list[Any] = []

    def use() -> None:
        results.append(registry.get("redis"))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    assert factory.calls == 1
    assert len(results) == 8
    assert all(r is results[0] for r in results)


def test_default_factories_cover_the_client_components() -> None:
    from pytest_deployverify.profile import COMPONENTS

    clients = {"kubernetes", "redis", "prometheus", "alertmanager", "http", "postgres"}
    assert set(default_factories()) == clients
    assert clients <= set(COMPONENTS)
