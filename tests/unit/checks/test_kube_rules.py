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


def polaris_table() -> list[tuple[str, str, str]]:
    """(Polaris check, our id, item) from the rows of POLARIS.md's table."""
    rows = []
    for line in (PACKAGE / "POLARIS.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"`[a-z0-9-]+`", cells[1]):
            rows.append((cells[0], cells[1].strip("`"), cells[2]))
    return rows


def test_the_polaris_table_matches_the_code() -> None:
    from pytest_deployverify.checks.kube.items import PLANS
    from pytest_deployverify.checks.kube.rules import POLARIS

    rows = polaris_table()
    assert len(rows) >= 40
    # Every mirrored Polaris check is a row, with the id the code maps it to ...
    assert {polaris: ours for polaris, ours, _ in rows} == dict(POLARIS)
    # ... and the item the row names is the one that reports that rule.
    for polaris, ours, item_cell in rows:
        items = set(re.findall(r"K8S-[A-Z-]+", item_cell))
        reporting = {item_id for item_id, plan in PLANS.items() if ours in plan.rule_ids}
        assert items, (polaris, item_cell)
        assert items <= reporting, (polaris, ours, items, reporting)
