"""The seeds' manual items shipped as pending attestations, the profile's keys to drop, attest and
add them, the sign-off role presets, and SEEDS.md (every seed line and what covers it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.checklist import seeds
from pytest_deployverify.checks.gates import READY_MADE
from pytest_deployverify.checks.manual import SHIPPED_MANUAL, shipped_ids
from pytest_deployverify.checks.rollback import CHECKS as ROLLBACK_CHECKS
from pytest_deployverify.components.catalog import all_components, check_catalog
from pytest_deployverify.profile.model import ROLE_PRESETS, Section
from pytest_deployverify.profile.schema import SchemaError
from pytest_deployverify.signoff import render_html, render_json, render_markdown
from pytest_deployverify.signoff.model import Attestation, Decision, Signoff

from .helpers import TODAY, item, profile, signoff

SEEDS_MD = Path(seeds.__file__).with_name("SEEDS.md")
SHIPPED = len(SHIPPED_MANUAL)


def shipped_signoff(prof_fields: dict[str, object] | None = None, **kwargs: Any) -> Signoff:
    return signoff(
        [item("A")], profile(**(prof_fields or {})), shipped_manual=SHIPPED_MANUAL, **kwargs
    )


# -- the shipped items ---------------------------------------------------------------------------


def test_the_shipped_items_cover_what_the_brief_names_in_every_section() -> None:
    ids = shipped_ids()
    assert len(ids) == len(set(ids))
    for wanted in (
        "secrets-rotation",
        "secrets-access",  # vault access
        "perimeter-load-balancer",
        "perimeter-firewall",
        "perimeter-security-groups",
        "perimeter-ddos",
        "oncall",
        "escalation",
        "alerts-e2e",
        "log-retention",
        "runbooks",
        "dr-drill",
        "backup-restore",
        "pen-test",
        "security-review",
        "docs-operations",
    ):
        assert wanted in ids, wanted
    sections = {entry.section for entry in SHIPPED_MANUAL}
    assert sections == {Section.INFRA, Section.SECURITY, Section.MONITORING}
    assert all(entry.title and entry.note and not entry.attested for entry in SHIPPED_MANUAL)


def test_a_whole_run_lists_every_shipped_item_as_pending_and_is_not_go() -> None:
    result = shipped_signoff()
    assert [m.id for m in result.manual] == shipped_ids()
    assert not any(m.attested for m in result.manual)
    assert result.verdict.decision is Decision.CONDITIONAL
    assert result.verdict.reasons == [
        f"{SHIPPED} manual items are pending attestation: " + ", ".join(shipped_ids())
    ]
    assert len(result.pending_manual) == SHIPPED


def test_attest_completes_every_shipped_item_and_gives_go() -> None:
    attest = [Attestation(i, "Sam Lee", "2026-03-01") for i in shipped_ids()]
    result = shipped_signoff(attestations=attest)
    assert all(m.attested and m.source == "--attest" for m in result.manual)
    assert result.verdict.decision is Decision.GO
    assert result.verdict.reasons[0].endswith(f"; all {SHIPPED} manual items attested")


def test_a_partial_run_lists_only_the_profiles_own_items() -> None:
    """A run of part of the checklist ("GO for smoke") is not a release GO: the shipped items
    are left out with their --attest; the profile's own [[manual]] entries stay, as before."""
    own = [{"id": "canary", "title": "Canary watched for an hour"}]
    attest = [Attestation("oncall", "Sam", "2026-03-01")]
    result = shipped_signoff({"manual": own}, attestations=attest, whole=False)
    assert [m.id for m in result.manual] == ["canary"]
    assert result.manual_dropped == []


def test_a_profile_drops_items_with_a_reason_and_the_signoff_lists_them() -> None:
    drop = {"dr-multi-region": "single region by design (ADR-12)", "perimeter-ddos": "internal"}
    result = shipped_signoff({"shipped_manual": {"drop": drop}})
    ids = [m.id for m in result.manual]
    assert "dr-multi-region" not in ids
    assert "perimeter-ddos" not in ids
    assert len(ids) == SHIPPED - 2
    assert [(d.id, d.section, d.reason) for d in result.manual_dropped] == [
        ("dr-multi-region", "infra", "single region by design (ADR-12)"),
        ("perimeter-ddos", "security", "internal"),
    ]
    markdown = render_markdown.render(result)
    assert "**Dropped by the profile** (\\[shipped\\_manual\\] drop)" in markdown
    assert (
        "- ~~Multi-region setup in place (if applicable)~~ · `dr-multi-region` · "
        "Infrastructure: single region by design (ADR-12)"
    ) in markdown
    document = render_json.to_document(result)
    assert document["manual_dropped"][0] == {
        "id": "dr-multi-region",
        "title": "Multi-region setup in place (if applicable)",
        "section": "infra",
        "reason": "single region by design (ADR-12)",
    }
    again = render_json.from_document(json.loads(render_json.render(result, key=None)))
    assert again.manual_dropped == result.manual_dropped
    html = render_html.summary_html(result)
    assert "dropped: single region by design (ADR-12)" in html


