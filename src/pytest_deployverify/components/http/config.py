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

    # The service's public address; every probe path is relative to it
    # (`base_url = "https://api.example.com"`).
    base_url: HttpUrl
    # A PEM file of the CA certificates that sign the service's certificate (unset: the system
    # trust store); the TLS trust check verifies against it too.
    ca_file: ExistingFile | None = None
    # Verify the service's certificate on the probes' requests; false only for a test
    # environment with a self-signed certificate (SEC-GW-TLS-TRUST still judges the chain).
    verify_tls: bool = True
    # Seconds each request may take (the timed probes use it per request too).
    timeout: Seconds = 5.0
    # Headers sent with every request, e.g. an API key a gateway in front demands; the values
    # are secrets (`headers = { X-Api-Key = "${API_KEY}" }`). Anonymous probes leave them out.
    headers: Mapping[HeaderName, HeaderValue] = dataclasses.field(default_factory=dict)
    expect: HttpExpectations = dataclasses.field(default_factory=HttpExpectations)

    @property
    def https(self) -> bool:
        return self.base_url.scheme == "https"

    def static_headers(self) -> dict[str, str]:
        """The profile's headers (API keys), to send with every request to the gateway."""
        return {name: value.get() for name, value in self.headers.items()}
