"""Small text helpers shared by the renderers: Markdown escaping, code spans, evidence lines."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pytest_deployverify.signoff.model import Outcome

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
MAX_VALUE = 160


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def clip(text: str, limit: int = MAX_VALUE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md(text: object) -> str:
    """Plain text safe inside a Markdown line: no accidental emphasis, links, tables or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def code(text: object, limit: int = MAX_VALUE) -> str:
    """A Markdown code span that survives backticks in the value."""
    value = clip(one_line(text), limit)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def evidence_summary(entry: Mapping[str, Any], limit: int = MAX_VALUE) -> str:
    """``name = value (expected X) [unit]`` as plain text, for the terminal and table cells."""
    unit = f" {entry['unit']}" if entry.get("unit") else ""
    text = f"{entry.get('name', '?')} = {value_text(entry.get('value'))}{unit}"
    if "expected" in entry:
        text += f" (expected {value_text(entry['expected'])})"
    if entry.get("ok") is False:
        text += " ✗"
    return clip(one_line(text), limit)


OUTCOME_LABELS = {
    Outcome.PASSED: "passed",
    Outcome.FAILED: "FAILED",
    Outcome.ERROR: "ERROR",
    Outcome.SKIPPED: "skipped",
    Outcome.XFAILED: "xfailed (expected failure in code)",
    Outcome.XPASSED: "xpassed",
    Outcome.WAIVED: "WAIVED",
    Outcome.NOT_RUN: "NOT RUN",
    Outcome.NOT_APPLICABLE: "not applicable",
}


def count_line(counts: Mapping[str, int]) -> str:
    """``3 passed, 1 failed`` with zero counts left out; ``no checks`` when empty."""
    parts = [f"{n} {name}" for name, n in counts.items() if n]
    return ", ".join(parts) if parts else "no checks"


def duration_text(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"
