"""The layers of ARCHITECTURE.md as a test of the codebase: who may import whom.

Imports are read with ast from every module (those inside functions and TYPE_CHECKING blocks too:
a type-only import is still a dependency on the other layer), relative ones resolved. A second test
imports the pytest-free layers for real and looks at sys.modules.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "pytest_deployverify"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

CLIENT_LIBRARIES = (
    "httpx",
    "redis",
    "psycopg",
    "kubernetes",
    "yaml",
    "cryptography",
    "dns",
    "prometheus_api_client",
    "openapi_spec_validator",
    "kubernetes_validate",
    "securesystemslib",
    "in_toto_attestation",
)
PYTEST = ("pytest", "_pytest", "pluggy", "xdist", "pytest_html")

# layer -> the layers of this package it may import (its own always allowed)
ALLOWED: dict[str, set[str]] = {
    "profile": set(),
    "checks": {"profile"},
    "evidence": {"profile"},
    "components": {"profile", "checks"},
    "signoff": {"profile", "checks"},
    "checklist": {"profile", "checks", "components", "signoff", "evidence", "pytest_plugin"},
    "pytest_plugin": {"profile", "checks", "components", "signoff", "evidence", "checklist"},
    "cli": {"profile", "checks", "components", "signoff", "evidence", "pytest_plugin"},
    "root": {"profile", "checks", "components", "evidence", "checklist"},
}
# Layers that never import pytest (nor its plugins).
PYTEST_FREE = {"profile", "checks", "evidence", "components", "signoff", "root"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    return parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(SRC.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, relative ones made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:  # from pytest_deployverify.checks import redis: a module
                if _is_module(f"{target}.{alias.name}"):
                    yield f"{target}.{alias.name}", node.lineno


def _is_module(name: str) -> bool:
    if not name.startswith(PACKAGE + "."):
        return False
    relative = Path(*name.split(".")[1:])
    return (SRC / relative).with_suffix(".py").is_file() or (
        SRC / relative / "__init__.py"
    ).is_file()


def all_modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def violations() -> list[str]:
    found = []
    for path in all_modules():
        own = layer_of(module_name(path))
        for target, line in imports_of(path):
            where = f"{path.relative_to(SRC.parent)}:{line}"
            top = target.split(".")[0]
            if top == PACKAGE and "." in target:
                other = layer_of(target)
                if other != own and other not in ALLOWED[own]:
                    found.append(f"{where}: {own} imports {target} ({other} layer)")
            if own == "checks" and top in CLIENT_LIBRARIES:
                found.append(f"{where}: checks import the client library {target}")
            if own in PYTEST_FREE and top in PYTEST:
                found.append(f"{where}: {own} imports {target} (pytest belongs to the glue)")
    return found


def test_every_layer_imports_only_what_it_may() -> None:
    assert violations() == []


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself can fail: a checks module that imports httpx and the glue."""
    bad = SRC / "checks" / "_layering_probe_tmp.py"
    bad.write_text("import httpx\nfrom pytest_deployverify.pytest_plugin import plugin\n")
    try:
        found = violations()
    finally:
        bad.unlink()
    assert any("checks import the client library httpx" in v for v in found)
    assert any("checks imports pytest_deployverify.pytest_plugin" in v for v in found)


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in all_modules():
        own = layer_of(module_name(path))
        for target, _ in imports_of(path):
            if target.startswith(PACKAGE + "."):
                other = layer_of(target)
                if other != own and other != "root":
                    graph.setdefault(own, set()).add(other)
    return graph


def test_no_import_cycles_between_packages() -> None:
    graph = package_graph()
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif len(stack) < 10:
                visit(nxt, [*stack, nxt])

    for start in graph:
        visit(start, [start])
    # The glue and the checklist know each other by design (the glue registers the checklist's
    # fixtures; the checklist uses the glue's fixtures): one pair, named here, nothing else.
    allowed = {
        "checklist -> pytest_plugin -> checklist",
        "pytest_plugin -> checklist -> pytest_plugin",
    }
    assert sorted(set(cycles) - allowed) == []


@pytest.mark.parametrize("layer", ["profile", "checks", "components", "signoff"])
def test_importing_a_pytest_free_layer_imports_no_pytest(layer: str) -> None:
    modules = [
        module_name(p)
        for p in all_modules()
        if layer_of(module_name(p)) == layer and not p.name.startswith("_layering")
    ]
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {PYTEST!r})\n"
        "print(bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_loading_every_component_imports_no_client_library() -> None:
    probe = (
        "import sys\n"
        "from pytest_deployverify.components.catalog import all_components, check_catalog\n"
        "components = all_components()\n"
        "check_catalog(components)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {CLIENT_LIBRARIES + PYTEST!r})\n"
        "print(bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
