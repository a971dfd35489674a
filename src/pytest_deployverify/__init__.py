"""pytest-deployverify: a production deployment checklist as executable, evidence-backed tests."""

from __future__ import annotations

from pytest_deployverify.checks.findings import Finding, Severity
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Endpoint, Secret

__all__ = ["Endpoint", "Finding", "Profile", "Secret", "Severity"]
__version__ = "0.1.0.dev0"
