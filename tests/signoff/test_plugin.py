"""The sign-off written by a real pytest run: files, verdict, exit codes, terminal summary."""

from __future__ import annotations

import json
import os
import sys

import pytest

from .helpers import CHECKS, ENV_ARGS, by_id, load, project

BLOCKING_FAILURE = """
@pytest.mark.infra
@pytest.mark.check("INFRA-DB", title="Database reachable", severity="critical")
def test_db(evidence):
    evidence.record("connect", "refused", expected="ok", source="postgres")
    assert False, "connection refused by 127.0.0.1:5432"
"""

PROTECTED = "protected = true"

DESTRUCTIVE = """
@pytest.mark.smoke
@pytest.mark.destructive
@pytest.mark.check("SMOKE-WRITE", title="Write path round trip", severity="high")
def test_write():
    pass
"""


def cli(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "pytest_deployverify.cli", *args)


def test_run_writes_markdown_and_json(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest(
        *ENV_ARGS,
        "--signoff",
        "out/signoff.md",
        "--signoff",
        "out/signoff.json",
        "--run-by",
        "alice",
        "--approve",
        "Security=Dana Smith@2026-03-01",
    )
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    assert result.ret == 1  # strict (default): pytest's own exit code
    doc = load(pytester.path / "out" / "signoff.json")
    checks = by_id(doc)
    assert list(checks) == ["INFRA-REPLICAS", "SEC-TLS-13", "MON-DASH", "SMOKE-SKIP"]
    assert checks["INFRA-REPLICAS"]["outcome"] == "passed"
    assert checks["INFRA-REPLICAS"]["evidence"][0] == {
        "name": "ready_replicas",
        "value": 3,
        "expected": 3,
        "source": "deployment/api",
    }
    tls = checks["SEC-TLS-13"]
    assert (tls["outcome"], tls["waived_outcome"], tls["waiver"]["ticket"]) == (
        "waived",
        "failed",
        "SEC-42",
    )
    assert tls["reason"] == "TLSv1.2 still offered"  # first line only, no traceback
    assert checks["MON-DASH"]["outcome"] == "failed"
    assert checks["SMOKE-SKIP"]["reason"] == "probe endpoint not configured for env demo"
    assert doc["verdict"]["decision"] == "CONDITIONAL"
    assert doc["verdict"]["reasons"] == [
        "advisory check MON-DASH (Dashboard present, low) failed: dashboard missing",
        "manual item oncall (On-call rotation established) is pending attestation",
    ]
    run = doc["run"]
    assert (run["environment"], run["expected_version"], run["observed_version"]) == (
        "demo",
        "1.2.3",
        "1.2.3",
    )
    assert (run["run_by"], run["run_by_source"], run["profile_path"]) == (
        "alice",
        "--run-by",
        "environments/demo.toml",
    )
    assert "--signoff" in run["pytest_args"]
    assert doc["approvals"][1] == {"role": "Security", "name": "Dana Smith", "date": "2026-03-01"}
    assert doc["approvals"][0] == {"role": "Engineering Lead", "name": None, "date": None}
    assert [(w["check"], w["status"]) for w in doc["waivers"]] == [
        ("SEC-TLS-*", "applied"),
        ("INFRA-OLD", "expired"),
    ]
    markdown = (pytester.path / "out" / "signoff.md").read_text(encoding="utf-8")
    assert "**Verdict: CONDITIONAL for the team's own checks**" in markdown
    assert "- [x] Security: Dana Smith Date: 2026-03-01" in markdown
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in (pytester.path / "out").iterdir()) == [
        "signoff.json",
        "signoff.md",
    ]
    result.stdout.fnmatch_lines(
        [
            "*= deployverify sign-off: CONDITIONAL for the team's own checks (environment demo) =*",
            "4 checks: 1 passed, 1 failed, 1 skipped, 1 waived; manual items: 1 of 2 attested",
            "advisory failures (1): MON-DASH",
            "WARNING: waiver 'INFRA-OLD' (OPS-7, approved by Ops Lead) EXPIRED on 2020-01-01*",
            "pending manual item: oncall On-call rotation established (--attest oncall=NAME)",
            "sign-off written: */out/signoff.md",
            "sign-off written: */out/signoff.json",
        ]
    )
    # The expired waiver is announced before the run as well.
    result.stdout.fnmatch_lines(["deployverify: WARNING: waiver 'INFRA-OLD' (OPS-7) EXPIRED*"])


