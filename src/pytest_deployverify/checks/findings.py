"""The result type every check function returns: what is wrong, where, and how to fix it.

Also the one pure marker of a check that does not apply to an environment (``NotApplicable``); the
pytest glue turns it into a skip of its own kind, which the sign-off does not count against GO.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pytest_deployverify.profile.model import Severity


@dataclass(frozen=True)
class Finding:
    """One problem found by a check.

    ``check_id`` is stable across releases (mirrors Polaris/kube-score names where they exist), ``subject``
    names the object (``Deployment api-gateway/api-gateway container gateway``), ``message`` says what was
    observed and what to do about it.
    """

    check_id: str
    severity: Severity
    subject: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check_id}] {self.subject}: {self.message}"


@dataclass(frozen=True)
class Rule:
    """A kind of finding a check reports: stable id, default severity, what it guards against.

    Calling it makes a ``Finding``: ``REDIS_AUTH(subject, message)`` (a finding may carry another
    severity when the same rule is broken more or less badly)."""

    id: str
    severity: Severity
    title: str = ""

    def __call__(self, subject: str, message: str, severity: Severity | None = None) -> Finding:
        return Finding(self.id, severity or self.severity, subject, message)


def summarize(findings: Iterable[Finding]) -> str:
    """A multi-line message for an assertion: one finding per line, most severe first."""
    order = {s: i for i, s in enumerate(Severity)}
    ranked = sorted(findings, key=lambda f: (order[f.severity], f.check_id, f.subject))
    return "\n".join(str(f) for f in ranked)


NOT_APPLICABLE_PREFIX = "not applicable: "


class NotApplicable(Exception):
    """Raised by a checklist helper when the check does not apply to the environment; says why."""


def split_not_applicable(reason: str | None) -> str | None:
    """The reason without its prefix when a skip reason marks the check not applicable, else None."""
    if reason and reason.startswith(NOT_APPLICABLE_PREFIX):
        return reason[len(NOT_APPLICABLE_PREFIX) :]
    return None


__all__ = [
    "NOT_APPLICABLE_PREFIX",
    "Finding",
    "NotApplicable",
    "Rule",
    "Severity",
    "split_not_applicable",
    "summarize",
]
