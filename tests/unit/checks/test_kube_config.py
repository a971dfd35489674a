"""Configuration: env resolution, expected values, secrets kept secret, references, secret length."""

from __future__ import annotations

import pytest

from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.checks.kube.config import (
    configmap_sensitive_findings,
    expected_env_findings,
    reference_findings,
    required_env_findings,
    secret_min_length,
    sensitive_env_findings,
)
from pytest_deployverify.checks.kube.env import container_env, main_container

from .test_kube_builders import (
    APP,
    JWT_VALUE,
    REDIS_PASSWORD_VALUE,
    Obj,
    b64,
    configmap,
    deployment,
    ids,
    secret,
    secrets,
)

REQUIRED = (
    "JWT_SECRET",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_PASSWORD",
    "CORS_ORIGIN",
    "NODE_ENV",
    "LOG_LEVEL",
    "RATE_LIMIT_MAX",
    "RATE_LIMIT_WINDOW_MS",
)
EXPECTED = {
    "NODE_ENV": "production",
    "LOG_LEVEL": "info",
    "CORS_ORIGIN": "https://app.tickettoken.com",
}
FORBIDDEN = {"CORS_ORIGIN": ["*"]}


def _main(dep: Obj) -> Obj:
    container: Obj = dep["spec"]["template"]["spec"]["containers"][0]
    return container


def _env(dep: Obj, name: str) -> Obj:
    entry: Obj = next(e for e in _main(dep)["env"] if e["name"] == name)
    return entry


def test_env_resolution_follows_kubelet_precedence() -> None:
    dep = deployment()
    cm2 = configmap()
    cm2["metadata"]["name"] = "overrides"
    cm2["data"] = {"REDIS_HOST": "redis-b", "LOG_LEVEL": "debug"}
    _main(dep)["envFrom"].append({"configMapRef": {"name": "overrides"}})
    _main(dep)["envFrom"].append({"configMapRef": {"name": "overrides"}, "prefix": "B_"})
    env = container_env(dep, _main(dep), configmaps=[configmap(), cm2], secrets=secrets())
    values = {n: v.value for n, v in env.variables.items()}
    assert values["REDIS_HOST"] == "redis-b"  # a later envFrom wins
    assert values["LOG_LEVEL"] == "info"  # env wins over every envFrom
    assert values["B_REDIS_HOST"] == "redis-b"
    assert env.variables["REDIS_PASSWORD"].from_secret
    assert env.variables["REDIS_PASSWORD"].value is None  # secrets are not resolved eagerly
    assert env.missing_sources == ()


def test_healthy_configuration_has_no_findings() -> None:
    dep, cms, secs = deployment(), [configmap()], secrets()
    found = required_env_findings(dep, REQUIRED, configmaps=cms, secrets=secs)
    found += expected_env_findings(dep, EXPECTED, forbidden=FORBIDDEN, configmaps=cms, secrets=secs)
    found += sensitive_env_findings(dep, configmaps=cms)
    found += reference_findings(dep, configmaps=cms, secrets=secs)
    found += configmap_sensitive_findings(configmap())
    found += secret_min_length(secret(), "JWT_SECRET", 32)
    assert found == [], summarize(found)


def test_required_variable_missing() -> None:
    cm = configmap()
    del cm["data"]["RATE_LIMIT_MAX"]
    found = required_env_findings(deployment(), REQUIRED, configmaps=[cm], secrets=secrets())
    assert ids(found) == {"env-var-missing"}
    assert len(found) == 1
    assert "RATE_LIMIT_MAX" in found[0].message
    assert found[0].subject == f"Deployment production/{APP} container gateway"


def test_required_variable_names_the_unfound_envfrom_source() -> None:
    found = required_env_findings(deployment(), ["REDIS_HOST"], configmaps=[], secrets=secrets())
    assert ids(found) == {"env-var-missing"}
    assert "ConfigMap gateway-config" in found[0].message


def test_required_env_on_a_missing_container_is_loud() -> None:
    found = required_env_findings(deployment(), ["X"], container="nope")
    assert ids(found) == {"env-var-missing"}
    assert "'nope'" in found[0].message


