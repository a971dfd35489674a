"""Structural strings never pass through redaction (issue 12).

A weak secret whose value is a word of the test suite (``monitoring``: a section and marker name,
part of a file, test and check name) must not mangle that structure: node ids, file names, check
ids, sections, markers and titles come out unchanged in every output (terminal with ``-v``, ``-rA``,
``-l`` and ``--tb=long``, JUnit, HTML, the sign-off in Markdown and JSON), serially and under
xdist, while the secret itself, used in a failure message and a parametrize id, is still masked
everywhere: once every structural string is taken out of an output, the secret occurs 0 times.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from pytest_deployverify.profile.secrets import MASK, Redactor, split_parameters
from pytest_deployverify.signoff.model import CheckItem, Outcome, WaiverEntry, WaiverInfo
from pytest_deployverify.signoff.redaction import redacted
from tests.clients.blackhole import refused_port

SECRET = "monitoring"

# -- the redactor ---------------------------------------------------------------------------------


def structural_redactor(*secrets: str) -> Redactor:
    redactor = Redactor(secrets or [SECRET])
    redactor.protect(
        [
            "test_monitoring_team.py::test_monitoring_ok",
            "test_monitoring_team.py",
            "test_monitoring_team",
            "test_monitoring_ok",
            "TEAM-monitoring-1",
            "the monitoring team check",
            "pytest.mark.monitoring",
            "monitoring",  # a section and marker name equal to the secret: protects nothing
        ]
    )
    return redactor


@pytest.mark.parametrize(
    "text",
    [
        "test_monitoring_team.py::test_monitoring_ok PASSED",
        "FAILED test_monitoring_team.py::test_monitoring_ok - AssertionError",
        '<testcase classname="test_monitoring_team" name="test_monitoring_ok">',
        "/srv/suite/test_monitoring_team.py:12: AssertionError",
        "BLOCKING FAILED TEAM-monitoring-1 the monitoring team check: broken",
        "    @pytest.mark.monitoring",
        "test\\_monitoring\\_team.py",  # Markdown-escaped: an escaped form of the token
        "‘the monitoring team check’ (TEAM-monitoring-1)",
    ],
)
def test_an_occurrence_of_structure_is_kept(text: str) -> None:
    assert structural_redactor().redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password monitoring rejected", "password *** rejected"),
        ("monitoring", MASK),
        # next to a structural word, or glued to one: not an occurrence of it
        ("test_monitoring_ok: password monitoring", "test_monitoring_ok: password ***"),
        ("test_monitoring_ok=monitoring", "test_monitoring_ok=***"),
        ("xtest_monitoring_team.py", "xtest_***_team.py"),
        ("test_monitoring_teams.py", "test_***_teams.py"),
        ("TEAM-monitoring-12", "TEAM-***-12"),
        # the parametrize part of a node id
        ("test_monitoring_team.py::test_monitoring_ok[monitoring]", None),
    ],
)
def test_a_secret_outside_structure_is_masked(text: str, expected: str | None) -> None:
    redactor = structural_redactor()
    if expected is None:
        expected = "test_monitoring_team.py::test_monitoring_ok[***]"
    assert redactor.redact(text) == expected


def test_an_encoded_secret_next_to_structure_is_still_masked() -> None:
    spaced = "monitoring team/pass"
    redactor = structural_redactor(SECRET, spaced)
    redactor.protect(["the monitoring team/pass check"])
    pair = base64.b64encode(f"verifier:{SECRET}".encode()).decode()
    bare = base64.b64encode(SECRET.encode()).decode()
    for text in (
        f"test_monitoring_ok sent Basic {pair}",
        f"TEAM-monitoring-1: token {bare}",
        f"test_monitoring_team.py GET /login?p={quote(spaced, safe='')}",
        f"the monitoring team check: {json.dumps(spaced)}",
    ):
        out = redactor.redact(text)
        assert MASK in out, out
        for form in (pair, bare, quote(spaced, safe="")):
            assert form not in out, out
    # the raw value is kept only as part of the protected title
    assert redactor.redact("the monitoring team/pass check") == "the monitoring team/pass check"
    assert redactor.redact(f"{spaced} check") == "*** check"


def test_a_name_keeps_its_static_part_and_masks_its_parametrize_part() -> None:
    redactor = structural_redactor()
    # The parametrize part is masked without protection: an id made of structure is no exception.
    name = "test_monitoring_team.py::test_monitoring_ok[test_monitoring_team.py-monitoring]"
    assert (
        redactor.redact_name(name)
        == "test_monitoring_team.py::test_monitoring_ok[test_***_team.py-***]"
    )
    assert redactor.redact_name("TEAM-monitoring-1") == "TEAM-monitoring-1"
    assert split_parameters("a/b[1].py::C::test_x[p-q]") == ("a/b[1].py::C::test_x", "[p-q]")
    assert split_parameters("a.py") == ("a.py", "")


def test_protecting_takes_only_the_static_part_of_a_name() -> None:
    redactor = Redactor([SECRET])
    redactor.protect(["test_x[monitoring-1]"])  # an id built from the secret protects nothing
    assert redactor.redact("test_x[monitoring-1]") == "test_x[***-1]"
    assert redactor.redact("monitoring-1") == "***-1"


def test_a_secret_added_after_the_structure_is_checked_against_it() -> None:
    redactor = Redactor(["unrelated-secret-value"])
    redactor.protect(["test_monitoring_team.py"])
    assert (
        redactor.redact("test_monitoring_team.py monitoring")
        == "test_monitoring_team.py monitoring"
    )
    assert not redactor.structure_holding_secrets()
    redactor.add(SECRET)
    assert redactor.redact("test_monitoring_team.py monitoring") == "test_monitoring_team.py ***"
    assert redactor.structure_holding_secrets() == {"test_monitoring_team.py"}


def test_kept_keys_are_structure_at_the_top_level_only() -> None:
    redactor = structural_redactor()
    data = {
        "section": SECRET,
        "check_id": "TEAM-monitoring-1[monitoring]",
        "error": f"bad {SECRET}",
        "evidence": [{"section": SECRET, "value": SECRET}],
    }
    assert redactor.redact_data(data, keep=("section", "check_id")) == {
        "section": SECRET,
        "check_id": "TEAM-monitoring-1[***]",
        "error": "bad ***",
        "evidence": [{"section": MASK, "value": MASK}],
    }
    # Other data (user properties, environment metadata) keeps nothing.
    assert redactor.redact_data(data)["section"] == MASK


def test_the_signoff_keeps_its_structural_fields() -> None:
    item = CheckItem(
        nodeid="test_monitoring_team.py::test_monitoring_ok[monitoring]",
        check_id="TEAM-monitoring-1",
        title="monitoring",
        severity="high",
        section="monitoring",
        outcome=Outcome.FAILED,
        sections=["monitoring"],
        components=["monitoring"],
        reason="password monitoring rejected by TEAM-monitoring-1",
        evidence=[{"label": "monitoring", "value": "monitoring"}],
    )
    entry = WaiverEntry(
        waiver=WaiverInfo(
            check="TEAM-monitoring-1", reason="monitoring", approver="a", ticket="T-1", expires="x"
        ),
        status="applied",
        applied_to=["TEAM-monitoring-1"],
    )
    redactor = Redactor([SECRET])
    for _ in range(2):  # the second time, with the model's structure already protected
        clean = redacted(item, redactor)
        assert clean.nodeid == "test_monitoring_team.py::test_monitoring_ok[***]"
        assert (clean.check_id, clean.title, clean.section) == (
            "TEAM-monitoring-1",
            SECRET,
            SECRET,
        )
        assert clean.sections == clean.components == [SECRET]
        assert clean.reason == "password *** rejected by TEAM-monitoring-1"
        assert clean.evidence == [{"label": MASK, "value": MASK}]
        clean_entry = redacted(entry, redactor)
        assert clean_entry.waiver.check == "TEAM-monitoring-1"
        assert clean_entry.waiver.reason == MASK
        assert clean_entry.applied_to == ["TEAM-monitoring-1"]


# -- whole runs -----------------------------------------------------------------------------------

TEAM = """
import os

