"""A token obtained at run time is a secret like the profile's: once an item hands it to
``hide_tokens``, the run's redaction masks it in every report, even where a service echoed it
into a body a failure message quotes. Usernames are not secrets and are never masked.
"""

from __future__ import annotations

import pytest

from tests.http_checks.stack import to_toml

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzbW9rZSJ9.c2lnbmF0dXJlLXZhbHVl"

ITEM = f'''
from pytest_deployverify.checklist.http_fixtures import hide_tokens
from pytest_deployverify.checks.http.auth import TokenResult
from pytest_deployverify.checks.http.exchange import Exchange
from pytest_deployverify.profile.secrets import Secret

TOKEN = "{TOKEN}"


def test_echoed_token_is_masked(hide_tokens):
    result = TokenResult("login", Exchange("POST", "/login", 200), Secret(TOKEN))
    hide_tokens(result)
    echoed = "the service answered: " + TOKEN
    assert False, echoed


def test_unregistered_value_shows():
    assert False, "plain eyJnotatoken for user smoke"
'''


def test_hidden_tokens_are_masked_in_reports(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "environments"
    folder.mkdir()
    login = {"username": "smoke", "password": "pw-0123456789"}
    profile = {
        "name": "redaction",
        "http": {
            "base_url": "https://api.test",
            "expect": {"auth": {"login_path": "/login", "login": login}},
        },
    }
    (folder / "redaction.toml").write_text(to_toml(profile))
    pytester.makepyfile(test_items=ITEM)
    result = pytester.runpytest_subprocess(
        "--env", "redaction", "--env-dir", str(folder), "--checklist", "none",
        "-p", "no:cacheprovider", "test_items.py",
    )  # fmt: skip
    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    assert TOKEN not in output
    assert "the service answered: ***" in output
    assert "plain eyJnotatoken for user smoke" in output  # the login name is not masked
    assert "pw-0123456789" not in output
