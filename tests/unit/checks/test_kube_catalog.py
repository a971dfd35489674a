"""The check catalog: ids are well formed and every id is documented in the package README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pytest_deployverify.checks.kube as kube
from pytest_deployverify.checks.findings import Severity
from pytest_deployverify.checks.kube.catalog import CHECKS, check

README = Path(kube.__file__).with_name("README.md")


def _readme_rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*`([a-z0-9-]+)`\s*\|\s*(\w+)\s*\|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def test_ids_are_kebab_case() -> None:
    for check_id in CHECKS:
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", check_id), check_id


def test_readme_documents_every_check_with_its_default_severity() -> None:
    rows = _readme_rows()
    assert set(rows) == set(CHECKS)
    for check_id, severity in rows.items():
        assert Severity.parse(severity) is CHECKS[check_id].severity, check_id


def test_unknown_id_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        check("no-such-check")
