"""An HTTP service whose only credential is an OAuth 2.0 client-credentials grant (no login), judged
by the shipped checklist's auth items in a real pytest run: the token is fetched from the token
endpoint for the authenticated probes, and the anonymous probes go without it. A healthy gateway
passes; one that answers a protected route without a token fails, naming the route.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.certs import CertFiles
from sandbox.gateway.downstream import DownstreamProcess
from tests.http_checks.stack import (
    GatewayStack,
    StackSpec,
    certs,
    services,
    start_stacks,
    to_toml,
)
from tests.http_checks.test_verify_suite import JWT, install_capture

__all__ = ["certs", "services"]  # fixtures used here, imported from stack.py

# The checklist's auth items (test_http_security.py), nothing else.
AUTH_ITEMS = (
    "test_protected_routes_require_a_token or test_forged_tokens_are_rejected or "
    "test_wrong_credentials_are_refused or test_token_flow"
)
JUDGED = {
    "SEC-GW-AUTH-REQUIRED",
    "SEC-GW-CREDENTIAL",
    "SEC-GW-TOKEN-FLOW[client-credentials]",
    *(
        f"SEC-GW-JWT[{variant}]"
        for variant in ("tampered", "alg-none", "expired", "wrong-aud", "wrong-iss")
    ),
}


@pytest.fixture(scope="module")
def stacks(
    tmp_path_factory: pytest.TempPathFactory, certs: CertFiles, services: DownstreamProcess
) -> Iterator[dict[str, GatewayStack]]:
    specs = [
        StackSpec("oauth_healthy"),
        StackSpec("oauth_open", defects=frozenset({"unauthenticated_route"})),
    ]
    started = start_stacks(tmp_path_factory.mktemp("oauth"), specs, certs, services)
    yield started
    for stack in started.values():
        stack.stop()


def oauth_only_profile(stack: GatewayStack) -> dict[str, Any]:
    """The stack's profile with the OAuth client as the verifier's only credential: no login,
    no tenants (their logins are credentials too)."""
    data = stack.profile_data(
        auth={
            "token_url": "/oauth/token",
            "client_id": "${GW_CLIENT_ID}",
            "client_secret": "${GW_CLIENT_SECRET}",
            # Not a credential: the test key the expired / wrong-aud / wrong-iss forgeries sign with.
            "jwt_signing_key": "${GW_JWT_TEST_KEY}",
        }
    )
    expect = data["http"]["expect"]
    del expect["tenants"]
    for key in ("rate_limit", "flows"):  # not judged here; the flows include a login
        del expect[key]
    return data


def run_auth_items(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stack: GatewayStack
) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
    data = oauth_only_profile(stack)
    folder = pytester.mkdir("environments")
    (folder / f"{data['name']}.toml").write_text(to_toml(data), encoding="utf-8")
    for name, value in stack.secrets().items():
        if not name.startswith(("GW_ACME", "GW_GLOBEX")):  # no login in the environment either
            monkeypatch.setenv(name, value)
    capture = install_capture(pytester, monkeypatch)
    result = pytester.runpytest_subprocess(
        "-p",
        "dv_capture",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "--env",
        data["name"],
        "--env-dir",
        str(folder),
        "--checklist",
        "security",
        "-k",
        AUTH_ITEMS,
        "-rfEs",
        "--signoff",
        "s.json",
    )
    rows = [json.loads(line) for line in capture.read_text().splitlines()]
    return result, {row["check_id"]: row for row in rows}


def test_an_oauth_only_service_passes_the_auth_items(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stacks: dict[str, GatewayStack]
) -> None:
    stack = stacks["oauth_healthy"]
    result, rows = run_auth_items(pytester, monkeypatch, stack)
    outcomes = {check_id: row["outcome"] for check_id, row in rows.items()}
    assert {k for k, v in outcomes.items() if v == "passed"} == JUDGED, result.stdout.str()
    # The login flow is the one thing not applicable: there is none.
    assert outcomes["SEC-GW-TOKEN-FLOW[login]"] == "skipped"
    assert set(outcomes) == {*JUDGED, "SEC-GW-TOKEN-FLOW[login]"}
    assert result.ret == 0, result.stdout.str()
    signoff = json.loads((pytester.path / "s.json").read_text(encoding="utf-8"))
    by_id = {c["check_id"]: c for c in signoff["checks"]}
    assert "login" in str(by_id["SEC-GW-TOKEN-FLOW[login]"]["reason"])
    assert by_id["SEC-GW-TOKEN-FLOW[login]"]["outcome"] == "not-applicable"
    # The anonymous probes went without the token: every protected route refused them.
    [anonymous] = rows["SEC-GW-AUTH-REQUIRED"]["evidence"]
    assert anonymous["note"] == "sent without Authorization"
    assert "GET /api/v1/events" in [r["request"] for r in anonymous["value"]]
    assert {r["status"] for r in anonymous["value"]} == {401}
    # The authenticated probes fetched the token from the token endpoint and were let in.
    [flow] = rows["SEC-GW-TOKEN-FLOW[client-credentials]"]["evidence"]
    token, *opened = flow["value"]
    assert (token["request"], token["status"], token["token_received"]) == (
        "POST /oauth/token",
        200,
        True,
    )
    assert opened
    assert {r["status"] for r in opened} == {200}
    output = result.stdout.str() + json.dumps(rows) + json.dumps(signoff)
    for value in stack.secret_values():
        assert value not in output
    assert not JWT.search(output)


def test_an_oauth_only_service_open_without_a_token_fails_naming_the_route(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stacks: dict[str, GatewayStack]
) -> None:
    stack = stacks["oauth_open"]
    result, rows = run_auth_items(pytester, monkeypatch, stack)
    failed = {check_id for check_id, row in rows.items() if row["outcome"] == "failed"}
    assert failed == {"SEC-GW-AUTH-REQUIRED"}, result.stdout.str()
    message = rows["SEC-GW-AUTH-REQUIRED"]["message"]
    assert "/api/v1/events" in message
    assert "without a token" in message
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["FAILED *test_http_security.py::test_protected_routes_require_a_token*"]
    )
    output = result.stdout.str() + json.dumps(rows)
    for value in stack.secret_values():
        assert value not in output
