"""Digest and HMAC over the canonical JSON; tamper detection; merging several environments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_deployverify.signoff import integrity, render_json
from pytest_deployverify.signoff.merge import MergeError, load_verified, merge, merged_document
from pytest_deployverify.signoff.model import Decision, Outcome
from pytest_deployverify.signoff.render_markdown import render_merged

from .helpers import item, run_info, signoff

KEY = b"correct horse battery staple"


def test_digest_is_over_canonical_content_and_ignores_key_order() -> None:
    doc = {"b": [1, "é"], "a": {"y": 1, "x": 2}}
    assert integrity.canonical_bytes(doc) == '{"a":{"x":2,"y":1},"b":[1,"é"]}'.encode()
    reordered = {"a": {"x": 2, "y": 1}, "b": [1, "é"]}
    assert integrity.digest(doc) == integrity.digest(reordered)
    sealed = integrity.seal(doc, None)
    assert integrity.digest(sealed) == sealed["integrity"]["digest"]  # block itself excluded
    assert "signature" not in sealed["integrity"]


def test_verify_detects_any_change() -> None:
    sealed = integrity.seal({"verdict": "NO-GO", "n": 1}, None)
    assert integrity.verify(sealed, None).ok
    changed = {**sealed, "verdict": "GO"}
    result = integrity.verify(changed, None)
    assert not result.ok
    assert result.problems[0].startswith("digest mismatch")
    assert not integrity.verify({"verdict": "GO"}, None).ok  # never sealed


def test_hmac_signature() -> None:
    sealed = integrity.seal({"verdict": "GO"}, KEY)
    assert sealed["integrity"]["signature"]["algorithm"] == "hmac-sha256"
    assert integrity.verify(sealed, KEY).signature == "valid"
    wrong = integrity.verify(sealed, b"another key")
    assert (wrong.ok, wrong.signature) == (False, "invalid")
    unchecked = integrity.verify(sealed, None)
    assert (unchecked.ok, unchecked.signature) == (True, "not checked")
    # Editing and recomputing the digest does not help without the key.
    forged = integrity.seal({"verdict": "NO-GO"}, b"guess")
    assert not integrity.verify(forged, KEY).ok
    # Nor does removing the signature when the verifier holds the key.
    stripped = integrity.seal({"verdict": "NO-GO"}, None)
    result = integrity.verify(stripped, KEY)
    assert not result.ok
    assert "stripped" in result.problems[0]


def test_signing_key_from_environment() -> None:
    assert integrity.signing_key({}) is None
    assert integrity.signing_key({"DEPLOYVERIFY_SIGNING_KEY": ""}) is None
    assert integrity.signing_key({"DEPLOYVERIFY_SIGNING_KEY": "k€y"}) == "k€y".encode()


def write_signoff(path: Path, env: str, outcome: Outcome, key: bytes | None = None) -> Path:
    result = signoff([item("A", outcome)])
    result.run = run_info(environment=env)
    path.write_text(render_json.render(result, key), encoding="utf-8")
    return path


def test_merge_worst_verdict_wins(tmp_path: Path) -> None:
    eu = write_signoff(tmp_path / "eu.json", "prod-eu", Outcome.PASSED)
    us = write_signoff(tmp_path / "us.json", "prod-us", Outcome.FAILED)
    parts = load_verified(eu, None) + load_verified(us, None)
    merged = merge(parts, generated_at="2026-03-01T12:00:00+00:00", generator="test")
    assert merged.verdict.decision is Decision.NO_GO
    assert [p.label for p in merged.parts] == ["prod-eu", "prod-us"]
    assert merged.verdict.reasons[0].startswith(
        "prod-eu: GO: all 1 applicable blocking checks passed"
    )
    assert merged.verdict.reasons[1].startswith("prod-us: NO-GO: blocking check A")
    text = render_merged(merged)
    assert "**Overall verdict: NO-GO** ❌ (the worst of 2 environments)" in text
    assert "## Environment: prod-eu" in text
    assert "## Environment: prod-us" in text
    # The merged JSON embeds each input unchanged, so every part still verifies on its own.
    doc = integrity.seal(merged_document(merged), None)
    assert integrity.verify(doc, None).ok
    for entry in doc["environments"]:
        assert integrity.verify(entry["document"], None).ok
    again = tmp_path / "merged.json"
    again.write_text(json.dumps(doc), encoding="utf-8")
    assert [p.label for p in load_verified(again, None)] == ["prod-eu", "prod-us"]


def test_merge_same_environment_twice_is_told_apart(tmp_path: Path) -> None:
    one = write_signoff(tmp_path / "run1.json", "prod", Outcome.PASSED)
    two = write_signoff(tmp_path / "run2.json", "prod", Outcome.PASSED)
    merged = merge(load_verified(one, None) + load_verified(two, None), "now", "test")
    assert [p.label for p in merged.parts] == ["prod (run1)", "prod (run2)"]
    assert merged.verdict.decision is Decision.GO


def test_merge_refuses_a_tampered_input(tmp_path: Path) -> None:
    path = write_signoff(tmp_path / "eu.json", "prod-eu", Outcome.FAILED)
    path.write_text(path.read_text().replace('"NO-GO"', '"GO"'), encoding="utf-8")
    with pytest.raises(MergeError, match="refusing to merge: digest mismatch"):
        load_verified(path, None)


def test_merge_checks_signatures_when_a_key_is_given(tmp_path: Path) -> None:
    signed = write_signoff(tmp_path / "a.json", "a", Outcome.PASSED, key=KEY)
    assert load_verified(signed, KEY)[0].signature == "valid"
    with pytest.raises(MergeError, match="bad signature"):
        load_verified(signed, b"other")
