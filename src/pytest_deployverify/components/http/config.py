"""``[http]``: the service's public HTTP(S) endpoint, and what the checks expect of it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from pytest_deployverify.checks.http.expectations import HttpExpectations
from pytest_deployverify.profile.fields import (
    ExistingFile,
    HeaderName,
    HeaderValue,
    HttpUrl,
    Seconds,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HttpConfig:
    """``[http]``: the gateway every HTTP check talks to (TLS, latency and load included)."""

    base_url: HttpUrl
    ca_file: ExistingFile | None = None
    verify_tls: bool = True
    timeout: Seconds = 5.0
    headers: Mapping[HeaderName, HeaderValue] = dataclasses.field(default_factory=dict)
    expect: HttpExpectations = dataclasses.field(default_factory=HttpExpectations)

    @property
    def https(self) -> bool:
        return self.base_url.scheme == "https"

    def static_headers(self) -> dict[str, str]:
        """The profile's headers (API keys), to send with every request to the gateway."""
        return {name: value.get() for name, value in self.headers.items()}
