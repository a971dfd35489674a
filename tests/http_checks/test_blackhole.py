"""A black-holed gateway costs one timeout: the whole HTTP checklist (TLS handshakes, latency,
load, burst and token probes included) goes through the component, whose connect probes the base
URL once; every item then fails at once with that same message. Proved by counting connection
attempts, not by timing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_deployverify.checks.http import catalog as hc
from tests.clients.blackhole import BlackHole
from tests.http_checks.stack import to_toml
from tests.http_checks.test_verify_suite import install_capture

SELECT = ("--checklist", "all", "-k", "test_http_security or test_http_smoke or test_services")
CAPTURE = """
import json, os

def pytest_runtest_logreport(report):
    data = getattr(report, "deployverify", None)
    if data is None or report.passed:
        return
    row = {"check_id": data["check_id"], "when": report.when, "outcome": report.outcome,
           "message": str(report.longrepr)}
    with open(os.environ["DV_CAPTURE"], "a") as fh:
        fh.write(json.dumps(row) + "\\n")
"""


@pytest.fixture
def blackhole() -> Iterator[BlackHole]:
    with BlackHole() as hole:
        yield hole


def profile_for(base_url: str) -> dict[str, Any]:
    """A profile that makes every HTTP item applicable (no downstream services)."""
    login = {"username": "smoke", "password": "pw-0123456789"}
    return {
        "name": "blackholed",
        "version": "1.4.2",
        "http": {
            "base_url": base_url,
            "timeout": 0.5,
            "expect": {
                "error_fields": ["error.code"],
                "protected_routes": ["GET /api/v1/me"],
                "auth": {
                    "login_path": "/login",
                    "login": login,
                    "token_url": "/oauth/token",
                    "client_id": "verifier",
                    "client_secret": "client-secret-0123456789",
                    "probe_paths": ["/api/v1/me"],
                },
                "tenants": {
                    "a": {"tenant": "acme", "login": login, "own_paths": ["/api/v1/me"]},
                    "b": {"tenant": "globex", "login": login, "resources": ["/api/v1/x"]},
                },
                "headers": {"edge_paths": ["/nginx-health"]},
                "rate_limit": {"probe_path": "/api/v1/venues", "burst": 5},
                "latency": {"requests": 5, "concurrency": 5},
                "load": {"users": 5, "requests": 10},
                "flows": [
                    {"name": "read", "path": "/api/v1/venues"},
                    {"name": "write", "path": "/api/v1/x", "method": "POST", "destructive": True},
                ],
            },
        },
    }


def test_a_black_holed_gateway_costs_one_connection_attempt(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    blackhole: BlackHole,
    record_property: Any,
) -> None:
    base_url = f"https://127.0.0.1:{blackhole.port}/"
    folder = pytester.path / "environments"
    folder.mkdir()
    (folder / "blackholed.toml").write_text(to_toml(profile_for(base_url)))
    capture = install_capture(pytester, monkeypatch, CAPTURE)
    result = pytester.runpytest_subprocess(
        "-p", "dv_capture", "-p", "no:cacheprovider", "--env", "blackholed",
        "--env-dir", str(folder), "-rfEs", *SELECT,
    )  # fmt: skip
    rows = [json.loads(line) for line in capture.read_text().splitlines()]
    record_property("duration_s", round(result.duration, 2))  # evidence, not asserted

    http_items = [item for item in hc.item_ids() if item != "SMOKE-GW-DOWNSTREAM"]
    failed = {row["check_id"]: row for row in rows if row["outcome"] == "failed"}
    assert set(failed) == set(http_items)  # every HTTP item, destructive ones included
    expected = f"http at {base_url} is unreachable: timed out after 0.5 s"
    messages = {row["message"] for row in failed.values()}
    assert len(messages) == 1, messages
    assert messages.pop().startswith(expected)
    assert {row["when"] for row in failed.values()} == {"setup"}  # could not be judged
    skipped = {row["check_id"] for row in rows if row["outcome"] == "skipped"}
    assert skipped == {"SMOKE-GW-DOWNSTREAM"}  # services not configured
    # One connection attempt for the whole run: no TLS handshake, latency, load, burst or
    # token probe dialled the gateway on its own.
    assert blackhole.accepted == 1
    result.assert_outcomes(errors=len(http_items), skipped=1)