def test_verdict_exit_mode_and_a_go(pytester: pytest.Pytester) -> None:
    project(pytester, CHECKS.replace('assert 1 == 2, "dashboard missing"', "pass"))
    args = (*ENV_ARGS, "--signoff", "s.json", "--attest", "oncall=Sam Lee@2026-03-01")
    strict = pytester.runpytest(*args)
    assert strict.ret == 1  # the waived TLS check still failed as a test
    assert load(pytester.path / "s.json")["verdict"]["decision"] == "GO"
    verdict = pytester.runpytest(*args, "--signoff-exit", "verdict")
    assert verdict.ret == 0
    verdict.stdout.fnmatch_lines(
        [
            "*exit code 0 follows the verdict GO for the team's own checks (--signoff-exit verdict: 0 GO, "
            "10 CONDITIONAL, 11 NO-GO); pytest's own status was 1"
        ]
    )
    manual = load(pytester.path / "s.json")["manual"]
    assert manual[0] == {
        "id": "oncall",
        "title": "On-call rotation established",
        "section": "monitoring",
        "attested_by": "Sam Lee",
        "attested_at": "2026-03-01",
        "note": None,
        "source": "--attest",
        "release": None,
        "stale": None,
        "status": "attested",
    }


def test_blocking_failure_is_no_go_and_fails_in_verdict_mode(pytester: pytest.Pytester) -> None:
    project(pytester, CHECKS + BLOCKING_FAILURE)
    result = pytester.runpytest(*ENV_ARGS, "--signoff", "s.md", "--signoff-exit", "verdict")
    assert result.ret == 11
    result.stdout.fnmatch_lines(
        [
            "*deployverify sign-off: NO-GO*",
            "BLOCKING FAILED INFRA-DB Database reachable: connection refused by 127.0.0.1:5432",
        ]
    )
    text = (pytester.path / "s.md").read_text(encoding="utf-8")
    assert (
        "- [ ] **Database reachable** · `INFRA-DB` · critical · **FAILED**: "
        "connection refused by 127.0.0.1:5432" in text
    )
    assert "  - connect = `refused` (expected `ok`) · source: `postgres`" in text


