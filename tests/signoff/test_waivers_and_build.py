"""Waivers (active, expired, unused), manual attestations, approvals, held-back checks."""

from __future__ import annotations

import datetime as dt

from pytest_deployverify.signoff.model import Approval, Attestation, Decision, Outcome
from pytest_deployverify.signoff.waivers import active_waiver, apply_waivers

from .helpers import TODAY, item, profile, signoff

WAIVER = {"reason": "known gap until the partner upgrades", "approver": "CISO", "ticket": "SEC-1"}


def waivers(*specs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"check": check, "expires": expires, **WAIVER} for check, expires in specs]


def test_active_waiver_turns_a_failure_into_a_documented_waived_item() -> None:
    prof = profile(waivers=waivers(("SEC-TLS-*", "2026-03-01")))  # expiry day is still valid
    failing = item("SEC-TLS-13", Outcome.FAILED, reason="TLSv1.2 offered")
    result = signoff([failing, item("A")], prof)
    assert failing.outcome is Outcome.WAIVED
    assert failing.waived_outcome is Outcome.FAILED
    assert failing.waiver is not None
    assert failing.waiver.ticket == "SEC-1"
    assert result.waivers[0].status == "applied"
    assert result.waivers[0].applied_to == ["SEC-TLS-13"]
    assert result.verdict.decision is Decision.GO
    assert result.warnings == []


def test_expired_waiver_is_not_applied_and_called_out() -> None:
    prof = profile(waivers=waivers(("SEC-TLS-13", "2026-02-28")))
    failing = item("SEC-TLS-13", Outcome.FAILED)
    result = signoff([failing], prof)
    assert failing.outcome is Outcome.FAILED
    assert failing.expired_waiver is not None
    entry = result.waivers[0]
    assert (entry.status, entry.would_apply_to) == ("expired", ["SEC-TLS-13"])
    assert result.verdict.decision is Decision.NO_GO
    assert result.warnings == [
        "waiver 'SEC-TLS-13' (SEC-1, approved by CISO) EXPIRED on 2026-02-28: NOT applied to "
        "failing SEC-TLS-13; renew or fix"
    ]


def test_an_active_waiver_later_in_the_profile_still_applies_after_an_expired_one() -> None:
    items = [item("XYZ-1", Outcome.FAILED)]
    entries = apply_waivers(
        items,
        profile(waivers=waivers(("XYZ-*", "2020-01-01"), ("XYZ-1", "2026-04-30"))).waivers,
        TODAY,
    )
    assert items[0].outcome is Outcome.WAIVED
    assert [e.status for e in entries] == ["expired", "applied"]


def test_unused_waivers_are_listed_with_what_they_matched() -> None:
    prof = profile(waivers=waivers(("A", "2026-04-30"), ("NOPE-*", "2026-04-30")))
    result = signoff([item("A")], prof)
    assert [(w.status, w.matched) for w in result.waivers] == [("unused", ["A"]), ("unused", [])]


def test_waivers_never_cover_skips_or_not_run_items() -> None:
    prof = profile(waivers=waivers(("ABC-*", "2026-04-30")))
    items = [item("ABC-A", Outcome.SKIPPED), item("ABC-B", Outcome.NOT_RUN)]
    result = signoff(items, prof)
    assert [i.outcome for i in items] == [Outcome.SKIPPED, Outcome.NOT_RUN]
    assert result.verdict.decision is Decision.NO_GO


def test_active_waiver_lookup_for_one_check() -> None:
    prof = profile(waivers=waivers(("SEC-*", "2020-01-01"), ("SEC-*", "2026-04-30")))
    found = active_waiver("SEC-9", "t.py::test", prof.waivers, TODAY)
    assert found is not None
    assert found.expires == dt.date(2026, 4, 30)
    assert active_waiver("INFRA-1", "t.py::test", prof.waivers, TODAY) is None


MANUAL = [
    {"id": "oncall", "title": "On-call rotation", "section": "monitoring"},
    {"id": "runbooks", "title": "Runbooks", "attested_by": "Ops", "attested_at": "2026-02-20"},
]