def test_a_profile_attests_a_shipped_item_by_id_bound_to_its_release() -> None:
    entry = {"id": "backup-restore", "attested_by": "Kim", "attested_at": "2026-02-20"}
    stale = {**entry, "id": "dr-drill", "release": "1.2.2"}
    result = shipped_signoff({"manual": [entry, stale]})
    by_id = {m.id: m for m in result.manual}
    restore = by_id["backup-restore"]
    # The title, section and note are the shipped item's; the attestation the profile's.
    assert (restore.title, restore.section, restore.attested_by, restore.source) == (
        "Backup restoration tested",
        "infra",
        "Kim",
        "profile",
    )
    assert restore.note
    assert "restore of the latest backup" in restore.note
    assert restore.attested
    # Bound to another release: pending again, saying why.
    drill = by_id["dr-drill"]
    assert not drill.attested
    assert drill.stale == "it was made for release 1.2.2, this run verifies 1.2.3"


def test_a_profile_adds_its_own_items_after_the_shipped_ones() -> None:
    own = {"id": "canary", "title": "Canary watched for an hour", "section": "monitoring"}
    result = shipped_signoff({"manual": [own]})
    assert [m.id for m in result.manual][-1] == "canary"
    assert len(result.manual) == SHIPPED + 1


def test_shipped_items_can_be_turned_off() -> None:
    own = {"id": "canary", "title": "Canary watched for an hour"}
    result = shipped_signoff({"manual": [own], "shipped_manual": {"enabled": False}})
    assert [m.id for m in result.manual] == ["canary"]


def test_what_does_not_fit_the_shipped_items_is_named() -> None:
    prof = profile(
        manual=[{"id": "mystery"}, {"id": "oncall", "attested_by": "x y", "attested_at": TODAY}],
        shipped_manual={"drop": {"oncall": "no pager here", "no-such-item": "typo"}},
    )
    assert prof.manual_problems(SHIPPED_MANUAL) == [
        "[[manual]] 'mystery' has no title and is not a shipped item; give it a title",
        "[shipped_manual] drop names 'no-such-item', which is not a shipped item (shipped: "
        + ", ".join(sorted(shipped_ids()))
        + ")",
        "[[manual]] 'oncall' is also dropped in [shipped_manual]; keep one of them",
    ]


def test_a_drop_needs_its_reason() -> None:
    with pytest.raises(SchemaError, match="give the reason each shipped item does not apply"):
        profile(shipped_manual={"drop": {"pen-test": "  "}})


def test_the_markdown_groups_manual_items_by_section_in_checklist_order() -> None:
    markdown = render_markdown.render(shipped_signoff())
    block = markdown.split("## Manual checks (attested by a person)", 1)[1]
    headings = [line for line in block.splitlines() if line.startswith("**")][:3]
    assert headings == ["**Infrastructure**", "**Security**", "**Monitoring & Observability**"]
    assert f"_0 of {SHIPPED} attested_" in block


# -- the shipped items in a run -----------------------------------------------------------------------

