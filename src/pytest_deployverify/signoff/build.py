"""Assemble the sign-off from the run's items, the profile and the command line: no pytest here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence

from pytest_deployverify.checks.versions import compare_versions
from pytest_deployverify.profile.model import DEFAULT_ROLES, ManualItem, Profile, Section
from pytest_deployverify.signoff.collect import observed_versions
from pytest_deployverify.signoff.model import (
    ROLLBACK_AT_EVIDENCE,
    Approval,
    ApprovalLine,
    Attestation,
    CheckItem,
    DroppedManual,
    ManualEntry,
    Outcome,
    RunInfo,
    Signoff,
)
from pytest_deployverify.signoff.verdict import decide
from pytest_deployverify.signoff.waivers import apply_waivers, describe_waiver_entry

SOURCE_PROFILE = "profile"
SOURCE_ATTEST = "--attest"


def build_signoff(
    items: list[CheckItem],
    *,
    run: RunInfo,
    profile: Profile | None,
    today: dt.date,
    approvals: Sequence[Approval] = (),
    attestations: Sequence[Attestation] = (),
    held_back: Collection[str] = (),
    allow_destructive: bool = False,
    configured: Sequence[str] = (),
    collection_errors: Sequence[str] = (),
    shipped_manual: Sequence[ManualItem] = (),
    whole: bool = True,
) -> Signoff:
    """The complete sign-off; ``items`` are updated in place (held back, waived).

    ``configured`` names the components the profile configures (each must be verified for a GO);
    ``collection_errors`` are test files that could not be collected (``path: reason``);
    ``shipped_manual`` the shipped checklist's manual items: a run of the whole checklist
    (``whole``) lists them as the profile's [shipped_manual] and [[manual]] adjust them; a run
    of part of it leaves them, and their attestations, out."""

    protected = bool(profile and profile.protected)
    for item in items:
        guarded = item.destructive and protected and not allow_destructive
        if item.outcome is Outcome.SKIPPED and (item.nodeid in held_back or guarded):
            item.held_back = True
    waivers = apply_waivers(items, profile.waivers if profile else [], today)
    versions = observed_versions(items)
    run.observed_version = ", ".join(versions) if versions else None
    if run.rollback is not None and run.rollback.at is None:
        at = _rollback_time(items)
        if at is not None:
            run.rollback.at, run.rollback.at_source = at
    listed = profile.manual_items(shipped_manual, with_shipped=whole) if profile else []
    # An --attest of a shipped item this run does not list (a partial run) is left out with it.
    unlisted = {item.id for item in shipped_manual} - {item.id for item in listed}
    manual = manual_entries(
        listed,
        [a for a in attestations if a.item_id not in unlisted],
        today=today,
        version=profile.version if profile else None,
        max_age_days=profile.policy.attestation_max_age_days if profile else 30,
    )
    verdict = decide(
        items,
        manual,
        expected_version=run.expected_version,
        observed_versions=versions,
        scope=run.scope,
        configured=configured,
        collection_errors=collection_errors,
        rollback=run.rollback,
    )
    warnings = [describe_waiver_entry(w) for w in waivers if w.status == "expired" or w.not_covered]
    if run.scope is not None and run.scope.interrupted:
        warnings.append(f"the run was interrupted: {run.scope.interrupted}")
    warnings += [f"could not be collected: {error}" for error in collection_errors]
    warnings += [
        f"{item.check_id}: {item.reason}" for item in items if item.phase == "crash" and item.reason
    ]
    not_run = [item.check_id for item in items if item.outcome is Outcome.NOT_RUN]
    if not_run:
        warnings.append(f"{len(not_run)} collected checks never reported a result: {_few(not_run)}")
    if len(versions) > 1:
        warnings.append(f"checks observed different versions: {', '.join(versions)}")
    roles = list(profile.roles) if profile else list(DEFAULT_ROLES)
    return Signoff(
        run=run,
        checks=items,
        manual=manual,
        waivers=waivers,
        approvals=approval_lines(roles, approvals),
        verdict=verdict,
        warnings=warnings,
        collection_errors=list(collection_errors),
        manual_dropped=[
            DroppedManual(
                id=item.id,
                title=item.title or item.id,
                section=(item.section or Section.INFRA).value,
                reason=reason,
            )
            for item, reason in (
                profile.dropped_manual(shipped_manual) if profile and whole else []
            )
        ],
    )


def _rollback_time(items: Sequence[CheckItem]) -> tuple[str, str] | None:
    """(time, where it came from) as a rollback check recorded it (evidence ``rollback_at``)."""
    for item in items:
        for entry in item.evidence:
            if entry.get("name") == ROLLBACK_AT_EVIDENCE and entry.get("value"):
                return str(entry["value"]), str(entry.get("source") or item.check_id)
    return None


def manual_entries(
    items: Iterable[ManualItem],
    attestations: Sequence[Attestation],
    *,
    today: dt.date | None = None,
    version: str | None = None,
    max_age_days: int = 30,
) -> list[ManualEntry]:
    """The profile's manual items; ``--attest`` completes or overrides an attestation.

    An attestation written into the profile counts only for the release it names (``release``,
    compared with the profile's ``version``) and for ``max_age_days`` after ``attested_at``; a
    stale one leaves the item pending, saying why. ``--attest`` is made for this run."""
    today = today or dt.date.today()
    given = {a.item_id: a for a in attestations}
    entries = []
    for item in items:
        attest = given.pop(item.id, None)
        by: str | None
        at: str | None
        source: str | None
        stale: str | None = None
        if attest is not None:
            by, at, source = attest.name, attest.date, SOURCE_ATTEST
        elif item.attested_by:
            by = item.attested_by
            at = item.attested_at.isoformat() if item.attested_at else None
            source = SOURCE_PROFILE
            stale = _staleness(item, today, version, max_age_days)
        else:
            by, at, source = None, None, None
        entries.append(
            ManualEntry(
                id=item.id,
                title=item.title or item.id,
                section=(item.section or Section.INFRA).value,
                attested_by=by,
                attested_at=at,
                note=item.note,
                source=source,
                release=item.release,
                stale=stale,
            )
        )
    # The plugin rejects unknown ids up front; kept rather than dropped if one gets here anyway.
    for attest in given.values():
        entries.append(
            ManualEntry(
                id=attest.item_id,
                title=f"{attest.item_id} (not in the profile)",
                section="other",
                attested_by=attest.name,
                attested_at=attest.date,
                source=SOURCE_ATTEST,
            )
        )
    return entries


def _staleness(
    item: ManualItem, today: dt.date, version: str | None, max_age_days: int
) -> str | None:
    if item.release is not None:
        if version is None:
            return f"it was made for release {item.release} and the profile sets no version"
        comparison = compare_versions(version, item.release)
        if not comparison.same:
            return f"it was made for release {item.release}, this run verifies {version}"
    limit = item.max_age_days or max_age_days
    if item.attested_at is not None:
        age = (today - item.attested_at).days
        if age > limit:
            return f"it is {age} days old, older than {limit} days"
    return None


def approval_lines(roles: Sequence[str], approvals: Sequence[Approval]) -> list[ApprovalLine]:
    """One line per profile role, filled from ``--approve`` (role names match case-insensitively)."""
    by_role = {a.role.casefold(): a for a in approvals}
    lines = []
    for role in roles:
        approval = by_role.pop(role.casefold(), None)
        if approval is None:
            lines.append(ApprovalLine(role=role))
        else:
            lines.append(ApprovalLine(role=role, name=approval.name, date=approval.date))
    lines += [ApprovalLine(role=a.role, name=a.name, date=a.date) for a in by_role.values()]
    return lines


def _few(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
