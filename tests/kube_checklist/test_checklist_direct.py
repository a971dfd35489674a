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
from pytest_deployverify.components.kubernetes.reader import KubeReader, build_kube_reader
from pytest_deployverify.profile.model import Profile
from tests.kube_checklist.cluster import (
    APP,
    NS,
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
    return {r.item.item_id: r for r in checklist.run_all()}


def _failed(results: dict[str, ItemResult]) -> dict[str, str]:
    return {item: r.message for item, r in results.items() if not r.passed and not r.skipped}


def test_the_healthy_sandbox_passes_every_item(cluster: Cluster, reader: KubeReader) -> None:
    results = _results(KubeChecklist.live(reader, _profile(cluster)))
    assert set(results) == set(ITEMS)
    assert {item: r.message or r.skipped for item, r in results.items() if not r.passed} == {}
    # Every item recorded what it looked at, ending with its (empty) findings.
    for result in results.values():
        assert result.evidence[-1]["name"] == "findings"
        assert result.evidence[-1]["ok"] is True


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


# ---- pre-deploy mode ------------------------------------------------------------------------------


def _manifest_checklist(tmp_path: Path, objects: list[dict[str, Any]], text: str) -> KubeChecklist:
    folder = write_manifests(tmp_path / "rendered", objects)
    return KubeChecklist.from_manifests(folder, profile_from(text))


def _manifest_profile(defect: Defect | None = None) -> str:
    text = profile_text("/nonexistent/kubeconfig").replace(
        "public_host =", MANIFEST_EXTRA + "public_host ="
    )
    return defect.expect(text) if defect else text


def test_healthy_manifests_pass_and_live_items_skip(tmp_path: Path) -> None:
    checklist = _manifest_checklist(tmp_path, rendered_manifests(), _manifest_profile())
    results = _results(checklist)
    assert _failed(results) == {}
    skipped = {item for item, r in results.items() if r.skipped}
    live_only = {item for item, spec in ITEMS.items() if spec.live_only}
    assert skipped == live_only | {"K8S-SECRET-LENGTH"}
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
