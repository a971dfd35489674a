"""Components: every kind of target the checklist verifies, declared once, built and read lazily.

``Component`` (``components.base``) is the contract; ``ComponentRegistry`` (``components.registry``)
builds clients and reads snapshots for one profile; ``components.catalog`` lists the built-in
components and those other packages register through entry points.
"""

from __future__ import annotations

from pytest_deployverify.components.base import Component, ReadContext, Reader, SectionSpec
from pytest_deployverify.components.errors import (
    ComponentError,
    ComponentUnavailable,
    NotConfigured,
    ReadError,
)
from pytest_deployverify.components.registry import ComponentRegistry

__all__ = [
    "Component",
    "ComponentError",
    "ComponentRegistry",
    "ComponentUnavailable",
    "NotConfigured",
    "ReadContext",
    "ReadError",
    "Reader",
    "SectionSpec",
]