PROFILE = """\
version = "1.2.3"
roles = "platform"

[shipped_manual]
drop = { perimeter-ddos = "internal service: no public endpoint" }
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    (pytester.path / "envs").mkdir(exist_ok=True)
    (pytester.path / "envs" / "demo.toml").write_text(PROFILE)
    return pytester.runpytest(
        "--env", "demo", "--env-dir", "envs", "-p", "no:cacheprovider", "-p", "no:randomly",
        "--checklist", "all", "--signoff", "s.json", *args,
    )  # fmt: skip


def test_the_whole_checklist_run_lists_the_shipped_items_until_attested(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester)
    document = json.loads((pytester.path / "s.json").read_text())
    manual = {m["id"]: m["status"] for m in document["manual"]}
    assert set(manual) == set(shipped_ids()) - {"perimeter-ddos"}
    assert set(manual.values()) == {"pending"}
    assert [d["id"] for d in document["manual_dropped"]] == ["perimeter-ddos"]
    result.stdout.fnmatch_lines(
        ["pending manual item: oncall On-call rotation established*(--attest oncall=NAME)"]
    )
    # The platform's six roles, as its sign-off table lists them.
    assert [a["role"] for a in document["approvals"]] == list(ROLE_PRESETS["platform"])

    run(pytester, "--attest", "oncall=Sam Lee", "--approve", "CTO=Ada")
    document = json.loads((pytester.path / "s.json").read_text())
    oncall = next(m for m in document["manual"] if m["id"] == "oncall")
    assert (oncall["status"], oncall["attested_by"], oncall["source"]) == (
        "attested",
        "Sam Lee",
        "--attest",
    )
    cto = next(a for a in document["approvals"] if a["role"] == "CTO")
    assert cto["name"] == "Ada"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--attest", "perimeter-ddos=Sam"),
            "--attest 'perimeter-ddos': no manual item with that id in profile 'demo'",
        ),
        (("--approve", "Security=Dana"), "--approve 'Security': no such sign-off role"),
    ],
)
def test_attesting_a_dropped_item_or_approving_a_role_not_in_the_preset_is_a_usage_error(
    pytester: pytest.Pytester, args: tuple[str, ...], message: str
) -> None:
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_a_drop_of_an_unknown_item_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.mkdir("envs")
    (pytester.path / "envs" / "demo.toml").write_text(
        'version = "1"\n[shipped_manual]\ndrop = { ddos = "typo of perimeter-ddos" }\n'
    )
    result = pytester.runpytest("--env", "demo", "--env-dir", "envs", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "[shipped_manual] drop names 'ddos', which is not a shipped item" in (
        result.stderr.str()
    )


# -- role presets ------------------------------------------------------------------------------------


def test_role_presets_follow_the_seeds_signoff_tables() -> None:
    assert profile(roles="api-gateway").roles == (
        "Engineering Lead",
        "Security Team",
        "Operations Team",
        "Product Manager",
    )
    assert profile(roles="platform").roles == (
        "DevOps Engineer",
        "Platform Engineer",
        "Security Engineer",
        "Product Owner",
        "Engineering Manager",
        "CTO",
    )
    assert profile(roles="Default").roles == (
        "Engineering Lead",
        "Security",
        "Operations",
        "Product",
    )
    assert profile(roles=["Release Manager"]).roles == ("Release Manager",)
    result = signoff([item("A")], profile(roles="api-gateway"))
    assert [line.role for line in result.approvals] == list(ROLE_PRESETS["api-gateway"])


def test_an_unknown_preset_names_the_presets() -> None:
    with pytest.raises(SchemaError) as raised:
        profile(roles="gateway")
    message = str(raised.value)
    assert "roles: no preset named 'gateway'; presets: default (" in message
    assert "api-gateway (Engineering Lead, Security Team, Operations Team, Product Manager)" in (
        message
    )


# -- SEEDS.md ----------------------------------------------------------------------------------------


def known_checks() -> set[str]:
    return set(check_catalog(all_components())) | {spec.id for spec in ROLLBACK_CHECKS}


def test_every_check_gate_manual_item_and_preset_the_table_names_exists() -> None:
    checks, ids = known_checks(), set(shipped_ids())
    missing: list[str] = []
    for part in seeds.PARTS:
        for line in part.lines:
            for check_id, gate in seeds.check_ids(line):
                if check_id not in checks:
                    missing.append(f"{line.text}: check {check_id}")
                if gate is not None and (check_id != "MON-GATE" or gate not in READY_MADE):
                    missing.append(f"{line.text}: gate {check_id}[{gate}]")
            missing += [f"{line.text}: manual {m}" for m in line.manual if m not in ids]
            if line.roles and line.roles not in ROLE_PRESETS:
                missing.append(f"{line.text}: roles {line.roles}")
    assert missing == []


def test_a_check_id_that_does_not_exist_is_found() -> None:
    """The test above fails for a table naming a check nobody declared."""
    bogus = seeds.L("Made-up line", "K8S-NO-SUCH-CHECK", "MON-GATE[no_such_gate]")
    found = seeds.check_ids(bogus)
    assert found == [("K8S-NO-SUCH-CHECK", None), ("MON-GATE", "no_such_gate")]
    assert "K8S-NO-SUCH-CHECK" not in known_checks()
    assert "no_such_gate" not in READY_MADE


def test_every_line_is_covered_or_says_why_not_and_every_shipped_item_is_used() -> None:
    lines = [line for part in seeds.PARTS for line in part.lines]
    assert [line.text for line in lines if not line.covered and not line.note] == []
    used = {m for line in lines for m in line.manual}
    assert set(shipped_ids()) - used == set()
    # Both seeds, both sign-off tables.
    assert {part.seed for part in seeds.PARTS} == {seeds.API_GATEWAY, seeds.PLATFORM}
    assert {line.roles for line in lines if line.roles} == {"api-gateway", "platform"}


def test_the_committed_table_is_current() -> None:
    assert SEEDS_MD.read_text(encoding="utf-8") == seeds.current(), (
        "SEEDS.md is stale: python -m pytest_deployverify.checklist.seeds > "
        "src/pytest_deployverify/checklist/SEEDS.md"
    )


def test_the_sandbox_profile_leaves_the_shipped_items_pending() -> None:
    """The sandbox's sign-off lists them as pending until --attest (scripts/verify-sandbox.sh
    attests them for the demo, so the README's first command still gives GO)."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "verify/environments/sandbox.toml").read_text())
    sandbox = profile(manual=data.get("manual", []), shipped_manual=data.get("shipped_manual", {}))
    assert sandbox.manual_problems(SHIPPED_MANUAL) == []
    listed = sandbox.manual_items(SHIPPED_MANUAL)
    assert [m.id for m in listed] == [i for i in shipped_ids() if i != "dr-multi-region"]
    assert not any(m.attested for m in listed)
    script = (root / "scripts/verify-sandbox.sh").read_text()
    assert "--attest={item.id}=sandbox demo (verify-sandbox.sh)" in script
