"""pytest-deployverify: a production deployment checklist as executable, evidence-backed tests."""

from __future__ import annotations

from .checks.findings import Finding, Severity
from .profile import Profile
from .secrets import Endpoint, Secret

__all__ = ["Endpoint", "Finding", "Profile", "Secret", "Severity"]
__version__ = "0.1.0.dev0"
