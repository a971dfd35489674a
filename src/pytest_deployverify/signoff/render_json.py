"""The JSON sign-off: a stable, documented schema (see SCHEMA.md) sealed with a digest/signature."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from pytest_deployverify.signoff import integrity
from pytest_deployverify.signoff.model import (
    SCHEMA_VERSION,
    ApprovalLine,
    CheckItem,
    Decision,
    DroppedManual,
    ManualEntry,
    Outcome,
    RollbackInfo,
    RunInfo,
    Scope,
    Signoff,
    Verdict,
    WaiverEntry,
    WaiverInfo,
)

KIND_SIGNOFF = "signoff"
KIND_MERGED = "merged"


class SignoffFormatError(ValueError):
    """A JSON document that does not follow the sign-off schema; the message names the key."""


def to_document(signoff: Signoff) -> dict[str, Any]:
    """The unsealed document; ``integrity.seal`` adds the digest."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND_SIGNOFF,
        "run": asdict(signoff.run),
        "verdict": {
            "decision": signoff.verdict.decision.value,
            "qualifier": signoff.verdict.qualifier,
            "label": signoff.verdict.label,
            "reasons": list(signoff.verdict.reasons),
        },
        "counts": {
            "total": len(signoff.checks),
            "by_outcome": signoff.counts(),
            "by_section": signoff.section_counts(),
        },
        "checks": [_check(item) for item in signoff.checks],
        "manual": [
            {**asdict(entry), "status": "attested" if entry.attested else "pending"}
            for entry in signoff.manual
        ],
        "waivers": [_waiver_entry(entry) for entry in signoff.waivers],
        "approvals": [asdict(line) for line in signoff.approvals],
        "warnings": list(signoff.warnings),
        "collection_errors": list(signoff.collection_errors),
        "manual_dropped": [asdict(entry) for entry in signoff.manual_dropped],
    }
    result: dict[str, Any] = finite(doc)
    return result


def render(signoff: Signoff, key: bytes | None) -> str:
    return dumps(integrity.seal(to_document(signoff), key))


def dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def finite(data: Any) -> Any:
    """A copy with non-finite floats as strings: JSON has no NaN, and the digest must be stable."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {str(k): finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    return data


def _check(item: CheckItem) -> dict[str, Any]:
    return {
        "nodeid": item.nodeid,
        "check_id": item.check_id,
        "title": item.title,
        "severity": item.severity,
        "blocking": item.blocking,
        "section": item.section,
        "sections": list(item.sections),
        "destructive": item.destructive,
        "outcome": item.outcome.value,
        "duration": item.duration,
        "reason": item.reason,
        "phase": item.phase,
        "held_back": item.held_back,
        "evidence": item.evidence,
        "waiver": asdict(item.waiver) if item.waiver else None,
        "waived_outcome": item.waived_outcome.value if item.waived_outcome else None,
        "expired_waiver": asdict(item.expired_waiver) if item.expired_waiver else None,
        "components": list(item.components),
    }


def _waiver_entry(entry: WaiverEntry) -> dict[str, Any]:
    return {
        **asdict(entry.waiver),
        "status": entry.status,
        "applied_to": list(entry.applied_to),
        "would_apply_to": list(entry.would_apply_to),
        "matched": list(entry.matched),
        "not_covered": list(entry.not_covered),
    }


# Reading documents back (merge, re-rendering) ---------------------------------------------------


def from_document(doc: Mapping[str, Any]) -> Signoff:
    """Rebuild a ``Signoff`` from a single-environment document (any ``schema_version`` 1)."""
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SignoffFormatError(
            f"schema_version {version!r} is not supported (this version reads {SCHEMA_VERSION})"
        )
    if doc.get("kind", KIND_SIGNOFF) != KIND_SIGNOFF:
        raise SignoffFormatError(f"kind {doc.get('kind')!r}: expected {KIND_SIGNOFF!r}")
    try:
        run_data = dict(_mapping(doc, "run"))
        run_fields = set(RunInfo.__dataclass_fields__)
        scope_data = run_data.pop("scope", None)
        rollback_data = run_data.pop("rollback", None)
        run = RunInfo(**{k: v for k, v in run_data.items() if k in run_fields})
        if isinstance(scope_data, Mapping):
            scope_fields = set(Scope.__dataclass_fields__)
            run.scope = Scope(**{k: v for k, v in scope_data.items() if k in scope_fields})
        if isinstance(rollback_data, Mapping):
            known = set(RollbackInfo.__dataclass_fields__)
            run.rollback = RollbackInfo(**{k: v for k, v in rollback_data.items() if k in known})
        verdict_data = _mapping(doc, "verdict")
        verdict = Verdict(
            Decision(verdict_data["decision"]),
            list(verdict_data.get("reasons", [])),
            verdict_data.get("qualifier"),
        )
        checks = [_check_from(c) for c in _list(doc, "checks")]
        manual = [
            ManualEntry(
                id=m["id"],
                title=m["title"],
                section=m.get("section", "other"),
                attested_by=m.get("attested_by"),
                attested_at=m.get("attested_at"),
                note=m.get("note"),
                source=m.get("source"),
                release=m.get("release"),
                stale=m.get("stale"),
            )
            for m in _list(doc, "manual")
        ]
        waivers = [
            WaiverEntry(
                waiver=_waiver_from(w),
                status=w["status"],
                applied_to=list(w.get("applied_to", [])),
                would_apply_to=list(w.get("would_apply_to", [])),
                matched=list(w.get("matched", [])),
                not_covered=list(w.get("not_covered", [])),
            )
            for w in _list(doc, "waivers")
        ]
        approvals = [
            ApprovalLine(role=a["role"], name=a.get("name"), date=a.get("date"))
            for a in _list(doc, "approvals")
        ]
        dropped = [
            DroppedManual(
                id=d["id"], title=d["title"], section=d.get("section", "other"), reason=d["reason"]
            )
            for d in _list(doc, "manual_dropped")
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise SignoffFormatError(f"does not follow the sign-off schema: {_describe(exc)}") from None
    return Signoff(
        run=run,
        checks=checks,
        manual=manual,
        waivers=waivers,
        approvals=approvals,
        verdict=verdict,
        warnings=[str(w) for w in doc.get("warnings", [])],
        collection_errors=[str(e) for e in doc.get("collection_errors", [])],
        manual_dropped=dropped,
    )


def _check_from(data: Mapping[str, Any]) -> CheckItem:
    waived = data.get("waived_outcome")
    return CheckItem(
        nodeid=data["nodeid"],
        check_id=data["check_id"],
        title=data["title"],
        severity=data.get("severity"),
        section=data.get("section", "other"),
        sections=list(data.get("sections", [])),
        destructive=bool(data.get("destructive", False)),
        outcome=Outcome(data["outcome"]),
        duration=float(data.get("duration", 0.0)),
        evidence=list(data.get("evidence", [])),
        reason=data.get("reason"),
        phase=data.get("phase"),
        held_back=bool(data.get("held_back", False)),
        waiver=_waiver_from(data["waiver"]) if data.get("waiver") else None,
        waived_outcome=Outcome(waived) if waived else None,
        expired_waiver=_waiver_from(data["expired_waiver"]) if data.get("expired_waiver") else None,
        components=[str(c) for c in data.get("components", [])],
    )


def _waiver_from(data: Mapping[str, Any]) -> WaiverInfo:
    return WaiverInfo(
        check=data["check"],
        reason=data["reason"],
        approver=data["approver"],
        ticket=data["ticket"],
        expires=data["expires"],
        covers=list(data.get("covers", ["failures"])),
    )


def _mapping(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if not isinstance(value, Mapping):
        raise TypeError(f"{key!r} must be an object")
    return value


def _list(doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise TypeError(f"{key!r} must be a list")
    return value


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    return str(exc)
