"""Verdict paths and bad input through real pytest runs (``runpytest_subprocess``), not the units.

* a 0-byte profile is never a GO;
* a team test file that fails to import is a NO-GO, exit 11 with ``--signoff-exit verdict``, with
  and without ``--continue-on-collection-errors``;
* ``-m smoke`` and ``-m "smoke or monitoring"`` give a qualified verdict ("GO for smoke") with the
  scope stated; the whole run gives a plain GO;
* ``--checklist SECTIONS`` (option, variable, ini key) collects only those sections of the shipped
  checklist, beside the team's own tests, in one sign-off;
* a missing profile folder or profile names ``deployverify init NAME``, and that command works.
"""

from __future__ import annotations

import http.server
import json
import shlex
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checks.manual import SHIPPED_MANUAL

BASE = ("-p", "no:cacheprovider", "-p", "no:randomly")
SHIPPED_PREFIX = "deployverify/checklist/"
ATTEST_ALL = tuple(arg for item in SHIPPED_MANUAL for arg in ("--attest", f"{item.id}=Sam Lee"))

# The team's own checks, one per section.
TEAM = """
import pytest


@pytest.mark.smoke
@pytest.mark.check("TEAM-SMOKE-HOME", title="Home page answers", severity="critical")
def test_home(evidence):
    evidence.record("status", 200, expected=200, source="GET /")


@pytest.mark.monitoring
@pytest.mark.check("TEAM-MON-ALERTS", title="Alert rules loaded", severity="high")
def test_alert_rules(evidence):
    evidence.record("rules", 12, expected=">= 1", source="rules.yaml")


@pytest.mark.security
@pytest.mark.check("TEAM-SEC-ADMIN", title="Admin console closed", severity="high")
def test_admin_closed():
    pass


@pytest.mark.infra
@pytest.mark.check("TEAM-INFRA-DNS", title="DNS record present", severity="high")
def test_dns_record():
    pass
"""
TEAM_IDS = {"TEAM-SMOKE-HOME", "TEAM-MON-ALERTS", "TEAM-SEC-ADMIN", "TEAM-INFRA-DNS"}

BROKEN = """
import not_a_module_anywhere  # the file cannot be imported: its checks are lost
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*BASE, *args)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def shipped(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in doc["checks"] if c["nodeid"].startswith(SHIPPED_PREFIX)]


def team(doc: dict[str, Any]) -> set[str]:
    return {c["check_id"] for c in doc["checks"] if not c["nodeid"].startswith(SHIPPED_PREFIX)}


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/health" else 404
        body = b'{"status": "ok"}' if status == 200 else b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def downstream() -> Iterator[str]:
    """A reachable fake downstream service: GET /health answers 200."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def whole_checklist(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's conftest turns the shipped checklist off; these runs collect it."""
    monkeypatch.delenv("DEPLOYVERIFY_CHECKLIST", raising=False)


def scoped_project(pytester: pytest.Pytester, health_url: str) -> None:
    """``envs/prod.toml``: one reachable fake component (a downstream service), every other
    component not configured; and the team's checks of every section."""
    envs = pytester.mkdir("envs")
    (envs / "prod.toml").write_text(
        f'version = "2.0.0"\n\n[[services]]\nname = "orders"\nurl = "{health_url}"\n',
        encoding="utf-8",
    )
    pytester.makepyfile(test_team=TEAM)


# -- 1. a 0-byte profile ------------------------------------------------------------------------


