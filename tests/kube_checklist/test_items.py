"""The verify/ tests and the checklist's item table agree: ids, titles, severities, sections."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pytest_deployverify.checklist.kubernetes import ITEMS, KubeChecklist, manifests_path
from pytest_deployverify.checks.findings import Severity
from pytest_deployverify.checks.kube.catalog import CHECKS
from pytest_deployverify.expectations.kube import KubeExpectations
from pytest_deployverify.profile.schema import build
from tests.kube_checklist.cluster import CHECKLIST, VERIFY_FILES, profile_from, profile_text


def _tests() -> dict[str, dict[str, object]]:
    """Per verify test: its check marker's id/title/severity, its sections, its workload arg."""
    found: dict[str, dict[str, object]] = {}
    for file in VERIFY_FILES:
        tree = ast.parse((CHECKLIST / file).read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            info: dict[str, object] = {
                "sections": [],
                "workload": any(a.arg == "workload" for a in node.args.args),
                "file": file,
            }
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                mark = target.attr if isinstance(target, ast.Attribute) else ""
                if mark == "check" and isinstance(deco, ast.Call):
                    info["id"] = ast.literal_eval(deco.args[0])
                    info |= {k.arg: ast.literal_eval(k.value) for k in deco.keywords if k.arg}
                elif mark in ("infra", "security", "monitoring", "smoke"):
                    info["sections"].append(mark)  # type: ignore[attr-defined]
            found[node.name] = info
    return found


def test_every_item_has_exactly_one_test_with_its_metadata() -> None:
    tests = _tests()
    by_id = {str(t["id"]): (name, t) for name, t in tests.items()}
    assert len(by_id) == len(tests), "two tests share a check id"
    assert set(by_id) == set(ITEMS)
    for item_id, (name, test) in by_id.items():
        item = ITEMS[item_id]
        assert test["title"] == item.title, name
        assert test["severity"] == item.severity.value, name
        assert test["sections"] == [item.section], name
        assert test["workload"] == item.per_workload, name
        expected_file = (
            "test_kubernetes_security.py"
            if item.section == "security"
            else "test_kubernetes_infra.py"
        )
        assert test["file"] == expected_file, name


def test_severity_is_the_most_severe_of_the_catalog_checks() -> None:
    assert ITEMS["K8S-ROLLOUT"].severity is Severity.CRITICAL  # pod-crash-loop
    assert ITEMS["K8S-RESOURCES"].severity is Severity.HIGH  # memory-limits-missing
    assert ITEMS["K8S-PULL-POLICY"].severity is Severity.MEDIUM


def test_every_catalog_check_belongs_to_an_item() -> None:
    covered = {c for item in ITEMS.values() for c in item.check_ids}
    assert covered == set(CHECKS)


def test_run_refuses_a_workload_mismatch() -> None:
    checklist = KubeChecklist.__new__(KubeChecklist)
    with pytest.raises(TypeError, match="K8S-RESOURCES takes a workload"):
        checklist.run("K8S-RESOURCES")
    with pytest.raises(TypeError, match="K8S-DNS takes no workload"):
        checklist.run("K8S-DNS", "api-gateway")


def test_the_expect_table_validates_and_names_mistakes() -> None:
    profile = profile_from(profile_text("/k/config"))
    assert profile.kubernetes is not None
    expect = profile.kubernetes.expect
    assert expect.secret_min_length["api-gateway-secrets/JWT_SECRET"] == 32
    assert expect.forbidden_env["CORS_ORIGIN"] == ("*",)
    assert expect.helm is not None
    assert expect.helm.chart_version == "0.9.3"
    assert expect.rollout.timeout == 0
    from pytest_deployverify.profile.schema import SchemaError

    with pytest.raises(
        SchemaError,
        match=r"kubernetes\.expect\.min_replica: unknown key; did you mean 'min_replicas'",
    ):
        profile_from(profile_text("/k/config").replace("min_replicas = 2", "min_replica = 2"))
    with pytest.raises(
        SchemaError,
        match=r"kubernetes\.expect\.rollout\.timeout: must be greater than or equal to 0",
    ):
        profile_from(profile_text("/k/config") + "\n[kubernetes.expect.rollout]\ntimeout = -1\n")


def test_defaults_require_only_the_common_availability_settings() -> None:
    expect = KubeExpectations()
    assert (expect.min_replicas, expect.require_hpa, expect.require_cpu_limit) == (2, True, True)
    assert expect.helm is None
    assert expect.public_host is None
    assert expect.rollout.timeout == 0


def test_manifests_path_cli_wins_and_resolves_relative_paths(tmp_path: Path) -> None:
    expect = build(KubeExpectations, {"manifests": "chart/rendered"})
    cwd, root = tmp_path / "cwd", tmp_path / "root"
    assert manifests_path(expect, "out", cwd=cwd, rootdir=root) == cwd / "out"
    assert manifests_path(expect, None, cwd=cwd, rootdir=root) == root / "chart/rendered"
    assert manifests_path(KubeExpectations(), None, cwd=cwd, rootdir=root) is None
    assert manifests_path(expect, "/abs", cwd=cwd, rootdir=root) == Path("/abs")