@pytest.mark.parametrize(
    ("where", "value", "check_id"),
    [
        ("literal", "development", "env-var-value"),
        ("configmap", "https://staging.tickettoken.com", "env-var-value"),
    ],
)
def test_unexpected_value(where: str, value: str, check_id: str) -> None:
    dep, cm = deployment(), configmap()
    if where == "literal":
        _env(dep, "NODE_ENV")["value"] = value
    else:
        cm["data"]["CORS_ORIGIN"] = value
    found = expected_env_findings(dep, EXPECTED, configmaps=[cm], secrets=secrets())
    assert ids(found) == {check_id}, summarize(found)
    assert value in found[0].message


def test_value_read_through_configmap_key_ref() -> None:
    dep, cm = deployment(), configmap()
    cm["data"]["LOG_FORMAT"] = "text"
    _main(dep)["env"].append(
        {
            "name": "LOG_FORMAT",
            "valueFrom": {"configMapKeyRef": {"name": "gateway-config", "key": "LOG_FORMAT"}},
        }
    )
    found = expected_env_findings(dep, {"LOG_FORMAT": "json"}, configmaps=[cm])
    assert ids(found) == {"env-var-value"}
    assert "configMapKeyRef gateway-config/LOG_FORMAT" in found[0].message


def test_unresolvable_expected_value_is_a_finding_not_a_pass() -> None:
    found = expected_env_findings(deployment(), {"CORS_ORIGIN": "https://x"}, configmaps=[])
    assert ids(found) == {"env-var-missing"}  # envFrom ConfigMap absent: the variable is unknown
    dep = deployment()
    _main(dep)["env"].append(
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    )
    found = expected_env_findings(dep, {"POD_IP": "10.0.0.1"}, configmaps=[configmap()])
    assert ids(found) == {"env-var-value"}
    assert "could not be resolved" in found[0].message


@pytest.mark.parametrize("cors", ["*", "https://app.tickettoken.com,*", " * "])
def test_forbidden_value(cors: str) -> None:
    cm = configmap()
    cm["data"]["CORS_ORIGIN"] = cors
    found = expected_env_findings(deployment(), {}, forbidden=FORBIDDEN, configmaps=[cm])
    assert ids(found) == {"env-var-forbidden-value"}
    assert "'*'" in found[0].message
    assert "CORS_ORIGIN" in found[0].message


def test_secret_values_are_compared_but_never_shown() -> None:
    found = expected_env_findings(
        deployment(), {"JWT_SECRET": "something-else"}, configmaps=[configmap()], secrets=secrets()
    )
    assert ids(found) == {"env-var-value"}
    assert JWT_VALUE not in found[0].message
    assert "something-else" not in found[0].message
    assert "not shown" in found[0].message
    same = expected_env_findings(
        deployment(), {"JWT_SECRET": JWT_VALUE}, configmaps=[configmap()], secrets=secrets()
    )
    assert same == []


def test_literal_secret_is_reported_without_its_value() -> None:
    dep = deployment()
    _env(dep, "JWT_SECRET").pop("valueFrom")
    _env(dep, "JWT_SECRET")["value"] = JWT_VALUE
    found = sensitive_env_findings(dep, configmaps=[configmap()])
    assert ids(found) == {"sensitive-container-env-var"}
    assert "JWT_SECRET" in found[0].message
    assert "secretKeyRef" in found[0].message
    assert JWT_VALUE not in str(found[0])


def test_secret_in_configmap_is_reported_without_its_value() -> None:
    cm = configmap()
    cm["data"]["REDIS_PASSWORD"] = REDIS_PASSWORD_VALUE
    dep = deployment()
    _main(dep)["envFrom"] = [{"configMapRef": {"name": "gateway-config"}}]
    found = sensitive_env_findings(dep, configmaps=[cm])
    found += configmap_sensitive_findings(cm)
    assert ids(found) == {"sensitive-configmap-content"}
    assert len(found) == 2
    assert all(REDIS_PASSWORD_VALUE not in str(f) for f in found)


def test_secret_name_pattern_allow_list() -> None:
    # Issue 12: a key-like name with a plain value is not a secret any more (``KEY`` alone was
    # so broad that ``a_key`` counted); a name that always means a secret still is, and the
    # allow list silences it.
    dep = deployment()
    _main(dep)["env"].append({"name": "CACHE_KEY_PREFIX", "value": "gw:"})
    assert sensitive_env_findings(dep) == []
    _main(dep)["env"].append({"name": "PASSWORD_POLICY", "value": "strong"})
    assert ids(sensitive_env_findings(dep)) == {"sensitive-container-env-var"}
    assert sensitive_env_findings(dep, allow=["PASSWORD_POLICY"]) == []


