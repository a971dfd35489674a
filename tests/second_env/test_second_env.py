"""Issue 12's second healthy environment: the whole checklist run by pytest against an
environment built apart from the sandbox (``stack.py`` says how it differs) gives GO, and the same
environment with one defect at a time gives NO-GO naming exactly that defect's checks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checks.manual import SHIPPED_MANUAL
from pytest_deployverify.profile.model import ROLE_PRESETS
from tests.second_env.stack import DEFECTS, DROPPED_MANUAL, MONITOR_USER, RELEASE, SecondEnv

FAILED = ("failed", "error")


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondEnv]:
    env = SecondEnv.start(tmp_path_factory.mktemp("second-env"))
    yield env
    env.stop()


def run_checklist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, env: SecondEnv
) -> tuple[pytest.RunResult, dict[str, Any], str]:
    """``pytest --env second --checklist all --signoff ...`` in a fresh folder, as a user runs it;
    the secrets come from the environment, the profile holds ``${VAR}`` only."""
    profile = env.write_profile(pytester.path / "environments")
    for name, value in env.secrets().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    signoff = pytester.path / "signoff.json"
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--env",
        "second",
        "--env-dir",
        str(profile.parent),
        "--checklist",
        "all",
        "--signoff",
        str(signoff),
        "-rfE",
    )
    return result, json.loads(signoff.read_text()), profile.read_text()


def by_id(signoff: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["check_id"]: check for check in signoff["checks"]}


def evidence(check: dict[str, Any], name: str) -> dict[str, Any]:
    return next(entry for entry in check["evidence"] if entry["name"] == name)


def test_the_whole_checklist_gives_go(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, second: SecondEnv
) -> None:
    result, signoff, profile_text = run_checklist(pytester, monkeypatch, second)
    verdict = signoff["verdict"]
    assert (verdict["decision"], verdict["qualifier"]) == ("GO", None), verdict["reasons"]
    assert signoff["run"]["scope"]["whole"] is True
    outcomes = {check["outcome"] for check in signoff["checks"]}
    assert outcomes <= {"passed", "not-applicable"}
    checks = by_id(signoff)

    # Every configured component was verified by at least one passing blocking check.
    for component in ("kubernetes", "redis", "postgres", "prometheus", "alertmanager", "http"):
        assert any(
            c["outcome"] == "passed" and c["blocking"] and c["components"][:1] == [component]
            for c in signoff["checks"]
        ), component

    # Every item that passed recorded what it judged (objects and values), not only its findings.
    bare = [
        c["check_id"]
        for c in signoff["checks"]
        if c["outcome"] == "passed" and not [e for e in c["evidence"] if e["name"] != "findings"]
    ]
    assert bare == []

    # Where this environment differs from the sandbox, the items judged it healthy.
    assert checks["K8S-PULL-POLICY[items]"]["outcome"] == "passed"  # pinned tag, IfNotPresent
    assert checks["K8S-IMAGE-TAG[items]"]["outcome"] == "passed"
    version = evidence(checks["SMOKE-GW-VERSION"], "observed_version")
    assert (version["value"], version["expected"], version["ok"]) == (f"v{RELEASE}", RELEASE, True)
    gates = [c for c in signoff["checks"] if c["check_id"].startswith("MON-GATE")]
    assert {c["outcome"] for c in gates} == {"passed"}
    assert len(gates) == 2
    assert "'code'" in json.dumps([g["evidence"] for g in gates])  # the status label found
    assert checks["INFRA-PG-ARCHIVING"]["outcome"] == "not-applicable"
    assert "wal_archiving" in checks["INFRA-PG-ARCHIVING"]["reason"]
    assert checks["SMOKE-GW-ERROR-SHAPE"]["outcome"] == "not-applicable"  # plain-text 404
    for absent in ("SMOKE-GW-OPENAPI", "SEC-GW-TENANT-ISOLATION", "SEC-GW-RATE-HEADERS"):
        assert checks[absent]["outcome"] == "not-applicable", absent
        assert "[http.expect" in checks[absent]["reason"], absent
    for judged in ("SEC-GW-AUTH-REQUIRED", "SEC-GW-CREDENTIAL", "SEC-GW-HDR-INTERNAL"):
        assert checks[judged]["outcome"] == "passed", judged
    read_as = evidence(checks["INFRA-REDIS-REACH"], "read_as")
    assert read_as["value"] == {"login": MONITOR_USER, "config": "read"}

    # The shipped manual items, attested in the profile for this release (one dropped, with why),
    # and the platform checklist's six sign-off roles.
    manual = {entry["id"]: entry for entry in signoff["manual"]}
    assert len(manual) == len(SHIPPED_MANUAL) - len(DROPPED_MANUAL)
    assert {(e["status"], e["source"], e["release"]) for e in manual.values()} == {
        ("attested", "profile", RELEASE)
    }
    assert [(d["id"], d["reason"]) for d in signoff["manual_dropped"]] == list(
        DROPPED_MANUAL.items()
    )
    assert [a["role"] for a in signoff["approvals"]] == list(ROLE_PRESETS["platform"])

    # The monitoring login "smoke" is not a secret: sections, markers and node ids keep it.
    smoke = [c for c in signoff["checks"] if c["check_id"].startswith("SMOKE-")]
    assert smoke
    assert {c["section"] for c in smoke} == {"smoke"}
    assert all("***" not in c["nodeid"] for c in signoff["checks"])
    assert any("test_http_smoke.py" in c["nodeid"] for c in smoke)

    # Secrets came from the environment: neither the profile nor any output holds them.
    output = result.stdout.str() + json.dumps(signoff)
    for value in second.secret_values():
        assert value not in profile_text
        assert value not in output


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_one_defect_gives_no_go_naming_it(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    second: SecondEnv,
    tmp_path: Path,
    defect: str,
) -> None:
    with second.with_defect(defect, tmp_path) as broken:
        _, signoff, _ = run_checklist(pytester, monkeypatch, broken)
    assert signoff["verdict"]["decision"] == "NO-GO"
    failed = {c["check_id"].split("[")[0] for c in signoff["checks"] if c["outcome"] in FAILED}
    assert failed == DEFECTS[defect]
    reasons = " ".join(signoff["verdict"]["reasons"])
    assert all(check_id in reasons for check_id in DEFECTS[defect] if check_id != "K8S-PULL-POLICY")
