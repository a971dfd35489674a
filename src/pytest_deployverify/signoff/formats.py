"""Sign-off formats: one registry that every writer uses (``--signoff``, ``signoff merge -o``).

A format renders a sign-off (and a merged one, if it can) to text. Other packages add formats with
one entry point in the group ``pytest_deployverify.signoff_formats`` whose value is a
``SignoffFormat``::

    [project.entry-points."pytest_deployverify.signoff_formats"]
    csv = "acme_verify.csv_signoff:signoff_format"

Renderers get data whose secrets are already redacted (``signoff.redaction``), so escaping a value
for Markdown or HTML can never hide a secret from the redactor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from pytest_deployverify.signoff.model import MergedSignoff, Signoff

ENTRY_POINT_GROUP = "pytest_deployverify.signoff_formats"

Environ = Mapping[str, str]


@dataclass(frozen=True)
class SignoffFormat:
    """How to write a sign-off in one format, chosen by the output file's suffix."""

    name: str
    suffixes: tuple[str, ...]
    render: Callable[[Signoff, Environ], str]
    render_merged: Callable[[MergedSignoff, Environ], str] | None = None
    description: str = ""

    def matches(self, path: Path) -> bool:
        return path.suffix.lower() in self.suffixes


class FormatError(ValueError):
    """No format writes that file name, or a registered format could not be loaded."""


def _markdown(signoff: Signoff, environ: Environ) -> str:
    from pytest_deployverify.signoff import render_markdown

    return render_markdown.render(signoff)


def _markdown_merged(merged: MergedSignoff, environ: Environ) -> str:
    from pytest_deployverify.signoff import render_markdown

    return render_markdown.render_merged(merged)


def _json(signoff: Signoff, environ: Environ) -> str:
    from pytest_deployverify.signoff import integrity, render_json

    return render_json.dumps(
        integrity.seal(render_json.to_document(signoff), integrity.signing_key(environ))
    )


def _json_merged(merged: MergedSignoff, environ: Environ) -> str:
    from pytest_deployverify.signoff import integrity, render_json
    from pytest_deployverify.signoff.merge import merged_document

    return render_json.dumps(
        integrity.seal(merged_document(merged), integrity.signing_key(environ))
    )


MARKDOWN = SignoffFormat(
    "markdown", (".md",), _markdown, _markdown_merged, "the sign-off as a reviewer reads it"
)
JSON = SignoffFormat(
    "json",
    (".json",),
    _json,
    _json_merged,
    "plain data with a SHA-256 digest (and an HMAC with DEPLOYVERIFY_SIGNING_KEY); with "
    "--signoff-key, an Ed25519-signed in-toto attestation beside it (NAME.intoto.json)",
)
BUILTIN = (MARKDOWN, JSON)


def entry_point_formats() -> list[SignoffFormat]:
    found: list[SignoffFormat] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            value = ep.load()
        except Exception as exc:
            raise FormatError(
                f"sign-off format entry point {ep.name!r} ({ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(value, SignoffFormat):
            raise FormatError(
                f"sign-off format entry point {ep.name!r} ({ep.value}) is a "
                f"{type(value).__name__}, not a SignoffFormat"
            )
        found.append(value)
    return found


def all_formats(extra: Iterable[SignoffFormat] = ()) -> list[SignoffFormat]:
    return [*BUILTIN, *entry_point_formats(), *extra]


def format_for(path: Path, formats: Iterable[SignoffFormat] | None = None) -> SignoffFormat:
    """The format that writes ``path``; FormatError lists the suffixes that would work."""
    known = list(all_formats() if formats is None else formats)
    for candidate in known:
        if candidate.matches(path):
            return candidate
    suffixes = ", ".join(s for f in known for s in f.suffixes)
    raise FormatError(
        f"{path}: no sign-off format writes {path.suffix or 'a file without suffix'}"
        f"; use one of {suffixes}"
    )
