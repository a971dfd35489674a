"""Which components exist: the built-in ones, and those other packages register.

A package registers a component with one entry point in the group ``pytest_deployverify.components``
whose value is a ``Component`` (or a callable returning several)::

    [project.entry-points."pytest_deployverify.components"]
    rabbitmq = "acme_verify.rabbitmq:component"

The built-in components are listed here by module and loaded the same way. A conftest or plugin can
also return components from the ``pytest_deployverify_components`` hook. ``profile_sections`` and
``check_catalog`` derive the profile's component tables and the declared checks from the list.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pytest_deployverify.checks.declarations import Catalog
from pytest_deployverify.components.base import Component
from pytest_deployverify.profile import loader
from pytest_deployverify.profile.loader import LoadedProfile
from pytest_deployverify.profile.model import Profile, SectionSpec

ENTRY_POINT_GROUP = "pytest_deployverify.components"
# The profile's own top-level keys (name, version, policy, waivers...): no component owns them.
PROFILE_KEYS = frozenset(field.name for field in dataclasses.fields(Profile))  # type: ignore[arg-type]

# module:attribute of each built-in component, in checklist order, with the profile tables it
# owns: a run of only the team's own checks imports just the components its profile configures
# (the test suite checks these tables against the components' sections).
BUILTIN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pytest_deployverify.components.kubernetes:component", ("kubernetes",)),
    ("pytest_deployverify.components.redis:component", ("redis",)),
    ("pytest_deployverify.components.postgres:component", ("postgres",)),
    ("pytest_deployverify.components.prometheus:component", ("prometheus", "gates")),
    ("pytest_deployverify.components.alertmanager:component", ("alertmanager",)),
    ("pytest_deployverify.components.grafana:component", ("grafana",)),
    ("pytest_deployverify.components.tracing:component", ("tracing",)),
    ("pytest_deployverify.components.logs:component", ("logs",)),
    ("pytest_deployverify.components.http:component", ("http",)),
    ("pytest_deployverify.components.services:component", ("services",)),
)


class ComponentLoadError(Exception):
    """A registered component could not be loaded; the message names the entry point and why."""


def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value


def _as_components(value: Any, where: str) -> list[Component]:
    if callable(value) and not isinstance(value, Component):
        value = value()
    items = [value] if isinstance(value, Component) else list(value)
    for item in items:
        if not isinstance(item, Component):
            raise ComponentLoadError(
                f"{where} gave {type(item).__name__}, not a pytest_deployverify Component"
            )
    return items


def builtin_components(tables: Collection[str] | None = None) -> list[Component]:
    """The built-in components; with ``tables``, only those owning one of these profile tables."""
    found: list[Component] = []
    for target, owned in BUILTIN:
        if tables is not None and not set(owned) & set(tables):
            continue
        try:
            value = _resolve(target)
        except Exception as exc:  # a broken install: one line naming the module, not a traceback
            raise ComponentLoadError(
                f"built-in component {target} failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        found += _as_components(value, target)
    return found


def builtin_named(name: str) -> Component | None:
    """The built-in component called ``name``, imported now (a run that loaded only the
    configured ones meets a team's test asking for another), or None."""
    for target, _ in BUILTIN:
        module = target.partition(":")[0]
        if module.rsplit(".", 1)[-1] == name:
            for component in _as_components(_resolve(target), target):
                if component.name == name:
                    return component
    return None


def entry_point_components() -> list[Component]:
    """Components other installed packages register, in entry-point name order."""
    found: list[Component] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        where = f"entry point {ep.name!r} ({ep.value}) in group {ENTRY_POINT_GROUP}"
        try:
            value = ep.load()
        except Exception as exc:
            raise ComponentLoadError(
                f"{where} failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        found += _as_components(value, where)
    return found


def all_components(
    extra: Iterable[Component] = (), *, tables: Collection[str] | None = None
) -> list[Component]:
    """Built-ins, then entry points, then ``extra`` (from hooks); a name may be registered once.

    ``tables`` (a profile's top-level keys) limits the built-ins to those the profile configures;
    a table no loaded component owns brings in every built-in, so an unknown table is reported
    exactly as in a full load."""
    others = [*entry_point_components(), *extra]
    builtins = builtin_components(tables)
    if tables is not None:
        owned = {spec.key for c in [*builtins, *others] for spec in c.sections}
        if set(tables) - owned - PROFILE_KEYS:
            builtins = builtin_components()
    result: dict[str, Component] = {}
    for component in [*builtins, *others]:
        known = result.get(component.name)
        if known is not None and known is not component:
            raise ComponentLoadError(f"two components are named {component.name!r}")
        result[component.name] = component
    _check_sections(result.values())
    return list(result.values())


def _check_sections(components: Iterable[Component]) -> None:
    owner: dict[str, str] = {}
    for component in components:
        for spec in component.sections:
            if spec.key in owner and owner[spec.key] != component.name:
                raise ComponentLoadError(
                    f"profile table [{spec.key}] is claimed by components {owner[spec.key]!r} "
                    f"and {component.name!r}"
                )
            owner[spec.key] = component.name


def profile_sections(components: Sequence[Component]) -> list[SectionSpec]:
    return [spec for component in components for spec in component.sections]


def check_catalog(components: Sequence[Component]) -> Catalog:
    """Every check the components declare, and the checklist's own that span several of them
    (rollback verification: Kubernetes, the HTTP version endpoint and Prometheus)."""
    from pytest_deployverify.checks.rollback_checks import CHECKS as ROLLBACK_CHECKS

    own = (spec for component in components for spec in component.checks)
    return Catalog([*own, *ROLLBACK_CHECKS])


def profile_from_dict(data: Mapping[str, Any], extra: Iterable[Component] = ()) -> Profile:
    """``Profile.from_dict`` with every registered component's tables (for scripts and tests)."""
    return Profile.from_dict(data, profile_sections(all_components(extra)))


def load_profile(
    name: str,
    folder: Path,
    environ: Mapping[str, str],
    *,
    display_root: Path | None = None,
    extra: Iterable[Component] = (),
) -> LoadedProfile:
    """``profile.loader.load_profile`` with every registered component's tables."""
    return loader.load_profile(
        name,
        folder,
        environ,
        display_root=display_root,
        sections=profile_sections(all_components(extra)),
    )
