"""Pre-deploy mode: loading rendered manifests and running the spec-level checks over them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.checks.kube.predeploy import PredeployOptions, predeploy_findings
from pytest_deployverify.components.kubernetes.manifests import (
    ManifestError,
    load_manifests,
    parse_documents,
)

from .test_kube_builders import (
    APP,
    NS,
    PUBLIC_HOST,
    Obj,
    configmap,
    deployment,
    hpa,
    ids,
    ingress,
    manifest_of,
    network_policies,
    pdb,
    secrets,
    service,
)

HELM_TEMPLATE_OUTPUT = """\
---
# Source: gateway/templates/namespace.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: production
---
# Source: gateway/templates/empty.yaml
# (rendered to nothing: the feature flag is off)
---
---
# Source: gateway/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: gateway-config   # trailing comment
data:
  LOG_LEVEL: info
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: api-gateway}
    spec: {selector: {app: api-gateway}, ports: [{port: 80}]}
  - apiVersion: v1
    kind: ServiceAccount
    metadata: {name: api-gateway, namespace: other}
"""


def _rendered() -> list[Obj]:
    objects = [
        manifest_of(o) for o in (deployment(), pdb(), hpa(), service(), configmap(), ingress())
    ]
    objects += [manifest_of(o) for o in network_policies()]
    objects += [manifest_of(s) for s in secrets()]
    # The release brings the ServiceAccount its pods name (K8S-SA-EXISTS).
    objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": APP}})
    for obj in objects:
        obj["metadata"].pop("namespace", None)
    return objects


def _write(path: Path, objects: list[Obj]) -> Path:
    path.write_text("---\n".join(yaml.safe_dump(o) for o in objects), encoding="utf-8")
    return path


def test_multi_document_output_with_comments_empties_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(HELM_TEMPLATE_OUTPUT, encoding="utf-8")
    loaded = load_manifests(path, default_namespace=NS)
    keys = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in loaded]
    assert keys == [
        ("Namespace", None, "production"),  # cluster-scoped: never given a namespace
        ("ConfigMap", NS, "gateway-config"),
        ("Service", NS, APP),
        ("ServiceAccount", "other", APP),  # an explicit namespace is kept
    ]
    assert loaded.get("ConfigMap", "gateway-config", NS) is not None
    assert loaded.get("ConfigMap", "gateway-config", "staging") is None
    assert loaded.origin[("Service", NS, APP)] == f"{path} document 5"


def test_syntax_error_names_file_and_document(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "kind: ConfigMap\nmetadata: {name: a}\n---\n---\nkind: Service\nmetadata:\n  name: [b\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as info:
        load_manifests(path)
    assert info.value.source == str(path)
    assert info.value.document == 3
    assert str(info.value).startswith(f"{path}: document 3: invalid YAML at line")


@pytest.mark.parametrize(
    ("text", "document", "fragment"),
    [
        ("kind: ConfigMap\nmetadata: {name: a}\n---\n- just\n- a list\n", 2, "expected a mapping"),
        ("apiVersion: v1\nmetadata: {name: a}\n", 1, "run helm template first"),
        ("kind: Service\nmetadata: {}\n", 1, "Service has no metadata.name"),
        (
            "kind: List\nitems:\n  - {kind: Pod, metadata: {name: a}}\n  - {kind: Pod}\n",
            1,
            "item 2",
        ),
    ],
)
def test_invalid_documents(text: str, document: int, fragment: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_documents(text, "chart.yaml")
    assert info.value.document == document
    assert fragment in str(info.value)
    assert str(info.value).startswith("chart.yaml: document")


def test_folder_is_loaded_recursively_and_in_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "b.yaml", [manifest_of(service())])
    _write(tmp_path / "sub" / "a.yml", [manifest_of(configmap())])
    (tmp_path / "notes.txt").write_text("not a manifest", encoding="utf-8")
    loaded = load_manifests(tmp_path)
    assert [o["kind"] for o in loaded] == ["Service", "ConfigMap"]


def test_duplicates_are_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", [manifest_of(service())])
    _write(tmp_path / "b.yaml", [manifest_of(configmap()), manifest_of(service())])
    with pytest.raises(ManifestError, match="defined twice") as info:
        load_manifests(tmp_path)
    assert info.value.source == str(tmp_path / "b.yaml")
    assert info.value.document == 2
    assert "a.yaml document 1" in str(info.value)


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_manifests(tmp_path / "absent")


OPTIONS = PredeployOptions(
    required_env=("JWT_SECRET", "REDIS_HOST", "REDIS_PASSWORD", "NODE_ENV"),
    expected_env={"NODE_ENV": "production", "LOG_LEVEL": "info"},
    forbidden_env={"CORS_ORIGIN": ("*",)},
    public_host=PUBLIC_HOST,
)


def test_healthy_release_passes_predeploy(tmp_path: Path) -> None:
    loaded = load_manifests(_write(tmp_path / "release.yaml", _rendered()), default_namespace=NS)
    found = predeploy_findings(loaded, OPTIONS)
    assert found == [], summarize(found)


def _without(kind: str, name: str = "") -> list[Obj]:
    return [
        o
        for o in _rendered()
        if not (o["kind"] == kind and (not name or o["metadata"]["name"] == name))
    ]


def _cors_star() -> list[Obj]:
    objects = _rendered()
    next(o for o in objects if o["kind"] == "ConfigMap")["data"]["CORS_ORIGIN"] = "*"
    return objects


def _service_selector_typo() -> list[Obj]:
    objects = _rendered()
    next(o for o in objects if o["kind"] == "Service")["spec"]["selector"] = {"app": "api-gw"}
    return objects


@pytest.mark.parametrize(
    ("objects", "check_id"),
    [
        (_without("PodDisruptionBudget"), "missing-pod-disruption-budget"),
        (_without("HorizontalPodAutoscaler"), "missing-hpa"),
        (_without("NetworkPolicy", "default-deny"), "networkpolicy-default-deny-missing"),
        (_without("Secret", "regcred"), "secret-missing"),
        (_cors_star(), "env-var-forbidden-value"),
        (_service_selector_typo(), "service-targets-pod"),
    ],
    ids=["pdb", "hpa", "default-deny", "pull-secret", "cors", "selector"],
)
def test_one_defect_in_the_release(objects: list[Obj], check_id: str, tmp_path: Path) -> None:
    loaded = load_manifests(_write(tmp_path / "release.yaml", objects), default_namespace=NS)
    found = predeploy_findings(loaded, OPTIONS)
    assert ids(found) == {check_id}, summarize(found)


def test_a_service_account_missing_from_the_release_fails_unless_declared_external() -> None:
    objects = [o for o in _without("ServiceAccount") if o["kind"] != "Namespace"]
    for obj in objects:
        obj["metadata"]["namespace"] = NS
    found = predeploy_findings(objects, OPTIONS)
    assert ids(found) == {"service-account-missing"}
    assert f"names ServiceAccount {NS}/{APP}, which does not exist in the manifests" in summarize(
        found
    )
    external = PredeployOptions(**{**OPTIONS.__dict__, "external_service_accounts": (APP,)})
    assert predeploy_findings(objects, external) == []


def test_externally_managed_secrets_can_be_named() -> None:
    objects = [o for o in _without("Secret") if o["kind"] != "Namespace"]
    for obj in objects:
        obj["metadata"]["namespace"] = NS
    found = predeploy_findings(objects, OPTIONS)
    assert ids(found) == {"secret-missing", "env-var-missing"}
    external = PredeployOptions(
        **{**OPTIONS.__dict__, "external": ("gateway-secrets", "regcred", "gateway-tls")}
    )
    # the Secrets' keys are unknown, so the variables they provide cannot be proven present
    assert ids(predeploy_findings(objects, external)) == {"env-var-missing"}


def test_env_checks_need_a_known_app() -> None:
    found = predeploy_findings([], PredeployOptions(app="nope", required_env=("X",)))
    assert ids(found) == {"env-var-missing"}
    assert "PredeployOptions.app" in found[0].message
