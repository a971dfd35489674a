"""Fixtures the HTTP checklist modules share: the ``[http]`` table, and registering the tokens the
gateway component obtained at run time with the run's redaction. Imported by name into each
module that uses them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_deployverify.checks.http.auth import TokenResult
from pytest_deployverify.components.http import HttpConfig
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots
from pytest_deployverify.pytest_plugin.context import get_context

HideTokens = Callable[..., None]


@pytest.fixture(scope="module")
def http_section(snapshot: Snapshots) -> HttpConfig:
    """The profile's ``[http]`` table (not applicable when there is none)."""
    section: HttpConfig = snapshot.section("http")
    return section


@pytest.fixture
def hide_tokens(request: pytest.FixtureRequest) -> HideTokens:
    """``hide_tokens(result, ...)``: a token obtained at run time (login, client credentials) is
    a secret like the profile's; registered with the run's redaction, it is masked in every
    report, even where a service echoed it into a body a message quotes."""
    context = get_context(request.config)

    def hide(*results: TokenResult | None) -> None:
        if context is None:
            return
        for result in results:
            if result is not None and result.token is not None:
                context.redactor.add_secret(result.token)

    return hide
