"""The shipped checklist: test items a few lines each, collected by the plugin when an environment
is selected, plus the helpers a team's own checks use the same way.

``item(SPEC)`` ties a test to a declared check (``checks.declarations.CheckSpec``), so the title,
section and severity are written once, in the declaration; ``conclude(findings)`` passes or fails
with one line per finding::

    from pytest_deployverify.checklist import conclude, item

    @item(MY_CHECK)
    def test_my_check(snapshot, evidence):
        conclude(my_findings(snapshot("mycomponent.status")))

Neither imports pytest: a plugin module holding a component and its items can be loaded by the
``deployverify`` command without pulling pytest in. The plugin turns the declaration into the
section, ``check`` and ``destructive`` markers when it collects the item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_deployverify.checks.declarations import SPEC_ATTRIBUTE, CheckSpec
from pytest_deployverify.checks.findings import Finding, summarize

if TYPE_CHECKING:
    from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["Snapshots", "conclude", "item"]


def item(spec: CheckSpec) -> Callable[[F], F]:
    """Declare that a test is the checklist item ``spec`` describes."""

    def apply(function: F) -> F:
        setattr(function, SPEC_ATTRIBUTE, spec)
        return function

    return apply


def conclude(findings: Iterable[Finding]) -> None:
    """Pass when nothing was found; else fail with one line per finding, most severe first."""
    __tracebackhide__ = True  # the report points at the check and shows the findings
    found = list(findings)
    if found:
        raise AssertionError(summarize(found))


def __getattr__(name: str) -> Any:
    if name == "Snapshots":  # the type of the ``snapshot`` fixture, for annotations
        from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots

        return Snapshots
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
