"""Scrub secret values from a test report before any reporter (terminal, JUnit, HTML, xdist) sees it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pytest_deployverify.profile.secrets import Redactor


def redact_report(report: pytest.TestReport | pytest.CollectReport, redactor: Redactor) -> None:
    if not redactor:
        return
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = redactor.redact(longrepr)
    elif isinstance(longrepr, tuple):  # skip: (path, lineno, reason)
        report.longrepr = tuple(redactor.redact(v) if isinstance(v, str) else v for v in longrepr)  # type: ignore[assignment]
    elif longrepr is not None and redactor.contains_secret(str(longrepr)):
        # Walk pytest's repr dataclasses in place so the terminal keeps its layout and colours.
        _redact_tree(longrepr, redactor, set())
        if redactor.contains_secret(str(longrepr)):
            report.longrepr = redactor.redact(str(longrepr))
    if report.sections:
        report.sections = [(title, redactor.redact(body)) for title, body in report.sections]
    data = getattr(report, "deployverify", None)
    if data is not None:
        report.deployverify = redactor.redact_data(data)  # type: ignore[union-attr]
    if getattr(report, "user_properties", None):
        report.user_properties = [  # type: ignore[union-attr]
            (name, redactor.redact_data(value)) for name, value in report.user_properties
        ]


def _redact_tree(node: Any, redactor: Redactor, seen: set[int]) -> Any:
    if isinstance(node, str):
        return redactor.redact(node)
    if id(node) in seen:
        return node
    seen.add(id(node))
    if isinstance(node, list):
        node[:] = [_redact_tree(v, redactor, seen) for v in node]
        return node
    if isinstance(node, tuple):
        return tuple(_redact_tree(v, redactor, seen) for v in node)
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _redact_tree(node[key], redactor, seen)
        return node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            new = _redact_tree(value, redactor, seen)
            if new is not value:
                object.__setattr__(node, f.name, new)
        return node
    return node