def test_manual_items_pending_and_attested_from_profile() -> None:
    result = signoff([item("A")], profile(manual=MANUAL))
    oncall, runbooks = result.manual
    assert (oncall.attested, oncall.source) == (False, None)
    assert (runbooks.attested_by, runbooks.attested_at, runbooks.source) == (
        "Ops",
        "2026-02-20",
        "profile",
    )
    assert result.verdict.decision is Decision.CONDITIONAL


def test_attest_option_completes_and_overrides_the_profile() -> None:
    attestations = [
        Attestation("oncall", "Sam Lee", "2026-03-01"),
        Attestation("runbooks", "Kim", "2026-03-01"),
    ]
    result = signoff([item("A")], profile(manual=MANUAL), attestations=attestations)
    assert [(m.id, m.attested_by, m.source) for m in result.manual] == [
        ("oncall", "Sam Lee", "--attest"),
        ("runbooks", "Kim", "--attest"),
    ]
    assert result.verdict.decision is Decision.GO


def test_approval_roles_from_the_profile_filled_by_approve() -> None:
    prof = profile(roles=["Engineering Lead", "Security"])
    result = signoff([item("A")], prof, approvals=[Approval("security", "Dana", "2026-03-01")])
    assert [(a.role, a.name, a.date) for a in result.approvals] == [
        ("Engineering Lead", None, None),
        ("Security", "Dana", "2026-03-01"),
    ]


def test_destructive_skips_on_a_protected_environment_are_held_back() -> None:
    prof = profile(protected=True)
    held = item("D", Outcome.SKIPPED, destructive=True, reason="held back")
    plain_skip = item("S", Outcome.SKIPPED, severity="low")
    result = signoff([held, plain_skip, item("A")], prof)
    assert [i.check_id for i in result.held_back] == ["D"]
    assert result.verdict.decision is Decision.CONDITIONAL
    assert not signoff(
        [item("D", Outcome.SKIPPED, destructive=True)], prof, allow_destructive=True
    ).held_back


def test_observed_version_comes_from_evidence() -> None:
    evidence = [{"name": "observed_version", "value": "1.2.4"}]
    result = signoff([item("A", evidence=evidence)], profile())
    assert result.run.observed_version == "1.2.4"
    assert result.verdict.decision is Decision.CONDITIONAL


def test_crashes_and_missing_results_become_warnings() -> None:
    crashed = item("A", Outcome.ERROR, reason="worker gw0 crashed while running it")
    crashed.phase = "crash"
    result = signoff([crashed, item("B", Outcome.NOT_RUN)], profile())
    assert result.warnings == [
        "A: worker gw0 crashed while running it",
        "1 collected checks never reported a result: B",
    ]


# -- waivers must be accountable (issue: a '*' waiver with reason 'x' turned 14 errors into GO) ----

import pytest  # noqa: E402

from pytest_deployverify.profile.schema import SchemaError  # noqa: E402


@pytest.mark.parametrize(
    ("waiver", "message"),
    [
        ({"check": "*"}, "check pattern '*' would waive too much"),
        ({"check": "?*"}, "would waive too much"),
        ({"check": "S*"}, "would waive too much"),
        ({"check": "*-TLS-*"}, "would waive too much"),
        ({"check": " "}, "check is empty"),
        ({"reason": "x"}, "reason 'x' is a placeholder"),
        ({"reason": ""}, "reason is empty"),
        ({"reason": "flaky"}, "reason 'flaky' is too short"),
        ({"approver": "x"}, "approver 'x' is a placeholder"),
        ({"approver": "TBD"}, "approver 'TBD' is a placeholder"),
        ({"ticket": ""}, "ticket is empty"),
        ({"ticket": "n/a"}, "ticket 'n/a' is a placeholder"),
        ({"ticket": "---"}, "ticket '---' is a placeholder"),
        ({"covers": ["everything"]}, "covers must list failures and/or errors"),
    ],
)
def test_a_waiver_that_names_nothing_or_nobody_is_refused_at_load(
    waiver: dict[str, object], message: str
) -> None:
    base = {"check": "SEC-TLS-*", "expires": "2026-04-30", **WAIVER}
    with pytest.raises(SchemaError, match=message.replace("*", r"\*").replace("?", r"\?")):
        profile(waivers=[{**base, **waiver}])


