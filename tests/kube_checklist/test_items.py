"""The Kubernetes items are declared once (``checks.kube.items``) and each has exactly one test."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from pytest_deployverify.checklist.kubernetes import ITEMS, KubeChecklist, manifests_path
from pytest_deployverify.checks.declarations import SPEC_ATTRIBUTE, CheckSpec
from pytest_deployverify.checks.findings import Severity
from pytest_deployverify.checks.kube import items as declared
from pytest_deployverify.checks.kube.expectations import KubeExpectations, PullPolicy
from pytest_deployverify.checks.kube.rules import BY_ID, RULES
from pytest_deployverify.components.kubernetes import component
from pytest_deployverify.profile.schema import SchemaError, build
from tests.kube_checklist.cluster import UNUSED_KUBECONFIG, profile_from, profile_text

# Issue 13 (every object, Polaris parity): new items; the existing ones keep id and severity.
NEW_ITEMS = {
    "K8S-SA-TOKEN": Severity.MEDIUM,
    "K8S-PRIORITY-CLASS": Severity.MEDIUM,
    "K8S-INSTANCE-LABEL": Severity.MEDIUM,
    "K8S-RBAC": Severity.HIGH,
    "K8S-INGRESS-TLS": Severity.MEDIUM,
    "K8S-SCHEMA": Severity.HIGH,
    # Issue 15: image vulnerabilities, and the service account a workload names exists.
    "SEC-K8S-IMAGE-VULNS": Severity.CRITICAL,
    "K8S-SA-EXISTS": Severity.HIGH,
}
MODULES = {
    "infra": "pytest_deployverify.checklist.test_kubernetes_infra",
    "security": "pytest_deployverify.checklist.test_kubernetes_security",
}


def _tests() -> dict[str, list[tuple[str, str, object]]]:
    """Declared id -> [(section module, test name, function)] over the shipped test modules."""
    found: dict[str, list[tuple[str, str, object]]] = {}
    for section, module_name in MODULES.items():
        module = importlib.import_module(module_name)
        for name, function in vars(module).items():
            if not name.startswith("test_") or not callable(function):
                continue
            spec = getattr(function, SPEC_ATTRIBUTE, None)
            assert isinstance(spec, CheckSpec), f"{name} is not an @item(SPEC) test"
            found.setdefault(spec.id, []).append((section, name, function))
    return found


def test_every_declared_item_has_exactly_one_test_and_vice_versa() -> None:
    tests = _tests()
    assert set(tests) == {spec.id for spec in declared.CHECKS}
    for item_id, found in tests.items():
        assert len(found) == 1, f"{item_id} has several tests: {found}"
        (section, name, function) = found[0]
        spec = ITEMS[item_id].spec
        assert section == spec.section.value, name
        takes_workload = "workload" in inspect.signature(function).parameters  # type: ignore[arg-type]
        assert takes_workload == ITEMS[item_id].per_workload, name


def test_the_component_ships_the_declarations_and_the_test_modules() -> None:
    assert component.checks == declared.CHECKS
    assert set(component.checklist) == set(MODULES.values())
    assert set(declared.PLANS) == {spec.id for spec in declared.CHECKS}
    for spec in declared.CHECKS:
        assert spec.components == ("kubernetes",)
        assert all(ref.startswith("kubernetes.") for ref in spec.reads)
        assert set(spec.reads) <= {f"kubernetes.{r}" for r in component.reads}


def test_ids_titles_and_severities_of_the_existing_items_are_kept() -> None:
    existing = {spec.id: spec.severity for spec in declared.CHECKS if spec.id not in NEW_ITEMS}
    assert {spec.id: spec.severity for spec in declared.CHECKS if spec.id in NEW_ITEMS} == (
        NEW_ITEMS
    )
    assert existing == {
        "K8S-ROLLOUT": Severity.CRITICAL,
        "K8S-RESOURCES": Severity.HIGH,
        "K8S-PROBES": Severity.HIGH,
        "K8S-IMAGE-TAG": Severity.HIGH,
        "K8S-PULL-POLICY": Severity.MEDIUM,
        "K8S-SECURITY-CONTEXT": Severity.CRITICAL,
        "K8S-REPLICAS": Severity.MEDIUM,
        "K8S-PDB": Severity.MEDIUM,
        "K8S-HPA": Severity.HIGH,
        "K8S-TOPOLOGY": Severity.MEDIUM,
        "K8S-ENV-REQUIRED": Severity.HIGH,
        "K8S-ENV-VALUES": Severity.HIGH,
        "K8S-SECRET-ENV": Severity.HIGH,
        "K8S-CONFIG-REFS": Severity.HIGH,
        "K8S-SECRET-LENGTH": Severity.HIGH,
        "K8S-SERVICE": Severity.HIGH,
        "K8S-INGRESS": Severity.HIGH,
        "K8S-NETWORK-POLICY": Severity.HIGH,
        "K8S-DNS": Severity.HIGH,
        "K8S-NAMESPACE": Severity.HIGH,
        "K8S-SERVICE-ACCOUNT": Severity.CRITICAL,
        "K8S-VERIFIER-READ-ONLY": Severity.HIGH,
        "K8S-STORAGE-CLASS": Severity.HIGH,
        "K8S-NODE-CAPACITY": Severity.HIGH,
        "K8S-IMAGE-SIZE": Severity.MEDIUM,
        "K8S-HELM-RELEASE": Severity.HIGH,
        "K8S-HELM-DRIFT": Severity.HIGH,
        "SEC-K8S-POD-LOGS": Severity.CRITICAL,
    }
    assert declared.ROLLOUT.title == "Rollout settled on the release with healthy pods"
    assert declared.SECRET_ENV.title == "Secrets come from Secrets, not literals or ConfigMaps"


def test_severity_is_the_most_severe_of_the_rules_an_item_owns() -> None:
    order = list(Severity)
    for spec in declared.CHECKS:
        rules = declared.PLANS[spec.id].rules
        assert spec.severity == min((r.severity for r in rules), key=order.index), spec.id
    assert ITEMS["K8S-ROLLOUT"].severity is Severity.CRITICAL  # pod-crash-loop
    assert ITEMS["K8S-RESOURCES"].severity is Severity.HIGH  # memory-limits-missing
    assert ITEMS["K8S-PULL-POLICY"].severity is Severity.MEDIUM


def test_every_rule_belongs_to_an_item() -> None:
    covered = {c for item in ITEMS.values() for c in item.check_ids}
    assert covered == set(BY_ID)
    assert len(RULES) == len(BY_ID)


def test_run_refuses_a_workload_mismatch() -> None:
    checklist = KubeChecklist.__new__(KubeChecklist)
    with pytest.raises(TypeError, match="K8S-RESOURCES takes a workload"):
        checklist.run("K8S-RESOURCES")
    with pytest.raises(TypeError, match="K8S-DNS takes no workload"):
        checklist.run(declared.DNS, "api-gateway")


def test_the_expect_table_validates_and_names_mistakes() -> None:
    profile = profile_from(profile_text(UNUSED_KUBECONFIG))
    assert profile.kubernetes is not None
    expect = profile.kubernetes.expect
    assert expect.secret_min_length["api-gateway-secrets/JWT_SECRET"] == 32
    assert expect.forbidden_env["CORS_ORIGIN"] == ("*",)
    assert expect.helm is not None
    assert expect.helm.chart_version == "0.9.3"
    assert expect.rollout.timeout == 0
    with pytest.raises(
        SchemaError,
        match=r"kubernetes\.expect\.min_replica: unknown key; did you mean 'min_replicas'",
    ):
        profile_from(profile_text(UNUSED_KUBECONFIG).replace("min_replicas = 2", "min_replica = 2"))
    with pytest.raises(
        SchemaError,
        match=r"kubernetes\.expect\.rollout\.timeout: must be greater than or equal to 0",
    ):
        profile_from(
            profile_text(UNUSED_KUBECONFIG) + "\n[kubernetes.expect.rollout]\ntimeout = -1\n"
        )
    with pytest.raises(SchemaError, match=r"kubernetes\.expect\.pull_policy"):
        profile_from(
            profile_text(UNUSED_KUBECONFIG).replace("min_replicas = 2", 'pull_policy = "x"')
        )


def test_defaults_require_only_the_common_availability_settings() -> None:
    expect = KubeExpectations()
    assert (expect.min_replicas, expect.require_hpa, expect.require_cpu_limit) == (2, True, True)
    assert expect.helm is None
    assert expect.public_host is None
    assert expect.rollout.timeout == 0
    # The opinionated rules are at their lenient, widely accepted setting by default.
    assert expect.pull_policy is PullPolicy.PINNED
    assert (expect.topology_spread, expect.topology_spread_min_replicas) == (True, 2)
    assert expect.pod_logs.enabled
    assert expect.pod_logs.tail_lines == 500


@pytest.mark.parametrize(
    ("extra", "item", "reason"),
    [
        ('pull_policy = "off"', declared.PULL_POLICY, '[kubernetes.expect] pull_policy = "off"'),
        (
            "topology_spread = false",
            declared.TOPOLOGY,
            "[kubernetes.expect] topology_spread = false",
        ),
        (
            "pod_logs = { enabled = false }",
            declared.POD_LOG_SECRETS,
            "[kubernetes.expect.pod_logs] enabled = false",
        ),
    ],
)
def test_opinionated_items_can_be_relaxed_by_a_profile_key(
    extra: str, item: CheckSpec, reason: str
) -> None:
    base = profile_from(profile_text(UNUSED_KUBECONFIG))
    assert item.not_applicable(base) is None
    text = profile_text(UNUSED_KUBECONFIG).replace("min_replicas = 2", f"min_replicas = 2\n{extra}")
    relaxed = profile_from(text)
    found = item.not_applicable(relaxed)
    assert found is not None
    assert reason in found


def test_manifests_path_cli_wins_and_resolves_relative_paths(tmp_path: Path) -> None:
    expect = build(KubeExpectations, {"manifests": "chart/rendered"})
    cwd, root = tmp_path / "cwd", tmp_path / "root"
    assert manifests_path(expect, "out", cwd=cwd, rootdir=root) == cwd / "out"
    assert manifests_path(expect, None, cwd=cwd, rootdir=root) == root / "chart/rendered"
    assert manifests_path(KubeExpectations(), None, cwd=cwd, rootdir=root) is None
    assert manifests_path(expect, "/abs", cwd=cwd, rootdir=root) == Path("/abs")
