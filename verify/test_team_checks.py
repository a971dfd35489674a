"""A team's own checks, beside the checklist pytest-deployverify ships.

The shipped checklist is collected whenever an environment is selected; these are ordinary pytest
tests of the team that runs this repository's sandbox. They use the same fixtures (``kube``,
``http_client``, ``profile``, ``evidence``, ``snapshot``), land in the same sign-off, and show the
two ways to say what a check is:

* declared once (``declare`` + ``@item``): id, title, section, severity and what it needs in one
  place, so the check is not applicable by itself when the profile lacks its component;
* a marker on an ordinary test (``@pytest.mark.check``), for a quick one-off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pytest_deployverify import Evidence, Finding, Rule, Severity, declare
from pytest_deployverify.checklist import conclude, item

RATE_LIMIT = Rule("team-rate-limit", Severity.HIGH, "the gateway enforces the agreed limit")
AGREED_RATE_LIMIT = {"RATE_LIMIT_MAX": "100", "RATE_LIMIT_WINDOW_MS": "60000"}

GATEWAY_RATE_LIMIT = declare(
    "TEAM-GW-RATE-LIMIT",
    title="Gateway rate limit is the agreed 100 requests per minute",
    section="security",
    severity="high",
    components=("kubernetes",),
    keys=("kubernetes.namespace",),
    description="The limit agreed with the partners (ADR-17) is set in the gateway's ConfigMap.",
)


def rate_limit_findings(config: Mapping[str, str], where: str) -> list[Finding]:
    """The ConfigMap data against the agreed values (a pure function, tested without a cluster)."""
    return [
        RATE_LIMIT(where, f"{key} is {config.get(key)!r}; the agreed value is {value!r}")
        for key, value in AGREED_RATE_LIMIT.items()
        if config.get(key) != value
    ]


@item(GATEWAY_RATE_LIMIT)
def test_gateway_rate_limit_is_the_agreed_one(kube: Any, profile: Any, evidence: Evidence) -> None:
    namespace = profile.kubernetes.namespace
    config_map = kube.get("ConfigMap", namespace, "api-gateway-config")
    data = config_map.get("data") or {}
    evidence.record(
        "rate limit",
        {key: data.get(key) for key in AGREED_RATE_LIMIT},
        expected=AGREED_RATE_LIMIT,
        source=f"ConfigMap {namespace}/api-gateway-config",
    )
    conclude(rate_limit_findings(data, f"ConfigMap {namespace}/api-gateway-config"))


@pytest.mark.smoke
@pytest.mark.check(
    "TEAM-OPENAPI-VENUES", title="The OpenAPI document publishes the venues API", severity="low"
)
def test_openapi_lists_the_venues_api(http_client: Any, evidence: Evidence) -> None:
    paths = http_client.get("/openapi.json").json().get("paths", {})
    evidence.record(
        "venue paths", sorted(p for p in paths if "venues" in p), source="/openapi.json"
    )
    assert "/api/v1/venues" in paths, "the venues API is missing from /openapi.json"
