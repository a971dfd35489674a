"""Per-run state kept in ``config.stash``: the selected environment, its profile and the redactor."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_deployverify.checks.declarations import Catalog
from pytest_deployverify.components.base import Component
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Redactor
from pytest_deployverify.profile.settings import Resolved
from pytest_deployverify.pytest_plugin.collection import ChecklistChoice


@dataclass
class RunContext:
    env: Resolved
    env_dir: Resolved
    profile: Profile | None
    profile_path: Path | None
    allow_destructive: bool
    redactor: Redactor
    variables: tuple[str, ...] = ()
    # Every registered component (built-in, entry points, hooks) and the checks they declare.
    components: list[Component] = field(default_factory=list)
    catalog: Catalog = field(default_factory=Catalog)
    checklist: ChecklistChoice = field(default_factory=lambda: ChecklistChoice(True))
    # Node ids of destructive checks skipped by the production guard.
    held_back: list[str] = field(default_factory=list)
    # On an xdist worker: whether the collection's metadata went out with a report yet.
    sent_collection: bool = False
    # Collected and deselected item counts of this process's collection (for the run's scope).
    selection: dict[str, int] = field(default_factory=lambda: {"collected": 0, "deselected": 0})

    @property
    def env_name(self) -> str | None:
        return self.profile.name if self.profile else None

    @property
    def protected(self) -> bool:
        return bool(self.profile and self.profile.protected)


RUN_CONTEXT = pytest.StashKey[RunContext]()


def get_context(config: pytest.Config) -> RunContext | None:
    return config.stash.get(RUN_CONTEXT, None)
