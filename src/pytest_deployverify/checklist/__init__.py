"""The shipped checklist: test items a few lines each, collected by the plugin when an environment
is selected, plus the helpers a team's own checks use the same way.

``item(SPEC)`` turns a declared check (``checks.declarations.CheckSpec``) into the markers pytest
needs, so the title, section and severity are written once, in the declaration::

    from pytest_deployverify.checklist import item

    @item(MY_CHECK)
    def test_my_check(snapshot, evidence): ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from pytest_deployverify.checks.declarations import CheckSpec
from pytest_deployverify.pytest_plugin.markers import SPEC_ATTRIBUTE

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["item"]


def item(spec: CheckSpec) -> Callable[[F], F]:
    """Mark a test as the checklist item ``spec`` declares (section, id, destructive)."""

    def apply(function: F) -> F:
        marked = getattr(pytest.mark, spec.section.value)(function)
        marked = pytest.mark.check(spec.id)(marked)
        if spec.destructive:
            marked = pytest.mark.destructive(marked)
        setattr(function, SPEC_ATTRIBUTE, spec)
        return marked  # type: ignore[no-any-return]

    return apply
