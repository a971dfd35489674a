"""A run of only the team's own checks imports just the components its profile configures; a run
with the shipped checklist, or a profile with a table no loaded component owns, loads them all."""

from __future__ import annotations

import textwrap

import pytest

from pytest_deployverify.components.catalog import (
    BUILTIN,
    PROFILE_KEYS,
    all_components,
    builtin_components,
)

pytest_plugins = ["pytester"]


def test_the_declared_tables_are_the_components_own() -> None:
    loaded = builtin_components()
    assert [tuple(spec.key for spec in c.sections) for c in loaded] == [t for _, t in BUILTIN]
    assert not PROFILE_KEYS & {key for _, tables in BUILTIN for key in tables}


@pytest.mark.parametrize(
    ("tables", "names"),
    [
        ((), set()),
        (("version", "redis"), {"redis"}),
        (("gates", "slo"), {"prometheus"}),
        (("http", "kubernetes", "waivers"), {"http", "kubernetes"}),
    ],
)
def test_only_the_configured_builtins_load(tables: tuple[str, ...], names: set[str]) -> None:
    loaded = {c.name for c in all_components(tables=tables)}
    # Components registered by entry point (DNS, and any installed plugin) always load.
    builtin = {c.name for c in builtin_components()}
    assert loaded & builtin == names


def test_an_unknown_table_loads_every_builtin_so_the_error_is_the_same() -> None:
    every = {c.name for c in all_components()}
    assert {c.name for c in all_components(tables=("redis", "rabbitmq"))} == every


CONFTEST = """
import sys

def pytest_sessionfinish(session):
    loaded = sorted(
        name.rsplit(".", 1)[-1]
        for name in sys.modules
        if name.startswith("pytest_deployverify.components.")
        and name.count(".") == 2
        and name.rsplit(".", 1)[-1] in ("kubernetes", "redis", "postgres", "http", "prometheus")
    )
    print("COMPONENT MODULES:", ",".join(loaded))
"""


@pytest.mark.parametrize(
    ("checklist", "expected"),
    [("none", "redis"), ("all", "http,kubernetes,postgres,prometheus,redis")],
)
def test_a_team_only_run_imports_only_what_the_profile_configures(
    pytester: pytest.Pytester, checklist: str, expected: str
) -> None:
    pytester.makefile(
        ".toml",
        **{
            "environments/lean": textwrap.dedent(
                """
                version = "1.0.0"
                [redis]
                url = "redis://127.0.0.1:9/0"
                """
            )
        },
    )
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_team="def test_ours():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess(
        "--env", "lean", "--env-dir", "environments", "--checklist", checklist, "-s",
        "-p", "no:cacheprovider", "test_team.py",
    )  # fmt: skip
    result.stdout.fnmatch_lines([f"*COMPONENT MODULES: {expected}"])
