"""End-to-end tests: the built wheel used as a new user would, and the CI recipes of docs/ci/."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "e2e: builds the wheel and installs it into a new virtualenv (minutes; deselect with "
        "-m 'not e2e')",
    )
