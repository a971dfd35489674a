"""Release versions compared as people write them."""

from __future__ import annotations

import pytest

from pytest_deployverify.checks.versions import compare_versions, normalize_version, same_version


@pytest.mark.parametrize(
    ("expected", "observed"),
    [("1.4.2", "1.4.2"), ("1.4.2", "v1.4.2"), ("v1.4.2", "1.4.2"), ("1.4.2", "1.4.2+build.7")],
)
def test_the_same_release_written_differently(expected: str, observed: str) -> None:
    assert same_version(expected, observed)


@pytest.mark.parametrize(
    ("expected", "observed"),
    [("1.4.2", "1.4.3"), ("1.4.2", "1.4.2-rc.1"), ("1.4.2", "version1.4.2"), ("1.4", "1.4.2")],
)
def test_different_releases(expected: str, observed: str) -> None:
    assert not same_version(expected, observed)


def test_the_comparison_says_what_was_compared() -> None:
    comparison = compare_versions("1.4.2", "v1.4.2+b7")
    assert comparison.same
    assert (
        comparison.describe()
        == "'v1.4.2+b7' against expected '1.4.2' (compared as 1.4.2 and 1.4.2)"
    )
    assert compare_versions("1.4.2", "1.4.2").describe() == "'1.4.2' against expected '1.4.2'"
    assert normalize_version(" v2 ") == "2"
