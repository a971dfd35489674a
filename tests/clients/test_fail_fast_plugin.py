"""The fixtures in a real pytest run: a black-holed Redis costs one connection attempt per process,
not one per check; an unconfigured component is a loud skip."""

from __future__ import annotations

import pytest

from tests.clients.blackhole import BlackHole
from tests.clients.servers import blackhole

__all__ = ["blackhole"]

SECRET = "bh-redis-secret-value"

CHECKS = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_uses_redis(redis_client, n):
    assert redis_client.ping()

def test_uses_postgres(postgres):
    postgres.execute("SELECT 1")
"""

# Fixtures are loaded with -p so this works whether or not plugin.py re-exports them.
LOAD = ("-p", "pytest_deployverify.pytest_plugin.component_fixtures")


@pytest.fixture
def project(pytester: pytest.Pytester, blackhole: BlackHole) -> pytest.Pytester:
    envs = pytester.mkdir("envs")
    (envs / "bh.toml").write_text(
        f'[redis]\nurl = "redis://127.0.0.1:{blackhole.port}/0"\n'
        f'password = "{SECRET}"\ntimeout = 1.0\n'
    )
    return pytester


def test_five_checks_on_a_black_holed_redis_cost_one_attempt(
    project: pytest.Pytester, blackhole: BlackHole
) -> None:
    project.makepyfile(test_checks=CHECKS.format(count=5))
    result = project.runpytest_subprocess("--env", "bh", "--env-dir", "envs", *LOAD, "-rA")
    result.assert_outcomes(errors=5, skipped=1)
    message = (
        f"redis at redis://127.0.0.1:{blackhole.port}/0 is unreachable: timed out after 1 s (read)"
    )
    output = result.stdout.str()
    for n in range(5):
        # Each error section holds exactly the one message: no traceback, no chained errors.
        result.stdout.fnmatch_lines(
            [f"*ERROR at setup of test_uses_redis[[]{n}[]]*", message, "[_=]*"], consecutive=True
        )
    assert "During handling" not in output
    result.stdout.fnmatch_lines(
        ["SKIPPED*postgres is not configured for environment bh*"], consecutive=False
    )
    assert SECRET not in output
    assert blackhole.accepted == 1


def test_under_xdist_each_worker_pays_at_most_once(
    project: pytest.Pytester, blackhole: BlackHole
) -> None:
    pytest.importorskip("xdist")
    project.makepyfile(test_checks=CHECKS.format(count=6))
    result = project.runpytest_subprocess(
        "--env", "bh", "--env-dir", "envs", *LOAD, "-n", "2", "-p", "no:randomly"
    )
    result.assert_outcomes(errors=6, skipped=1)
    assert 1 <= blackhole.accepted <= 2