import pytest

SECRET = os.environ["STRUCT_SECRET"]


@pytest.mark.monitoring
@pytest.mark.check("TEAM-monitoring-1", title="the monitoring team check", severity="high")
def test_monitoring_ok(evidence):
    evidence.record("probe", "answered")


@pytest.mark.monitoring
@pytest.mark.check("TEAM-monitoring-2", title="login with the team password", severity="high")
def test_monitoring_login(profile):
    secret = profile.sections["redis"].password.get()
    assert secret == "nope", "password " + secret + " rejected"


@pytest.mark.parametrize("value", [SECRET, "plain"])
def test_monitoring_param(value):
    assert value == "plain", "got " + value
"""

PROFILE = """\
version = "1.0.0"

[redis]
url = "redis://127.0.0.1:{port}/0"
password = "${{STRUCT_SECRET}}"
timeout = 1
"""

OUTPUTS = ("out/junit.xml", "out/report.html", "out/signoff.md", "out/signoff.json")
ARGS = (
    "--env", "structural", "--env-dir", "envs", "-p", "no:randomly", "-p", "no:cacheprovider",
    "-rA", "-v", "-l", "--tb=long",
    "--junitxml", "out/junit.xml", "--html", "out/report.html", "--self-contained-html",
    "--signoff", "out/signoff.md", "--signoff", "out/signoff.json",
)  # fmt: skip


def variants(text: str) -> set[str]:
    """A string as the outputs write it: raw, HTML-, JSON- and Markdown-escaped."""
    markdown = re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)
    found = {text, html.escape(text), json.dumps(text)[1:-1], markdown}
    return found | {html.escape(f) for f in found}


def leftover(text: str, structure: list[str], field_words: list[str]) -> str:
    """``text`` with every occurrence of a structural string taken out, and every structural
    word that is a whole field value (quoted, a table cell, a property value)."""
    for form in sorted({v for s in structure for v in variants(s)}, key=len, reverse=True):
        text = text.replace(form, "<structure>")
    for word in field_words:
        # "section": "monitoring", <td ...>monitoring</td>, value="monitoring", in JSON or HTML
        quoted = r"(\"|&#34;|&quot;|&gt;|>)" + re.escape(word) + r"(\\?\"|&#34;|&quot;|&lt;|<)"
        text = re.sub(quoted, "<field>", text)
        text = text.replace(f"sections {word}", "<field>")  # the sign-off's scope line
    return text


def project_for(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.setenv("STRUCT_SECRET", secret)
    monkeypatch.setenv("COLUMNS", "200")
    (pytester.path / "envs").mkdir()
    (pytester.path / "envs" / "structural.toml").write_text(PROFILE.format(port=refused_port()))
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_monitoring_team=TEAM)


def outputs_of(pytester: pytest.Pytester, result: pytest.RunResult) -> dict[str, str]:
    found = {"terminal": result.stdout.str() + result.stderr.str()}
    for name in OUTPUTS:
        found[name] = (pytester.path / name).read_text(encoding="utf-8")
    return found


@pytest.mark.parametrize("workers", [None, "2"], ids=["serial", "xdist"])
def test_a_secret_equal_to_a_section_name_leaves_the_structure_intact(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str | None
) -> None:
    project_for(pytester, monkeypatch, SECRET)
    result = pytester.runpytest_subprocess(*ARGS, *(["-n", workers] if workers else []))
    assert result.ret == 1, result.stdout.str()[-3000:]
    out = outputs_of(pytester, result)
    terminal = out["terminal"]

    # The structure, intact in every output.
    for nodeid in ("test_monitoring_ok", "test_monitoring_login", "test_monitoring_param[plain]"):
        assert f"test_monitoring_team.py::{nodeid}" in terminal
    assert "PASSED test_monitoring_team.py::test_monitoring_ok" in terminal  # -rA
    assert "@pytest.mark.monitoring" in terminal  # the decorator in the --tb=long source
    assert "test_monitoring_team.py:" in terminal  # the traceback's location line
    assert "BLOCKING FAILED TEAM-monitoring-2 login with the team password" in terminal
    junit = out["out/junit.xml"]
    assert 'classname="test_monitoring_team" name="test_monitoring_ok"' in junit
    assert '<property name="deployverify.check_id" value="TEAM-monitoring-1" />' in junit
    assert '<property name="deployverify.section" value="monitoring" />' in junit
    signoff = json.loads(out["out/signoff.json"])
    checks = {c["check_id"]: c for c in signoff["checks"]}
    assert checks["TEAM-monitoring-1"]["section"] == "monitoring"
    assert checks["TEAM-monitoring-1"]["title"] == "the monitoring team check"
    assert checks["TEAM-monitoring-1"]["nodeid"] == "test_monitoring_team.py::test_monitoring_ok"
    assert checks["TEAM-monitoring-2"]["outcome"] == "failed"
    assert "test_monitoring_team.py::test_monitoring_param[plain]" in checks
    markdown = out["out/signoff.md"]
    assert "`TEAM-monitoring-1`" in markdown
    assert "**the monitoring team check**" in markdown
    assert "test_monitoring_team.py::test_monitoring_param[plain]" in markdown
    report = out["out/report.html"]
    assert "test_monitoring_team.py::test_monitoring_ok" in report
    assert "col-dvsection\\&#34;&gt;monitoring&lt;/td&gt;" in report

    # The secret, masked everywhere it is not part of the structure.
    assert "test_monitoring_team.py::test_monitoring_param[***]" in terminal
    assert "password *** rejected" in terminal
    assert "got ***" in terminal
    assert "password \\*\\*\\* rejected" in markdown  # Markdown-escaped
    assert checks["test_monitoring_team.py::test_monitoring_param[***]"]["outcome"] == "failed"
    assert 'name="test_monitoring_param[***]"' in junit
    structure = [
        "test_monitoring_team.py",
        "test_monitoring_team",
        "test_monitoring_ok",
        "test_monitoring_login",
        "test_monitoring_param",
        "TEAM-monitoring-1",
        "TEAM-monitoring-2",
        "the monitoring team check",
        "pytest.mark.monitoring",
    ]
    for where, text in out.items():
        rest = leftover(text, structure, [SECRET])
        assert SECRET not in rest, f"{where}: {rest[max(0, rest.find(SECRET) - 200) :][:400]}"
    # The header of the run's end says the secret is weak.
    assert "a secret of this profile is, or is part of, a name of the test suite" in terminal


SMOKE_PROFILE = """\
version = "1.0.0"

