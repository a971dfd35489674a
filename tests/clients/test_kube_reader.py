"""KubeReader against the wire-level emulator: reads, pagination, cache, read-only guard, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import kubernetes.client as k8s
import pytest

from pytest_deployverify.components.kubernetes.guard import check_read_only
from pytest_deployverify.components.kubernetes.kinds import KINDS, resolve_kind
from pytest_deployverify.components.kubernetes.reader import (
    KubeApiError,
    KubeForbidden,
    KubeNotFound,
    KubeReader,
    ReadOnlyViolation,
)
from sandbox.kube import KubeEmulator
from tests.clients import servers
from tests.clients.servers import CACHE_NAMESPACE, CACHE_PODS, make_profile

kube_emulator = servers.kube_emulator
kubeconfig = servers.kubeconfig

PAGE_SIZE = 7
ALL_CACHE_PODS = CACHE_PODS + 5


@pytest.fixture
def emulator(kube_emulator: KubeEmulator) -> Iterator[KubeEmulator]:
    """The shared emulator with a clean request log, RBAC and faults for each test."""
    kube_emulator.reset_counts()
    yield kube_emulator
    kube_emulator.access.reset()
    kube_emulator.faults.clear()


@pytest.fixture
def reader(emulator: KubeEmulator, kubeconfig: Path) -> Iterator[KubeReader]:
    profile = make_profile(
        kubernetes={
            "kubeconfig": str(kubeconfig),
            "context": "emulator",
            "namespace": "api-gateway",
            "timeout": 5.0,
            "page_size": PAGE_SIZE,
        }
    )
    assert profile.kubernetes is not None
    with KubeReader.from_config(profile.kubernetes) as kube:
        yield kube


def test_lists_paginate_and_return_manifest_shaped_dicts(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    pods = reader.list("pods", CACHE_NAMESPACE)
    assert len(pods) == ALL_CACHE_PODS
    assert len({p["metadata"]["name"] for p in pods}) == ALL_CACHE_PODS
    assert all(p["kind"] == "Pod" and p["apiVersion"] == "v1" for p in pods)
    pages = -(-ALL_CACHE_PODS // PAGE_SIZE)
    assert emulator.count("GET", f"/api/v1/namespaces/{CACHE_NAMESPACE}/pods") == pages
    limits = {r.query.get("limit", [""])[0] for r in emulator.requests}
    assert limits == {str(PAGE_SIZE)}


def test_server_side_selectors_and_get(reader: KubeReader) -> None:
    db = reader.list("pods", CACHE_NAMESPACE, label_selector="tier=db")
    assert len(db) == 5
    assert all(p["metadata"]["labels"]["tier"] == "db" for p in db)
    name = db[0]["metadata"]["name"]
    by_field = reader.list("pods", CACHE_NAMESPACE, field_selector=f"metadata.name={name}")
    assert [p["metadata"]["name"] for p in by_field] == [name]
    got = reader.get("pods", CACHE_NAMESPACE, name)
    assert got["metadata"]["name"] == name
    assert got["kind"] == "Pod"


def test_fifty_reads_of_one_namespace_cost_one_list(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    for _ in range(50):
        assert len(reader.list("pods", CACHE_NAMESPACE)) == ALL_CACHE_PODS
    pages = -(-ALL_CACHE_PODS // PAGE_SIZE)
    assert emulator.count("GET", f"/api/v1/namespaces/{CACHE_NAMESPACE}/pods") == pages
    assert emulator.count() == pages
    assert reader.cache_hits == 49


def test_label_selected_reads_are_cut_from_the_cached_unfiltered_list(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    everything = reader.list("pods", CACHE_NAMESPACE)
    before = emulator.count()
    selectors = [
        "tier=db",
        "tier!=db",
        "app in (cache-app, other-app)",
        "app notin (cache-app)",
        "tier",
        "!tier",
        "app=cache-app,!tier",
    ]
    local = {s: reader.list("pods", CACHE_NAMESPACE, label_selector=s) for s in selectors}
    assert emulator.count() == before, "selected reads must be served from the cache"
    # The server agrees with every locally evaluated selector.
    for selector, items in local.items():
        served = reader.list("pods", CACHE_NAMESPACE, label_selector=selector, fresh=True)
        names = sorted(p["metadata"]["name"] for p in items)
        assert names == sorted(p["metadata"]["name"] for p in served), selector
    assert len(local["tier=db"]) == 5
    assert len(local["!tier"]) == len(everything) - 5
    # A get of a listed object is served from the list as well.
    before = emulator.count()
    reader.get("pods", CACHE_NAMESPACE, everything[0]["metadata"]["name"])
    assert emulator.count() == before


def test_a_namespaced_read_is_cut_from_a_cached_all_namespaces_list(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    everywhere = reader.list("pods")
    before = emulator.count()
    mine = reader.list("pods", CACHE_NAMESPACE)
    assert emulator.count() == before
    assert len(mine) == ALL_CACHE_PODS
    assert len(everywhere) > len(mine)


def test_a_full_set_of_reads_sends_no_mutating_request(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    served = 0
    for kind in KINDS:
        try:
            items = reader.list(kind.plural, "api-gateway")
        except KubeNotFound:
            continue  # a kind this emulator does not serve: still a GET
        served += 1
        if items:
            meta = items[0]["metadata"]
            assert reader.get(kind.plural, meta.get("namespace"), meta["name"], fresh=True)
    reader.self_subject_rules_review("api-gateway")
    reader.self_subject_access_review("list", "deployments", "api-gateway")
    reader.version()
    assert served >= len(KINDS) - 1  # the emulator does not serve daemonsets (yet)
    assert emulator.count() > len(KINDS)
    methods = {r.method for r in emulator.requests}
    assert methods <= {"GET", "POST"}
    assert emulator.count(mutating=True) == 0
    posts = {r.resource for r in emulator.requests if r.method == "POST"}
    assert posts == {"selfsubjectrulesreviews", "selfsubjectaccessreviews"}


@pytest.mark.parametrize(
    "call",
    [
        lambda api: k8s.CoreV1Api(api).delete_namespaced_pod("p", "api-gateway"),
        lambda api: k8s.CoreV1Api(api).create_namespaced_config_map(
            "api-gateway", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="x"))
        ),
        lambda api: k8s.AppsV1Api(api).patch_namespaced_deployment_scale(
            "api-gateway", "api-gateway", {"spec": {"replicas": 0}}
        ),
        lambda api: api.call_api("DELETE", "https://127.0.0.1:1/api/v1/namespaces/x/pods/y"),
        lambda api: api.rest_client.request("PUT", "https://127.0.0.1:1/api/v1/namespaces/x"),
        lambda api: api.call_api("GET", "https://127.0.0.1:1/api/v1/namespaces/x/pods/y/exec"),
    ],
    ids=["delete", "create", "patch", "call_api", "rest_client", "exec"],
)
def test_mutating_calls_through_the_api_client_raise_before_any_request(
    reader: KubeReader, emulator: KubeEmulator, call: object
) -> None:
    assert callable(call)
    with pytest.raises(ReadOnlyViolation, match="no request was sent"):
        call(reader.api_client)
    assert emulator.count() == 0


def test_the_guard_allows_reads_and_self_reviews_only() -> None:
    check_read_only("GET", "https://h/api/v1/namespaces/ns/pods/exec")  # a pod named exec
    check_read_only("GET", "https://h/api/v1/namespaces/ns/pods/web-0/log")
    check_read_only("POST", "https://h/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    with pytest.raises(ReadOnlyViolation):
        check_read_only("POST", "https://h/apis/authorization.k8s.io/v1/subjectaccessreviews")
    with pytest.raises(ReadOnlyViolation):
        check_read_only("GET", "https://h/api/v1/namespaces/ns/pods/web-0/portforward")


def test_forbidden_names_verb_kind_namespace_and_the_rbac_fix(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    emulator.access.forbid("secrets", "api-gateway")
    with pytest.raises(KubeForbidden) as info:
        reader.list("secrets", "api-gateway")
    error = info.value
    assert (error.verb, error.resource, error.namespace) == ("list", "secrets", "api-gateway")
    message = str(error)
    assert "forbids list secrets in namespace api-gateway" in message
    assert "Role in namespace api-gateway with verbs [get, list] on secrets" in message
    assert emulator.token not in message
    assert reader.can("list", "secrets", "api-gateway") is False
    assert reader.can("list", "pods", "api-gateway") is True


def test_forbidden_cluster_scoped_read_suggests_a_cluster_role(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    emulator.access.forbid("nodes")
    with pytest.raises(KubeForbidden, match="ClusterRole with verbs \\[get, list\\] on nodes"):
        reader.list("nodes")


def test_not_found_names_the_object(reader: KubeReader) -> None:
    with pytest.raises(KubeNotFound, match="has no pods 'missing' in namespace api-gateway"):
        reader.get("pods", "api-gateway", "missing")


def test_self_reviews_return_status(reader: KubeReader) -> None:
    rules = reader.self_subject_rules_review("api-gateway")
    assert rules["resourceRules"]
    access = reader.self_subject_access_review("list", "hpas", "api-gateway")
    assert access["allowed"] is True
    assert reader.can("delete", "pods", "api-gateway") is False


def test_the_process_wide_default_configuration_is_untouched(reader: KubeReader) -> None:
    default = k8s.Configuration.get_default_copy()
    assert default.host != reader.api_client.configuration.host
    assert reader.api_client.configuration.retries == 0
    assert not default.api_key


def test_kinds_resolve_by_plural_kind_and_short_name() -> None:
    assert resolve_kind("Deployment") is resolve_kind("deploy") is resolve_kind("deployments")
    assert resolve_kind("horizontalpodautoscalers").plural == "hpas"
    with pytest.raises(ValueError, match="does not read 'widgets'"):
        resolve_kind("widgets")


def test_list_many_sends_independent_lists_concurrently(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    emulator.faults.set_latency(0.2)
    scopes = [("pods", "api-gateway"), ("services", "api-gateway"), ("nodes", None)]
    scopes += [("configmaps", "api-gateway"), ("ingresses", "api-gateway")]
    started = time.perf_counter()
    answers = reader.list_many(scopes)
    elapsed = time.perf_counter() - started
    assert set(answers) == set(scopes)
    assert all(isinstance(a, list) for a in answers.values())
    assert elapsed < 0.2 * 3, f"{elapsed:.2f} s: the lists were sent one after another"
    # Served from the cache afterwards: no second request.
    before = emulator.count()
    reader.list_many(scopes)
    assert emulator.count() == before


def test_list_many_hands_back_a_forbidden_kind_as_its_error(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    emulator.access.forbid("secrets", "api-gateway")
    answers = reader.list_many([("secrets", "api-gateway"), ("pods", "api-gateway")])
    assert isinstance(answers[("secrets", "api-gateway")], KubeForbidden)
    assert isinstance(answers[("pods", "api-gateway")], list)


def test_pod_logs_are_a_bounded_get_of_the_log_subresource(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    pod = "api-gateway-7d9f8b6c5d-x2k4p"
    emulator.logs.set("api-gateway", pod, "api-gateway", [f"line {i}" for i in range(50)])
    lines = reader.pod_log("api-gateway", pod, "api-gateway", tail_lines=5)
    assert lines == [f"line {i}" for i in range(45, 50)]
    (request,) = emulator.requests
    assert (request.method, request.verb, request.resource) == ("GET", "get", "pods/log")
    assert request.query["tailLines"] == ["5"]
    assert request.query["container"] == ["api-gateway"]
    # Never cached: logs change all the time.
    reader.pod_log("api-gateway", pod, "api-gateway", tail_lines=5)
    assert emulator.count() == 2
    assert emulator.count(mutating=True) == 0


def test_previous_logs_of_a_container_that_never_restarted_are_a_clear_error(
    reader: KubeReader,
) -> None:
    with pytest.raises(KubeApiError, match="previous terminated container"):
        reader.pod_log(
            "api-gateway",
            "api-gateway-7d9f8b6c5d-x2k4p",
            "api-gateway",
            tail_lines=5,
            previous=True,
        )


def test_a_forbidden_log_read_names_the_subresource_and_the_fix(
    reader: KubeReader, emulator: KubeEmulator
) -> None:
    emulator.access.forbid("pods/log", "api-gateway")
    with pytest.raises(KubeForbidden) as info:
        reader.pod_log("api-gateway", "api-gateway-7d9f8b6c5d-x2k4p", "api-gateway", tail_lines=5)
    message = str(info.value)
    assert "forbids get pods/log 'api-gateway-7d9f8b6c5d-x2k4p' in namespace api-gateway" in message
    assert "Role in namespace api-gateway with verb [get] on pods/log" in message