@pytest.mark.usefixtures("whole_checklist")
def test_an_empty_profile_file_is_never_a_go(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "verify" / "environments"  # the default profile folder
    folder.mkdir(parents=True)
    (folder / "empty.toml").write_bytes(b"")
    result = run(pytester, "--env", "empty", "--signoff", "x.json", "--signoff-exit", "verdict")
    assert result.ret == 10, result.stdout.str()
    doc = load(pytester.path / "x.json")
    assert doc["verdict"]["decision"] == "CONDITIONAL"
    assert doc["verdict"]["label"] == "CONDITIONAL"
    checks = doc["checks"]
    assert checks
    assert {c["outcome"] for c in checks} == {"not-applicable"}
    not_verified = (
        f"NOT VERIFIED: no blocking check passed ({len(checks)} checks: {len(checks)} "
        "not-applicable); a GO needs the profile's components verified by passing blocking checks"
    )
    assert not_verified in doc["verdict"]["reasons"]
    result.stdout.fnmatch_lines(
        ["*deployverify sign-off: CONDITIONAL (environment empty)*", f"reason: {not_verified}"]
    )

    # Every manual item attested: still no GO, nothing was verified.
    attested = run(
        pytester, "--env", "empty", "--signoff", "x.json", "--signoff-exit", "verdict", *ATTEST_ALL
    )
    assert attested.ret == 10, attested.stdout.str()
    doc = load(pytester.path / "x.json")
    assert doc["verdict"]["decision"] == "CONDITIONAL"
    assert doc["verdict"]["reasons"] == [not_verified]


# -- 2. a team test file that fails to import -----------------------------------------------------


def broken_project(pytester: pytest.Pytester) -> None:
    envs = pytester.mkdir("envs")
    (envs / "prod.toml").write_text('version = "2.0.0"\n', encoding="utf-8")
    pytester.makepyfile(test_team=TEAM, test_broken=BROKEN)


COLLECTION_REASON = (
    "a test file could not be collected, so its checks never ran: test_broken.py: "
    "ModuleNotFoundError: No module named 'not_a_module_anywhere'"
)


def test_an_import_error_with_continue_on_collection_errors_is_no_go_exit_11(
    pytester: pytest.Pytester,
) -> None:
    broken_project(pytester)
    result = run(
        pytester,
        "--env",
        "prod",
        "--env-dir",
        "envs",
        "--signoff",
        "s.json",
        "--signoff-exit",
        "verdict",
        "--continue-on-collection-errors",
    )
    assert result.ret == 11, result.stdout.str()
    result.assert_outcomes(passed=4, errors=1)
    doc = load(pytester.path / "s.json")
    assert doc["verdict"]["decision"] == "NO-GO"
    assert doc["verdict"]["reasons"][0] == COLLECTION_REASON
    assert doc["collection_errors"] == [
        "test_broken.py: ModuleNotFoundError: No module named 'not_a_module_anywhere'"
    ]
    assert team(doc) == TEAM_IDS  # the rest of the run did run
    result.stdout.fnmatch_lines(
        [
            "*deployverify sign-off: NO-GO*",
            f"reason: {COLLECTION_REASON}",
            "deployverify: exit code 11 follows the verdict NO-GO*; pytest's own status was 1",
        ]
    )


def test_an_import_error_that_stops_the_run_is_no_go_exit_11_in_verdict_mode(
    pytester: pytest.Pytester,
) -> None:
    """pytest stops the run before any test (its own exit 2); the sign-off is a NO-GO, so
    ``--signoff-exit verdict`` exits 11, and the sign-off says why the run stopped (not Ctrl-C)."""
    broken_project(pytester)
    args = ("--env", "prod", "--env-dir", "envs", "--signoff", "s.json")
    result = run(pytester, *args, "--signoff-exit", "verdict")
    assert result.ret == 11, result.stdout.str()
    doc = load(pytester.path / "s.json")
    assert doc["verdict"]["decision"] == "NO-GO"
    reasons = doc["verdict"]["reasons"]
    assert reasons[0] == COLLECTION_REASON
    assert doc["run"]["exit_status"] == 2  # pytest's own status, kept in the sign-off
    stopped = doc["run"]["scope"]["interrupted"]
    assert stopped.startswith("stopped by 1 error during collection"), stopped
    assert "--continue-on-collection-errors" in stopped
    assert "Ctrl-C" not in json.dumps(doc)
    assert {c["outcome"] for c in doc["checks"]} == {"not-run"}
    result.stdout.fnmatch_lines(
        [
            "*Interrupted: 1 error during collection*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*deployverify sign-off: NO-GO*",
            "deployverify: exit code 11 follows the verdict NO-GO*; pytest's own status was 2",
        ]
    )

    # strict mode (the default) keeps pytest's own code.
    strict = run(pytester, *args)
    assert strict.ret == pytest.ExitCode.INTERRUPTED
    assert load(pytester.path / "s.json")["verdict"]["decision"] == "NO-GO"


# -- 3. -m: a qualified verdict ---------------------------------------------------------------


@pytest.mark.usefixtures("whole_checklist")
def test_marker_selection_is_a_qualified_go_and_the_whole_run_a_plain_go(
    pytester: pytest.Pytester, downstream: str
) -> None:
    scoped_project(pytester, downstream)
    env = ("--env", "prod", "--env-dir", "envs", "--signoff-exit", "verdict")

    smoke = run(pytester, *env, "-m", "smoke", "--signoff", "smoke.json", "--signoff", "smoke.md")
    assert smoke.ret == 0, smoke.stdout.str()
    doc = load(pytester.path / "smoke.json")
    verdict, scope = doc["verdict"], doc["run"]["scope"]
    assert (verdict["decision"], verdict["qualifier"], verdict["label"]) == (
        "GO",
        "smoke",
        "GO for smoke",
    )
    assert scope["whole"] is False
    assert scope["selection"] == ["-m 'smoke'"]
    assert scope["sections"] == ["smoke"]
    kept = len(doc["checks"])
    assert scope["deselected"] > 0
    assert scope["collected"] == kept + scope["deselected"]
    assert {c["section"] for c in doc["checks"]} == {"smoke"}
    assert team(doc) == {"TEAM-SMOKE-HOME"}
    # The reachable fake was judged by the shipped smoke item.
    downstream_check = next(c for c in doc["checks"] if c["check_id"] == "SMOKE-GW-DOWNSTREAM")
    assert downstream_check["outcome"] == "passed"
    assert verdict["reasons"][1] == (
        f"GO for smoke only, not for the release: {kept} of {scope['collected']} collected "
        "items run; selected by -m 'smoke'; sections smoke"
    )
    assert doc["manual"] == []  # the shipped manual items belong to the whole checklist
    assert "**Verdict: GO for smoke**" in (pytester.path / "smoke.md").read_text(encoding="utf-8")
    smoke.stdout.fnmatch_lines(["*deployverify sign-off: GO for smoke (environment prod)*"])

    both = run(pytester, *env, "-m", "smoke or monitoring", "--signoff", "both.json")
    assert both.ret == 0, both.stdout.str()
    doc = load(pytester.path / "both.json")
    verdict, scope = doc["verdict"], doc["run"]["scope"]
    assert (verdict["decision"], verdict["label"]) == ("GO", "GO for monitoring, smoke")
    assert scope["selection"] == ["-m 'smoke or monitoring'"]
    assert scope["sections"] == ["monitoring", "smoke"]
    assert scope["collected"] == len(doc["checks"]) + scope["deselected"]
    assert scope["deselected"] > 0
    assert team(doc) == {"TEAM-SMOKE-HOME", "TEAM-MON-ALERTS"}
    assert "selected by -m 'smoke or monitoring'" in verdict["reasons"][1]

    # The whole checklist, every manual item attested: a plain GO.
    whole = run(pytester, *env, "--signoff", "whole.json", *ATTEST_ALL)
    assert whole.ret == 0, whole.stdout.str()
    doc = load(pytester.path / "whole.json")
    verdict, scope = doc["verdict"], doc["run"]["scope"]
    assert (verdict["decision"], verdict["qualifier"], verdict["label"]) == ("GO", None, "GO")
    assert scope["whole"] is True
    assert (scope["selection"], scope["deselected"]) == ([], 0)
    assert team(doc) == TEAM_IDS
    assert len(doc["manual"]) == len(SHIPPED_MANUAL)
    assert not any("only, not for the release" in r for r in verdict["reasons"])
    whole.stdout.fnmatch_lines(["*deployverify sign-off: GO (environment prod)*"])


# -- 4. --checklist SECTIONS, from the option, the variable and the ini key ---------------------------


@pytest.mark.usefixtures("whole_checklist")
def test_checklist_sections_from_option_variable_and_ini(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, downstream: str
) -> None:
    scoped_project(pytester, downstream)
    env = ("--env", "prod", "--env-dir", "envs")

    full = run(pytester, *env, "--signoff", "all.json")
    every = load(pytester.path / "all.json")
    assert full.ret == 0, full.stdout.str()
    expected = {c["nodeid"] for c in shipped(every) if c["section"] in ("smoke", "security")}
    assert expected
    assert len(expected) < len(shipped(every))
    assert {c["section"] for c in shipped(every)} == {"infra", "security", "monitoring", "smoke"}

    def judged(name: str, result: pytest.RunResult) -> None:
        assert result.ret == 0, result.stdout.str()
        doc = load(pytester.path / name)
        own = shipped(doc)
        assert {c["nodeid"] for c in own} == expected, name
        assert {c["section"] for c in own} == {"smoke", "security"}
        assert team(doc) == TEAM_IDS  # the team's own tests are not narrowed by --checklist
        scope = doc["run"]["scope"]
        assert scope["selection"] == ["--checklist smoke,security"]
        assert scope["whole"] is False
        assert doc["verdict"]["qualifier"] is not None
        assert doc["verdict"]["label"] != "GO"

    judged(
        "option.json",
        run(pytester, *env, "--checklist", "smoke,security", "--signoff", "option.json"),
    )
    monkeypatch.setenv("DEPLOYVERIFY_CHECKLIST", "smoke,security")
    judged("variable.json", run(pytester, *env, "--signoff", "variable.json"))
    monkeypatch.delenv("DEPLOYVERIFY_CHECKLIST")
    pytester.makeini("[pytest]\ndeployverify_checklist = smoke,security\n")
    judged("ini.json", run(pytester, *env, "--signoff", "ini.json"))


# -- 6. a missing profile folder or profile names deployverify init ----------------------------------


def cli(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "pytest_deployverify.cli", *args)


@pytest.mark.parametrize("case", ["missing-folder", "missing-profile"])
def test_a_missing_profile_names_the_init_command_that_creates_it(
    pytester: pytest.Pytester, case: str
) -> None:
    if case == "missing-profile":
        (pytester.path / "verify" / "environments").mkdir(parents=True)
        (pytester.path / "verify" / "environments" / "production.toml").write_text(
            'version = "1"\n', encoding="utf-8"
        )
    pytester.makepyfile(test_team=TEAM)
    result = run(pytester, "--env", "staging")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "Traceback" not in err + result.stdout.str()
    [line] = [line for line in err.splitlines() if line.startswith("ERROR:")]
    assert "deployverify init staging --env-dir " in line
    command = shlex.split(line.split("deployverify init ", 1)[1].split(";", 1)[0])
    assert command[0] == "staging"

    # The command it names writes the profile the run looks for.
    made = cli(pytester, "init", *command)
    assert made.ret == 0, made.stderr.str()
    assert (pytester.path / "verify" / "environments" / "staging.toml").is_file()
    again = run(pytester, "--env", "staging", "-m", "smoke")
    assert again.ret == 0, again.stdout.str() + again.stderr.str()
