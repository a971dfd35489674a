"""``KubeChecklist`` called directly: a real ``KubeReader`` over the emulator, or manifests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checklist.kubernetes import (
    ITEMS,
    PREDEPLOY_SKIP,
    ItemResult,
    KubeChecklist,
    pinned_resolver,
)
from pytest_deployverify.checks.kube.scan import OTHERS
from pytest_deployverify.components.kubernetes.reader import KubeReader, build_kube_reader
from pytest_deployverify.profile.model import Profile
from tests.kube_checklist.cluster import (
    APP,
    NS,
    UNUSED_KUBECONFIG,
    Cluster,
    cluster,
    profile_from,
    profile_text,
    rendered_manifests,
    write_manifests,
)
from tests.kube_checklist.defects import LIVE_DEFECTS, RENDERED_DEFECTS, Defect

__all__ = ["cluster"]

MANIFEST_EXTRA = 'dns_addresses = ["127.0.0.1"]\n'


def _profile(cluster: Cluster, defect: Defect | None = None) -> Profile:
    text = profile_text(cluster.kubeconfig)
    return profile_from(defect.expect(text) if defect else text)


@pytest.fixture
def reader(cluster: Cluster) -> Iterator[KubeReader]:
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as built:
        yield built


def _results(checklist: KubeChecklist) -> dict[str, ItemResult]:
    """Each item's result for the listed workload (or once); the objects outside the listed
    workloads are ``_others``."""
    return {r.item.item_id: r for r in checklist.run_all() if r.scope != OTHERS}


def _others(checklist: KubeChecklist) -> dict[str, ItemResult]:
    return {r.item.item_id: r for r in checklist.run_all() if r.scope == OTHERS}


# Not applicable by design: live objects were validated by the API server; the priority class
# check is opt-in; the sandbox's only Ingress is the public host's, judged by K8S-INGRESS.
BY_DESIGN = {"K8S-PRIORITY-CLASS", "K8S-INGRESS-TLS"}
BY_DESIGN_LIVE = {"K8S-SCHEMA", *BY_DESIGN}


def _failed(results: dict[str, ItemResult]) -> dict[str, str]:
    return {item: r.message for item, r in results.items() if not r.passed and not r.skipped}


def test_the_healthy_sandbox_passes_every_item(cluster: Cluster, reader: KubeReader) -> None:
    checklist = KubeChecklist.live(reader, _profile(cluster))
    results = _results(checklist)
    assert set(results) == set(ITEMS)
    assert {
        item: r.message or r.skipped
        for item, r in results.items()
        if not r.passed and item not in BY_DESIGN_LIVE
    } == {}
    assert results["K8S-SCHEMA"].skipped is not None
    assert "validated by it" in results["K8S-SCHEMA"].skipped
    assert results["K8S-PRIORITY-CLASS"].skipped == (
        "not applicable: [kubernetes.expect] require_priority_class = false"
    )
    assert "judged by K8S-INGRESS" in str(results["K8S-INGRESS-TLS"].skipped)
    # Every item recorded what it looked at, ending with its (empty) findings.
    for item, result in results.items():
        if item in BY_DESIGN_LIVE:
            continue
        assert result.evidence[-1]["name"] == "findings"
        assert result.evidence[-1]["ok"] is True
    # Nothing else lives in the namespace: the other objects' scope is not applicable, and says
    # so, naming the listed workloads.
    others = _others(checklist)
    assert set(others) == {i for i, item in ITEMS.items() if item.per_workload and item.plan.scans}
    for item, result in others.items():
        assert result.skipped is not None, item
        if item != "K8S-PRIORITY-CLASS":
            assert "outside [kubernetes] workloads (api-gateway)" in result.skipped, item


@pytest.mark.parametrize("defect", LIVE_DEFECTS, ids=lambda d: f"{d.item}:{d.check_id}")
def test_one_live_defect_fails_exactly_its_item(cluster: Cluster, defect: Defect) -> None:
    assert defect.live is not None
    defect.live(cluster)
    profile = _profile(cluster, defect)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = _results(KubeChecklist.live(reader, profile))
    failed = _failed(results)
    assert set(failed) == {defect.item}, failed
    result = results[defect.item]
    assert defect.check_id in result.check_ids
    for fragment in defect.says:
        assert fragment in result.message


def test_secret_values_never_reach_messages_or_evidence(cluster: Cluster) -> None:
    secrets = [b"tbqsZ0CZLAJib3HL9TkAqX971TZDPhyzu+ODfW+5PeyVzBn7", b"short-secret-16c"]
    secret = cluster.get("Secret", "api-gateway-secrets")
    secret["data"]["JWT_SECRET"] = "c2hvcnQtc2VjcmV0LTE2Yw=="  # short-secret-16c
    cluster.kube.store.put(secret)
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = KubeChecklist.live(reader, profile).run_all()
    text = repr([(r.message, r.evidence) for r in results])
    assert "JWT_SECRET" in text  # the key is named...
    for value in secrets:
        assert value.decode() not in text  # ...its value never


def test_a_forbidden_kind_fails_only_the_items_that_read_it(cluster: Cluster) -> None:
    cluster.kube.access.forbid("secrets", NS)
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = _results(KubeChecklist.live(reader, profile))
    failed = _failed(results)
    assert set(failed) == {
        "K8S-CONFIG-REFS",
        "K8S-SECRET-LENGTH",
        "K8S-HELM-RELEASE",
        "K8S-HELM-DRIFT",
    }
    for message in failed.values():
        assert "forbids list secrets in namespace api-gateway (403 Forbidden" in message
        assert (
            "grant the verifier a Role in namespace api-gateway with verbs [get, list]" in message
        )


def test_requests_do_not_grow_with_the_number_of_checks(cluster: Cluster) -> None:
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    counts = []
    for repeat in (1, 5):
        with build_kube_reader(profile.kubernetes) as reader:
            checklist = KubeChecklist.live(reader, profile)
            before = len(cluster.kube.requests)
            for _ in range(repeat):
                checklist.run_all()
            counts.append(len(cluster.kube.requests) - before)
    assert counts[0] == counts[1]
    assert cluster.kube.count(mutating=True) == 0


class _Rollout:
    """A rollout that needs two polls: the sleep between polls finishes it in the store."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.now = 0.0
        self.sleeps: list[float] = []
        cluster.edit("Deployment", APP, self.set_ready(1))

    @staticmethod
    def set_ready(count: int) -> Any:
        def change(deployment: dict[str, Any]) -> None:
            deployment["status"]["readyReplicas"] = count
            deployment["status"]["availableReplicas"] = count

        return change

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.cluster.edit("Deployment", APP, self.set_ready(3))


