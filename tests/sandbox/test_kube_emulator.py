"""The Kubernetes API emulator, exercised over the wire with the official `kubernetes` client."""

from __future__ import annotations

import base64
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import urllib3
from cryptography import x509
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from sandbox.kube import (
    KubeEmulator,
    decode_release,
    kubeconfig_document,
    make_pods,
    rule,
    write_kubeconfig,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NS = "api-gateway"
GATEWAY_PODS = {
    "api-gateway-7d9f8b6c5d-m8v7q",
    "api-gateway-7d9f8b6c5d-t5n9w",
    "api-gateway-7d9f8b6c5d-x2k4p",
}


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(token="test-token-0123456789") as emulator:
        yield emulator


# Client objects are typed `Any` here: the generated models make every field Optional, and these
# tests assert presence themselves instead of narrowing each attribute for mypy.
def _api_client(kubeconfig: Path, context: str) -> Any:
    cfg = client.Configuration()
    # The standard loader, into a private Configuration so no global state leaks between tests.
    config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig), context=context, client_configuration=cfg
    )
    cfg.retries = 0  # what a verifier should do; also makes fault tests see the first failure
    return client.ApiClient(cfg)


@pytest.fixture
def api(kube: KubeEmulator, tmp_path: Path) -> Iterator[Any]:
    path = kube.write_kubeconfig(tmp_path / "kubeconfig", context_name="emulator")
    api_client = _api_client(path, "emulator")
    yield api_client
    api_client.close()


@pytest.fixture
def core(api: Any) -> Any:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: Any) -> Any:
    return client.AppsV1Api(api)


@pytest.fixture
def raw(kube: KubeEmulator) -> Iterator[httpx.Client]:
    """A plain HTTPS client for checking the JSON exactly as sent."""
    context = ssl.create_default_context(cafile=str(kube.ca_file))
    with httpx.Client(
        base_url=kube.url, verify=context, headers={"Authorization": f"Bearer {kube.token}"}
    ) as http:
        yield http


def _error_body(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body or "null")
    return body


# ---- every kind deserializes ------------------------------------------------------------------

# (API class, list-all call, read call, namespaced)
KINDS: list[tuple[str, str, str, bool]] = [
    ("CoreV1Api", "list_namespace", "read_namespace", False),
    ("CoreV1Api", "list_node", "read_node", False),
    ("CoreV1Api", "list_pod_for_all_namespaces", "read_namespaced_pod", True),
    ("CoreV1Api", "list_service_for_all_namespaces", "read_namespaced_service", True),
    ("CoreV1Api", "list_endpoints_for_all_namespaces", "read_namespaced_endpoints", True),
    ("CoreV1Api", "list_config_map_for_all_namespaces", "read_namespaced_config_map", True),
    ("CoreV1Api", "list_secret_for_all_namespaces", "read_namespaced_secret", True),
    (
        "CoreV1Api",
        "list_service_account_for_all_namespaces",
        "read_namespaced_service_account",
        True,
    ),
    ("CoreV1Api", "list_event_for_all_namespaces", "read_namespaced_event", True),
    ("AppsV1Api", "list_deployment_for_all_namespaces", "read_namespaced_deployment", True),
    ("AppsV1Api", "list_replica_set_for_all_namespaces", "read_namespaced_replica_set", True),
    ("AppsV1Api", "list_stateful_set_for_all_namespaces", "read_namespaced_stateful_set", True),
    (
        "DiscoveryV1Api",
        "list_endpoint_slice_for_all_namespaces",
        "read_namespaced_endpoint_slice",
        True,
    ),
    (
        "AutoscalingV2Api",
        "list_horizontal_pod_autoscaler_for_all_namespaces",
        "read_namespaced_horizontal_pod_autoscaler",
        True,
    ),
    (
        "PolicyV1Api",
        "list_pod_disruption_budget_for_all_namespaces",
        "read_namespaced_pod_disruption_budget",
        True,
    ),
    ("NetworkingV1Api", "list_ingress_for_all_namespaces", "read_namespaced_ingress", True),
    (
        "NetworkingV1Api",
        "list_network_policy_for_all_namespaces",
        "read_namespaced_network_policy",
        True,
    ),
    ("RbacAuthorizationV1Api", "list_role_for_all_namespaces", "read_namespaced_role", True),
    (
        "RbacAuthorizationV1Api",
        "list_role_binding_for_all_namespaces",
        "read_namespaced_role_binding",
        True,
    ),
    ("RbacAuthorizationV1Api", "list_cluster_role", "read_cluster_role", False),
    ("RbacAuthorizationV1Api", "list_cluster_role_binding", "read_cluster_role_binding", False),
    ("StorageV1Api", "list_storage_class", "read_storage_class", False),
]


