"""The Kubernetes rules: each declared once, ids well formed and unique, findings made by calling them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import pytest_deployverify.checks.kube as kube
from pytest_deployverify.checks.findings import Finding, Rule, Severity
from pytest_deployverify.checks.kube.rules import BY_ID, EQUIVALENTS, PULL_POLICY, RULES

PACKAGE = Path(kube.__file__).parent


def test_ids_are_kebab_case_and_unique() -> None:
    for rule in RULES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", rule.id), rule.id
        assert rule.title, rule.id
    assert len({r.id for r in RULES}) == len(RULES)


def test_equivalents_name_known_rules_only() -> None:
    assert set(EQUIVALENTS) <= set(BY_ID)
    assert "Polaris pullPolicyNotAlways" in EQUIVALENTS[PULL_POLICY.id]


def test_calling_a_rule_makes_its_finding() -> None:
    finding = PULL_POLICY("Deployment ns/app container c", "imagePullPolicy is Never")
    assert finding == Finding(
        "container-image-pull-policy",
        Severity.MEDIUM,
        "Deployment ns/app container c",
        "imagePullPolicy is Never",
    )
    assert PULL_POLICY("x", "y", Severity.HIGH).severity is Severity.HIGH


def test_unknown_id_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        BY_ID["no-such-check"]


def test_the_checks_make_findings_only_by_calling_rules() -> None:
    """No module has its own finding helper or builds ``Finding`` itself."""
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "Finding", f"{path.name} builds a Finding directly"
            if isinstance(node, ast.FunctionDef):
                assert node.name.lstrip("_") != "finding", f"{path.name} defines {node.name}"
    assert all(isinstance(rule, Rule) for rule in RULES)