def test_usage_errors_keep_their_exit_code_in_verdict_mode(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest(*ENV_ARGS, "--signoff-exit", "verdict", "no_such_file.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_held_back_destructive_checks_are_listed(pytester: pytest.Pytester) -> None:
    project(pytester, CHECKS + DESTRUCTIVE, extra=PROTECTED)
    result = pytester.runpytest(*ENV_ARGS, "--signoff", "s.json")
    result.stdout.fnmatch_lines(["held back: SMOKE-WRITE Write path round trip: *held back*"])
    doc = load(pytester.path / "s.json")
    write = by_id(doc)["SMOKE-WRITE"]
    assert (write["outcome"], write["held_back"], write["destructive"]) == ("skipped", True, True)
    assert doc["verdict"]["decision"] == "CONDITIONAL"
    assert any("SMOKE-WRITE" in r and "held back" in r for r in doc["verdict"]["reasons"])


def test_tampering_with_a_written_signoff_is_detected(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.runpytest(*ENV_ARGS, "--signoff", "s.json")
    path = pytester.path / "s.json"
    ok = cli(pytester, "signoff", "verify", str(path))
    assert ok.ret == 0
    ok.stdout.fnmatch_lines(
        ["OK: *s.json: SHA-256 digest matches; not signed; verdict CONDITIONAL"]
    )
    text = path.read_text(encoding="utf-8")
    at = text.index('"CONDITIONAL"') + 1
    path.write_text(text[:at] + "K" + text[at + 1 :], encoding="utf-8")  # one character
    bad = cli(pytester, "signoff", "verify", str(path))
    assert bad.ret == 1
    bad.stdout.fnmatch_lines(
        ["TAMPERED: *s.json: digest mismatch: the content was changed after it was written*"]
    )
    missing = cli(pytester, "signoff", "verify", "nope.json")
    assert missing.ret == 2
    missing.stderr.fnmatch_lines(["deployverify: nope.json: no such file"])


def test_signed_signoff_and_a_secret_key_that_never_leaks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "s3cret-signing-key-value"
    monkeypatch.setenv("DEPLOYVERIFY_SIGNING_KEY", key)
    project(pytester, CHECKS + f'\ndef test_leak():\n    assert "{key}" == ""\n')
    result = pytester.runpytest(*ENV_ARGS, "--signoff", "s.json", "--signoff", "s.md")
    text = (pytester.path / "s.json").read_text(encoding="utf-8")
    assert key not in text
    assert key not in (pytester.path / "s.md").read_text(encoding="utf-8")
    assert key not in result.stdout.str()
    assert json.loads(text)["integrity"]["signature"]["algorithm"] == "hmac-sha256"
    assert cli(pytester, "signoff", "verify", "s.json").ret == 0
    monkeypatch.setenv("DEPLOYVERIFY_SIGNING_KEY", "a different key")
    wrong = cli(pytester, "signoff", "verify", "s.json")
    assert wrong.ret == 1
    wrong.stdout.fnmatch_lines(["TAMPERED: s.json: bad signature*"])
    monkeypatch.delenv("DEPLOYVERIFY_SIGNING_KEY")
    unchecked = cli(pytester, "signoff", "verify", "s.json")
    assert unchecked.ret == 0
    unchecked.stdout.fnmatch_lines(["note: signature present but not checked*"])


def test_github_step_summary_gets_the_markdown(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = pytester.path / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project(pytester)
    pytester.runpytest(*ENV_ARGS)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n# Deployment Verification Sign-Off: demo\n")
    assert "## Sign-Off" in text


def test_merge_command_worst_verdict_wins(pytester: pytest.Pytester) -> None:
    project(pytester, CHECKS + BLOCKING_FAILURE)
    pytester.runpytest(*ENV_ARGS, "--signoff", "bad.json")
    pytester.makepyfile(test_checks=CHECKS)
    pytester.runpytest(*ENV_ARGS, "--signoff", "ok.json", "--attest", "oncall=Sam")
    result = cli(pytester, "signoff", "merge", "ok.json", "bad.json", "-o", "m.md", "-o", "m.json")
    assert result.ret == 0, result.stderr.str()
    merged = load(pytester.path / "m.json")
    assert merged["kind"] == "merged"
    assert merged["verdict"]["decision"] == "NO-GO"
    assert [e["label"] for e in merged["environments"]] == ["demo (ok)", "demo (bad)"]
    assert cli(pytester, "signoff", "verify", "m.json").ret == 0
    text = (pytester.path / "m.md").read_text(encoding="utf-8")
    assert "**Overall verdict: NO-GO**" in text
    # A tampered input is refused, naming the file.
    bad = pytester.path / "bad.json"
    bad.write_text(bad.read_text().replace("NO-GO", "GO"), encoding="utf-8")
    refused = cli(pytester, "signoff", "merge", "ok.json", "bad.json")
    assert refused.ret == 1
    refused.stderr.fnmatch_lines(["deployverify: bad.json: refusing to merge: digest mismatch*"])


def test_checklist_command(pytester: pytest.Pytester) -> None:
    project(pytester, CHECKS + DESTRUCTIVE, extra=PROTECTED)
    result = cli(pytester, "checklist", "--env", "demo", "--env-dir", "environments")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            "# Deployment Verification Checklist: demo",
            "_5 automated checks (3 blocking); collected, not run; expected version `1.2.3`; "
            "protected environment; profile `environments/demo.toml`_",
            "## 1. Infrastructure",
            "- [ ] **Replicas ready** · `INFRA-REPLICAS` · high",
            "## 2. Security",
            "## 3. Monitoring & Observability",
            "- [ ] **Dashboard present** · `MON-DASH` · low",
            "## 4. Smoke tests",
            "- [ ] **Write path round trip** · `SMOKE-WRITE` · high · destructive "
            "(held back on this protected environment)",
            "## Manual checks (attested by a person)",
            "- [ ] **On-call rotation established** · `oncall` · Monitoring & Observability · "
            "attested by _________________ Date: _______",
            "## Sign-Off",
        ]
    )
    assert not (pytester.path / ".pytest_cache" / "v" / "cache" / "lastfailed").exists()
    unknown = cli(pytester, "checklist", "--env", "nope", "--env-dir", "environments")
    assert unknown.ret == 2
    assert len(unknown.stderr.lines) == 1
    unknown.stderr.fnmatch_lines(["deployverify: checklist: *unknown environment 'nope'*"])
    pytester.makepyfile(test_broken="import not_a_module_anywhere\n")
    broken = cli(pytester, "checklist", ".")
    assert broken.ret == 1
    broken.stderr.fnmatch_lines(
        ["deployverify: checklist: collection failed: test_broken.py: ModuleNotFoundError*"]
    )


def test_no_signoff_options_still_prints_the_terminal_summary(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest(*ENV_ARGS)
    result.stdout.fnmatch_lines(
        ["*deployverify sign-off: CONDITIONAL for the team's own checks (environment demo)*"]
    )
    assert "sign-off written" not in result.stdout.str()
    assert not [p for p in os.listdir(pytester.path) if p.endswith((".md", ".json"))]


def test_unwritable_signoff_is_refused_before_the_run(pytester: pytest.Pytester) -> None:
    project(pytester, "def test_ok():\n    pass\n")
    (pytester.path / "blocker").write_text("a file, not a folder", encoding="utf-8")
    result = pytester.runpytest(*ENV_ARGS, "--signoff", "blocker/s.md")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--signoff 'blocker/s.md': blocker is not a folder*"])
    assert "test_ok" not in result.stdout.str()


def test_a_signoff_that_cannot_be_written_at_the_end_fails_the_run_loudly(
    pytester: pytest.Pytester,
) -> None:
    """The folder was fine at the start and went away during the run."""
    project(
        pytester,
        "import shutil\n\ndef test_ok():\n    shutil.rmtree('out')\n    open('out', 'w').close()\n",
    )
    (pytester.path / "out").mkdir()
    result = pytester.runpytest(*ENV_ARGS, "--signoff", "out/s.md")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["ERROR: could not write the sign-off */out/s.md: *"])


def test_collect_only_writes_no_signoff(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest(*ENV_ARGS, "--collect-only", "--signoff", "s.json")
    assert result.ret == 0
    assert not (pytester.path / "s.json").exists()
    assert "deployverify sign-off" not in result.stdout.str()


def test_junit_carries_the_checklist_data_per_testcase(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest(*ENV_ARGS, "--junitxml", "junit.xml")
    assert result.ret == 1
    import xml.etree.ElementTree as ET

    root = ET.parse(pytester.path / "junit.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    props = {
        name: {p.get("name"): p.get("value") for p in case.iter("property")}
        for name, case in cases.items()
    }
    assert props["test_replicas"] == {
        "deployverify.check_id": "INFRA-REPLICAS",
        "deployverify.section": "infra",
        "deployverify.severity": "high",
    }
    tls = props["test_tls"]
    assert tls["deployverify.check_id"] == "SEC-TLS-13"
    assert tls["deployverify.waiver"].startswith("SEC-42 until ")


def test_verdict_exit_codes_are_distinct_and_outside_pytests_own(pytester: pytest.Pytester) -> None:
    project(pytester)  # CONDITIONAL: an advisory failure and a pending manual item
    conditional = pytester.runpytest(*ENV_ARGS, "--signoff-exit", "verdict")
    assert conditional.ret == 10
    conditional.stdout.fnmatch_lines(
        [
            "deployverify: exit code 10 follows the verdict CONDITIONAL for the team's own "
            "checks (--signoff-exit verdict: 0 GO, 10 CONDITIONAL, 11 NO-GO); pytest's own "
            "status was 1"
        ]
    )
    pytester.makepyfile(
        test_checks="import pytest\n\n@pytest.mark.check('X-1', severity='critical')\n"
        "def test_x():\n    assert False\n"
    )
    no_go = pytester.runpytest(*ENV_ARGS, "--signoff-exit", "verdict")
    assert no_go.ret == 11