@pytest.mark.parametrize(("api_class", "list_call", "read_call", "namespaced"), KINDS)
def test_every_kind_lists_and_reads_into_client_models(
    api: Any, api_class: str, list_call: str, read_call: str, namespaced: bool
) -> None:
    group_api: Any = getattr(client, api_class)(api)
    listed = getattr(group_api, list_call)()
    assert listed.items, f"{list_call} returned no items"
    assert int(listed.metadata.resource_version) > 0
    for item in listed.items:
        meta = item.metadata
        assert meta.name
        assert meta.uid
        assert meta.resource_version
        assert isinstance(meta.creation_timestamp, datetime)
        assert (meta.namespace is not None) == namespaced
    first = listed.items[0]
    args = (first.metadata.name, first.metadata.namespace) if namespaced else (first.metadata.name,)
    read = getattr(group_api, read_call)(*args)
    assert read.metadata.uid == first.metadata.uid
    # A namespaced list within the object's namespace agrees with the cluster-wide one.
    if namespaced:
        in_ns = getattr(
            group_api,
            list_call.replace("_for_all_namespaces", "").replace("list_", "list_namespaced_"),
        )(first.metadata.namespace)
        assert first.metadata.name in {i.metadata.name for i in in_ns.items}


def test_wire_shapes_match_the_real_api(raw: httpx.Client) -> None:
    listed = raw.get(f"/api/v1/namespaces/{NS}/pods").json()
    assert (listed["kind"], listed["apiVersion"]) == ("PodList", "v1")
    assert set(listed["metadata"]) == {"resourceVersion"}
    # List items carry no kind/apiVersion, exactly like kube-apiserver's JSON.
    assert all("kind" not in item and "apiVersion" not in item for item in listed["items"])
    single = raw.get(f"/apis/apps/v1/namespaces/{NS}/deployments/api-gateway").json()
    assert (single["kind"], single["apiVersion"]) == ("Deployment", "apps/v1")
    assert list(single)[:3] == ["kind", "apiVersion", "metadata"]


def test_fixture_deployment_is_a_healthy_release(apps: Any) -> None:
    dep = apps.read_namespaced_deployment("api-gateway", NS)
    assert dep.spec.template.spec.containers[0].image == "registry.example.com/api-gateway:1.4.2"
    assert dep.status.observed_generation == dep.metadata.generation
    assert (
        dep.status.replicas,
        dep.status.updated_replicas,
        dep.status.ready_replicas,
        dep.status.available_replicas,
    ) == (3, 3, 3, 3)
    conditions = {c.type: c.status for c in dep.status.conditions}
    assert conditions == {"Available": "True", "Progressing": "True"}
    replica_sets = apps.list_namespaced_replica_set(NS).items
    current = next(rs for rs in replica_sets if rs.status.replicas == 3)
    assert current.metadata.owner_references[0].uid == dep.metadata.uid


def test_fixture_pods_are_running_hardened_and_owned(core: Any) -> None:
    pods = core.list_namespaced_pod(NS, label_selector="app=api-gateway").items
    assert {p.metadata.name for p in pods} == GATEWAY_PODS
    for pod in pods:
        assert pod.status.phase == "Running"
        assert pod.spec.security_context.run_as_non_root is True
        assert pod.spec.service_account_name == "api-gateway"
        assert pod.spec.topology_spread_constraints
        (container,) = pod.spec.containers
        sc = container.security_context
        assert sc.read_only_root_filesystem
        assert sc.allow_privilege_escalation is False
        assert sc.capabilities.drop == ["ALL"]
        assert container.resources.requests
        assert container.resources.limits
        assert container.liveness_probe.http_get.path != container.readiness_probe.http_get.path
        (status,) = pod.status.container_statuses
        assert status.ready
        assert status.restart_count == 0
        assert status.image_id.startswith("registry.example.com/api-gateway@sha256:")
        assert isinstance(status.state.running.started_at, datetime)
        assert pod.metadata.owner_references[0].kind == "ReplicaSet"


