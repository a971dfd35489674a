"""Secret values that never print, and the redactor that scrubs them from anything a reporter sees."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pytest_deployverify.profile.encodings import forms, fragments, trie_pattern

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
    token is masked where it appears without its scheme."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._words: set[str] = set()
        self._pieces: set[str] = set()
        self._patterns: tuple[re.Pattern[str] | None, re.Pattern[str] | None] | None = None
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

    def add_secret(self, secret: Secret) -> None:
        for part in secret.secret_parts():
            self.add(part)

    def __bool__(self) -> bool:
        return bool(self._values)

    def _compiled(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        if self._patterns is None:
            self._patterns = (trie_pattern(self._words), trie_pattern(self._pieces))
        return self._patterns

    def contains_secret(self, text: str) -> bool:
        return any(p is not None and p.search(text) for p in self._compiled())

    def redact(self, text: str) -> str:
        """Whole forms first, then what is left of shortened ones: a whole value is masked as
        one ``***``, not as a run of its pieces."""
        whole, pieces = self._compiled()
        if whole is not None:
            text = whole.sub(MASK, text)
        if pieces is not None:
            text = pieces.sub(MASK, text)
        return text

    def redact_data(self, data: Any) -> Any:
        """A copy of JSON-like data (dicts, lists, strings, numbers) with secrets masked."""
        return _map_strings(data, self.redact)


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
