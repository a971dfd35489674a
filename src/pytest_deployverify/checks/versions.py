"""Release versions compared the way people write them: ``v1.4.2`` is ``1.4.2``, and build metadata
(``1.4.2+build.7``) does not make a different release. Pre-release tags do (``1.4.2-rc.1``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VersionComparison:
    """Two versions as written, as compared, and whether they name the same release."""

    expected: str
    observed: str
    expected_normalized: str
    observed_normalized: str

    @property
    def same(self) -> bool:
        return self.expected_normalized == self.observed_normalized

    def describe(self) -> str:
        """What was compared, for evidence and messages."""
        shown = f"{self.observed!r} against expected {self.expected!r}"
        if (self.observed_normalized, self.expected_normalized) != (self.observed, self.expected):
            shown += f" (compared as {self.observed_normalized} and {self.expected_normalized})"
        return shown


def normalize_version(text: str) -> str:
    """Drop surrounding space, one leading ``v``/``V`` before a digit, and ``+build`` metadata."""
    value = text.strip()
    if len(value) > 1 and value[0] in "vV" and value[1].isdigit():
        value = value[1:]
    return value.split("+", 1)[0]


def compare_versions(expected: str, observed: str) -> VersionComparison:
    return VersionComparison(
        expected=expected,
        observed=observed,
        expected_normalized=normalize_version(expected),
        observed_normalized=normalize_version(observed),
    )


def same_version(expected: str, observed: str) -> bool:
    return compare_versions(expected, observed).same