def test_helm_release_secret_decodes_like_helm_stores_it(core: Any) -> None:
    secrets = core.list_namespaced_secret(NS, label_selector="owner=helm,status=deployed").items
    (secret,) = secrets
    assert secret.type == "helm.sh/release.v1"
    assert secret.metadata.name == "sh.helm.release.v1.api-gateway.v3"
    release = decode_release(secret.data["release"])
    assert release["info"]["status"] == "deployed"
    assert release["chart"]["metadata"]["appVersion"] == "1.4.2"
    assert release["version"] == 3
    assert 'image: "registry.example.com/api-gateway:1.4.2"' in release["manifest"]
    assert "kind: Service" in release["manifest"]


def test_ingress_tls_secret_holds_a_current_certificate(core: Any) -> None:
    secret = core.read_namespaced_secret("api-example-com-tls", NS)
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret.data["tls.crt"]))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "api.example.com" in names.get_values_for_type(x509.DNSName)
    assert cert.not_valid_before_utc < datetime.now(UTC) < cert.not_valid_after_utc


# ---- selectors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=api-gateway", GATEWAY_PODS),
        ("app==redis", {"redis-0"}),
        ("app!=api-gateway", {"redis-0"}),
        ("app in (api-gateway, redis)", GATEWAY_PODS | {"redis-0"}),
        ("app notin (redis)", GATEWAY_PODS),
        # A missing label satisfies != and notin, as upstream.
        ("pod-template-hash!=7d9f8b6c5d", {"redis-0"}),
        ("statefulset.kubernetes.io/pod-name notin (redis-0)", GATEWAY_PODS),
        ("statefulset.kubernetes.io/pod-name", {"redis-0"}),
        ("!statefulset.kubernetes.io/pod-name", GATEWAY_PODS),
        ("app=api-gateway,pod-template-hash=7d9f8b6c5d", GATEWAY_PODS),
        ("app=api-gateway,pod-template-hash=5c6d8f9b7", set()),
    ],
)
def test_label_selectors(core: Any, selector: str, expected: set[str]) -> None:
    pods = core.list_pod_for_all_namespaces(label_selector=selector).items
    assert {p.metadata.name for p in pods} == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("spec.nodeName=worker-2", {"api-gateway-7d9f8b6c5d-m8v7q", "redis-0"}),
        ("status.phase==Running", GATEWAY_PODS | {"redis-0"}),
        ("status.phase!=Running", set()),
        ("metadata.name=redis-0", {"redis-0"}),
        ("metadata.namespace!=api-gateway", {"redis-0"}),
        (
            "metadata.namespace=api-gateway,spec.nodeName=worker-1",
            GATEWAY_PODS - {"api-gateway-7d9f8b6c5d-m8v7q"},
        ),
    ],
)
def test_field_selectors(core: Any, selector: str, expected: set[str]) -> None:
    pods = core.list_pod_for_all_namespaces(field_selector=selector).items
    assert {p.metadata.name for p in pods} == expected


def test_unsupported_field_selector_is_a_bad_request(core: Any) -> None:
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod(NS, field_selector="spec.containers=x")
    assert caught.value.status == 400
    body = _error_body(caught.value)
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "BadRequest", 400)
    assert body["message"] == "field label not supported: spec.containers"


def test_malformed_label_selector_is_a_bad_request(core: Any) -> None:
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod(NS, label_selector="app in (a")
    assert caught.value.status == 400
    assert _error_body(caught.value)["message"].startswith("unable to parse requirement")


# ---- pagination -------------------------------------------------------------------------------


def test_limit_and_continue_yield_every_item_exactly_once(kube: KubeEmulator, core: Any) -> None:
    kube.store.put_many(make_pods(22))
    everything = [p.metadata.name for p in core.list_namespaced_pod(NS).items]
    assert len(everything) == 25
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = core.list_namespaced_pod(NS, limit=4, _continue=token)
        pages += 1
        seen += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            assert page.metadata.remaining_item_count is None
            break
        assert page.metadata.remaining_item_count == len(everything) - len(seen)
    assert seen == everything
    assert pages == 7


