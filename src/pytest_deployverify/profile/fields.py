"""Annotated field types shared by the profile and the components' tables: URLs, HTTP header
names and values, files that must exist, bounded numbers, durations written the way Prometheus
writes them, and the no-data policy of a measurement.

Every check here raises ``ValueError`` with a message the loader prefixes with the file, line and
key. A message never includes the value of a URL or a header (either may carry a secret): it says
what is wrong and where (the character's position), and how to write it instead.
"""

from __future__ import annotations

import errno
import ipaddress
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pytest_deployverify.profile.schema import Range
from pytest_deployverify.profile.secrets import Endpoint, Secret

# Schemes a message may name: never part of a secret (unlike the text before a stray ':').
_KNOWN_SCHEMES = frozenset(
    {"http", "https", "redis", "rediss", "postgresql", "postgres", "mysql", "mongodb", "amqp",
     "amqps", "ws", "wss", "ftp", "file", "tcp", "unix", "grpc", "ldap", "ldaps", "smtp"}
)  # fmt: skip


def describe_character(char: str) -> str:
    """A name for one character that is wrong where it is, for messages (never the secret itself:
    a control character or whitespace is named, any other non-ASCII character only counted)."""
    named = {
        "\r": "a carriage return (CR)",
        "\n": "a line feed (LF)",
        "\0": "a NUL character",
        "\t": "a tab",
        " ": "a space",
        "\x7f": "a DEL character",
    }
    if char in named:
        return named[char]
    category = unicodedata.category(char)
    if category == "Cc":
        return f"a control character (U+{ord(char):04X})"
    if category in ("Zs", "Zl", "Zp") or char.isspace():
        return f"a whitespace character (U+{ord(char):04X})"
    if category == "Cf":
        return f"an invisible formatting character (U+{ord(char):04X})"
    if ord(char) > 127:
        return "a non-ASCII character"
    return f"the character {char!r}"