def _with_wait(cluster: Cluster, timeout: float) -> Profile:
    text = profile_text(cluster.kubeconfig)
    return profile_from(
        text + f"\n[kubernetes.expect.rollout]\ntimeout = {timeout}\ninterval = 2\n"
    )


def test_the_rollout_wait_reads_fresh_state_until_it_settles(cluster: Cluster) -> None:
    rollout = _Rollout(cluster)
    profile = _with_wait(cluster, 30)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        checklist = KubeChecklist.live(reader, profile, clock=rollout.clock, sleep=rollout.sleep)
        result = checklist.run("K8S-ROLLOUT", APP)
    assert result.passed, result.message
    assert rollout.sleeps == [2]
    assert {"name": "waited", "value": 2.0, "unit": "s"} in result.evidence


def test_without_a_wait_an_unfinished_rollout_fails_at_once(cluster: Cluster) -> None:
    _Rollout(cluster)
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        result = KubeChecklist.live(reader, profile).run("K8S-ROLLOUT", APP)
    assert result.check_ids == {"rollout-replicas"}
    assert "ready 1/3" in result.message
    assert "kubectl rollout status" in result.message


def test_the_dns_resolver_is_injectable(cluster: Cluster, reader: KubeReader) -> None:
    text = profile_text(cluster.kubeconfig).replace(
        'resolve = { "api.example.com" = ["127.0.0.1"] }\n', ""
    )
    profile = profile_from(text)
    asked: list[str] = []

    def resolver(host: str, port: None) -> list[tuple[Any, ...]]:
        asked.append(host)
        if host == "api.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert KubeChecklist.live(reader, profile, resolver=resolver).run("K8S-DNS").passed
    assert asked[0] == "api.example.com"
    failing = KubeChecklist.live(reader, profile, resolver=pinned_resolver({}, _unknown))
    result = failing.run("K8S-DNS")
    assert result.check_ids == {"dns-resolution-failed"}
    assert "create the DNS record" in result.message


