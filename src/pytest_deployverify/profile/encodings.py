"""Every way a secret can show up in output, so the redactor can find it there.

A secret is seldom printed as it is: Python's ``repr`` escapes backslashes and quotes (a traceback
with ``-l`` shows locals that way), JSON escapes them differently, URLs percent-encode, HTML and
XML (pytest-html, JUnit) entity-encode, Markdown backslash-escapes, HTTP basic auth base64-encodes
``user:password`` (so the secret sits at an unknown offset inside the base64), and pytest shortens
long values in the middle. ``forms(value)`` lists the texts to look for; ``fragments(value)``
the pieces of a long value that identify it on their own.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

# A base64 or fragment match shorter than this could hit ordinary text by chance.
MIN_DERIVED = 8
# Long values: windows of this size, every STEP characters, so a shortened value still shows
# no piece longer than WINDOW - 1 characters.
WINDOW = 8
STEP = 2
LONG = 24

_MARKDOWN = re.compile(r"([\\`*_\[\]<>|])")


def forms(value: str) -> set[str]:
    """The value as it may be written by each encoder a report, log or file uses."""
    found = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        repr(value)[1:-1],
        ascii(value)[1:-1],
        repr(repr(value)[1:-1])[1:-1],  # a repr inside a message that is repr'd again
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value, quote=True),
        html.escape(value, quote=False),
        _xml(value),
        _xml(value, apostrophe=False),
        _MARKDOWN.sub(r"\\\1", value),
    }
    found |= base64_forms(value)
    return {f for f in found if f}


def escaped_forms(value: str) -> set[str]:
    """The value as text encoders write it (repr, JSON, URL, HTML/XML, Markdown), not base64: the
    forms in which a structural string (a node id, a file name) shows up in output."""
    return forms(value) - base64_forms(value)


def _xml(value: str, apostrophe: bool = True) -> str:
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace('"', "&quot;")
    return text.replace("'", "&apos;") if apostrophe else text


def base64_forms(value: str) -> set[str]:
    """Base64 (standard and URL-safe) of the value at each of the three offsets it can start at
    inside a longer encoded text (``user:password``, ``Basic ...``): the characters that depend on
    the value's bytes only."""
    data = value.encode("utf-8")
    found: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data)
        # Skip the 4-character group that mixes prefix bytes; keep whole groups of value bytes.
        start = 4 if offset else 0
        whole = (offset + len(data)) // 3 * 4
        middle = encoded[start:whole]
        if len(middle) >= MIN_DERIVED:
            text = middle.decode("ascii")
            found.add(text)
            found.add(text.replace("+", "-").replace("/", "_"))
    found.add(base64.b64encode(data).decode("ascii"))
    found.add(base64.urlsafe_b64encode(data).decode("ascii").rstrip("="))
    return {f for f in found if len(f) >= MIN_DERIVED}


def fragments(value: str) -> set[str]:
    """Overlapping windows of a long value: what is left of it after pytest shortens it."""
    if len(value) < LONG:
        return set()
    return {value[i : i + WINDOW] for i in range(0, len(value) - WINDOW + 1, STEP)}


def trie_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of ``words``, built as a trie (fast with thousands of words) and
    preferring the longest match at each position."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        if not word:
            continue
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    if not trie:
        return None
    return re.compile(_build(trie))


def _build(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    ends = "" in node
    branches = [re.escape(char) + _build(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends:  # a word ends here, a longer one goes on: try the longer one first (greedy)
        return "(?:" + body + ")?"
    return body
