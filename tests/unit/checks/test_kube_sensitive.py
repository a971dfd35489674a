"""Secrets recognised by name and by value, with a name pattern that no longer catches ``a_key``."""

from __future__ import annotations

import pytest

from pytest_deployverify.checks.kube.config import (
    configmap_sensitive_findings,
    sensitive_env_findings,
)
from pytest_deployverify.checks.kube.sensitive import (
    looks_random,
    secret_name,
    value_format,
    why_secret,
)

from .test_kube_builders import configmap, deployment, ids

RANDOM = "q8Zr7mK2pX9vL4nB6tY1wE3sD5fG0hJk"  # 32 characters, generated
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1x\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    "name",
    [
        "REDIS_PASSWORD",
        "JWT_SECRET",
        "API_TOKEN",
        "apiKey",
        "STRIPE_API_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "DATABASE_DSN",
        "DB_PASS",
        "oauthClientCredentials",
        "PRIVATE_KEY",
    ],
)
def test_names_that_always_mean_a_secret(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "a_key",
        "CACHE_KEY_PREFIX",
        "PARTITION_KEY",
        "TOKEN_URL",
        "JWT_SECRET_FILE",
        "PASSWORD_MIN_LENGTH",
        "AWS_ACCESS_KEY_ID",
        "SECRET_NAME",
        "AUTH_SERVICE_URL",
        "KEYSPACE",
        "MONKEY_PATCH",
        "NODE_ENV",
    ],
)
def test_names_that_are_about_a_secret_or_not_one(name: str) -> None:
    assert not secret_name(name)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (PRIVATE_KEY, "a PEM private key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl", "a PEM private key"),
        ("AKIA" + "Q7ZL3NXW5RT2VB6M", "an AWS access key id"),
        ("ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "a GitHub token"),
        ("glpat-" + "x1Y2z3A4b5C6d7E8f9G0", "a GitLab token"),
        ("xoxb-" + "123456789012-abcdefABCDEF", "a Slack token"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "a Stripe live key"),
        ("AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "a Google API key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJlX2hlcmU", "a JWT"),
        ("postgres://app:hunter2@db.internal:5432/app", "a URL with a password"),
        ("Bearer abcdefghijklmnop0123456789", "a bearer token"),
    ],
)
def test_values_recognisable_by_their_format(value: str, label: str) -> None:
    assert value_format(value) == label


@pytest.mark.parametrize(
    "value",
    [
        "production",
        "https://app.example.com",
        "redis://redis.internal:6379/0",
        "postgres://app@db.internal:5432/app?sslmode=verify-full",
        "3a31284048350d5393c5d6f375e50b3c",  # a config checksum is only key-like by name
        "gw:",
        "info",
    ],
)
def test_ordinary_values_are_not_secrets(value: str) -> None:
    assert value_format(value) is None


def test_random_values_count_only_under_key_like_names() -> None:
    assert looks_random(RANDOM)
    assert not looks_random("this-is-a-long-but-ordinary-value")
    assert not looks_random("https://example.com/a/very/long/path/0123")
    assert why_secret("a_key", RANDOM) == "a random-looking value under a key-like name"
    assert why_secret("a_key", "gw:") is None
    assert why_secret("REQUEST_ID_FORMAT", RANDOM) is None
    assert why_secret("UPSTREAM", PRIVATE_KEY) == "its value is a PEM private key"
    assert why_secret("REDIS_PASSWORD") == "its name"


def _env(dep: dict[str, object], name: str, value: str) -> None:
    container = dep["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    container["env"].append({"name": name, "value": value})


def test_literal_env_values_are_judged_by_value_and_never_shown() -> None:
    dep = deployment()
    _env(dep, "UPSTREAM_BUNDLE", PRIVATE_KEY)
    _env(dep, "a_key", RANDOM)
    _env(dep, "CACHE_KEY_PREFIX", "gw:")
    found = sensitive_env_findings(dep, configmaps=[configmap()])
    assert ids(found) == {"sensitive-container-env-var"}
    messages = "\n".join(f.message for f in found)
    assert "UPSTREAM_BUNDLE looks secret (its value is a PEM private key)" in messages
    assert "a_key looks secret (a random-looking value under a key-like name)" in messages
    assert "CACHE_KEY_PREFIX" not in messages
    assert "MIIEow" not in messages
    assert RANDOM not in messages


def test_configmap_values_are_judged_and_the_allow_list_wins() -> None:
    cm = configmap()
    cm["data"]["UPSTREAM_BUNDLE"] = PRIVATE_KEY
    cm["data"]["CACHE_KEY_PREFIX"] = "gw:"
    found = configmap_sensitive_findings(cm)
    assert ids(found) == {"sensitive-configmap-content"}
    assert "UPSTREAM_BUNDLE (its value is a PEM private key)" in found[0].message
    assert "CACHE_KEY_PREFIX" not in found[0].message
    assert "MIIEow" not in found[0].message
    assert configmap_sensitive_findings(cm, allow=["UPSTREAM_BUNDLE"]) == []


def test_binary_configmap_data_is_decoded_before_judging() -> None:
    import base64

    cm = configmap()
    cm["binaryData"] = {"tls.key": base64.b64encode(PRIVATE_KEY.encode()).decode()}
    found = configmap_sensitive_findings(cm)
    assert "tls.key (its value is a PEM private key)" in found[0].message