def test_pages_come_from_one_consistent_snapshot(kube: KubeEmulator, core: Any) -> None:
    first = core.list_namespaced_pod(NS, limit=2)
    late = make_pods(1, replicaset="zzz-late")[0]
    kube.store.put(late)
    rest = core.list_namespaced_pod(NS, _continue=first.metadata._continue)
    paged = [p.metadata.name for p in first.items + rest.items]
    assert paged == sorted(GATEWAY_PODS)
    assert late["metadata"]["name"] in {p.metadata.name for p in core.list_namespaced_pod(NS).items}


def test_paging_with_a_selector_omits_the_remaining_count(core: Any) -> None:
    page = core.list_pod_for_all_namespaces(label_selector="app", limit=1)
    assert page.metadata._continue
    assert page.metadata.remaining_item_count is None


def test_garbage_continue_token_is_a_bad_request(core: Any) -> None:
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod(NS, limit=1, _continue="not-a-token")
    assert caught.value.status == 400
    assert _error_body(caught.value)["message"].startswith("continue key is not valid")


def test_continue_token_after_compaction_is_gone(kube: KubeEmulator, core: Any) -> None:
    page = core.list_namespaced_pod(NS, limit=1)
    kube.store.compact()
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod(NS, limit=1, _continue=page.metadata._continue)
    assert caught.value.status == 410
    assert _error_body(caught.value)["reason"] == "Expired"


# ---- authentication and authorization ---------------------------------------------------------


def test_wrong_token_is_unauthorized(kube: KubeEmulator, tmp_path: Path) -> None:
    doc = kubeconfig_document(
        server=kube.url, token="wrong-token", ca_file=kube.ca_file, context_name="wrong"
    )
    api_client = _api_client(write_kubeconfig(tmp_path / "kc", doc), "wrong")
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(api_client).list_namespaced_pod(NS)
    assert caught.value.status == 401
    assert _error_body(caught.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_missing_token_is_unauthorized(kube: KubeEmulator) -> None:
    context = ssl.create_default_context(cafile=str(kube.ca_file))
    answer = httpx.get(f"{kube.url}/api/v1/pods", verify=context)
    assert answer.status_code == 401
    assert answer.json()["reason"] == "Unauthorized"


def test_configured_forbidden_namespace(kube: KubeEmulator, core: Any) -> None:
    kube.access.forbid("pods", namespace=NS)
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod(NS)
    assert caught.value.status == 403
    body = _error_body(caught.value)
    assert body["reason"] == "Forbidden"
    assert body["details"] == {"kind": "pods"}
    assert body["message"] == (
        'pods is forbidden: User "system:serviceaccount:ci:verifier" cannot list resource '
        '"pods" in API group "" in the namespace "api-gateway"'
    )
    assert core.list_namespaced_pod("redis").items  # other namespaces stay readable
    assert core.list_namespaced_service(NS).items  # and other kinds in that namespace


def test_not_found_carries_details(core: Any, apps: Any) -> None:
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod("x", NS)
    body = _error_body(caught.value)
    assert caught.value.status == 404
    assert body["message"] == 'pods "x" not found'
    assert body["details"] == {"name": "x", "kind": "pods"}
    with pytest.raises(ApiException) as caught:
        apps.read_namespaced_deployment("x", NS)
    assert _error_body(caught.value)["details"] == {
        "name": "x",
        "group": "apps",
        "kind": "deployments",
    }


def test_write_verbs_are_refused_and_counted(kube: KubeEmulator, core: Any) -> None:
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_pod("api-gateway-7d9f8b6c5d-x2k4p", NS)
    assert caught.value.status == 403  # read-only RBAC, as a real verifier account has
    kube.access.allow_all()
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_pod("api-gateway-7d9f8b6c5d-x2k4p", NS)
    assert caught.value.status == 405  # allowed, but the emulator never writes
    assert kube.count(mutating=True) == 2
    assert kube.count(method="DELETE", verb="delete", resource="pods") == 2
    assert kube.store.get("Pod", NS, "api-gateway-7d9f8b6c5d-x2k4p") is not None


def test_self_subject_access_review(kube: KubeEmulator, api: Any) -> None:
    authz: Any = client.AuthorizationV1Api(api)

    def allowed(verb: str, resource: str, group: str = "") -> bool:
        body = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    namespace=NS, verb=verb, resource=resource, group=group
                )
            )
        )
        review = authz.create_self_subject_access_review(body)
        return bool(review.status.allowed)

    assert allowed("list", "pods")
    assert allowed("get", "deployments", "apps")
    assert not allowed("create", "deployments", "apps")
    assert not allowed("delete", "pods")
    kube.access.forbid("secrets", namespace=NS)
    assert not allowed("list", "secrets")
    assert kube.count(mutating=True) == 0  # review POSTs are questions, not writes


