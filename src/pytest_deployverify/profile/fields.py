"""Annotated field types shared by the profile and the components' tables: URLs, bounded numbers,
durations written the way Prometheus writes them, and the no-data policy of a measurement."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pytest_deployverify.profile.schema import Range
from pytest_deployverify.profile.secrets import Endpoint


class _UrlCheck:
    def __init__(self, *schemes: str) -> None:
        self.schemes = schemes

    def __call__(self, value: Endpoint) -> Endpoint:
        raw = value.get()
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError(f"malformed URL {value.display!r}: {exc}") from None
        if parts.scheme.lower() not in self.schemes:
            allowed = ", ".join(f"{s}://" for s in self.schemes)
            raise ValueError(f"URL {value.display!r} must start with {allowed}")
        if not parts.hostname:
            raise ValueError(f"URL {value.display!r} has no host")
        return value


HttpUrl = Annotated[Endpoint, _UrlCheck("http", "https")]
RedisUrl = Annotated[Endpoint, _UrlCheck("redis", "rediss")]
PostgresDsn = Annotated[Endpoint, _UrlCheck("postgresql", "postgres")]
Seconds = Annotated[float, Range(gt=0, le=3600)]
Fraction = Annotated[float, Range(ge=0, le=1)]
PositiveFloat = Annotated[float, Range(gt=0)]
Count = Annotated[int, Range(ge=0)]


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: str | float) -> float:
    """Seconds in ``value``: a number of seconds, or ``"1h30m"``-style text. ValueError otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if not text or _DURATION_PART.sub("", text):
            raise ValueError(f"not a duration: {value!r}; write e.g. '15m', '1h30m' or '30s'")
        seconds = sum(
            float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text)
        )
    else:
        raise ValueError("expected a duration such as '15m' or a number of seconds")
    if seconds <= 0:
        raise ValueError("a duration must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """``900`` → ``"15m"``, ``5400`` → ``"1h30m"``, ``2.5`` → ``"2.5s"`` (for messages and evidence)."""
    if seconds < 60 and not float(seconds).is_integer():
        return f"{seconds:g}s"
    out, rest = "", round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"


class _DurationCheck:
    def __call__(self, value: str | float) -> str | float:
        parse_duration(value)
        return value


Duration = Annotated[str | float, _DurationCheck()]


class NoDataPolicy(StrEnum):
    """What an empty (or all-NaN) answer means. Never a silent pass: ``pass`` must be written."""

    FAIL = "fail"
    PASS = "pass"
    INCONCLUSIVE = "inconclusive"
