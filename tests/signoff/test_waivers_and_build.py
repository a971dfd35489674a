"""Waivers (active, expired, unused), manual attestations, approvals, held-back checks."""

from __future__ import annotations

import datetime as dt

from pytest_deployverify.signoff.model import Approval, Attestation, Decision, Outcome
from pytest_deployverify.signoff.waivers import active_waiver, apply_waivers

from .helpers import TODAY, item, profile, signoff

WAIVER = {"reason": "known gap", "approver": "CISO", "ticket": "SEC-1"}


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
    items = [item("X-1", Outcome.ERROR)]
    entries = apply_waivers(
        items,
        profile(waivers=waivers(("X-*", "2020-01-01"), ("X-1", "2030-01-01"))).waivers,
        TODAY,
    )
    assert items[0].outcome is Outcome.WAIVED
    assert [e.status for e in entries] == ["expired", "applied"]


def test_unused_waivers_are_listed_with_what_they_matched() -> None:
    prof = profile(waivers=waivers(("A", "2030-01-01"), ("NOPE-*", "2030-01-01")))
    result = signoff([item("A")], prof)
    assert [(w.status, w.matched) for w in result.waivers] == [("unused", ["A"]), ("unused", [])]


def test_waivers_never_cover_skips_or_not_run_items() -> None:
    prof = profile(waivers=waivers(("*", "2030-01-01")))
    items = [item("A", Outcome.SKIPPED), item("B", Outcome.NOT_RUN)]
    result = signoff(items, prof)
    assert [i.outcome for i in items] == [Outcome.SKIPPED, Outcome.NOT_RUN]
    assert result.verdict.decision is Decision.NO_GO


def test_active_waiver_lookup_for_one_check() -> None:
    prof = profile(waivers=waivers(("SEC-*", "2020-01-01"), ("SEC-*", "2030-01-01")))
    found = active_waiver("SEC-9", "t.py::test", prof.waivers, TODAY)
    assert found is not None
    assert found.expires == dt.date(2030, 1, 1)
    assert active_waiver("INFRA-1", "t.py::test", prof.waivers, TODAY) is None


MANUAL = [
    {"id": "oncall", "title": "On-call rotation", "section": "monitoring"},
    {"id": "runbooks", "title": "Runbooks", "attested_by": "Ops", "attested_at": "2026-01-02"},
]


def test_manual_items_pending_and_attested_from_profile() -> None:
    result = signoff([item("A")], profile(manual=MANUAL))
    oncall, runbooks = result.manual
    assert (oncall.attested, oncall.source) == (False, None)
    assert (runbooks.attested_by, runbooks.attested_at, runbooks.source) == (
        "Ops",
        "2026-01-02",
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
