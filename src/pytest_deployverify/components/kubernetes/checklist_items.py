"""The items of the Kubernetes checklist as the runner sees them, and what each one found.

An ``Item`` is a view over the item's declaration (``checks.kube.items``: id, title, section,
severity) and its plan (the rules it owns, live only, per workload): nothing is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pytest_deployverify.checks.declarations import CheckSpec
from pytest_deployverify.checks.findings import Finding, Severity, summarize
from pytest_deployverify.checks.kube.exemptions import Exempted
from pytest_deployverify.checks.kube.items import CHECKS, PLANS, Plan
from pytest_deployverify.checks.kube.scan import Located
from pytest_deployverify.components.kubernetes import PREDEPLOY_SKIP

__all__ = ["ITEMS", "PREDEPLOY_SKIP", "ChecklistError", "Item", "ItemResult"]


@dataclass(frozen=True)
class Item:
    """One checklist item: its declaration and its plan."""

    spec: CheckSpec
    plan: Plan

    @property
    def item_id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def section(self) -> str:
        return self.spec.section.value

    @property
    def severity(self) -> Severity:
        return self.spec.severity

    @property
    def check_ids(self) -> frozenset[str]:
        """The finding ids (rules) this item reports."""
        return self.plan.rule_ids

    @property
    def live_only(self) -> bool:
        return self.plan.live_only

    @property
    def per_workload(self) -> bool:
        return self.plan.per_workload


ITEMS: Mapping[str, Item] = MappingProxyType({s.id: Item(s, PLANS[s.id]) for s in CHECKS})


@dataclass(frozen=True)
class ItemResult:
    """What one item found. ``passed`` only when nothing was found, skipped or broken."""

    item: Item
    findings: tuple[Finding, ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()
    skipped: str | None = None
    error: str | None = None
    # Where each finding points (the object it is about) and what was exempted, with the reason.
    located: tuple[Located, ...] = ()
    exempted: tuple[Exempted, ...] = ()
    # The workload judged, ``checks.kube.scan.OTHERS`` for every other object, None: once.
    scope: str | None = None

    @property
    def passed(self) -> bool:
        return not (self.findings or self.skipped or self.error)

    @property
    def message(self) -> str:
        """The assertion message: the read error, else one line per finding (object + fix)."""
        if self.error:
            return f"{self.item.item_id}: {self.error}"
        return summarize(self.findings)

    @property
    def check_ids(self) -> set[str]:
        return {f.check_id for f in self.findings}


class ChecklistError(Exception):
    """The item cannot be judged (a workload is missing, a manifest or release is unreadable)."""


class _Skip(Exception):
    pass


class _NotApplicable(_Skip):
    """The item cannot apply to this workload (a DaemonSet has no replicas to spread)."""


@dataclass
class _Record:
    findings: list[Finding] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    located: list[Located] = field(default_factory=list)
    exempted: list[Exempted] = field(default_factory=list)

    def observe(self, name: str, value: Any, **extra: Any) -> None:
        """One evidence entry; keyword names follow ``Evidence.record``."""
        self.evidence.append({"name": name, "value": value, **extra})
