"""What a check observed, recorded as small plain data that survives pytest-xdist and lands in reports."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.profile.secrets import Secret

MAX_TEXT = 2000
MAX_ITEMS = 50


@dataclass
class Evidence:
    """Collects observations of one check. Each entry is a JSON-safe dict."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        name: str,
        value: Any,
        *,
        expected: Any = None,
        source: str | None = None,
        ok: bool | None = None,
        unit: str | None = None,
        note: str | None = None,
    ) -> None:
        """Record one observation: what was seen, against what, where it came from."""
        entry: dict[str, Any] = {"name": str(name), "value": plain(value)}
        if expected is not None:
            entry["expected"] = plain(expected)
        if source is not None:
            entry["source"] = _clip(str(source))
        if ok is not None:
            entry["ok"] = bool(ok)
        if unit is not None:
            entry["unit"] = str(unit)
        if note is not None:
            entry["note"] = _clip(str(note))
        self.entries.append(entry)

    def __len__(self) -> int:
        return len(self.entries)


def plain(value: Any, depth: int = 0) -> Any:
    """A JSON-safe, size-bounded copy: secrets masked, floats finite, long text clipped."""
    if isinstance(value, Secret):
        return str(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _clip(value)
    if depth >= 4:
        return _clip(repr(value))
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {str(k): plain(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        seq = list(value)[:MAX_ITEMS]
        return [plain(v, depth + 1) for v in seq]
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return _clip(str(value))
    return value


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
