"""Parsers for the plugin's command-line values; each raises ``argparse.ArgumentTypeError``
(shown by pytest as a usage error naming the option) with the expected form."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_deployverify.signoff.model import Approval, Attestation

if TYPE_CHECKING:
    from pytest_deployverify.signoff.attestation import SigningKey


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
    """A sign-off file whose suffix a registered format writes, in a folder that can be written:
    found out at the start, not after the whole run."""
    from pytest_deployverify.signoff.formats import FormatError, format_for

    path = Path(text)
    try:
        format_for(path)
    except FormatError as exc:
        raise argparse.ArgumentTypeError(f"--signoff {exc}") from None
    if path.exists() and path.is_dir():
        raise argparse.ArgumentTypeError(f"--signoff {text!r} is a folder; name a file")
    problem = unwritable(path)
    if problem:
        raise argparse.ArgumentTypeError(f"--signoff {text!r}: {problem}")
    return path


def unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be written (its folder is missing and cannot be made, is a file, or is
    read-only), or None."""
    folder = path.parent if str(path.parent) else Path(".")
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:  # a real write: permission bits say nothing for root or on read-only mounts
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError:
        return f"the folder {existing} is not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file exists and is not writable"
    return None


def run_signing_key(
    option: str | None, environ: Mapping[str, str], signoffs: Sequence[Path], base: Path
) -> SigningKey | None:
    """The Ed25519 key that signs this run's JSON sign-offs (``--signoff-key``, else
    ``DEPLOYVERIFY_SIGNING_KEY_FILE``), loaded at the start: a missing or unreadable file is a
    usage error before anything runs. ``ValueError`` names the option (or variable) and the file;
    never the key. The variable alone, without a JSON sign-off to sign, is ignored."""
    from pytest_deployverify.signoff.attestation import (
        KEY_FILE_VARIABLE,
        SigningKeyError,
        envelope_path,
        load_signing_key,
    )
    from pytest_deployverify.signoff.formats import JSON, format_for

    if option:
        source, text = "--signoff-key", option
    elif environ.get(KEY_FILE_VARIABLE):
        source, text = KEY_FILE_VARIABLE, environ[KEY_FILE_VARIABLE]
    else:
        return None
    signed = [path for path in signoffs if format_for(path) is JSON]
    if not signed:
        if option:
            raise ValueError("--signoff-key signs the JSON sign-off: add --signoff NAME.json")
        return None
    taken = {path.resolve(): path for path in signoffs}
    for path in signed:
        clash = taken.get(envelope_path(path).resolve())
        if clash is not None:
            raise ValueError(
                f"--signoff {clash}: the attestation of {path.name} is written there; "
                "name the sign-off differently"
            )
    key_path = Path(text).expanduser()
    try:
        return load_signing_key(key_path if key_path.is_absolute() else base / key_path, source)
    except SigningKeyError as exc:
        raise ValueError(f"{source}: {exc}") from None


def parse_manifests_path(text: str) -> str:
    """``--manifests``: a file or folder that exists, found out before the run, not by 20 errors."""
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(
            f"--manifests {text!r}: no such file or folder; give the rendered manifests "
            "(a folder of YAML, or the output of `helm template` in one file)"
        )
    if not (path.is_dir() or path.is_file()):
        raise argparse.ArgumentTypeError(f"--manifests {text!r} is neither a file nor a folder")
    return text


def parse_rollback_at(text: str) -> dt.datetime:
    """``--rollback-at``: when the rollback happened, an ISO 8601 time with its UTC offset
    (``2026-12-06T09:30:00Z``, ``2026-12-06T10:30:00+01:00``); not in the future."""
    value = text.strip()
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--rollback-at {text!r} is not an ISO 8601 time; write e.g. 2026-12-06T09:30:00Z"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"--rollback-at {text!r} has no UTC offset; add Z or +HH:MM so it is unambiguous"
        )
    if moment > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
        raise argparse.ArgumentTypeError(f"--rollback-at {text!r} is in the future")
    return moment


def parse_rollback_to(text: str) -> str:
    """``--rollback-to``: the release a rollback restored (the previous release's version)."""
    value = text.strip()
    if not value or any(c.isspace() for c in value):
        raise argparse.ArgumentTypeError(
            f"--rollback-to {text!r}: give the version rolled back to, e.g. --rollback-to 1.4.1"
        )
    return value
