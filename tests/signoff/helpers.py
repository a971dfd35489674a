"""Builders shared by the sign-off tests: items, profiles, and a pytester project with a profile."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.profile.model import Profile
from pytest_deployverify.signoff.build import build_signoff
from pytest_deployverify.signoff.model import CheckItem, Outcome, RunInfo, Signoff

TODAY = dt.date(2026, 3, 1)


def item(
    check_id: str,
    outcome: Outcome = Outcome.PASSED,
    *,
    severity: str | None = "high",
    section: str = "infra",
    reason: str | None = None,
    destructive: bool = False,
    evidence: list[dict[str, Any]] | None = None,
) -> CheckItem:
    return CheckItem(
        nodeid=f"test_checks.py::test_{check_id.lower().replace('-', '_')}",
        check_id=check_id,
        title=f"Title of {check_id}",
        severity=severity,
        section=section,
        sections=[section],
        outcome=outcome,
        destructive=destructive,
        reason=reason,
        evidence=evidence or [],
        duration=0.25,
    )


def profile(**fields: Any) -> Profile:
    """A profile of the sign-off's own keys (no component tables), validated as of ``TODAY``."""
    return Profile.from_dict({"name": "demo", "version": "1.2.3", **fields}, today=TODAY)


def run_info(**fields: Any) -> RunInfo:
    values: dict[str, Any] = {
        "environment": "demo",
        "environment_source": "--env",
        "started_at": "2026-03-01T10:00:00+00:00",
        "finished_at": "2026-03-01T10:05:00+00:00",
        "expected_version": "1.2.3",
        "run_by": "alice",
        "run_by_source": "--run-by",
        "generator": "pytest-deployverify test",
    }
    values.update(fields)
    return RunInfo(**values)


def signoff(items: list[CheckItem], prof: Profile | None = None, **kwargs: Any) -> Signoff:
    prof = prof or profile()
    return build_signoff(
        items, run=run_info(expected_version=prof.version), profile=prof, today=TODAY, **kwargs
    )


# A profile for plugin tests: one pending manual item, one active and one expired waiver.
PROFILE_TOML = """\
version = "1.2.3"
{extra}

[[manual]]
id = "oncall"
title = "On-call rotation established"
section = "monitoring"

[[manual]]
id = "runbooks"
title = "Runbooks reviewed"
attested_by = "Ops Lead"
attested_at = {recent}

[[waivers]]
check = "SEC-TLS-*"
reason = "TLS 1.2 still needed by one partner"
approver = "CISO"
ticket = "SEC-42"
expires = {soon}

[[waivers]]
check = "INFRA-OLD"
reason = "legacy check retired next release"
approver = "Ops Lead"
ticket = "OPS-7"
expires = 2020-01-01
"""

CHECKS = """
import pytest

@pytest.mark.infra
@pytest.mark.check("INFRA-REPLICAS", title="Replicas ready", severity="high")
def test_replicas(evidence):
    evidence.record("ready_replicas", 3, expected=3, source="deployment/api")
    evidence.record("observed_version", "1.2.3", source="/version")

@pytest.mark.security
@pytest.mark.check("SEC-TLS-13", title="TLS 1.3 enforced", severity="high")
def test_tls(evidence):
    evidence.record("protocol", "TLSv1.2", expected="TLSv1.3")
    assert False, "TLSv1.2 still offered\\nsecond line"

@pytest.mark.monitoring
@pytest.mark.check("MON-DASH", title="Dashboard present", severity="low")
def test_dashboard():
    assert 1 == 2, "dashboard missing"

@pytest.mark.smoke
@pytest.mark.check("SMOKE-SKIP", title="Optional probe", severity="medium")
def test_optional():
    pytest.skip("probe endpoint not configured for env demo")
"""


def project(pytester: pytest.Pytester, checks: str = CHECKS, extra: str = "") -> pytest.Pytester:
    """A pytester folder with ``environments/demo.toml`` and a test file of checks."""
    envs = pytester.mkdir("environments")
    today = dt.date.today()
    text = PROFILE_TOML.format(
        extra=extra,
        soon=(today + dt.timedelta(days=60)).isoformat(),  # within [policy] waiver_max_days
        recent=(today - dt.timedelta(days=5)).isoformat(),  # a fresh attestation
    )
    (envs / "demo.toml").write_text(text, encoding="utf-8")
    pytester.makepyfile(test_checks=checks)
    return pytester


ENV_ARGS = ("--env", "demo", "--env-dir", "environments", "-p", "no:cacheprovider")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["check_id"]: check for check in document["checks"]}
