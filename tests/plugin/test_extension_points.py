"""Extending a run without editing the plugin: hook implementations in a conftest, and entry points
of an installed distribution (a real dist-info folder on sys.path, read by importlib.metadata)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

SECRET = "ext-secret-value-5521"

PROFILE = f"""
version = "1.0"

[queue]
url = "amqp://queue.internal:5672"
password = "{SECRET}"
max_depth = 10
"""

# A component registered from a conftest: its table is validated like a built-in one, its
# read feeds a declared check, and the check lands in the sign-off under its declared title.
CONFTEST = """
import dataclasses
import json
import os

from pytest_deployverify import Component, Finding, Rule, SectionSpec, Secret, Severity, declare

@dataclasses.dataclass(frozen=True, kw_only=True)
class QueueConfig:
    url: str
    password: Secret | None = None
    max_depth: int = 100

DEPTH = Rule("queue-depth", Severity.HIGH, "queue drained")
QUEUE_DEPTH = declare(
    "INFRA-QUEUE-DEPTH",
    title="Work queue is drained",
    section="infra",
    severity="high",
    components=("queue",),
    keys=("queue.max_depth",),
    reads=("queue.depth",),
)

def read_depth(ctx):
    return {"depth": int(os.environ.get("QUEUE_DEPTH", "0")), "url": ctx.section.url}

component = Component(
    name="queue",
    title="Work queue",
    sections=(SectionSpec("queue", QueueConfig, "the work queue"),),
    reads={"depth": read_depth},
    checks=(QUEUE_DEPTH,),
)

def pytest_deployverify_components(config):
    return [component]

def pytest_deployverify_signoff(signoff, documents, config):
    with open("published.json", "w") as handle:
        json.dump({"verdict": signoff.verdict.decision.value,
                   "ids": [c.check_id for c in signoff.checks],
                   "documents": documents}, handle)
    if os.environ.get("PUBLISH_FAILS"):
        raise RuntimeError("ticket system down for " + os.environ["PUBLISH_FAILS"])
"""

CHECKS = """
from conftest import QUEUE_DEPTH
from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.support import conclude

@item(QUEUE_DEPTH)
def test_queue_depth(snapshot, profile, evidence):
    seen = snapshot("queue.depth")
    limit = profile.sections["queue"].max_depth
    evidence.record("depth", seen["depth"], expected=f"<= {limit}")
    from conftest import DEPTH
    conclude([DEPTH("queue " + seen["url"], f"depth {seen['depth']}")] if seen["depth"] > limit else [])
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_queue=CHECKS)
    (pytester.path / "envs").mkdir()
    (pytester.path / "envs" / "prod.toml").write_text(PROFILE)
    return pytester


ARGS = ("--env", "prod", "--env-dir", "envs", "-p", "no:cacheprovider")