def _unknown(host: str, port: None) -> list[tuple[Any, ...]]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_pinned_answers_are_marked_in_the_evidence(cluster: Cluster, reader: KubeReader) -> None:
    result = KubeChecklist.live(reader, _profile(cluster), resolver=_unknown).run("K8S-DNS")
    assert result.passed, result.message
    entry = next(e for e in result.evidence if e["name"] == "api.example.com resolves to")
    assert entry["value"] == ["127.0.0.1"]
    assert entry["note"] == "answer pinned in the profile, not looked up"


def test_a_missing_workload_names_what_exists_and_the_fix(
    cluster: Cluster, reader: KubeReader
) -> None:
    result = KubeChecklist.live(reader, _profile(cluster)).run("K8S-RESOURCES", "api-gw")
    assert not result.passed
    assert result.error is not None
    assert "Deployment api-gateway/api-gw not found" in result.error
    assert "Deployments there: api-gateway" in result.error
    assert "fix [kubernetes] workloads" in result.error


def test_a_statefulset_workload_is_checked_too(cluster: Cluster, reader: KubeReader) -> None:
    text = profile_text(cluster.kubeconfig).replace(f'namespace = "{NS}"', 'namespace = "redis"')
    text = text.replace(f'workloads = ["{APP}"]', 'workloads = ["StatefulSet/redis"]')
    checklist = KubeChecklist.live(reader, profile_from(text))
    assert checklist.run("K8S-ROLLOUT", "StatefulSet/redis").passed
    # The redis fixture is a one-replica StatefulSet without HPA or PDB: reported, not crashed.
    assert checklist.run("K8S-REPLICAS", "StatefulSet/redis").check_ids == {
        "deployment-missing-replicas"
    }
    assert checklist.run("K8S-STORAGE-CLASS", "StatefulSet/redis").passed


def test_storage_classes_with_nothing_to_require_are_not_applicable(
    cluster: Cluster, reader: KubeReader
) -> None:
    """A workload that claims no volume, in a profile that names no class and asks for no
    default, gives K8S-STORAGE-CLASS nothing to judge: not applicable, not a pass."""
    text = profile_text(cluster.kubeconfig)
    text = text.replace('storage_classes = ["fast-ssd"]\n', "")
    text = text.replace("require_default_storage_class = true\n", "")
    result = KubeChecklist.live(reader, profile_from(text)).run("K8S-STORAGE-CLASS", APP)
    assert not result.passed
    assert result.skipped is not None
    assert "claims no storage class" in result.skipped
    assert "storage_classes" in result.skipped
    # With a class required the same workload is judged again (and the cluster has it).
    assert (
        KubeChecklist.live(reader, profile_from(profile_text(cluster.kubeconfig)))
        .run("K8S-STORAGE-CLASS", APP)
        .passed
    )


def test_the_storage_of_bound_volumes_is_judged_with_the_node_capacity(cluster: Cluster) -> None:
    """Issue 15: K8S-NODE-CAPACITY judges the workload's PersistentVolumeClaims too (Bound, the
    capacity it requested, an expandable class when required)."""
    text = profile_text(cluster.kubeconfig).replace(f'namespace = "{NS}"', 'namespace = "redis"')
    text = text.replace(f'workloads = ["{APP}"]', 'workloads = ["StatefulSet/redis"]')
    text = text.replace("min_replicas = 2", "min_replicas = 2\nrequire_volume_expansion = true")

    def run() -> ItemResult:
        profile = profile_from(text)
        assert profile.kubernetes is not None
        with build_kube_reader(profile.kubernetes) as reader:
            return KubeChecklist.live(reader, profile).run("K8S-NODE-CAPACITY", "StatefulSet/redis")

    healthy = run()
    assert healthy.passed, healthy.message
    volumes = next(e for e in healthy.evidence if e["name"] == "persistent volumes")
    assert volumes["value"] == {
        "data-redis-0": {
            "phase": "Bound",
            "requested": "10Gi",
            "capacity": "10Gi",
            "storageClass": "fast-ssd",
            "allowVolumeExpansion": True,
        }
    }
    assert "kubelet volume stats" in volumes["note"]

    def shrunk(claim: dict[str, Any]) -> None:
        claim["status"]["capacity"]["storage"] = "8Gi"

    cluster.edit("PersistentVolumeClaim", "data-redis-0", shrunk, ns="redis")
    result = run()
    assert result.check_ids == {"volume-capacity-short"}
    assert "PersistentVolumeClaim redis/data-redis-0: provides 8Gi but requests 10Gi" in (
        result.message
    )

    def fixed_size(storage_class: dict[str, Any]) -> None:
        storage_class["allowVolumeExpansion"] = False

    cluster.edit("StorageClass", "fast-ssd", fixed_size, ns=None)
    assert run().check_ids == {"volume-capacity-short", "volume-expansion-disabled"}
    cluster.kube.store.delete("PersistentVolumeClaim", "redis", "data-redis-0")
    assert "data-redis-0: does not exist" in run().message


