"""OpenMetrics text for backfilling Prometheus with a known past (``promtool tsdb
create-blocks-from openmetrics``).

The format promtool reads, and which these helpers write::

    # TYPE queue_depth gauge
    queue_depth{queue="orders"} 3 1700000000
    queue_depth{queue="orders"} 4 1700000015
    # TYPE http_requests counter
    http_requests_total{code="200"} 0 1700000000
    http_requests_total{code="200"} 30 1700000015
    # EOF

* one ``# TYPE <family> <type>`` line per metric family, before its samples;
* counters: the family has no suffix, its samples are named ``<family>_total``;
* every sample carries a timestamp in **seconds** since the epoch (integers keep range-query
  steps aligned), in increasing order per series;
* label values quoted, with ``\\``, ``"`` and newlines escaped;
* the document ends with ``# EOF`` (promtool rejects it otherwise).

Timestamps must lie in the past when Prometheus starts: see ``sandbox.servers.prometheus``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence

_TYPES = ("gauge", "counter", "untyped")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape(str(value))}"' for key, value in sorted(labels.items()))
    return "{" + inner + "}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def past_timestamps(window_s: int, step_s: int, *, end: int | None = None) -> list[int]:
    """Timestamps every ``step_s`` seconds covering the last ``window_s`` seconds, aligned to
    multiples of ``step_s`` and ending strictly before ``end`` (default: now)."""
    if step_s <= 0 or window_s <= 0:
        raise ValueError("window_s and step_s must be positive")
    now = int(time.time()) if end is None else end
    last = (now - 1) // step_s * step_s
    first = last - (window_s // step_s) * step_s
    return list(range(first, last + 1, step_s))


def openmetrics_series(
    name: str,
    labels: Mapping[str, str],
    values_by_ts: Mapping[int, float] | Iterable[tuple[int, float]],
) -> str:
    """Sample lines (no ``# TYPE``, no ``# EOF``) of one series, sorted by timestamp."""
    pairs = values_by_ts.items() if isinstance(values_by_ts, Mapping) else values_by_ts
    label_text = _labels(labels)
    return "".join(
        f"{name}{label_text} {_number(value)} {int(ts)}\n" for ts, value in sorted(pairs)
    )


def counter_series(
    name: str,
    labels: Mapping[str, str],
    *,
    per_second: float,
    window_s: int = 3600,
    step_s: int = 15,
    start_value: float = 0.0,
    end: int | None = None,
) -> str:
    """Sample lines of a counter rising by ``per_second`` over the last ``window_s`` seconds, one
    sample every ``step_s`` seconds, so ``rate(name[5m])`` anywhere in the window is
    ``per_second``. ``name`` must end in ``_total`` (OpenMetrics counter samples)."""
    if not name.endswith("_total"):
        raise ValueError(f"counter sample names end in _total: {name!r}")
    stamps = past_timestamps(window_s, step_s, end=end)
    first = stamps[0]
    return openmetrics_series(
        name, labels, [(ts, start_value + per_second * (ts - first)) for ts in stamps]
    )


def openmetrics_document(*families: tuple[str, str, Sequence[str]]) -> str:
    """A complete document from ``(family, type, [sample blocks…])`` tuples, ``# EOF`` included.

    Example: ``openmetrics_document(("queue_depth", "gauge", [openmetrics_series(...)]))``.
    """
    out: list[str] = []
    for family, kind, blocks in families:
        if kind not in _TYPES:
            raise ValueError(f"metric type must be one of {_TYPES}, not {kind!r}")
        out.append(f"# TYPE {family} {kind}\n")
        for block in blocks:
            sample_name = block.split("{", 1)[0].split(" ", 1)[0]
            expected = f"{family}_total" if kind == "counter" else family
            if block and sample_name != expected:
                raise ValueError(f"samples of {kind} {family!r} must be named {expected!r}")
            out.append(block if block.endswith("\n") or not block else block + "\n")
    out.append("# EOF\n")
    return "".join(out)


def latest_timestamp(document: str) -> float | None:
    """The newest sample timestamp in an OpenMetrics document (seconds), or None if it has none."""
    newest: float | None = None
    for line in document.splitlines():
        if not line or line.startswith("#"):
            continue
        # "<name>{labels} <value> <timestamp>": label values may hold spaces, the tail never does.
        parts = line.rsplit(" ", 2)
        if len(parts) < 3:
            continue
        try:
            stamp = float(parts[2])
        except ValueError:
            continue
        newest = stamp if newest is None else max(newest, stamp)
    return newest