def test_a_conftest_component_is_validated_read_and_signed_off(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUEUE_DEPTH", "3")
    result = project.runpytest_subprocess(*ARGS, "--signoff", "s.md", "--signoff", "s.json")
    assert result.ret == 0, result.stdout.str()
    published = json.loads((project.path / "published.json").read_text())
    assert published["verdict"] == "GO"
    assert published["ids"] == ["INFRA-QUEUE-DEPTH"]
    assert set(published["documents"]) == {str(project.path / "s.md"), str(project.path / "s.json")}
    markdown = (project.path / "s.md").read_text()
    assert "**Work queue is drained**" in markdown
    assert "`INFRA-QUEUE-DEPTH`" in markdown
    assert SECRET not in markdown + json.dumps(published) + result.stdout.str()


def test_a_conftest_component_defect_fails_with_its_finding(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUEUE_DEPTH", "42")
    result = project.runpytest_subprocess(*ARGS, "-rf")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*[[]queue-depth[]] queue amqp://queue.internal:5672: depth 42*"])


def test_a_conftest_components_table_is_validated_like_a_builtin(project: pytest.Pytester) -> None:
    (project.path / "envs" / "prod.toml").write_text(PROFILE + "max_depht = 3\n")
    result = project.runpytest_subprocess(*ARGS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*queue.max_depht*unknown key; did you mean 'max_depth'?*"])


def test_a_failing_publisher_fails_a_passing_run_and_says_why(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLISH_FAILS", SECRET)
    result = project.runpytest_subprocess(*ARGS)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "ERROR: a pytest_deployverify_signoff hook failed: RuntimeError: ticket system down for ***"
        ]
    )
    assert SECRET not in result.stdout.str()


def install_distribution(site: Path, name: str, group: str, entry: str, module: str) -> None:
    """A minimal installed distribution: a module and a dist-info with one entry point."""
    (site / f"{module.split('.')[0]}.py").write_text(textwrap.dedent(MODULES[module]))
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry}\n")


MODULES = {
    "plain_signoff": """
        from pytest_deployverify.signoff.formats import SignoffFormat

        def render(signoff, environ):
            lines = [f"verdict={signoff.verdict.decision.value}"]
            lines += [f"{c.check_id}={c.outcome.value}" for c in signoff.checks]
            return "\\n".join(lines) + "\\n"

        signoff_format = SignoffFormat("plain", (".txt",), render, description="key=value lines")
    """
}


def test_a_signoff_format_from_an_entry_point(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = pytester.path / "site"
    site.mkdir()
    install_distribution(
        site,
        "acme_plain_signoff",
        "pytest_deployverify.signoff_formats",
        "plain = plain_signoff:signoff_format",
        "plain_signoff",
    )
    monkeypatch.setenv("PYTHONPATH", str(site))
    pytester.makepyfile(
        test_one="import pytest\n\n@pytest.mark.check('SMOKE-ONE', severity='high')\n"
        "def test_one():\n    pass\n"
    )
    (pytester.path / "envs").mkdir()
    (pytester.path / "envs" / "prod.toml").write_text('version = "1"\n')
    result = pytester.runpytest_subprocess(*ARGS, "--signoff", "out.txt")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert (pytester.path / "out.txt").read_text() == "verdict=GO\nSMOKE-ONE=passed\n"
    refused = pytester.runpytest_subprocess(*ARGS, "--signoff", "out.csv")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*no sign-off format writes .csv; use one of .md, .json, .txt*"])


LOST = """
from pytest_deployverify import Component, SectionSpec

lost = Component(
    name="lost",
    title="A component whose checklist file is gone",
    sections=(SectionSpec("lost", dict, "nothing"),),
    checklist=("lostpkg.test_lost_checks",),
)

def pytest_deployverify_components(config):
    return [lost]
"""


@pytest.mark.parametrize(
    "extra",
    [(), ("--continue-on-collection-errors",), ("-n", "2")],
    ids=["stops", "continues", "xdist"],
)
def test_a_lost_checklist_file_is_a_no_go_naming_it(
    pytester: pytest.Pytester, extra: tuple[str, ...]
) -> None:
    pytester.makeconftest(LOST)
    pytester.makepyfile(test_team="import pytest\n\n@pytest.mark.smoke\ndef test_ok():\n    pass\n")
    (pytester.path / "envs").mkdir()
    (pytester.path / "envs" / "prod.toml").write_text('version = "1.0"\n')
    result = pytester.runpytest_subprocess(
        *ARGS, "--checklist", "all", "--signoff", "s.json", "--signoff-exit", "verdict", *extra
    )
    assert result.ret == 11, result.stdout.str()
    signoff = json.loads((pytester.path / "s.json").read_text())
    assert signoff["verdict"]["decision"] == "NO-GO"
    reasons = " ".join(signoff["verdict"]["reasons"])
    assert "deployverify/lostpkg/test_lost_checks.py" in reasons
    assert "lostpkg.test_lost_checks cannot be found" in reasons
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