def _spec(dep: Obj) -> Obj:
    spec: Obj = dep["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize(
    ("remove", "check_id", "fragment"),
    [
        ("gateway-config", "configmap-missing", "gateway-config"),
        ("gateway-secrets", "secret-missing", "container gateway env JWT_SECRET"),
        ("regcred", "secret-missing", "imagePullSecrets"),
        ("gateway-tls", "secret-missing", "volume tls"),
    ],
)
def test_missing_reference(remove: str, check_id: str, fragment: str) -> None:
    cms = [c for c in [configmap()] if c["metadata"]["name"] != remove]
    secs = [s for s in secrets() if s["metadata"]["name"] != remove]
    found = reference_findings(deployment(), configmaps=cms, secrets=secs)
    assert ids(found) == {check_id}, summarize(found)
    assert any(fragment in f.message for f in found), summarize(found)


def test_missing_keys() -> None:
    dep = deployment()
    _spec(dep)["volumes"][1]["configMap"]["items"] = [{"key": "nginx.conf", "path": "nginx.conf"}]
    sec = secret()
    del sec["data"]["JWT_SECRET"]
    others = [s for s in secrets() if s["metadata"]["name"] != "gateway-secrets"]
    found = reference_findings(dep, configmaps=[configmap()], secrets=[sec, *others])
    assert ids(found) == {"configmap-key-missing", "secret-key-missing"}


def test_optional_and_external_references_are_exempt() -> None:
    dep = deployment()
    _main(dep)["envFrom"][0]["configMapRef"]["optional"] = True
    _spec(dep)["volumes"][1]["configMap"]["optional"] = True
    _spec(dep)["volumes"].append(
        {
            "name": "projected",
            "projected": {"sources": [{"secret": {"name": "from-vault"}}]},
        }
    )
    found = reference_findings(dep, configmaps=[], secrets=secrets(), external=["from-vault"])
    assert found == [], summarize(found)
    found = reference_findings(dep, configmaps=[], secrets=secrets())
    assert ids(found) == {"secret-missing"}
    assert "from-vault" in found[0].message


def test_objects_in_other_namespaces_do_not_satisfy_references() -> None:
    cm = configmap()
    cm["metadata"]["namespace"] = "staging"
    found = reference_findings(deployment(), configmaps=[cm], secrets=secrets())
    assert ids(found) == {"configmap-missing"}


@pytest.mark.parametrize(
    ("data", "string_data", "check_id", "fragment"),
    [
        ({"JWT_SECRET": b64("short")}, None, "secret-too-short", "5 characters"),
        ({}, None, "secret-key-missing", "'JWT_SECRET' is absent"),
        ({"JWT_SECRET": "!!not-base64!!"}, None, "secret-too-short", "not valid base64"),
        # stringData wins over data, as when the API server merges them
        (
            {"JWT_SECRET": b64(JWT_VALUE)},
            {"JWT_SECRET": "tiny"},
            "secret-too-short",
            "4 characters",
        ),
    ],
)
def test_secret_min_length(
    data: dict[str, str], string_data: dict[str, str] | None, check_id: str, fragment: str
) -> None:
    sec = secret()
    sec["data"] = data
    if string_data is not None:
        sec["stringData"] = string_data
    found = secret_min_length(sec, "JWT_SECRET", 32)
    assert ids(found) == {check_id}
    assert fragment in found[0].message
    assert "tiny" not in str(found[0])
    assert found[0].subject == "Secret production/gateway-secrets"


def test_secret_min_length_never_reveals_the_value() -> None:
    value = "hunter2-but-longer"
    sec = secret()
    sec["data"] = {"JWT_SECRET": b64(value)}
    (finding,) = secret_min_length(sec, "JWT_SECRET", 32)
    assert value not in str(finding)
    assert str(len(value)) in finding.message


def test_binary_secret_length_is_in_bytes() -> None:
    sec = secret()
    sec["data"] = {"key": "//79/A=="}  # four bytes that are not UTF-8
    (finding,) = secret_min_length(sec, "key", 8)
    assert "4 bytes" in finding.message


def test_main_container_choice() -> None:
    dep = deployment()
    assert main_container(dep) is _main(dep)
    assert main_container(dep, "absent") is None
