"""Helm: release Secrets decoded as Helm writes them, release checks, drift from live objects."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
import yaml

from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.checks.kube.drift import compare, drift_findings
from pytest_deployverify.checks.kube.helm import (
    HelmRelease,
    decode_release_secret,
    latest_release,
    release_findings,
)
from pytest_deployverify.components.kubernetes.manifests import parse_documents

from .test_kube_builders import (
    APP,
    NS,
    VERSION,
    Obj,
    configmap,
    deployment,
    hpa,
    ids,
    manifest_of,
    service,
)


def _rendered_objects() -> list[Obj]:
    objects = [manifest_of(o) for o in (deployment(), service(), configmap(), hpa())]
    for obj in objects:
        del obj["metadata"]["namespace"]  # helm template leaves it to the release namespace
    return objects


def _manifest() -> str:
    docs = [
        f"# Source: gateway/templates/{o['kind'].lower()}.yaml\n" + yaml.safe_dump(o)
        for o in _rendered_objects()
    ]
    return "---\n" + "---\n".join(docs)


def _release(version: int = 3, status: str = "deployed", **chart: str) -> dict[str, Any]:
    return {
        "name": APP,
        "namespace": NS,
        "version": version,
        "info": {"status": status, "description": "Upgrade complete"},
        "chart": {
            "metadata": {
                "name": chart.get("name", "gateway"),
                "version": chart.get("chart_version", "1.4.2"),
                "appVersion": chart.get("app_version", VERSION),
            }
        },
        "manifest": _manifest(),
        "config": {"replicaCount": 3},
    }


def _helm_encode(release: dict[str, Any], *, compress: bool = True) -> str:
    """What Helm's storage driver writes: base64(gzip(json))."""
    raw = json.dumps(release).encode()
    return base64.b64encode(gzip.compress(raw) if compress else raw).decode()


def _release_secret(release: dict[str, Any], *, compress: bool = True) -> Obj:
    version = release["version"]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": f"sh.helm.release.v1.{release['name']}.v{version}",
            "namespace": NS,
            "labels": {
                "name": release["name"],
                "owner": "helm",
                "status": release["info"]["status"],
                "version": str(version),
            },
        },
        # the API returns Secret data base64-encoded once more
        "data": {
            "release": base64.b64encode(_helm_encode(release, compress=compress).encode()).decode()
        },
    }


@pytest.mark.parametrize("compress", [True, False])
def test_release_secret_round_trip(compress: bool) -> None:
    release = decode_release_secret(_release_secret(_release(), compress=compress))
    assert release == HelmRelease(
        name=APP,
        namespace=NS,
        version=3,
        status="deployed",
        chart_name="gateway",
        chart_version="1.4.2",
        app_version=VERSION,
        manifest=_manifest(),
    )


def test_configmap_driver_record() -> None:
    record = {
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{APP}.v3",
            "namespace": NS,
            "labels": {"owner": "helm", "name": APP},
        },
        "data": {"release": _helm_encode(_release())},
    }
    assert decode_release_secret(record).version == 3


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "no data.release"),
        ({"release": "***"}, "not base64"),
        ({"release": base64.b64encode(b"not-base64-inside!").decode()}, "not base64"),
        ({"release": base64.b64encode(base64.b64encode(b"[1, 2]")).decode()}, "not a JSON object"),
        ({"release": base64.b64encode(base64.b64encode(b"\x1f\x8b\x08garbage")).decode()}, "gzip"),
    ],
)
def test_undecodable_records_name_the_secret(data: dict[str, str], fragment: str) -> None:
    broken = _release_secret(_release())
    broken["data"] = data
    with pytest.raises(ValueError, match=fragment) as info:
        decode_release_secret(broken)
    assert f"Secret {NS}/sh.helm.release.v1.{APP}.v3" in str(info.value)


def test_latest_revision_wins_and_other_releases_are_skipped() -> None:
    records = [
        _release_secret(_release(2, "superseded")),
        _release_secret(_release(4, "failed")),
        _release_secret(_release(3, "superseded")),
        configmap(),  # not a release record at all
    ]
    other = _release(9)
    other["name"] = "redis"
    records.append(_release_secret(other))
    latest = latest_release(records, APP)
    assert latest is not None
    assert (latest.version, latest.status) == (4, "failed")
    assert latest_release(records[:1] + records[3:4], APP) is not None
    assert latest_release([configmap()], APP) is None


def test_release_checks_pass_for_expected_release() -> None:
    release = decode_release_secret(_release_secret(_release()))
    found = release_findings(
        release, chart_name="gateway", chart_version="1.4.2", app_version=VERSION
    )
    assert found == []


