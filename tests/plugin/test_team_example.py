"""verify/test_team_checks.py, the worked example of a team's own checks, judged both ways."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

VERIFY = Path(__file__).resolve().parents[2] / "verify"


def team_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("team_checks", VERIFY / "test_team_checks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_agreed_rate_limit_passes_and_a_different_one_is_named() -> None:
    team = team_module()
    assert team.rate_limit_findings(team.AGREED_RATE_LIMIT, "cm") == []
    [finding] = team.rate_limit_findings({**team.AGREED_RATE_LIMIT, "RATE_LIMIT_MAX": "1000"}, "cm")
    assert finding.check_id == "team-rate-limit"
    assert finding.message == "RATE_LIMIT_MAX is '1000'; the agreed value is '100'"
    [missing] = team.rate_limit_findings({"RATE_LIMIT_MAX": "100"}, "cm")
    assert "RATE_LIMIT_WINDOW_MS is None" in missing.message


def test_the_declared_team_check_is_complete() -> None:
    spec = team_module().GATEWAY_RATE_LIMIT
    assert (spec.id, spec.section.value, spec.severity.value) == (
        "TEAM-GW-RATE-LIMIT",
        "security",
        "high",
    )
    assert spec.components == ("kubernetes",)
