"""Secret values that never print, and the redactor that scrubs them from anything a reporter sees."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pytest_deployverify.profile.encodings import escaped_forms, forms, fragments, trie_pattern

MASK = "***"
# Shorter values would redact ordinary words ("on", "app") all over the output.
MIN_REDACTED_LENGTH = 4
# A secret shorter than this is refused when the profile is loaded: masking it would mask ordinary
# text in every report, and not masking it would print it.
MIN_SECRET_LENGTH = 8


class Secret:
    """A string that shows as ``***`` in repr, str, f-strings and report dumps. ``get()`` returns it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def secret_parts(self) -> list[str]:
        """The substrings that must be redacted wherever they appear."""
        return [self._value]

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        return (type(self), (self._value,))


class Endpoint(Secret):
    """A URL or DSN whose userinfo password (and ``password=``/``token=`` parameters) never print.

    ``str()`` gives the URL with those parts masked, so it can name the endpoint in messages.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Endpoint({self.display!r})"

    def __str__(self) -> str:
        return self.display

    def __format__(self, spec: str) -> str:
        return format(self.display, spec)

    @property
    def display(self) -> str:
        return mask_url(self._value)

    @property
    def scheme(self) -> str:
        return urlsplit(self._value).scheme.lower()

    @property
    def host(self) -> str:
        return urlsplit(self._value).hostname or ""

    @property
    def port(self) -> int | None:
        return urlsplit(self._value).port

    def secret_parts(self) -> list[str]:
        parts = []
        password = urlsplit(self._value).password
        if password:
            parts += [password, unquote(password)]
        parts += [m.group(2) for m in _SECRET_PARAM.finditer(self._value)]
        return parts


def secret_length_problem(secret: Secret) -> str | None:
    """Why ``secret`` is too short to keep out of the output (it names no value), or None.

    An empty value is no secret at all (nothing to mask) and passes."""
    try:
        parts = [part for part in secret.secret_parts() if part]
    except ValueError:  # a malformed URL: its own check says what is wrong
        return None
    if not any(len(part) < MIN_SECRET_LENGTH for part in parts):
        return None
    what = "the password or token in this URL" if isinstance(secret, Endpoint) else "this secret"
    return (
        f"{what} is shorter than {MIN_SECRET_LENGTH} characters: a value that short cannot be "
        "masked in reports without masking ordinary text too, so it would be printed; "
        f"use a secret of at least {MIN_SECRET_LENGTH} characters"
    )


_SECRET_PARAM = re.compile(
    r"((?:password|passwd|pwd|token|secret|api_key|apikey|access_token)=)([^&;\s]+)", re.IGNORECASE
)


def mask_url(url: str) -> str:
    """The URL with its userinfo password and secret query parameters replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, url)
    if password:
        user = parts.username or ""
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{user}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
        url = urlunsplit(parts._replace(netloc=netloc))
    return _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, url)


