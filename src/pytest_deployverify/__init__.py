"""pytest-deployverify: a production deployment checklist as executable, evidence-backed tests.

The public API for extensions, importable without pytest or any client library (names are
loaded on first use, so ``import pytest_deployverify`` stays cheap)::

    from pytest_deployverify import Component, SectionSpec, declare, Rule, Finding

``item(SPEC)`` and ``conclude(findings)`` write checklist items; the ``snapshot`` fixture's type
is ``pytest_deployverify.checklist.Snapshots``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

# name -> module that defines it
_PUBLIC = {
    "Component": "pytest_deployverify.components.base",
    "ReadContext": "pytest_deployverify.components.base",
    "SectionSpec": "pytest_deployverify.profile.model",
    "ComponentUnavailable": "pytest_deployverify.components.errors",
    "ReadError": "pytest_deployverify.components.errors",
    "CheckSpec": "pytest_deployverify.checks.declarations",
    "declare": "pytest_deployverify.checks.declarations",
    "needs": "pytest_deployverify.checks.declarations",
    "needs_any": "pytest_deployverify.checks.declarations",
    "flag": "pytest_deployverify.checks.declarations",
    "Finding": "pytest_deployverify.checks.findings",
    "NotApplicable": "pytest_deployverify.checks.findings",
    "Rule": "pytest_deployverify.checks.findings",
    "Severity": "pytest_deployverify.profile.model",
    "Section": "pytest_deployverify.profile.model",
    "Profile": "pytest_deployverify.profile.model",
    "Secret": "pytest_deployverify.profile.secrets",
    "Endpoint": "pytest_deployverify.profile.secrets",
    "Evidence": "pytest_deployverify.evidence",
    "NotConfigured": "pytest_deployverify.components.errors",
    "item": "pytest_deployverify.checklist",
    "conclude": "pytest_deployverify.checklist",
    "Seconds": "pytest_deployverify.profile.fields",
    "Count": "pytest_deployverify.profile.fields",
    "HttpUrl": "pytest_deployverify.profile.fields",
    "Range": "pytest_deployverify.profile.schema",
}

__all__ = [
    "CheckSpec",
    "Component",
    "ComponentUnavailable",
    "Count",
    "Endpoint",
    "Evidence",
    "Finding",
    "HttpUrl",
    "NotApplicable",
    "NotConfigured",
    "Profile",
    "Range",
    "ReadContext",
    "ReadError",
    "Rule",
    "Seconds",
    "Secret",
    "Section",
    "SectionSpec",
    "Severity",
    "__version__",
    "conclude",
    "declare",
    "flag",
    "item",
    "needs",
    "needs_any",
]

if TYPE_CHECKING:
    from pytest_deployverify.checklist import conclude, item
    from pytest_deployverify.checks.declarations import CheckSpec, declare, flag, needs, needs_any
    from pytest_deployverify.checks.findings import Finding, NotApplicable, Rule
    from pytest_deployverify.components.base import Component, ReadContext
    from pytest_deployverify.components.errors import ComponentUnavailable, NotConfigured, ReadError
    from pytest_deployverify.evidence import Evidence
    from pytest_deployverify.profile.fields import Count, HttpUrl, Seconds
    from pytest_deployverify.profile.model import Profile, Section, SectionSpec, Severity
    from pytest_deployverify.profile.schema import Range
    from pytest_deployverify.profile.secrets import Endpoint, Secret


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_deployverify' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
