"""The README's examples, run as written where they can be.

Every fenced block is extracted: TOML blocks parse and validate as a profile (with the registered
components' tables, and against the JSON Schema) or as a pyproject fragment; a waiver names checks
that exist. Shell blocks: `pip install` names extras the package has; every `pytest` command uses
only options pytest knows with the plugin; every `deployverify` command parses, and those that
need nothing external run in a scratch project (a team test, a profile, the sign-offs the README's
own pytest command writes there). Python blocks compile.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.cli import build_parser
from pytest_deployverify.cli.profile_commands import documented_sections
from pytest_deployverify.components.catalog import all_components, check_catalog, profile_from_dict
from pytest_deployverify.profile.jsonschema import json_compatible, profile_schema

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(*languages: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README) if lang in languages]


def shell_commands() -> list[list[str]]:
    """Every command of the shell blocks (continuation lines joined, comments dropped)."""
    found = []
    for body in blocks("bash", "sh", "shell", "console"):
        for line in body.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append(shlex.split(line, comments=True))
    return found


def _paths_made_real(value: Any, stand_in: Path, replaced: list[str]) -> Any:
    """Absolute paths of the reader's machine (a CA file) become a file that exists here."""
    if isinstance(value, dict):
        return {k: _paths_made_real(v, stand_in, replaced) for k, v in value.items()}
    if isinstance(value, list):
        return [_paths_made_real(v, stand_in, replaced) for v in value]
    if isinstance(value, str) and value.startswith("/") and not Path(value).exists():
        replaced.append(value)
        return str(stand_in)
    return value


def _variables(value: Any) -> Any:
    """``${VAR}`` text as the loader would fill it from an exported variable."""
    if isinstance(value, dict):
        return {k: _variables(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_variables(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"\$\{[^}]+\}", "exported-value-1234", value)
    return value


def test_readme_has_the_blocks_this_test_reads() -> None:
    assert blocks("toml")
    assert shell_commands()


@pytest.mark.parametrize("index", range(len(blocks("toml"))))
def test_toml_blocks_are_valid_profiles_or_pyproject_fragments(index: int, tmp_path: Path) -> None:
    data = tomllib.loads(blocks("toml")[index])
    if "tool" in data or "project" in data:
        ini = data.get("tool", {}).get("pytest", {}).get("ini_options", {})
        known = {
            "deployverify_env",
            "deployverify_env_dir",
            "deployverify_checklist",
            "deployverify_signoff_exit",
        }
        assert {k for k in ini if k.startswith("deployverify")} <= known
        return
    jsonschema = pytest.importorskip("jsonschema")
    schema = profile_schema(*documented_sections())
    errors = [
        e.message
        for e in jsonschema.Draft202012Validator(schema).iter_errors(json_compatible(data))
    ]
    assert errors == []
    stand_in = tmp_path / "ca.pem"
    stand_in.write_text("-----BEGIN CERTIFICATE-----\n")
    replaced: list[str] = []
    profile = profile_from_dict(
        {"name": "production", **_variables(_paths_made_real(data, stand_in, replaced))}
    )
    ids = list(check_catalog(all_components()))
    for waiver in profile.waivers:
        assert any(fnmatch.fnmatchcase(i, waiver.check) for i in ids), (
            f"README waiver {waiver.check!r} matches no check id"
        )


def test_python_blocks_compile() -> None:
    for body in blocks("python"):
        ast.parse(body)


def test_pip_install_names_extras_the_package_has() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    installs = [c for c in shell_commands() if c[:2] == ["pip", "install"]]
    assert installs
    for command in installs:
        for requirement in command[2:]:
            match = re.fullmatch(r"pytest-deployverify(?:\[([\w,]+)\])?", requirement)
            assert match, requirement
            for extra in (match.group(1) or "").split(","):
                assert not extra or extra in extras, f"README installs unknown extra {extra!r}"


@pytest.fixture(scope="module")
def pytest_options() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    return {w.split("=")[0].rstrip(",") for w in result.stdout.split() if w.startswith("--")}


def test_pytest_commands_use_options_pytest_knows(pytest_options: set[str]) -> None:
    commands = [c for c in shell_commands() if c[0] == "pytest"]
    assert commands
    for command in commands:
        unknown = [a.split("=")[0] for a in command if a.startswith("--")]
        unknown = [a for a in unknown if a not in pytest_options]
        assert unknown == [], f"{shlex.join(command)}: unknown options {unknown}"


def test_deployverify_commands_parse() -> None:
    commands = [c for c in shell_commands() if c[0] == "deployverify"]
    assert commands
    for command in commands:
        if command[1] == "checklist":
            continue  # everything after it goes to pytest (run below)
        build_parser().parse_args(command[1:])


def test_readme_commands_run_in_a_project(tmp_path: Path) -> None:
    """The README's own flow in a scratch project: its pytest command writes the sign-offs its
    `deployverify signoff` commands verify and merge, and `deployverify checklist` lists."""
    bin_dir = Path(sys.executable).parent
    deployverify = shutil.which("deployverify", path=str(bin_dir))
    assert deployverify, "the deployverify command is installed beside python"
    project = tmp_path / "project"
    (project / "verify" / "environments").mkdir(parents=True)
    (project / "verify" / "environments" / "production.toml").write_text("protected = true\n")
    (project / "verify" / "test_team.py").write_text(
        "import pytest\n\n\n@pytest.mark.smoke\n@pytest.mark.check('TEAM-ONE', title='One thing "
        "holds', severity='high')\ndef test_one(evidence):\n    evidence.record('x', 1, "
        "expected=1, source='here')\n"
    )
    (project / "reports").mkdir()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "REDIS_PASSWORD": "x" * 16}

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        program = {"pytest": [sys.executable, "-m", "pytest"], "deployverify": [deployverify]}
        return subprocess.run(
            [*program[argv[0]], *argv[1:]],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    ran = 0
    for command in shell_commands():
        if command[0] == "pytest" and "--signoff" in command:
            # The README's run writes every report it names; the shipped checklist stays off
            # (the profile configures no component: nothing of it would apply).
            argv = [a for a in command if not a.startswith(("--approve", "--attest"))]
            argv = [a for a in argv if not a.startswith(("Security=", "oncall="))]
            result = run([*argv, "--checklist", "none", "-p", "no:cacheprovider"])
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
            named = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--signoff", "--html")]
            assert named
            for name in named:
                assert (project / name).is_file(), name
            ran += 1
    for command in shell_commands():
        if command[0] != "deployverify":
            continue
        if command[1] == "init" and {"--kube-context", "--kubeconfig"} & set(command):
            continue  # needs a cluster: tests/plugin/test_init.py and tests/e2e run it on one
        if command[1:3] == ["signoff", "merge"]:
            for name in command[3:]:
                if name.endswith(".json") and not name.startswith("-") and name != command[-1]:
                    shutil.copy(project / "reports" / "signoff.json", project / name)
        result = run(command)
        assert result.returncode == 0, (
            f"{shlex.join(command)}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
        ran += 1
    assert ran >= 3