# ---- pre-deploy mode ------------------------------------------------------------------------------


def _manifest_checklist(tmp_path: Path, objects: list[dict[str, Any]], text: str) -> KubeChecklist:
    folder = write_manifests(tmp_path / "rendered", objects)
    return KubeChecklist.from_manifests(folder, profile_from(text))


def _manifest_profile(defect: Defect | None = None) -> str:
    text = profile_text(UNUSED_KUBECONFIG).replace(
        "public_host =", MANIFEST_EXTRA + "public_host ="
    )
    return defect.expect(text) if defect else text


def test_healthy_manifests_pass_and_live_items_skip(tmp_path: Path) -> None:
    checklist = _manifest_checklist(tmp_path, rendered_manifests(), _manifest_profile())
    results = _results(checklist)
    assert _failed(results) == {}
    skipped = {item for item, r in results.items() if r.skipped}
    live_only = {item for item, spec in ITEMS.items() if spec.live_only}
    # The sandbox profile reads the cluster's VulnerabilityReports (live) and names no report file.
    assert skipped == live_only | {"K8S-SECRET-LENGTH", "SEC-K8S-IMAGE-VULNS"} | BY_DESIGN
    assert "judged live" in str(results["SEC-K8S-IMAGE-VULNS"].skipped)
    assert all(results[item].skipped == PREDEPLOY_SKIP for item in live_only)


@pytest.mark.parametrize("defect", RENDERED_DEFECTS, ids=lambda d: f"{d.item}:{d.check_id}")
def test_one_rendered_defect_fails_exactly_its_item(tmp_path: Path, defect: Defect) -> None:
    objects = rendered_manifests()
    assert defect.rendered is not None
    defect.rendered(objects)
    results = _results(_manifest_checklist(tmp_path, objects, _manifest_profile(defect)))
    failed = _failed(results)
    assert set(failed) == {defect.item}, failed
    for fragment in defect.says:
        assert fragment in results[defect.item].message


def test_a_broken_manifest_names_the_file_and_document(tmp_path: Path) -> None:
    folder = tmp_path / "rendered"
    folder.mkdir()
    (folder / "deployment.yaml").write_text(
        "---\nkind: Deployment\nmetadata: {name: x}\n---\n: :\n"
    )
    with pytest.raises(ValueError, match=r"deployment.yaml: document 2: invalid YAML"):
        KubeChecklist.from_manifests(folder, profile_from(_manifest_profile()))


# ---- issue 12: accuracy ---------------------------------------------------------------------------


def _pinned_if_not_present(cluster: Cluster) -> None:
    """A healthy setup this project did not build: IfNotPresent on the pinned release tag."""
    from tests.kube_checklist.cluster import app_container, chart_change

    def if_not_present(workload: dict[str, Any]) -> None:
        app_container(workload)["imagePullPolicy"] = "IfNotPresent"

    chart_change(cluster.kube, if_not_present)


def test_if_not_present_on_a_pinned_tag_passes_every_item(cluster: Cluster) -> None:
    _pinned_if_not_present(cluster)
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = _results(KubeChecklist.live(reader, profile))
    assert _failed(results) == {}
    policy = next(e for e in results["K8S-PULL-POLICY"].evidence if e["name"].startswith("images"))
    assert "(IfNotPresent)" in policy["value"]["api-gateway"]
    assert "IfNotPresent allowed on a version tag or digest" in policy["expected"]


def test_the_strict_pull_policy_is_opt_in(cluster: Cluster) -> None:
    _pinned_if_not_present(cluster)
    text = profile_text(cluster.kubeconfig).replace(
        "min_replicas = 2", 'min_replicas = 2\npull_policy = "always"'
    )
    profile = profile_from(text)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = _results(KubeChecklist.live(reader, profile))
    assert set(_failed(results)) == {"K8S-PULL-POLICY"}
    assert "imagePullPolicy is IfNotPresent" in results["K8S-PULL-POLICY"].message


