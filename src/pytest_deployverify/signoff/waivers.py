"""Apply the profile's waivers: an approved, unexpired waiver documents a failing item.

A waiver names a check id or an fnmatch pattern over check ids (``SEC-TLS-*``). It applies to an
item that failed, and to one that errored only when the waiver says it ``covers`` errors (an error
means the check could not run: nothing was judged, which is not the same as an accepted failure).
The item becomes ``waived`` with the waiver and the replaced outcome shown next to it. An expired
waiver is never applied and is reported loudly; a waiver that matched no failure is listed as
unused, so stale waivers get cleaned up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from fnmatch import fnmatchcase

from pytest_deployverify.profile.model import Waiver
from pytest_deployverify.signoff.model import CheckItem, Outcome, WaiverEntry, WaiverInfo

WAIVABLE = frozenset({Outcome.FAILED, Outcome.ERROR})


def waiver_info(waiver: Waiver) -> WaiverInfo:
    return WaiverInfo(
        check=waiver.check,
        reason=waiver.reason,
        approver=waiver.approver,
        ticket=waiver.ticket,
        expires=waiver.expires.isoformat(),
        covers=list(waiver.covers),
    )


def matches(pattern: str, item: CheckItem) -> bool:
    """Exact id, or an fnmatch pattern over the check id (node ids work for items without an id)."""
    return any(
        candidate == pattern or fnmatchcase(candidate, pattern)
        for candidate in (item.check_id, item.nodeid)
    )


def active_waiver(
    check_id: str, nodeid: str, waivers: Iterable[Waiver], today: dt.date
) -> Waiver | None:
    """The waiver that would cover a failure of this check today, if any (first in profile order)."""
    for waiver in waivers:
        if waiver.active_on(today) and any(
            c == waiver.check or fnmatchcase(c, waiver.check) for c in (check_id, nodeid)
        ):
            return waiver
    return None


_OUTCOME_NAMES = {Outcome.FAILED: "failed", Outcome.ERROR: "error"}


def apply_waivers(
    items: list[CheckItem], waivers: Iterable[Waiver], today: dt.date
) -> list[WaiverEntry]:
    """Mark waived items in place; return every waiver with its status for the sign-off.

    When several waivers match one item, the first active one in profile order is applied.
    """
    entries: list[tuple[Waiver, WaiverInfo, list[str], list[str], list[str], list[str]]] = []
    for waiver in waivers:
        info = waiver_info(waiver)
        matched = [item.check_id for item in items if matches(waiver.check, item)]
        entries.append((waiver, info, matched, [], [], []))
    for item in items:
        if item.outcome not in WAIVABLE:
            continue
        for waiver, info, _matched, applied, would_apply, uncovered in entries:
            if not matches(waiver.check, item):
                continue
            if not waiver.covers_outcome(_OUTCOME_NAMES[item.outcome]):
                uncovered.append(item.check_id)  # an error is not a failure to accept
                continue
            if waiver.active_on(today):
                item.waived_outcome = item.outcome
                item.outcome = Outcome.WAIVED
                item.waiver = info
                applied.append(item.check_id)
                break
            # Keep looking: another, active waiver may still cover the item.
            would_apply.append(item.check_id)
            if item.expired_waiver is None:
                item.expired_waiver = info
    result = []
    for waiver, info, matched, applied, would_apply, uncovered in entries:
        if not waiver.active_on(today):
            status = "expired"
        elif applied:
            status = "applied"
        else:
            status = "unused"
        result.append(
            WaiverEntry(
                waiver=info,
                status=status,
                applied_to=applied,
                would_apply_to=would_apply,
                matched=matched,
                not_covered=uncovered,
            )
        )
    return result


def describe_waiver_entry(entry: WaiverEntry) -> str:
    """One line saying what happened to a waiver, for the terminal and the sign-off."""
    w = entry.waiver
    head = f"waiver {w.check!r} ({w.ticket}, approved by {w.approver})"
    if entry.status == "expired":
        if entry.would_apply_to:
            covered = ", ".join(entry.would_apply_to)
            return f"{head} EXPIRED on {w.expires}: NOT applied to failing {covered}; renew or fix"
        return f"{head} EXPIRED on {w.expires}: not applied; remove it from the profile"
    tail = ""
    if entry.not_covered:
        tail = (
            f"; NOT applied to {', '.join(entry.not_covered)}, which errored (could not run): "
            "the waiver covers failures only (add errors to covers to accept that)"
        )
    if entry.status == "applied":
        return f"{head} applied to {', '.join(entry.applied_to)} (expires {w.expires}){tail}"
    if entry.not_covered:
        return f"{head} unused{tail}"
    if entry.matched:
        return f"{head} unused: {', '.join(entry.matched)} did not fail; the waiver can go"
    return f"{head} unused: it matched no collected check"
