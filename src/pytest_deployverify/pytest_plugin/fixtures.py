"""Fixtures handed to checks: the profile, evidence, and (via components) ready clients."""

from __future__ import annotations

import pytest

from pytest_deployverify.evidence import Evidence
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.context import RunContext, get_context

ITEM_EVIDENCE = pytest.StashKey[Evidence]()

NO_ENV = "no environment selected: pass --env NAME (or set DEPLOYVERIFY_ENV)"


@pytest.fixture(scope="session")
def deployverify_context(request: pytest.FixtureRequest) -> RunContext:
    """The run's selected environment, profile, and redactor."""
    context = get_context(request.config)
    if context is None or context.profile is None:
        pytest.skip(NO_ENV)
    return context


@pytest.fixture(scope="session")
def profile(deployverify_context: RunContext) -> Profile:
    """The validated profile of the environment under verification."""
    assert deployverify_context.profile is not None
    return deployverify_context.profile


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    """Record what the check observed; it is attached to the test report and the sign-off."""
    recorder = Evidence()
    request.node.stash[ITEM_EVIDENCE] = recorder
    return recorder