class Redactor:
    """Replaces every known secret by ``***`` in text and plain data, in every form output may
    take: raw, repr- and JSON-escaped, URL-encoded, HTML/XML- and Markdown-escaped, base64 (also
    inside ``user:password``), and the pieces left of a long value that pytest shortened.

    A value made of several words (``Bearer <token>``) is also redacted word by word, so the bare
    token is masked where it appears without its scheme.

    Structure is never redacted. ``protect(tokens)`` registers structural strings: node ids and
    their static parts, file names, check ids, titles, section, marker and component names (text
    that comes from code and declarations, never from the target or the profile's secrets). The
    exact rule: a match of a secret is left alone when it lies inside an *occurrence* of a
    protected token and the occurrence is longer than the match; an occurrence is the token's text,
    or one of its escaped forms (``escaped_forms``: repr, JSON, URL, HTML/XML, Markdown), with no
    letter, digit or underscore right before or after it. Every other match is masked as without
    protection: a secret equal to a whole structural word (a marker ``monitoring``) is still masked
    where that word stands alone in a message (a bare word is no evidence of structure), and a
    secret next to a structural word is masked. Fields known to hold structure (``redact_data``'s
    ``keep``) are not redacted at all, except their parametrize part (``redact_name``).
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._words: set[str] = set()
        self._pieces: set[str] = set()
        self._patterns: tuple[re.Pattern[str] | None, re.Pattern[str] | None] | None = None
        # Structure: every protected token, those not yet looked at for a secret inside, the
        # escaped forms of those that hold one (the only ones that can protect anything), and
        # the regex finding their occurrences.
        self._seen: set[str] = set()
        self._protected: set[str] = set()
        self._unchecked: list[str] = []
        self._guards: set[str] = set()
        self._holding: set[str] = set()
        self._guard: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        if len(value) < MIN_REDACTED_LENGTH or value in self._values:
            return
        self._values.add(value)
        pieces = [value, *(w for w in value.split() if len(w) >= 8 and w != value)]
        for piece in pieces:
            self._words |= forms(piece)
            self._pieces |= fragments(piece)
        self._patterns = None
        if self._protected:  # a new secret: every protected token may hold it
            self._unchecked = list(self._protected)
            self._guards, self._holding, self._guard = set(), set(), None

    def add_secret(self, secret: Secret) -> None:
        for part in secret.secret_parts():
            self.add(part)

    def protect(self, tokens: Iterable[str]) -> None:
        """Register structural strings whose occurrences are never masked (see the class doc).

        Only the static part of a name is taken (``test_x`` of ``test_x[<id>]``): a parametrize
        id may be built from a secret, and stays masked."""
        for token in tokens:
            if token in self._seen or not isinstance(token, str):
                continue
            self._seen.add(token)
            token = split_parameters(token)[0].strip()
            if token and token not in self._protected:
                self._protected.add(token)
                self._unchecked.append(token)

    def __bool__(self) -> bool:
        return bool(self._values)

    def _compiled(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        if self._patterns is None:
            self._patterns = (trie_pattern(self._words), trie_pattern(self._pieces))
        return self._patterns

    def _guard_pattern(self) -> re.Pattern[str] | None:
        if self._unchecked:
            # Taken first: a token protected meanwhile (another thread) waits for the next call,
            # and a caller racing this one uses the older pattern (masking more, never less).
            pending, self._unchecked = self._unchecked, []
            holding = {token for token in pending if self._finds(token)}
            self._holding |= holding
            found = {form for token in holding for form in escaped_forms(token)}
            if found - self._guards:
                self._guards |= found
                trie = trie_pattern(self._guards)
                assert trie is not None
                # At each start, the longest protected form standing as a whole (the lookahead
                # backtracks to a shorter one when the longer is glued to a word character).
                self._guard = re.compile(rf"(?<!\w)(?=({trie.pattern})(?!\w))")
        return self._guard

    def _finds(self, text: str) -> bool:
        return any(p is not None and p.search(text) for p in self._compiled())

    def contains_secret(self, text: str) -> bool:
        """Whether ``text`` holds a secret in any form (protected occurrences included)."""
        return self._finds(text)

    def structure_holding_secrets(self) -> set[str]:
        """The protected (structural) strings that contain a secret: the only ones that protect
        anything. A secret in one is a weak one: it shows wherever that structure is printed."""
        self._guard_pattern()
        return set(self._holding)

    def exposes_secret(self, text: str) -> bool:
        """Whether ``redact`` would change ``text``: a secret outside protected structure."""
        return self._finds(text) and self.redact(text) != text

    def redact(self, text: str, *, protected: bool = True) -> str:
        """Whole forms first, then what is left of shortened ones: a whole value is masked as
        one ``***``, not as a run of its pieces. ``protected=False`` ignores the protected
        tokens (for the parametrize part of a name)."""
        whole, pieces = self._compiled()
        guard = self._guard_pattern() if protected and self._protected else None
        for pattern in (whole, pieces):
            if pattern is not None:
                text = _substitute(pattern, text, guard)
        return text

    def redact_name(self, name: str) -> str:
        """A structural name (node id, check id, test name, title) as it is, but for its
        parametrize part (``[<id>]``), masked without protection: ids may be built from secrets."""
        static, parameters = split_parameters(name)
        return static + self.redact(parameters, protected=False) if parameters else name

    def redact_data(self, data: Any, *, keep: Collection[str] = ()) -> Any:
        """A copy of JSON-like data (dicts, lists, strings, numbers) with secrets masked; values
        of a top-level mapping under a ``keep`` key are structure (a check id, a section), kept
        as names (``redact_name``)."""
        if isinstance(data, dict) and keep:
            return {
                _map_strings(k, self.redact): _map_strings(
                    v, self.redact_name if k in keep else self.redact
                )
                for k, v in data.items()
            }
        return _map_strings(data, self.redact)


def split_parameters(name: str) -> tuple[str, str]:
    """``("a.py::test_x", "[id]")`` from ``a.py::test_x[id]``: the static part of a node id, check
    id or test name, and its parametrize part (from the first ``[`` of the last ``::`` part on;
    empty when there is none)."""
    last = name.rfind("::")
    start = name.find("[", last + 2 if last >= 0 else 0)
    if start < 0:
        return name, ""
    return name[:start], name[start:]


def _substitute(pattern: re.Pattern[str], text: str, guard: re.Pattern[str] | None) -> str:
    if guard is None:
        return pattern.sub(MASK, text)
    if pattern.search(text) is None:
        return text
    spans = [m.span(1) for m in guard.finditer(text)]
    if not spans:
        return pattern.sub(MASK, text)

    def replace(match: re.Match[str]) -> str:
        start, end = match.span()
        for first, last in spans:
            if first <= start and end <= last and last - first > end - start:
                return match.group(0)
        return MASK

    return pattern.sub(replace, text)


def _map_strings(data: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(data, str):
        return fn(data)
    if isinstance(data, Secret):
        return str(data)
    if isinstance(data, dict):
        return {_map_strings(k, fn): _map_strings(v, fn) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(_map_strings(v, fn) for v in data)
    return data
