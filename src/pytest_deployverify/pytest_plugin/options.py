"""Parsers for the plugin's command-line values; each raises ``argparse.ArgumentTypeError``
(shown by pytest as a usage error naming the option) with the expected form."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pytest_deployverify.signoff.model import Approval, Attestation

SIGNOFF_SUFFIXES = (".md", ".json")


def _split_person(text: str, option: str, left: str) -> tuple[str, str, str]:
    key, sep, rest = text.partition("=")
    if not sep or not key.strip() or not rest.strip():
        raise argparse.ArgumentTypeError(
            f"{option} expects {left}=NAME or {left}=NAME@YYYY-MM-DD, got {text!r}"
        )
    name, at, day = rest.rpartition("@") if "@" in rest else (rest, "", "")
    if at:
        try:
            day = dt.date.fromisoformat(day.strip()).isoformat()
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option}: {day!r} is not a date; write {left}=NAME@YYYY-MM-DD"
            ) from None
    else:
        day = dt.date.today().isoformat()
    if not name.strip():
        raise argparse.ArgumentTypeError(f"{option}: the name is empty in {text!r}")
    return key.strip(), name.strip(), day


def parse_approval(text: str) -> Approval:
    role, name, day = _split_person(text, "--approve", "ROLE")
    return Approval(role=role, name=name, date=day)


def parse_attestation(text: str) -> Attestation:
    item_id, name, day = _split_person(text, "--attest", "ITEM_ID")
    return Attestation(item_id=item_id, name=name, date=day)


def parse_signoff_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in SIGNOFF_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"--signoff {text!r}: the file name must end in .md (Markdown) or .json (JSON)"
        )
    if path.exists() and path.is_dir():
        raise argparse.ArgumentTypeError(f"--signoff {text!r} is a folder; name a file")
    return path
