"""Session fixtures handing checks ready clients, failing fast when a component is down.

Not configured → the check is skipped with the reason ("redis is not configured for environment
staging"), so the skip shows up in the summary and the sign-off. Configured but unusable → the
check fails with one clear message; the registry remembers the failure, so every other check
using that component fails with the same message at once instead of waiting out its own timeout.

The registry lives in ``config.stash`` (one per process: under pytest-xdist, one per worker) and
is closed when the session's fixtures are torn down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.applicability import not_applicable
from pytest_deployverify.pytest_plugin.context import get_context

if TYPE_CHECKING:
    from pytest_deployverify.components.registry import ComponentRegistry

COMPONENT_REGISTRY = pytest.StashKey["ComponentRegistry"]()

__all__ = [
    "COMPONENT_REGISTRY",
    "alertmanager",
    "component_registry",
    "http_client",
    "kube",
    "postgres",
    "prom_api",
    "prometheus",
    "redis_client",
    "snapshot",
    "use_component",
    "use_snapshot",
]


def component_registry(config: pytest.Config, profile: Profile) -> ComponentRegistry:
    """The process's registry for ``profile``, created on first use."""
    # Imported on first use: a run whose checks need no client does not pay for the client layer.
    from pytest_deployverify.components.registry import ComponentRegistry

    registry = config.stash.get(COMPONENT_REGISTRY, None)
    if registry is None or registry.profile is not profile:
        context = get_context(config)
        components = context.components if context is not None else []
        registry = ComponentRegistry(profile, components)
        config.stash[COMPONENT_REGISTRY] = registry
    return registry


def use_component(registry: ComponentRegistry, name: str) -> Any:
    """``registry.client(name)``, turning its errors into a skip or a failure without traceback."""
    __tracebackhide__ = True
    return _outcome_of(registry.client, name)


def use_snapshot(registry: ComponentRegistry, ref: str) -> Any:
    """``registry.read(ref)``, turning its errors into a skip or a failure without traceback."""
    __tracebackhide__ = True
    return _outcome_of(registry.read, ref)


def _outcome_of(call: Callable[[str], Any], arg: str) -> Any:
    __tracebackhide__ = True
    from pytest_deployverify.checks.findings import NotApplicable
    from pytest_deployverify.components.errors import ComponentError, NotConfigured

    try:
        return call(arg)
    except (ComponentError, NotApplicable) as exc:
        problem: Exception = exc
    # Raised outside the except block, so the report shows the message alone, without a
    # chained "During handling of the above exception" section.
    if isinstance(problem, NotConfigured | NotApplicable):
        not_applicable(str(problem))
    pytest.fail(str(problem), pytrace=False)


class Snapshots:
    """What the ``snapshot`` fixture hands a check: ``snapshot("redis.info")`` returns the
    component's snapshot (read once per run, usually already fetched concurrently); a component
    that is not configured makes the check not applicable, an unreachable one fails it."""

    def __init__(self, registry: ComponentRegistry) -> None:
        self.registry = registry

    def __call__(self, ref: str) -> Any:
        __tracebackhide__ = True
        return use_snapshot(self.registry, ref)

    def client(self, name: str) -> Any:
        __tracebackhide__ = True
        return use_component(self.registry, name)

    def section(self, name: str) -> Any:
        __tracebackhide__ = True
        return _outcome_of(self.registry.section, name)


@pytest.fixture(scope="session")
def _deployverify_components(
    request: pytest.FixtureRequest, profile: Profile
) -> Iterator[ComponentRegistry]:
    registry = component_registry(request.config, profile)
    yield registry
    registry.close()
    if request.config.stash.get(COMPONENT_REGISTRY, None) is registry:
        del request.config.stash[COMPONENT_REGISTRY]


@pytest.fixture(scope="session")
def snapshot(_deployverify_components: ComponentRegistry) -> Snapshots:
    """``snapshot("component.read")``: a component's plain snapshot, read once per run."""
    return Snapshots(_deployverify_components)


@pytest.fixture(scope="session")
def kube(_deployverify_components: ComponentRegistry) -> Any:
    """Read-only Kubernetes reader (``KubeReader``): ``list``, ``get``, access reviews; cached."""
    return use_component(_deployverify_components, "kubernetes")


@pytest.fixture(scope="session")
def redis_client(_deployverify_components: ComponentRegistry) -> Any:
    """``redis.Redis`` for the profile's Redis (timeouts bounded, no retries)."""
    return use_component(_deployverify_components, "redis")


@pytest.fixture(scope="session")
def prom_api(_deployverify_components: ComponentRegistry) -> Any:
    """``PromApi``: queries, range queries, targets, rules, alerts as plain data."""
    return use_component(_deployverify_components, "prometheus")


@pytest.fixture(scope="session")
def prometheus(prom_api: Any) -> Any:
    """``prometheus_api_client.PrometheusConnect`` for the same server (retries off)."""
    return prom_api.connect


@pytest.fixture(scope="session")
def alertmanager(_deployverify_components: ComponentRegistry) -> Any:
    """``AlertmanagerApi``: readiness, status, receivers, alerts."""
    return use_component(_deployverify_components, "alertmanager")


@pytest.fixture(scope="session")
def http_client(_deployverify_components: ComponentRegistry) -> Any:
    """``httpx.Client`` on the profile's base URL (CA, headers, timeout; no redirects followed)."""
    return use_component(_deployverify_components, "http")


@pytest.fixture(scope="session")
def postgres(_deployverify_components: ComponentRegistry) -> Any:
    """Read-only ``psycopg.Connection`` (autocommit, statement_timeout)."""
    return use_component(_deployverify_components, "postgres")
