"""Annotated field types shared by the profile and its expectation sections."""

from __future__ import annotations

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
