"""Capacity: quantities, image references, storage classes, node headroom, image size."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pytest_deployverify.checks.findings import summarize
from pytest_deployverify.checks.kube.capacity import (
    image_size_findings,
    node_headroom_findings,
    pod_requests,
    storage_class_findings,
)
from pytest_deployverify.checks.kube.images import digest_of, parse_image, same_image
from pytest_deployverify.checks.kube.quantities import format_bytes, format_cpu, parse_quantity

from .test_kube_builders import (
    APP,
    DIGEST,
    IMAGE,
    OTHER_DIGEST,
    Obj,
    deployment,
    ids,
    node,
    nodes,
    pods,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100m", Decimal("0.1")),
        ("1", Decimal(1)),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("1.", Decimal(1)),
        ("+2", Decimal(2)),
        ("512Mi", Decimal(512 * 1024**2)),
        ("1Gi", Decimal(1024**3)),
        ("1.5Gi", Decimal(3 * 1024**3 // 2)),
        ("1Ki", Decimal(1024)),
        ("2Ti", Decimal(2 * 1024**4)),
        ("1Ei", Decimal(1024**6)),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("1e-3", Decimal("0.001")),
        ("2k", Decimal(2000)),
        ("1M", Decimal(10**6)),
        ("1G", Decimal(10**9)),
        ("1E", Decimal(10**18)),  # exa, not an exponent without digits
        ("250u", Decimal("0.00025")),
        ("7n", Decimal("0.000000007")),
        (" 3 ", Decimal(3)),
        (2, Decimal(2)),
        (0.1, Decimal("0.1")),
    ],
)
def test_quantities(text: str | int | float, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "m", "1mi", "1 Gi", "abc", "1e", "1KiB", "--1", "1.2.3"])
def test_invalid_quantities_name_the_input(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)


def test_bool_is_not_a_quantity() -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(True)


def test_quantity_formatting() -> None:
    assert format_cpu(Decimal("0.25")) == "250m"
    assert format_cpu(Decimal(2)) == "2"
    assert format_bytes(Decimal(1024**3 * 3 // 2)) == "1.5Gi"
    assert format_bytes(Decimal(512)) == "512"


@pytest.mark.parametrize(
    ("reference", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "", "nginx", "", ""),
        ("nginx:1.27", "", "nginx", "1.27", ""),
        ("localhost:5000/app:2", "localhost:5000", "app", "2", ""),
        ("registry.example.com/team/app:1.0.0", "registry.example.com", "team/app", "1.0.0", ""),
        (f"app@{DIGEST}", "", "app", "", DIGEST),
        (f"r.io/app:1.0@{DIGEST}", "r.io", "app", "1.0", DIGEST),
        (f"docker-pullable://nginx@{DIGEST}", "", "nginx", "", DIGEST),
    ],
)
def test_image_references(
    reference: str, registry: str, repository: str, tag: str, digest: str
) -> None:
    ref = parse_image(reference)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


def test_image_comparisons() -> None:
    assert same_image("nginx:1.27", "docker.io/library/nginx:1.27")
    assert same_image("nginx", "nginx:latest")
    assert not same_image("nginx:1.27", "nginx:1.26")
    assert same_image(f"app:1@{DIGEST}", f"app@{DIGEST}")
    assert not same_image(f"app@{DIGEST}", f"app@{OTHER_DIGEST}")
    assert digest_of(f"docker.io/x@{DIGEST}") == DIGEST
    assert digest_of(DIGEST) == DIGEST
    assert digest_of("x:1") == ""


def _storage_class(name: str, default: bool = False) -> Obj:
    notes = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {"kind": "StorageClass", "metadata": {"name": name, "annotations": notes}}


def test_storage_classes() -> None:
    classes = [_storage_class("standard"), _storage_class("fast-ssd", default=True)]
    assert storage_class_findings(classes, "fast-ssd", require_default=True) == []
    found = storage_class_findings(classes[:1], "fast-ssd", require_default=True)
    assert ids(found) == {"storage-class-missing", "storage-class-default-missing"}
    assert "standard" in found[0].message


def test_pod_requests_with_init_sidecar_and_overhead() -> None:
    spec = {
        "containers": [
            {"resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
            {"resources": {"requests": {"cpu": "100m"}}},
        ],
        "initContainers": [
            {"resources": {"requests": {"cpu": "2", "memory": "64Mi"}}},
            {"restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}},
        ],
        "overhead": {"cpu": "10m"},
    }
    need = pod_requests(spec)
    assert need["cpu"] == Decimal("2.01")  # the big init container dominates
    assert need["memory"] == Decimal(256 * 1024**2)


def test_workload_fits_on_nodes() -> None:
    assert node_headroom_findings(deployment(), nodes(), pods()) == []


def _busy_pod(node_name: str, cpu: str) -> Obj:
    return {
        "kind": "Pod",
        "metadata": {"name": f"busy-{node_name}", "namespace": "batch", "labels": {"app": "busy"}},
        "spec": {
            "nodeName": node_name,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}],
        },
        "status": {"phase": "Running"},
    }


def test_insufficient_capacity() -> None:
    busy = [_busy_pod(f"node-{i}", "3900m") for i in (1, 2, 3)]
    found = node_headroom_findings(deployment(), nodes(), [*pods(), *busy])
    assert ids(found) == {"insufficient-node-capacity"}
    assert "room for 0 of 3" in found[0].message
    assert "cpu 250m" in found[0].message
    assert APP in found[0].subject


def test_partial_room_counts_across_nodes() -> None:
    busy = [_busy_pod("node-1", "3900m"), _busy_pod("node-2", "3600m")]
    # node-2 fits 1 (400m free), node-3 fits 16: enough for 3, not for 20
    assert node_headroom_findings(deployment(), nodes(), busy) == []
    found = node_headroom_findings(deployment(), nodes(), busy, replicas=20)
    assert "room for 17 of 20" in found[0].message


def test_finished_pods_free_their_requests() -> None:
    busy = [_busy_pod(f"node-{i}", "3900m") for i in (1, 2, 3)]
    for p in busy:
        p["status"]["phase"] = "Succeeded"
    assert node_headroom_findings(deployment(), nodes(), busy) == []


@pytest.mark.parametrize("change", ["cordoned", "not-ready", "tainted", "selector"])
def test_ineligible_nodes(change: str) -> None:
    cluster = nodes()
    for n in cluster:
        if change == "cordoned":
            n["spec"]["unschedulable"] = True
        elif change == "not-ready":
            n["status"]["conditions"][0]["status"] = "False"
        elif change == "tainted":
            n["spec"]["taints"] = [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]
    dep = deployment()
    if change == "selector":
        dep["spec"]["template"]["spec"]["nodeSelector"] = {"pool": "gateway"}
    found = node_headroom_findings(dep, cluster, [])
    assert ids(found) == {"insufficient-node-capacity"}
    assert "no eligible node" in found[0].message


def test_tolerated_taint_keeps_the_node() -> None:
    cluster = nodes()
    for n in cluster:
        n["spec"]["taints"] = [{"key": "dedicated", "value": "gateway", "effect": "NoSchedule"}]
    dep = deployment()
    dep["spec"]["template"]["spec"]["tolerations"] = [
        {"key": "dedicated", "operator": "Equal", "value": "gateway", "effect": "NoSchedule"}
    ]
    assert node_headroom_findings(dep, cluster, []) == []


def test_daemonset_needs_room_on_every_node() -> None:
    dep = deployment()
    daemonset = {
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": dep["spec"]["template"],
        },
    }
    assert node_headroom_findings(daemonset, nodes(), []) == []
    found = node_headroom_findings(daemonset, nodes(), [_busy_pod("node-2", "3900m")])
    assert ids(found) == {"insufficient-node-capacity"}
    assert "node-2: 0" in found[0].message


def test_image_size_under_limit() -> None:
    assert image_size_findings(IMAGE, nodes(), 500_000_000) == []
    assert image_size_findings(f"registry.example.com/{APP}@{DIGEST}", nodes(), 500_000_000) == []


def test_image_too_large() -> None:
    found = image_size_findings(IMAGE, [node(1)], 100 * 1024**2)
    assert ids(found) == {"image-too-large"}
    assert "171.7Mi" in found[0].message
    assert "100.0Mi" in found[0].message


def test_image_size_unknown_for_other_digest() -> None:
    found = image_size_findings(f"registry.example.com/{APP}@{OTHER_DIGEST}", nodes(), 10)
    assert ids(found) == {"image-size-unknown"}


def test_docker_hub_short_names_match() -> None:
    assert image_size_findings("nginx:1.27", nodes(), 100_000_000) == []
    found = image_size_findings("nginx:1.27", nodes(), 1_000)
    assert ids(found) == {"image-too-large"}, summarize(found)
