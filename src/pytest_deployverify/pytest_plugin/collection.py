"""Collect the shipped checklist wherever pytest runs, next to the team's own test files.

With an environment selected, the checklist modules of every registered component (the built-in
ones and those of plugins, ``Component.checklist``) are collected as if they were given on the
command line. Their node ids start with ``deployverify/`` whatever the rootdir, so waivers, JUnit
files and ``--deselect`` name them the same on every machine. ``--checklist`` (also
``DEPLOYVERIFY_CHECKLIST``, ini ``deployverify_checklist``) turns it off (``none``) or picks sections
(``smoke,security``); the team's own tests are never affected by it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_deployverify.components.base import Component
from pytest_deployverify.profile.model import SECTIONS

NODE_PREFIX = "deployverify"
ALL, NONE = "all", "none"


@dataclass(frozen=True)
class ChecklistChoice:
    """What of the shipped checklist a run collects: nothing, everything, or some sections."""

    enabled: bool
    sections: tuple[str, ...] = SECTIONS

    @property
    def whole(self) -> bool:
        return self.enabled and set(self.sections) == set(SECTIONS)

    def describe(self) -> str:
        if not self.enabled:
            return "off"
        return "all sections" if self.whole else "sections " + ", ".join(self.sections)


def parse_checklist_choice(text: str) -> ChecklistChoice:
    """``all``, ``none``, or a comma-separated list of sections; ValueError names the fix."""
    value = text.strip().lower()
    if value in ("", ALL):
        return ChecklistChoice(True)
    if value in (NONE, "off"):
        return ChecklistChoice(False)
    parts = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in parts if p not in SECTIONS]
    if unknown:
        raise ValueError(
            f"unknown section {unknown[0]!r}; write all, none, or sections from "
            f"{', '.join(SECTIONS)} separated by commas (e.g. smoke,security)"
        )
    return ChecklistChoice(True, tuple(dict.fromkeys(parts)))


def checklist_modules(components: Iterable[Component]) -> list[str]:
    """The dotted names of the checklist modules the components declare, each once, in order."""
    return list(dict.fromkeys(name for c in components for name in c.checklist))


def module_file(name: str) -> Path | None:
    """Where checklist module ``name`` lives; None when it cannot be found."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin)


class MissingChecklistModule(pytest.Collector):
    """A checklist module a component declares that cannot be found (a partial install, a
    plugin's file removed). Its checks can never run, so it fails collection as a test file
    that fails to import does: the sign-off names it and the verdict is NO-GO."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        raise self.CollectError(
            f"checklist module {self.name} cannot be found: a component declares it, but it is "
            "not installed; reinstall the package that provides the component"
        )


def _node_id(name: str) -> str:
    """``pytest_deployverify.checklist.test_redis`` -> ``deployverify/checklist/test_redis.py``;
    a plugin's ``acme.checks`` -> ``deployverify/acme/checks.py``."""
    parts = name.split(".")
    if parts[0] == "pytest_deployverify":
        parts = parts[1:]
    return "/".join([NODE_PREFIX, *parts]) + ".py"


def collect_checklist(
    session: pytest.Session, modules: Sequence[str], choice: ChecklistChoice
) -> list[pytest.Item]:
    """The items of the checklist modules, restricted to the chosen sections."""
    if not choice.enabled:
        return []
    items: list[pytest.Item] = []
    for name in modules:
        path = module_file(name)
        module: pytest.Collector
        if path is None:
            module = MissingChecklistModule.from_parent(session, name=name, nodeid=_node_id(name))
        else:
            module = pytest.Module.from_parent(session, path=path, nodeid=_node_id(name))
        for item in session.genitems(module):
            if choice.whole or _in_sections(item, choice.sections):
                items.append(item)
    return items


def _in_sections(item: pytest.Item, sections: Sequence[str]) -> bool:
    return any(item.get_closest_marker(section) is not None for section in sections)