def test_an_unpinned_image_with_if_not_present_fails_the_pull_policy(tmp_path: Path) -> None:
    objects = rendered_manifests()
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "registry.example.com/api-gateway:latest"
    container["imagePullPolicy"] = "IfNotPresent"
    results = _results(_manifest_checklist(tmp_path, objects, _manifest_profile()))
    assert set(_failed(results)) == {"K8S-IMAGE-TAG", "K8S-PULL-POLICY"}
    message = results["K8S-PULL-POLICY"].message
    assert "unpinned image 'registry.example.com/api-gateway:latest'" in message
    assert "set imagePullPolicy: Always" in message


def test_spread_with_few_replicas_can_be_relaxed(tmp_path: Path) -> None:
    objects = rendered_manifests()
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    del deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    strict = _results(_manifest_checklist(tmp_path, objects, _manifest_profile()))
    assert set(_failed(strict)) == {"K8S-TOPOLOGY"}
    assert "3 replicas, but no topologySpreadConstraints" in strict["K8S-TOPOLOGY"].message
    # The HPA keeps 3 replicas at least: a profile judging spread from 4 replicas passes it.
    relaxed_text = _manifest_profile().replace(
        "min_replicas = 2", "min_replicas = 2\ntopology_spread_min_replicas = 4"
    )
    relaxed = _results(_manifest_checklist(tmp_path / "2", objects, relaxed_text))
    assert _failed(relaxed) == {}
    off = _manifest_profile().replace(
        "min_replicas = 2", "min_replicas = 2\ntopology_spread = false"
    )
    result = _results(_manifest_checklist(tmp_path / "3", objects, off))["K8S-TOPOLOGY"]
    assert result.skipped == "not applicable: [kubernetes.expect] topology_spread = false"


def _entry(result: ItemResult, prefix: str) -> dict[str, Any]:
    return next(e for e in result.evidence if str(e["name"]).startswith(prefix))


def test_availability_evidence_shows_the_pdb_hpa_and_constraints_judged(
    cluster: Cluster, reader: KubeReader
) -> None:
    results = _results(KubeChecklist.live(reader, _profile(cluster)))
    (pdb,) = _entry(results["K8S-PDB"], "PodDisruptionBudgets")["value"]
    assert (pdb["name"], pdb["minAvailable"]) == ("api-gateway", 2)
    assert (pdb["currentHealthy"], pdb["disruptionsAllowed"]) == (3, 1)
    budget = _entry(results["K8S-PDB"], "replicas the budget")
    assert budget["value"] == 3
    hpa = _entry(results["K8S-HPA"], "HorizontalPodAutoscalers")["value"][0]
    assert hpa["name"] == "api-gateway"
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    assert hpa["currentReplicas"] == 3
    assert hpa["metrics"]
    assert hpa["currentMetrics"]
    spread = _entry(results["K8S-TOPOLOGY"], "spread constraints")["value"]
    assert {c["topologyKey"] for c in spread} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    assert all(c["maxSkew"] == 1 for c in spread)
    replicas = _entry(results["K8S-REPLICAS"], "replicas")
    assert replicas["value"]["managed by"][0]["name"] == "api-gateway"
    assert "defers to it" in replicas["note"]


def test_secrets_in_pod_logs_are_found_without_showing_them(cluster: Cluster) -> None:
    from tests.kube_checklist.defects import LOGGED_JWT, LOGGED_TOKEN

    cluster.kube.logs.append(NS, "api-gateway-7d9f8b6c5d-t5n9w", APP, LOGGED_TOKEN)
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = _results(KubeChecklist.live(reader, profile))
    assert set(_failed(results)) == {"SEC-K8S-POD-LOGS"}
    result = results["SEC-K8S-POD-LOGS"]
    assert result.check_ids == {"pod-log-secret"}
    assert "Pod api-gateway/api-gateway-7d9f8b6c5d-t5n9w container api-gateway" in result.message
    assert "line 22 of the last 22 log lines holds a JWT" in result.message
    assert LOGGED_JWT not in repr((result.message, result.evidence))
    scanned = _entry(result, "container logs scanned")["value"]
    assert len(scanned) == 3  # three pods, one container each, none restarted


def test_masked_secrets_in_logs_pass(cluster: Cluster) -> None:
    for line in (
        '{"level":"info","msg":"login","password":"***"}',
        '{"level":"debug","headers":{"authorization":"Bearer [REDACTED]"}}',
    ):
        cluster.kube.logs.append(NS, "api-gateway-7d9f8b6c5d-t5n9w", APP, line)
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        result = KubeChecklist.live(reader, profile).run("SEC-K8S-POD-LOGS", APP)
    assert result.passed, result.message