@pytest.mark.parametrize(
    ("release", "check_id", "fragment"),
    [
        (_release(status="pending-upgrade"), "helm-release-status", "'pending-upgrade'"),
        (_release(status="failed"), "helm-release-status", "roll back"),
        (_release(chart_version="1.3.0"), "helm-chart-version", "'1.3.0'"),
        (_release(name="gateway-legacy"), "helm-chart-version", "'gateway-legacy'"),
        (_release(app_version="0.9.0"), "helm-app-version", "'0.9.0'"),
    ],
)
def test_release_defects(release: dict[str, Any], check_id: str, fragment: str) -> None:
    decoded = decode_release_secret(_release_secret(release))
    found = release_findings(
        decoded, chart_name="gateway", chart_version="1.4.2", app_version=VERSION
    )
    assert ids(found) == {check_id}, summarize(found)
    assert fragment in found[0].message
    assert found[0].subject == f"HelmRelease {NS}/{APP} revision 3"


def test_missing_release() -> None:
    found = release_findings(None, release_name=APP)
    assert ids(found) == {"helm-release-missing"}
    assert APP in found[0].subject


def _live() -> list[Obj]:
    # the API server adds defaults and rewrites quantities; none of that is drift
    dep = deployment()
    main = dep["spec"]["template"]["spec"]["containers"][0]
    main["resources"]["limits"]["cpu"] = "1000m"
    main["livenessProbe"].update({"timeoutSeconds": 1, "failureThreshold": 3})
    main["livenessProbe"]["httpGet"]["scheme"] = "HTTP"
    svc = service()
    svc["spec"]["clusterIP"] = "10.96.0.12"
    return [dep, svc, configmap(), hpa()]


def _release_obj() -> list[Obj]:
    """The objects the release renders, parsed as the Kubernetes component parses them (the
    pure drift check takes objects; YAML is parsed outside the checks package)."""
    release = decode_release_secret(_release_secret(_release()))
    return parse_documents(
        release.manifest, f"release {release.name}", default_namespace=release.namespace
    )


def test_no_drift_despite_api_defaults() -> None:
    found = drift_findings(_release_obj(), _live())
    assert found == [], summarize(found)


def test_scaled_replicas_are_not_drift_when_an_hpa_manages_them() -> None:
    live = _live()
    live[0]["spec"]["replicas"] = 7
    assert drift_findings(_release_obj(), live) == []
    without_hpa = [o for o in _rendered_objects() if o["kind"] != "HorizontalPodAutoscaler"]
    found = drift_findings(
        without_hpa,
        [o for o in live if o["kind"] != "HorizontalPodAutoscaler"],
        default_namespace=NS,
    )
    assert ids(found) == {"helm-drift"}
    assert "spec.replicas: rendered 3, live 7" in found[0].message


def _container(live: list[Obj]) -> Obj:
    container: Obj = live[0]["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda live: _container(live).update(image="registry.example.com/api-gateway:1.0.1"),
            "containers[gateway].image",
        ),
        (
            lambda live: _container(live)["env"][0].update(value="development"),
            "containers[gateway].env[NODE_ENV]",
        ),
        (
            lambda live: _container(live)["resources"]["limits"].update(memory="1Gi"),
            "resources.limits.memory",
        ),
        (
            lambda live: _container(live)["resources"]["requests"].update(
                {"ephemeral-storage": "1Gi"}
            ),
            "resources.requests.ephemeral-storage",
        ),
        (
            lambda live: _container(live)["readinessProbe"]["httpGet"].update(path="/"),
            "readinessProbe.httpGet.path",
        ),
        (lambda live: _container(live).pop("livenessProbe"), "livenessProbe"),
        (
            lambda live: live[1]["spec"]["ports"][0].update(targetPort=8080),
            "spec.ports[http].targetPort",
        ),
        (lambda live: live[1]["spec"]["selector"].update(app="other"), "spec.selector"),
    ],
)
def test_each_drifted_field_names_its_path(change: Any, path: str) -> None:
    live = _live()
    change(live)
    found = drift_findings(_release_obj(), live)
    assert ids(found) == {"helm-drift"}, summarize(found)
    assert len(found) == 1, summarize(found)
    assert path in found[0].message
    assert "rendered" in found[0].message
    assert "live" in found[0].message


def test_missing_live_object() -> None:
    live = [o for o in _live() if o["kind"] != "Service"]
    found = drift_findings(_release_obj(), live)
    assert ids(found) == {"helm-drift-missing-object"}
    assert found[0].subject == f"Service {NS}/{APP}"


def test_secret_like_literal_env_values_are_not_shown() -> None:
    rendered = _rendered_objects()
    _container(rendered)["env"].append({"name": "API_TOKEN", "value": "rendered-token-value"})
    live = _live()
    _container(live)["env"].append({"name": "API_TOKEN", "value": "live-token-value"})
    found = drift_findings(rendered, live, default_namespace=NS)
    assert ids(found) == {"helm-drift"}
    assert "token-value" not in found[0].message
    assert "not shown" in found[0].message


def test_compare_ignores_kinds_without_tracked_fields() -> None:
    cm_live = configmap()
    cm_live["data"]["EXTRA"] = "1"
    assert compare(manifest_of(configmap()), cm_live) == []