def test_self_subject_rules_review(kube: KubeEmulator, api: Any) -> None:
    authz: Any = client.AuthorizationV1Api(api)
    kube.access.set_rules([rule(["get", "list"], ["pods", "services"], [""], namespaces=[NS])])
    body = client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=NS))
    status = authz.create_self_subject_rules_review(body).status
    assert status.incomplete is False
    (granted,) = status.resource_rules
    assert sorted(granted.verbs) == ["get", "list"]
    assert sorted(granted.resources) == ["pods", "services"]
    other = client.V1SelfSubjectRulesReview(
        spec=client.V1SelfSubjectRulesReviewSpec(namespace="redis")
    )
    assert authz.create_self_subject_rules_review(other).status.resource_rules == []


# ---- discovery and version --------------------------------------------------------------------


def test_version_and_discovery(api: Any) -> None:
    version = client.VersionApi(api).get_code()
    assert (version.major, version.minor, version.git_version) == ("1", "32", "v1.32.3")
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "autoscaling", "policy", "networking.k8s.io", "storage.k8s.io"} <= groups
    resources = client.AppsV1Api(api).get_api_resources().resources
    assert {"deployments", "replicasets", "statefulsets"} <= {r.name for r in resources}
    core_resources = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    assert core_resources["pods"].namespaced
    assert not core_resources["nodes"].namespaced


# ---- faults -----------------------------------------------------------------------------------


def test_latency_is_added_and_trips_the_client_timeout(kube: KubeEmulator, core: Any) -> None:
    kube.faults.set_latency(0.2, path="/pods")
    assert core.list_namespaced_pod(NS, _request_timeout=10).items  # slow but answered
    kube.faults.set_latency(5.0, path="/pods")
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_pod(NS, _request_timeout=0.3)
    assert core.list_namespaced_service(NS, _request_timeout=10).items  # other paths unaffected


def test_injected_server_error(kube: KubeEmulator, core: Any) -> None:
    kube.faults.fail(path=r"/pods$", status=500, times=1)
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod(NS)
    assert caught.value.status == 500
    assert _error_body(caught.value)["reason"] == "InternalError"
    assert core.list_namespaced_pod(NS).items  # `times=1` spent: the next call succeeds


def test_dropped_connection_surfaces_as_an_error(kube: KubeEmulator, core: Any) -> None:
    kube.faults.drop(path="/pods")
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_pod(NS, _request_timeout=5)
    assert kube.requests[-1].fault == "drop"
    kube.faults.clear()
    assert core.list_namespaced_pod(NS, _request_timeout=5).items


def test_black_hole_times_out_and_does_not_block_stop(kube: KubeEmulator, core: Any) -> None:
    kube.faults.blackhole()
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_pod(NS, _request_timeout=0.3)
    # A second caller is still parked inside the server when we stop it.
    outcome: list[BaseException | None] = []

    def parked_call() -> None:
        try:
            core.list_node(_request_timeout=30)
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    parked = threading.Thread(target=parked_call)
    parked.start()
    _wait_for(lambda: kube.count(path_prefix="/api/v1/nodes") > 0, "the parked request")
    prefix = f"kube-emulator-{kube.port}-"
    kube.stop()
    parked.join(10)
    assert not parked.is_alive()
    assert isinstance(outcome[0], urllib3.exceptions.HTTPError)  # cut, not answered
    assert not [t for t in threading.enumerate() if t.name.startswith(prefix)]


# ---- request log and store mutation ------------------------------------------------------------


