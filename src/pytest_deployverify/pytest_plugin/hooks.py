"""Hook specifications pytest-deployverify adds (through ``pytest_addhooks``).

Implement them in a ``conftest.py`` or a plugin module to extend a run without patching the plugin:
register components for this run, or receive the finished sign-off to publish it (post it to a chat,
attach it to the change ticket, upload it as a build artifact).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_deployverify.components.base import Component
    from pytest_deployverify.signoff.model import Signoff


@pytest.hookspec
def pytest_deployverify_components(config: pytest.Config) -> list[Component] | None:
    """Return components to add to this run, beside the built-in ones and the entry points.

    Called once per process while the plugin configures itself (so implement it in a plugin or a
    conftest.py at the rootdir, which pytest loads before that). Each component's profile tables
    are validated and documented like the built-in ones.
    """


@pytest.hookspec
def pytest_deployverify_signoff(
    signoff: Signoff, documents: dict[str, Any], config: pytest.Config
) -> None:
    """The run's finished sign-off, on the controller only, after the files are written.

    ``signoff`` is the model (verdict, items, waivers, attestations); ``documents`` maps each
    written sign-off path to its rendered text, secrets already redacted. Publish them from
    here; an exception raised here is reported and turns a passing run's exit code into 1.
    """
