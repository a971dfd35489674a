"""The result type every check function returns: what is wrong, where, and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much a failed check weighs on the go/no-go decision."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def blocking(self) -> bool:
        return self in (Severity.CRITICAL, Severity.HIGH)

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r}; choose one of: {choices}") from None


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


def summarize(findings: Iterable[Finding]) -> str:
    """A multi-line message for an assertion: one finding per line, most severe first."""
    order = {s: i for i, s in enumerate(Severity)}
    ranked = sorted(findings, key=lambda f: (order[f.severity], f.check_id, f.subject))
    return "\n".join(str(f) for f in ranked)