def test_logs_read_bounded_tails_concurrently_and_only_what_restarted_twice(
    cluster: Cluster,
) -> None:
    from tests.kube_checklist.defects import _secret_before_a_restart

    _secret_before_a_restart(cluster)
    text = profile_text(cluster.kubeconfig).replace(
        "min_replicas = 2", "min_replicas = 2\nmax_restarts = 1\npod_logs = { tail_lines = 5 }"
    )
    profile = profile_from(text)
    assert profile.kubernetes is not None
    cluster.kube.reset_counts()
    with build_kube_reader(profile.kubernetes) as reader:
        result = KubeChecklist.live(reader, profile).run("SEC-K8S-POD-LOGS", APP)
    logs = [r for r in cluster.kube.requests if r.resource == "pods/log"]
    assert len(logs) == 4  # three current logs, and the previous one of the restarted pod
    assert {r.query["tailLines"][0] for r in logs} == {"5"}
    assert [r.query.get("previous") for r in logs].count(["true"]) == 1
    assert {r.method for r in logs} == {"GET"}
    assert result.check_ids == {"pod-log-secret"}
    assert "(previous instance)" in result.message
    assert "holds a password" in result.message


def test_a_forbidden_log_read_fails_only_the_log_item_naming_the_fix(cluster: Cluster) -> None:
    cluster.kube.access.forbid("pods/log", NS)
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = _results(KubeChecklist.live(reader, profile))
    failed = _failed(results)
    assert set(failed) == {"SEC-K8S-POD-LOGS"}
    message = failed["SEC-K8S-POD-LOGS"]
    assert "forbids get pods/log" in message
    assert "grant the verifier a Role in namespace api-gateway with verb [get] on pods/log" in (
        message
    )


def test_value_based_secrets_in_env_are_found_and_never_shown(cluster: Cluster) -> None:
    from tests.kube_checklist.cluster import app_container, chart_change
    from tests.kube_checklist.defects import PRIVATE_KEY

    aws_key = "AKIA" + "Q7ZL3NXW5RT2VB6M"

    def literal(workload: dict[str, Any]) -> None:
        app_container(workload)["env"].append({"name": "UPSTREAM_ID", "value": aws_key})

    chart_change(cluster.kube, literal)
    cluster.edit(
        "ConfigMap",
        "api-gateway-config",
        lambda cm: cm["data"].update(CACHE_KEY_PREFIX="gw:", UPSTREAM_BUNDLE=PRIVATE_KEY),
    )
    profile = _profile(cluster)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        results = _results(KubeChecklist.live(reader, profile))
    assert set(_failed(results)) == {"K8S-SECRET-ENV"}
    result = results["K8S-SECRET-ENV"]
    assert "UPSTREAM_ID looks secret (its value is an AWS access key id)" in result.message
    assert "UPSTREAM_BUNDLE (its value is a PEM private key)" in result.message
    assert "CACHE_KEY_PREFIX" not in result.message  # a key-like name with a plain value
    text = repr((result.message, result.evidence))
    assert aws_key not in text
    assert "MHcCAQEE" not in text


def test_a_version_written_with_a_leading_v_is_the_same_release(cluster: Cluster) -> None:
    text = profile_text(cluster.kubeconfig).replace('version = "1.4.2"', 'version = "v1.4.2"')
    profile = profile_from(text)
    assert profile.kubernetes is not None
    with build_kube_reader(profile.kubernetes) as reader:
        checklist = KubeChecklist.live(reader, profile)
        rollout = checklist.run("K8S-ROLLOUT", APP)
        release = checklist.run("K8S-HELM-RELEASE")
    assert rollout.passed, rollout.message
    assert release.passed, release.message
    image = _entry(rollout, "image")
    assert (
        image["note"] == "compared '1.4.2' against expected 'v1.4.2' (compared as 1.4.2 and 1.4.2)"
    )
    # A different release is still a different release, and the message says what was compared.
    other = profile_from(text.replace('"v1.4.2"', '"v1.5.0"'))
    assert other.kubernetes is not None
    with build_kube_reader(other.kubernetes) as reader:
        failed = KubeChecklist.live(reader, other).run("K8S-ROLLOUT", APP)
    assert "rollout-image-version" in failed.check_ids
    assert "'1.4.2' against expected 'v1.5.0'" in failed.message
