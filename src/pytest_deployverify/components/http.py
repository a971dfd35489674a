"""The HTTP client for smoke checks: the profile's base URL, CA, headers and timeout.

Redirects are not followed: a check that expects ``301 -> https`` must see the 301.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import httpx

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.components.errors import ComponentUnavailable
from pytest_deployverify.components.httpcommon import explain_http_error, tls_verify
from pytest_deployverify.expectations.gateway import HttpExpectations
from pytest_deployverify.profile.fields import HttpUrl, Seconds
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.secrets import Secret

COMPONENT = "http"


@dataclasses.dataclass(frozen=True, kw_only=True)
class HttpConfig:
    base_url: HttpUrl
    ca_file: str | None = None
    verify_tls: bool = True
    timeout: Seconds = 5.0
    headers: Mapping[str, Secret] = dataclasses.field(default_factory=dict)
    expect: HttpExpectations = dataclasses.field(default_factory=HttpExpectations)


def http_client(config: HttpConfig) -> httpx.Client:
    """An ``httpx.Client`` for the profile's service; nothing is sent yet."""
    return httpx.Client(
        base_url=config.base_url.get(),
        timeout=config.timeout,
        verify=tls_verify(config.ca_file, config.verify_tls),
        headers={name: value.get() for name, value in config.headers.items()},
        follow_redirects=False,
    )


def build_http_client(config: HttpConfig) -> httpx.Client:
    """The probed client: a HEAD of the base URL must get an HTTP answer (any status) in time."""
    client = http_client(config)
    try:
        client.head("")
    except httpx.HTTPError as exc:
        client.close()
        raise ComponentUnavailable(
            COMPONENT, config.base_url.display, explain_http_error(exc, config.timeout)
        ) from exc
    return client


def _connect(section: HttpConfig, profile: Profile) -> httpx.Client:
    return build_http_client(section)


component = Component(
    name="http",
    checklist=(
        "pytest_deployverify.checklist.test_gateway_security",
        "pytest_deployverify.checklist.test_gateway_smoke",
    ),
    title="HTTP service",
    sections=(SectionSpec("http", HttpConfig, "the service's public HTTP(S) endpoint"),),
    connect=_connect,
    endpoint=lambda section: str(section.base_url),
    extra="http",
)
