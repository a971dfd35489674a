"""Fixtures the gateway checklist modules share: the profile's [http] table and its expectations.
Imported by name into each module that uses them."""

from __future__ import annotations

import pytest

from pytest_deployverify.components.http import HttpConfig
from pytest_deployverify.expectations.gateway import HttpExpectations
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.applicability import not_applicable


@pytest.fixture(scope="module")
def http(profile: Profile) -> HttpConfig:
    section = profile.table("http", HttpConfig)
    if section is None:
        not_applicable(f"http is not configured for environment {profile.name}")
    return section


@pytest.fixture(scope="module")
def expect(http: HttpConfig) -> HttpExpectations:
    return http.expect
