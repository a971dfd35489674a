"""Assemble the sign-off from the run's items, the profile and the command line: no pytest here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence

from pytest_deployverify.profile.model import DEFAULT_ROLES, ManualItem, Profile
from pytest_deployverify.signoff.collect import observed_versions
from pytest_deployverify.signoff.model import (
    Approval,
    ApprovalLine,
    Attestation,
    CheckItem,
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
) -> Signoff:
    """The complete sign-off; ``items`` are updated in place (held back, waived)."""
    protected = bool(profile and profile.protected)
    for item in items:
        guarded = item.destructive and protected and not allow_destructive
        if item.outcome is Outcome.SKIPPED and (item.nodeid in held_back or guarded):
            item.held_back = True
    waivers = apply_waivers(items, profile.waivers if profile else [], today)
    versions = observed_versions(items)
    run.observed_version = ", ".join(versions) if versions else None
    manual = manual_entries(profile.manual if profile else [], attestations)
    verdict = decide(
        items,
        manual,
        expected_version=run.expected_version,
        observed_versions=versions,
    )
    warnings = [describe_waiver_entry(w) for w in waivers if w.status == "expired"]
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
    )


def manual_entries(
    items: Iterable[ManualItem], attestations: Sequence[Attestation]
) -> list[ManualEntry]:
    """The profile's manual items; ``--attest`` completes or overrides an attestation."""
    given = {a.item_id: a for a in attestations}
    entries = []
    for item in items:
        attest = given.pop(item.id, None)
        by: str | None
        at: str | None
        source: str | None
        if attest is not None:
            by, at, source = attest.name, attest.date, SOURCE_ATTEST
        elif item.attested_by:
            by = item.attested_by
            at = item.attested_at.isoformat() if item.attested_at else None
            source = SOURCE_PROFILE
        else:
            by, at, source = None, None, None
        entries.append(
            ManualEntry(
                id=item.id,
                title=item.title,
                section=item.section.value,
                attested_by=by,
                attested_at=at,
                note=item.note,
                source=source,
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