[http]
base_url = "https://127.0.0.1:{port}"
timeout = 1
headers = {{ Authorization = "${{STRUCT_SECRET}}" }}
"""

SMOKE_TEAM = """
import os

import pytest


@pytest.mark.parametrize("value", [os.environ["STRUCT_SECRET"]])
def test_header(value):
    assert value == "plain", "header " + value + " refused"
"""


@pytest.mark.parametrize("workers", [None, "2"], ids=["serial", "xdist"])
def test_a_secret_equal_to_part_of_a_shipped_file_name_leaves_it_intact(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str | None
) -> None:
    """``smoke`` alone is too short to be a secret (it is refused when the profile loads): the
    shortest accepted secret that is part of a shipped file name is ``http_smoke``."""
    secret = "http_smoke"
    monkeypatch.setenv("STRUCT_SECRET", secret)
    monkeypatch.setenv("COLUMNS", "200")
    (pytester.path / "envs").mkdir()
    (pytester.path / "envs" / "structural.toml").write_text(
        SMOKE_PROFILE.format(port=refused_port())
    )
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_team=SMOKE_TEAM)
    args = [*ARGS, "--checklist", "smoke", *(["-n", workers] if workers else [])]
    result = pytester.runpytest_subprocess(*args)
    out = outputs_of(pytester, result)
    terminal = out["terminal"]
    nodeid = "deployverify/checklist/test_http_smoke.py::test_health_endpoints"
    assert nodeid in terminal, terminal[-3000:]
    assert f"ERROR {nodeid}" in terminal  # unreachable: an error, with its name
    assert 'classname="deployverify.checklist.test_http_smoke"' in out["out/junit.xml"]
    signoff = json.loads(out["out/signoff.json"])
    nodeids = {c["nodeid"] for c in signoff["checks"]}
    assert nodeid in nodeids
    assert "test_team.py::test_header[***]" in nodeids
    assert "header *** refused" in terminal
    assert nodeid in out["out/report.html"]
    structure = ["deployverify/checklist/test_http_smoke.py", "test_http_smoke"]
    for where, text in out.items():
        rest = leftover(text, structure, [])
        assert secret not in rest, f"{where}: {rest[max(0, rest.find(secret) - 200) :][:400]}"


def test_the_leftover_search_finds_a_secret(tmp_path: Path) -> None:
    """Taking the structure out leaves a secret used as text, in each output's encoding."""
    structure = ["test_monitoring_team.py"]
    for text in (
        "test_monitoring_team.py: password monitoring",
        '{"reason": "monitoring rejected"}',
        "test\\_monitoring\\_team.py \\[monitoring\\]",
        "<td>test_monitoring_team.py[monitoring]</td>",
    ):
        assert SECRET in leftover(text, structure, [SECRET]), text
    assert SECRET not in leftover('{"section": "monitoring"}', [], [SECRET])
