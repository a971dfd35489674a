"""Running ``deployverify scan`` and ``pytest --manifests`` over the same manifests and profile,
and reading what each found."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from pytest_deployverify.cli import main
from tests.scan.cases import Case, Objects, profile_text

ENV = "scan"


def write_release(folder: Path, objects: Objects, case: Case | None = None) -> tuple[Path, Path]:
    """The manifests as one ``helm template``-style stream, and the profile folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rendered = folder / "rendered"
    rendered.mkdir(exist_ok=True)
    text = "".join(
        f"---\n# Source: shop/templates/{o['kind'].lower()}-{o['metadata']['name']}.yaml\n"
        + yaml.safe_dump(o, sort_keys=False)
        for o in objects
    )
    (rendered / "release.yaml").write_text(text, encoding="utf-8")
    envs = folder / "envs"
    envs.mkdir(exist_ok=True)
    (envs / f"{ENV}.toml").write_text(profile_text(case), encoding="utf-8")
    return rendered, envs


def scan(
    folder: Path, objects: Objects, case: Case | None = None, *extra: str, fmt: str = "json"
) -> tuple[int, Any]:
    """Exit code and report (parsed JSON/SARIF, or text) of the command run in-process."""
    rendered, envs = write_release(folder, objects, case)
    out = folder / f"report.{fmt}"
    code = main(
        [
            "scan",
            str(rendered),
            "--env",
            ENV,
            "--env-dir",
            str(envs),
            "--format",
            fmt,
            "-o",
            str(out),
            *extra,
        ]
    )
    text = out.read_text(encoding="utf-8")
    return code, (text if fmt == "text" else json.loads(text))


def scan_findings(report: dict[str, Any]) -> dict[str, set[str]]:
    """Failed item (``K8S-X[scope]``) -> its finding lines, as the report has them."""
    return {
        item["id"]: {f["text"] for f in item["findings"]}
        for item in report["items"]
        if item["outcome"] == "failed"
    }


def rules_found(report: dict[str, Any]) -> set[str]:
    return {f["check_id"] for item in report["items"] for f in item["findings"]}


_FINDING = re.compile(r"^E?\s*(?:AssertionError: )?(\[[a-z0-9-]+\] .+)$")


def pytest_findings(reports: list[Any]) -> dict[str, set[str]]:
    """Failed item (the sign-off id) -> the finding lines of its failure message."""
    found: dict[str, set[str]] = {}
    for report in reports:
        data = getattr(report, "deployverify", None)
        if not report.failed or data is None:
            continue
        lines = set()
        for line in str(report.longrepr).splitlines():
            match = _FINDING.match(line.strip())
            if match:
                lines.add(match.group(1))
        found[data["check_id"]] = lines
    return found