def _first(text: str, bad: Callable[[str], bool]) -> tuple[int, str] | None:
    """(1-based position, description) of the first character ``bad(char)`` flags."""
    for index, char in enumerate(text):
        if bad(char):
            return index + 1, describe_character(char)
    return None


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def _is_space(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Zs"


class _UrlCheck:
    """A URL (or DSN) of one of ``schemes``, with a host and a valid port, one line, no whitespace."""

    def __init__(self, *schemes: str) -> None:
        self.schemes = schemes

    def __call__(self, value: Endpoint) -> Endpoint:
        raw = value.get()
        allowed = " or ".join(f"{s}://" for s in self.schemes)
        found = _first(raw, _is_control)
        if found:
            position, what = found
            raise ValueError(
                f"URL contains {what} at character {position}: a URL is one line without control "
                "characters; check the value, or the variable it comes from (a line break copied "
                "in with it?)"
            )
        found = _first(raw, _is_space)
        if found:
            position, what = found
            raise ValueError(
                f"URL contains {what} at character {position}: a URL has no whitespace; remove "
                "spaces around it, and write a space inside a path as %20"
            )
        try:
            parts = urlsplit(raw)
            if parts.netloc.rpartition("@")[2].startswith("["):
                ipaddress.IPv6Address(parts.hostname or "")
        except ValueError:
            # Never the library's text: it quotes the host, and the text may hold a password.
            if "[" in raw or "]" in raw:
                raise ValueError(
                    "malformed URL: the IPv6 host is not valid; write an IPv6 address in "
                    f"brackets, e.g. {self.schemes[0]}://[2001:db8::1]/"
                ) from None
            raise ValueError(
                f"malformed URL: it cannot be read as {allowed}HOST[:PORT]/..."
            ) from None
        scheme = parts.scheme.lower()
        if scheme not in self.schemes:
            if "://" not in raw:
                raise ValueError(f"URL has no scheme: it must start with {allowed}")
            used = f", not {scheme}://" if scheme in _KNOWN_SCHEMES else ""
            raise ValueError(f"URL must start with {allowed}{used}")
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError(
                "malformed URL: the port is not a number from 1 to 65535; write "
                f"{self.schemes[0]}://HOST:PORT/..."
            )
        if not parts.hostname:
            raise ValueError(f"URL has no host: write {self.schemes[0]}://HOST[:PORT]/...")
        return value


HttpUrl = Annotated[Endpoint, _UrlCheck("http", "https")]
RedisUrl = Annotated[Endpoint, _UrlCheck("redis", "rediss")]
PostgresDsn = Annotated[Endpoint, _UrlCheck("postgresql", "postgres")]

# RFC 9110 token characters: what a header name may contain.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class _HeaderNameCheck:
    """An HTTP header name: letters, digits and ``!#$%&'*+-.^_`|~``, nothing else."""

    def __call__(self, value: str) -> str:
        if not value:
            raise ValueError("header name is empty; write a name such as X-Api-Key")
        found = _first(value, lambda c: c not in _TOKEN)
        if found:
            position, what = found
            raise ValueError(
                f"is not a valid HTTP header name: it contains {what} at character {position}; "
                "a header name is letters, digits and '-' (e.g. X-Api-Key)"
            )
        return value


class _HeaderValueCheck:
    """An HTTP header value: one line of printable ASCII (tabs inside), no whitespace around it.

    httpx sends header values as ASCII: anything else breaks every request at run time (with the
    value in the traceback), a line break is refused as an illegal header."""

    def __call__(self, value: Secret | str) -> Secret | str:
        text = value.get() if isinstance(value, Secret) else value
        found = _first(text, lambda c: c != "\t" and not " " <= c <= "~")
        if found:
            position, what = found
            hint = (
                "a letter or quote pasted from a document?"
                if what == "a non-ASCII character"
                else "a line break at the end of a file it was read from?"
            )
            raise ValueError(
                f"header value contains {what} at character {position}: a header value is one "
                f"line of printable ASCII; check the value, or the variable it comes from ({hint})"
            )
        if text != text.strip(" \t"):
            raise ValueError(
                "header value starts or ends with whitespace, which HTTP does not allow; remove it"
            )
        return value


HeaderName = Annotated[str, _HeaderNameCheck()]
# A header value that is a secret (an API key, a bearer token): at least MIN_SECRET_LENGTH long.
HeaderValue = Annotated[Secret, _HeaderValueCheck()]
# A header value that is not a secret (a tenant, an organisation id): same characters, any length.
HeaderText = Annotated[str, _HeaderValueCheck()]


class _ExistingFileCheck:
    """A readable file (a CA bundle, a client certificate or key, a kubeconfig). ``~`` is the home
    folder; a relative path is relative to the folder the run starts in. The validated value is the
    absolute path, so a later change of folder does not change which file is used."""

    def __call__(self, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty: give the path of a file, or leave the key out")
        found = _first(value, _is_control)
        if found:
            position, what = found
            raise ValueError(
                f"the path contains {what} at character {position}; check the value, or the "
                "variable it comes from"
            )
        path = Path(value).expanduser()
        where = ""
        if not path.is_absolute():
            base = Path.cwd()
            path = base / path
            where = f" (relative to {base}, the folder the run starts in)"
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                problem = "does not exist"
                if path.is_symlink():
                    problem = "is a symbolic link to a file that does not exist"
            elif exc.errno == errno.ELOOP:
                problem = "is a symbolic link that loops"
            else:
                problem = f"cannot be reached ({exc.strerror})"
            raise ValueError(
                f"file {value!r} {problem}{where}; fix the path, or leave the key out"
            ) from None
        if stat.S_ISDIR(mode):
            raise ValueError(f"{value!r} is a folder{where}; name the file in it")
        if not stat.S_ISREG(mode):
            raise ValueError(f"{value!r} is not a regular file{where}; name a file")
        try:
            # Opening is the real test: permission bits say nothing for root or on a read-only mount.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise ValueError(
                f"file {value!r} cannot be read ({exc.strerror}){where}; make it readable by the "
                "user that runs the verification"
            ) from None
        os.close(fd)
        return str(path)


ExistingFile = Annotated[str, _ExistingFileCheck()]
Seconds = Annotated[float, Range(gt=0, le=3600)]
Fraction = Annotated[float, Range(ge=0, le=1)]
PositiveFloat = Annotated[float, Range(gt=0)]
Count = Annotated[int, Range(ge=0)]


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: str | float) -> float:
    """Seconds in ``value``: a number of seconds, or ``"1h30m"``-style text. ValueError otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if not text or _DURATION_PART.sub("", text):
            raise ValueError(f"not a duration: {value!r}; write e.g. '15m', '1h30m' or '30s'")
        seconds = sum(
            float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text)
        )
    else:
        raise ValueError("expected a duration such as '15m' or a number of seconds")
    if not math.isfinite(seconds):
        raise ValueError("a duration must be a finite number of seconds, not nan or inf")
    if seconds <= 0:
        raise ValueError("a duration must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """``900`` → ``"15m"``, ``5400`` → ``"1h30m"``, ``2.5`` → ``"2.5s"`` (for messages and evidence)."""
    if seconds < 60 and not float(seconds).is_integer():
        return f"{seconds:g}s"
    out, rest = "", round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"


class _DurationCheck:
    def __call__(self, value: str | float) -> str | float:
        parse_duration(value)
        return value


Duration = Annotated[str | float, _DurationCheck()]


class NoDataPolicy(StrEnum):
    """What an empty (or all-NaN) answer means. Never a silent pass: ``pass`` must be written."""

    FAIL = "fail"
    PASS = "pass"
    INCONCLUSIVE = "inconclusive"
