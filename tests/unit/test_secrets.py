from __future__ import annotations

import json
import pickle

import pytest

from pytest_deployverify.components.catalog import profile_from_dict
from pytest_deployverify.profile.schema import SchemaError
from pytest_deployverify.profile.secrets import Endpoint, Redactor, Secret, mask_url


def test_secret_never_prints() -> None:
    s = Secret("tok-123456")
    assert repr(s) == "Secret('***')"
    assert str(s) == "***"
    assert f"{s}" == "***"
    assert f"{s:>10}" == "***"
    assert "{}".format(s) == "***"  # noqa: UP032 - str.format is a path of its own
    assert s.get() == "tok-123456"


def test_profile_dump_and_repr_mask() -> None:
    profile = profile_from_dict(
        {
            "name": "p",
            "prometheus": {
                "url": "https://u:pw-98765@h.example/x?token=abcdef-4321",
                "bearer_token": "tok-123456",
            },
        }
    )
    dumped = json.dumps(profile.to_dict())
    for raw in ("tok-123456", "pw-98765", "abcdef"):  # the token is longer: abcdef-4321
        assert raw not in dumped
        assert raw not in repr(profile)
        assert raw not in f"{profile}"
    assert profile.to_dict()["prometheus"]["url"] == "https://u:***@h.example/x?token=***"
    assert profile.to_dict()["prometheus"]["bearer_token"] == "***"


def test_secret_validation_rejects_non_strings() -> None:
    with pytest.raises(SchemaError, match=r"redis\.password: expected a string, got an integer"):
        profile_from_dict({"name": "p", "redis": {"url": "redis://h", "password": 12}})


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:p%40ss-word@h:6379/0", "redis://:***@h:6379/0"),
        (
            "postgresql://app:pw-1234@db:5432/x?sslmode=require",
            "postgresql://app:***@db:5432/x?sslmode=require",
        ),
        ("https://h/x?api_key=zzz999&a=1", "https://h/x?api_key=***&a=1"),
        ("https://h/path", "https://h/path"),
        ("https://u:pw@[::1]:8443/", "https://u:***@[::1]:8443/"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_endpoint_registers_decoded_password() -> None:
    r = Redactor()
    r.add_secret(Endpoint("redis://:p%40ss-word@h:6379/0"))
    assert r.redact("auth p@ss-word and p%40ss-word") == "auth *** and ***"


def test_redactor_longest_first_and_short_values_ignored() -> None:
    r = Redactor(["abcd", "abcdefgh", "ab"])
    assert r.redact("xabcdefghx abcd ab") == "x***x *** ab"
    assert r.redact_data({"k": ["abcd", 1, {"abcd": "ok"}]}) == {"k": ["***", 1, {"***": "ok"}]}


def test_empty_redactor_is_identity() -> None:
    r = Redactor()
    assert not r
    assert r.redact("anything") == "anything"


def test_secret_equality_and_pickle_roundtrip() -> None:
    assert Secret("a-value") == Secret("a-value")
    assert Secret("a-value") != "a-value"
    assert pickle.loads(pickle.dumps(Secret("a-value"))).get() == "a-value"