def test_requests_are_recorded_and_counted(kube: KubeEmulator, core: Any, apps: Any) -> None:
    core.list_namespaced_pod(NS, label_selector="app=api-gateway")
    kube.reset_counts()
    core.list_namespaced_pod(NS, label_selector="app=api-gateway")
    core.list_node()
    apps.read_namespaced_deployment("api-gateway", NS)
    assert kube.count() == 3
    assert kube.count(method="GET") == 3
    assert kube.count(path_prefix=f"/api/v1/namespaces/{NS}/pods") == 1
    assert kube.count(resource="pods", verb="list") == 1
    assert kube.count(resource="deployments", verb="get") == 1
    assert kube.count(mutating=True) == 0
    first = kube.requests[0]
    assert first.query == {"labelSelector": ["app=api-gateway"]}
    assert (first.status, first.namespace) == (200, NS)


def test_store_edits_give_one_object_one_defect(kube: KubeEmulator, apps: Any, core: Any) -> None:
    dep = kube.store.get("deployments", NS, "api-gateway")
    assert dep is not None
    dep["status"]["readyReplicas"] = 2
    kube.store.put(dep)
    assert apps.read_namespaced_deployment("api-gateway", NS).status.ready_replicas == 2
    assert kube.store.delete("Pod", NS, "api-gateway-7d9f8b6c5d-x2k4p")
    assert len(core.list_namespaced_pod(NS).items) == 2
    kube.store.replace_all([])
    assert core.list_pod_for_all_namespaces().items == []


def test_store_loads_yaml_files(kube: KubeEmulator, core: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "extra.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: default}\n"
        "data: {A: '1'}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra2, namespace: default}\n",
        encoding="utf-8",
    )
    assert kube.store.load_yaml(manifest) == 2
    names = {c.metadata.name for c in core.list_namespaced_config_map("default").items}
    assert names == {"extra", "extra2"}


def test_thousand_generated_pods_list_through_the_client(kube: KubeEmulator, core: Any) -> None:
    kube.store.put_many(make_pods(1000, namespace="bench", app="bench-worker"))
    pods = core.list_namespaced_pod("bench").items
    assert len(pods) == 1000
    assert len({p.metadata.name for p in pods}) == 1000
    assert all(p.status.container_statuses[0].ready for p in pods)


def test_watch_streams_current_objects(core: Any) -> None:
    watcher: Any = watch.Watch()  # type: ignore[no-untyped-call]
    events = list(
        watcher.stream(
            core.list_namespaced_pod, NS, label_selector="app=api-gateway", timeout_seconds=1
        )
    )
    assert {e["type"] for e in events} == {"ADDED"}
    assert {e["object"].metadata.name for e in events} == GATEWAY_PODS


# ---- kubeconfig and process mode --------------------------------------------------------------


def test_kubeconfig_with_embedded_ca(kube: KubeEmulator, tmp_path: Path) -> None:
    path = kube.write_kubeconfig(tmp_path / "kc", context_name="embedded", embed_ca=True)
    api_client = _api_client(path, "embedded")
    assert api_client.configuration.host == kube.url
    core_api: Any = client.CoreV1Api(api_client)
    assert core_api.read_namespace(NS).status.phase == "Active"
    api_client.close()


def test_stop_is_idempotent_and_leaves_no_threads() -> None:
    emulator = KubeEmulator(fixtures_dir=None).start()
    prefix = f"kube-emulator-{emulator.port}-"
    assert [t for t in threading.enumerate() if t.name.startswith(prefix)]
    emulator.stop()
    emulator.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith(prefix)]


def _wait_for(predicate: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_cli_runs_the_emulator_as_a_process(tmp_path: Path) -> None:
    port_file, pid_file, kubeconfig = tmp_path / "port", tmp_path / "pid", tmp_path / "kc"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [
        sys.executable,
        "-m",
        "sandbox.kube",
        "--port-file",
        str(port_file),
        "--pid-file",
        str(pid_file),
        "--kubeconfig",
        str(kubeconfig),
    ]
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        _wait_for(port_file.exists, "the port file")
        assert int(pid_file.read_text()) == proc.pid
        api_client = _api_client(kubeconfig, "kube-emulator")
        assert api_client.configuration.host.endswith(f":{int(port_file.read_text())}")
        core_api: Any = client.CoreV1Api(api_client)
        pods = core_api.list_namespaced_pod(NS).items
        assert {p.metadata.name for p in pods} == GATEWAY_PODS
        api_client.close()
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert json.loads(out.splitlines()[0])["pid"] == proc.pid
    assert not port_file.exists()
    assert not pid_file.exists()
