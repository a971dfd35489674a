"""``deployverify signoff verify|merge|keygen|sign``: check a written sign-off, combine several,
sign one with an Ed25519 key (an in-toto attestation in a DSSE envelope, see signoff/SIGNING.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deployverify import __version__
from pytest_deployverify.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError

if TYPE_CHECKING:
    from pytest_deployverify.signoff.attestation import EnvelopeCheck, VerifyKey
    from pytest_deployverify.signoff.integrity import Verification

DECISIONS = ("GO", "CONDITIONAL", "NO-GO")


def add_parser(commands: Any) -> None:
    from pytest_deployverify.signoff.integrity import SIGNING_KEY_VARIABLE

    signoff = commands.add_parser("signoff", help="work with sign-off files")
    signoff_commands = signoff.add_subparsers(dest="signoff_command", required=True)
    verify = signoff_commands.add_parser(
        "verify",
        help="check a JSON sign-off's digest (and its HMAC when "
        f"{SIGNING_KEY_VARIABLE} is set), or with --key its Ed25519 attestation",
        description="FILE is a JSON sign-off or its attestation (NAME.intoto.json). With --key, "
        "the attestation's signature is checked with the public key, and its subject digest "
        "against the sign-off beside it. Offline; exit 0 valid, 1 rejected, 2 unreadable.",
    )
    verify.add_argument("file", type=Path, metavar="FILE")
    verify.add_argument(
        "--key",
        type=Path,
        metavar="PUBLIC.pem",
        help="Ed25519 public key (KEY.pub from keygen): check the attestation with it",
    )
    verify.add_argument(
        "--signoff",
        type=Path,
        metavar="SIGNOFF.json",
        help="the sign-off an attestation is about (default: the subject's name beside it)",
    )
    verify.add_argument(
        "--expect-env",
        metavar="NAME",
        help="with --key: reject unless the attestation is about this environment",
    )
    verify.add_argument(
        "--expect-release",
        metavar="VERSION",
        help="with --key: reject unless the attestation is about this release",
    )
    verify.add_argument(
        "--expect-decision",
        action="append",
        default=[],
        choices=DECISIONS,
        help="with --key: reject unless the attested decision is this one (repeatable: any of)",
    )
    verify.set_defaults(handler=verify_command)
    merge_cmd = signoff_commands.add_parser(
        "merge",
        help="combine JSON sign-offs of several environments or regions; the worst verdict wins",
    )
    merge_cmd.add_argument("files", type=Path, nargs="+", metavar="FILE")
    merge_cmd.add_argument(
        "-o",
        "--output",
        type=Path,
        action="append",
        default=[],
        metavar="OUT.md|OUT.json",
        help="write the merged sign-off (repeatable; the suffix picks the format); "
        "without it, Markdown goes to stdout",
    )
    merge_cmd.set_defaults(handler=merge_command)
    keygen = signoff_commands.add_parser(
        "keygen",
        help="write a new Ed25519 private key (PEM, mode 0600) and KEY.pub; never overwrites",
    )
    keygen.add_argument("--out", type=Path, required=True, metavar="KEY")
    keygen.set_defaults(handler=keygen_command)
    sign = signoff_commands.add_parser(
        "sign",
        help="sign a JSON sign-off with an Ed25519 private key: writes NAME.intoto.json, a DSSE "
        "envelope with an in-toto Statement",
    )
    sign.add_argument("file", type=Path, metavar="SIGNOFF.json")
    sign.add_argument("--key", type=Path, required=True, metavar="KEY", help="private key (PEM)")
    sign.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT.intoto.json",
        help="where to write the envelope (default: NAME.intoto.json beside the sign-off)",
    )
    sign.set_defaults(handler=sign_command)


def _signoff_problems(doc: dict[str, Any]) -> tuple[Verification, list[str], list[str]]:
    """The digest (and HMAC) of a sign-off and of every sign-off embedded in a merged one."""
    from pytest_deployverify.signoff import integrity

    key = integrity.signing_key(os.environ)
    result = integrity.verify(doc, key)
    problems = list(result.problems)
    notes = list(result.notes)
    embedded = doc.get("environments") if doc.get("kind") == "merged" else None
    for entry in embedded if isinstance(embedded, list) else []:
        inner = entry.get("document") if isinstance(entry, dict) else None
        label = entry.get("label", "?") if isinstance(entry, dict) else "?"
        if not isinstance(inner, dict):
            problems.append(f"embedded sign-off {label!r} is missing")
            continue
        inner_result = integrity.verify(inner, key)
        problems += [f"embedded sign-off {label!r}: {p}" for p in inner_result.problems]
    return result, problems, notes


def _read_signoff(path: Path) -> dict[str, Any]:
    from pytest_deployverify.signoff.files import SignoffFileError, read_json

    try:
        return read_json(path)
    except SignoffFileError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None


def _verify_key(args: argparse.Namespace) -> VerifyKey | None:
    from pytest_deployverify.signoff.attestation import SigningKeyError, load_verify_key

    if args.key is None:
        expectations = [
            opt
            for opt, value in (
                ("--expect-env", args.expect_env),
                ("--expect-release", args.expect_release),
                ("--expect-decision", args.expect_decision),
                ("--signoff", args.signoff),
            )
            if value
        ]
        if expectations:
            raise CommandError(
                f"{', '.join(expectations)} apply to the attestation: pass --key PUBLIC.pem",
                EXIT_USAGE,
            )
        return None
    try:
        return load_verify_key(args.key)
    except SigningKeyError as exc:
        raise CommandError(f"--key {exc}", EXIT_USAGE) from None


def verify_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.signoff import attestation

    path: Path = args.file
    key = _verify_key(args)
    envelope = attestation.read_envelope(path)
    if envelope is not None:
        if key is None:
            raise CommandError(
                f"{path} is a DSSE envelope: pass --key PUBLIC.pem to check its signature",
                EXIT_USAGE,
            )
        return _verify_envelope_file(path, envelope, key, args)
    if args.signoff is not None:
        raise CommandError(
            f"--signoff names the sign-off of an attestation; {path} is a sign-off itself",
            EXIT_USAGE,
        )
    doc = _read_signoff(path)
    result, problems, notes = _signoff_problems(doc)
    attested = ""
    if key is not None:
        envelope_file = attestation.envelope_path(path)
        envelope = attestation.read_envelope(envelope_file)
        if envelope is None:
            problems.append(
                f"no attestation {envelope_file.name} beside it (or it is not a DSSE envelope): "
                "sign it with deployverify signoff sign"
            )
        else:
            check = attestation.verify_envelope(envelope, key)
            problems += [f"attestation {envelope_file.name}: {p}" for p in check.problems]
            if check.statement is not None:
                problems += attestation.subject_problems(check.statement, doc, path.name)
                problems += _expectations(check.statement, args)
            attested = (
                f"; attestation {envelope_file.name}: Ed25519 signature valid "
                f"(key id {check.keyid}), subject digest matches"
            )
    if problems:
        print(f"TAMPERED: {path}: {'; '.join(problems)}")
        return EXIT_FAILED
    verdict = doc.get("verdict")
    decision = verdict.get("decision", "?") if isinstance(verdict, dict) else "?"
    what = f"signature {result.signature}" if result.signature != "absent" else "not signed"
    if key is not None:
        what = f"HMAC {what}" if result.signature != "absent" else "no HMAC"
    print(f"OK: {path}: SHA-256 digest matches; {what}{attested}; verdict {decision}")
    for note in notes:
        print(f"note: {note}")
    return EXIT_OK


def _expectations(statement: dict[str, Any], args: argparse.Namespace) -> list[str]:
    from pytest_deployverify.signoff.attestation import expectation_problems

    return expectation_problems(
        statement,
        environment=args.expect_env,
        release=args.expect_release,
        decisions=args.expect_decision,
    )


def _verify_envelope_file(
    path: Path, envelope: dict[str, Any], key: VerifyKey, args: argparse.Namespace
) -> int:
    from pytest_deployverify.signoff import attestation

    check: EnvelopeCheck = attestation.verify_envelope(envelope, key)
    problems = list(check.problems)
    notes: list[str] = []
    subject = "subject not checked"
    if check.statement is not None:
        named = attestation.subject_sha256(check.statement)
        signoff_path: Path | None = args.signoff
        if signoff_path is None and named and named[0] and Path(named[0]).name == named[0]:
            signoff_path = path.with_name(named[0])
        if signoff_path is not None and (args.signoff is not None or signoff_path.exists()):
            doc = _read_signoff(signoff_path)
            found = attestation.subject_problems(check.statement, doc, str(signoff_path))
            _, signoff_problems, notes = _signoff_problems(doc)
            problems += found + [f"{signoff_path}: {p}" for p in signoff_problems]
            subject = f"subject digest matches {signoff_path}"
        else:
            subject = "subject digest not checked"
            notes.append(
                f"the sign-off {named[0] if named else '?'} is not beside the attestation: "
                "pass --signoff FILE to check that it is the one signed"
            )
        problems += _expectations(check.statement, args)
    if problems:
        print(f"REJECTED: {path}: {'; '.join(problems)}")
        return EXIT_FAILED
    assert check.statement is not None
    print(
        f"OK: {path}: Ed25519 signature valid, signed by key id {check.keyid}; {subject}; "
        f"{attestation.summary(check.statement)}"
    )
    for note in notes:
        print(f"note: {note}")
    return EXIT_OK


def keygen_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.signoff.attestation import (
        SigningKeyError,
        generate_key_pair,
        public_key_path,
    )

    out: Path = args.out
    try:
        keyid = generate_key_pair(out)
    except FileExistsError as exc:
        raise CommandError(
            f"--out {out}: {exc.args[0]} exists; keygen never overwrites a key (choose another "
            "name, or remove the old key after its signatures no longer need checking)",
            EXIT_USAGE,
        ) from None
    except SigningKeyError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CommandError(
            f"--out {out}: cannot write: {exc.strerror or exc}", EXIT_USAGE
        ) from None
    print(
        f"wrote {out}: Ed25519 private key (mode 0600): keep it secret, in your CI's secret store"
    )
    print(f"wrote {public_key_path(out)}: public key, for deployverify signoff verify --key")
    print(f"key id {keyid}")
    return EXIT_OK


def sign_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.signoff import attestation
    from pytest_deployverify.signoff.files import write_atomic
    from pytest_deployverify.signoff.runinfo import now_iso

    path: Path = args.file
    doc = _read_signoff(path)
    try:
        key = attestation.load_signing_key(args.key, "--key")
    except attestation.SigningKeyError as exc:
        raise CommandError(f"--key {exc}", EXIT_USAGE) from None
    _, problems, _ = _signoff_problems(doc)
    if problems:
        raise CommandError(f"{path}: refusing to sign: {'; '.join(problems)}", EXIT_FAILED)
    out: Path = args.output or attestation.envelope_path(path)
    if out.resolve() == path.resolve():
        raise CommandError(f"-o {out}: that is the sign-off itself; name another file", EXIT_USAGE)
    envelope = attestation.sign_document(doc, path.name, key, now_iso())
    try:
        write_atomic(out, attestation.dumps(envelope))
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}", EXIT_USAGE) from None
    verdict = doc.get("verdict")
    decision = verdict.get("decision", "?") if isinstance(verdict, dict) else "?"
    print(f"signed {path} (verdict {decision}) with key id {key.keyid}: wrote {out}")
    return EXIT_OK


def merge_command(args: argparse.Namespace) -> int:
    from pytest_deployverify.signoff import integrity
    from pytest_deployverify.signoff.files import write_atomic
    from pytest_deployverify.signoff.formats import MARKDOWN, FormatError, format_for
    from pytest_deployverify.signoff.merge import MergeError, load_verified, merge
    from pytest_deployverify.signoff.runinfo import now_iso

    outputs: list[Path] = args.output
    writers = []
    for out in outputs:
        try:
            chosen = format_for(out)
        except FormatError as exc:
            raise CommandError(f"-o {exc}", EXIT_USAGE) from None
        if chosen.render_merged is None:
            raise CommandError(f"-o {out}: the {chosen.name} format cannot write a merged sign-off")
        writers.append((out, chosen))
    key = integrity.signing_key(os.environ)
    parts = []
    for path in args.files:
        try:
            parts += load_verified(path, key)
        except MergeError as exc:
            raise CommandError(str(exc), EXIT_USAGE if exc.unreadable else EXIT_FAILED) from None
    merged = merge(parts, generated_at=now_iso(), generator=f"pytest-deployverify {__version__}")
    if not writers:
        assert MARKDOWN.render_merged is not None
        sys.stdout.write(MARKDOWN.render_merged(merged, os.environ))
    for out, chosen in writers:
        assert chosen.render_merged is not None
        try:
            write_atomic(out, chosen.render_merged(merged, os.environ))
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}", EXIT_USAGE) from None
        print(
            f"merged {len(merged.parts)} sign-offs into {out}: {merged.verdict.decision.value}",
            file=sys.stderr,
        )
    return EXIT_OK