def test_a_waiver_expiring_beyond_the_policy_horizon_is_refused() -> None:
    base = {"check": "SEC-TLS-*", **WAIVER}
    with pytest.raises(
        SchemaError, match=r"waivers\[0\]\.expires: 2026-06-30 is more than 90 days"
    ):
        profile(waivers=[{**base, "expires": "2026-06-30"}])
    longer = profile(waivers=[{**base, "expires": "2026-06-30"}], policy={"waiver_max_days": 180})
    assert longer.waivers[0].expires == dt.date(2026, 6, 30)


def test_a_waiver_covers_failures_not_errors_unless_it_says_so() -> None:
    errored = item("SEC-TLS-13", Outcome.ERROR, reason="TLS endpoint unreachable")
    result = signoff([errored, item("A")], profile(waivers=waivers(("SEC-TLS-*", "2026-04-30"))))
    assert errored.outcome is Outcome.ERROR
    assert result.verdict.decision is Decision.NO_GO
    assert result.waivers[0].not_covered == ["SEC-TLS-13"]
    assert result.warnings == [
        "waiver 'SEC-TLS-*' (SEC-1, approved by CISO) unused; NOT applied to SEC-TLS-13, which "
        "errored (could not run): the waiver covers failures only (add errors to covers to "
        "accept that)"
    ]
    errored = item("SEC-TLS-13", Outcome.ERROR, reason="TLS endpoint unreachable")
    both = [
        {"check": "SEC-TLS-*", "expires": "2026-04-30", "covers": ["failures", "errors"], **WAIVER}
    ]
    result = signoff([errored, item("A")], profile(waivers=both))
    assert (errored.outcome, errored.waived_outcome) == (Outcome.WAIVED, Outcome.ERROR)
    assert result.verdict.decision is Decision.GO
    from pytest_deployverify.signoff import render_markdown

    assert "(an ERROR: the check could not run, nothing was judged)" in render_markdown.render(
        result
    )


# -- attestations go stale (issue: 'backup restore tested' attested once, for every release) ------


def attested(**fields: object) -> dict[str, object]:
    return {"id": "backup", "title": "Backup restore tested", "attested_by": "Sam", **fields}


def test_an_attestation_for_another_release_is_pending() -> None:
    result = signoff(
        [item("A")], profile(manual=[attested(attested_at="2026-02-25", release="1.2.2")])
    )
    [entry] = result.manual
    assert not entry.attested
    assert entry.stale == "it was made for release 1.2.2, this run verifies 1.2.3"
    assert result.verdict.decision is Decision.CONDITIONAL
    same = signoff(
        [item("A")], profile(manual=[attested(attested_at="2026-02-25", release="v1.2.3")])
    )
    assert same.manual[0].attested
    assert same.verdict.decision is Decision.GO


def test_an_old_attestation_is_pending_after_its_maximum_age() -> None:
    old = signoff([item("A")], profile(manual=[attested(attested_at="2026-01-15")]))
    assert old.manual[0].stale == "it is 45 days old, older than 30 days"
    own_age = signoff(
        [item("A")], profile(manual=[attested(attested_at="2026-01-15", max_age_days=60)])
    )
    assert own_age.manual[0].attested
    policy = profile(
        manual=[attested(attested_at="2026-01-15")], policy={"attestation_max_age_days": 50}
    )
    assert signoff([item("A")], policy).manual[0].attested


def test_attest_on_the_command_line_renews_a_stale_attestation() -> None:
    prof = profile(manual=[attested(attested_at="2025-01-01")])
    result = signoff([item("A")], prof, attestations=[Attestation("backup", "Kim", "2026-03-01")])
    assert result.manual[0].attested
    assert (result.manual[0].attested_by, result.manual[0].source) == ("Kim", "--attest")


def test_an_attestation_without_a_date_is_refused() -> None:
    with pytest.raises(SchemaError, match="attested_by needs attested_at"):
        profile(manual=[attested()])
