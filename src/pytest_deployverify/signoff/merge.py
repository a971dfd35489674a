"""Combine the sign-offs of several environments or regions into one: worst verdict wins.

Every input is verified before it is used (digest, and signature when a key is given); a merged
input is flattened, so merging merges is fine. The merged JSON embeds each input document
unchanged, so each part can still be verified on its own, and gets its own digest/signature.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_deployverify.signoff import integrity
from pytest_deployverify.signoff.files import SignoffFileError, read_json
from pytest_deployverify.signoff.model import (
    SCHEMA_VERSION,
    Decision,
    MergedSignoff,
    MergePart,
    Verdict,
)
from pytest_deployverify.signoff.render_json import (
    KIND_MERGED,
    KIND_SIGNOFF,
    SignoffFormatError,
    finite,
    from_document,
)


class MergeError(Exception):
    """An input that cannot be merged; the message names the file and the reason."""

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


def load_verified(path: Path, key: bytes | None) -> list[MergePart]:
    """The parts of one input file, after checking its integrity (and that of embedded parts)."""
    try:
        doc = read_json(path)
    except SignoffFileError as exc:
        raise MergeError(str(exc), unreadable=True) from None
    check = integrity.verify(doc, key)
    if not check.ok:
        raise MergeError(f"{path}: refusing to merge: {'; '.join(check.problems)}")
    try:
        if doc.get("kind") == KIND_MERGED:
            return [_embedded_part(path, entry, key) for entry in _environments(doc)]
        return [_part(path, doc, check.signature, label=None)]
    except SignoffFormatError as exc:
        raise MergeError(f"{path}: {exc}") from None


def merge(parts: Iterable[MergePart], generated_at: str, generator: str) -> MergedSignoff:
    parts = _unique_labels(list(parts))
    if not parts:
        raise MergeError("nothing to merge: give at least one sign-off file")
    decision = Decision.worst([p.signoff.verdict.decision for p in parts])
    reasons = []
    for part in parts:
        verdict = part.signoff.verdict
        for reason in verdict.reasons:
            reasons.append(f"{part.label}: {verdict.decision.value}: {reason}")
    return MergedSignoff(
        parts=parts,
        verdict=Verdict(decision, reasons),
        generated_at=generated_at,
        generator=generator,
    )


def merged_document(merged: MergedSignoff) -> dict[str, Any]:
    """The unsealed merged document (schema in SCHEMA.md, ``kind: merged``)."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND_MERGED,
        "generated_at": merged.generated_at,
        "generator": merged.generator,
        "verdict": {
            "decision": merged.verdict.decision.value,
            "reasons": list(merged.verdict.reasons),
        },
        "environments": [
            {
                "label": part.label,
                "source": part.source,
                "digest": part.digest,
                "signature": part.signature,
                "decision": part.signoff.verdict.decision.value,
                "document": part.document,
            }
            for part in merged.parts
        ],
    }
    return dict(finite(doc))


def _part(path: Path | str, doc: Mapping[str, Any], signature: str, label: str | None) -> MergePart:
    if doc.get("kind", KIND_SIGNOFF) != KIND_SIGNOFF:
        raise SignoffFormatError(f"kind {doc.get('kind')!r} cannot be merged")
    signoff = from_document(doc)
    block = doc.get(integrity.INTEGRITY_KEY) or {}
    return MergePart(
        label=label or signoff.run.environment or Path(str(path)).stem,
        source=str(path),
        digest=str(block.get("digest", "")),
        signature=signature,
        signoff=signoff,
        document=dict(doc),
    )


def _embedded_part(path: Path, entry: Mapping[str, Any], key: bytes | None) -> MergePart:
    doc = entry.get("document")
    if not isinstance(doc, Mapping):
        raise SignoffFormatError("an entry of 'environments' has no 'document' object")
    check = integrity.verify(doc, key)
    label = str(entry.get("label") or "")
    if not check.ok:
        raise MergeError(f"{path}: embedded sign-off {label!r}: {'; '.join(check.problems)}")
    return _part(str(entry.get("source") or path), doc, check.signature, label=label or None)


def _environments(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = doc.get("environments")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise SignoffFormatError("'environments' must be a list of objects")
    return entries


def _unique_labels(parts: list[MergePart]) -> list[MergePart]:
    """Two inputs for one environment (regions, reruns) get the file name added to tell them apart."""
    counts = Counter(p.label for p in parts)
    result = []
    seen: Counter[str] = Counter()
    for part in parts:
        label = part.label
        if counts[label] > 1:
            label = f"{label} ({Path(part.source).stem})"
            seen[label] += 1
            if seen[label] > 1:
                label = f"{label} #{seen[label]}"
        result.append(
            MergePart(label, part.source, part.digest, part.signature, part.signoff, part.document)
        )
    return result
