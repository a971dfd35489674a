"""A scan of text lines for secrets: private keys, JWTs, cloud keys, bearer tokens, passwords.

Works on any lines (Loki results, container logs read through the Kubernetes API, a config file):
``scan_lines`` takes ``(where, text)`` pairs and returns one ``SecretMatch`` per secret-looking
value, which never contains the secret itself: at most a public prefix (``eyJh``, ``AKIA``) and
its length. Values that are already masked (``***``, ``[REDACTED]``, ``${VAR}``) are not leaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["SECRET_PATTERNS", "SecretMatch", "SecretPattern", "redact", "scan_line", "scan_lines"]


@dataclass(frozen=True)
class SecretPattern:
    kind: str
    regex: re.Pattern[str]
    group: int  # the group holding the secret itself
    keep: int  # leading characters of it that are safe to show (public prefixes only)


SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "private key",
        re.compile(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY)-----"),
        1,
        99,
    ),
    SecretPattern(
        "JWT", re.compile(r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"), 1, 4
    ),
    SecretPattern("AWS access key id", re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"), 1, 4),
    SecretPattern(
        "AWS secret access key",
        re.compile(r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})"),
        1,
        0,
    ),
    SecretPattern("bearer token", re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})"), 1, 0),
    SecretPattern(
        "password",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|client[_-]?secret)"
            r"[\"']?\s*[:=]\s*[\"']?([^\s\"'&,;}]{3,})"
        ),
        1,
        0,
    ),
)
# Values that are already masked are not leaks.
_MASKED = re.compile(
    r"^(?:\*+|x{3,}|\[?redacted\]?|<redacted>|\*\*\*.*|null|none|true|false|\$\{.*|%s)$", re.I
)


@dataclass(frozen=True)
class SecretMatch:
    """One secret-looking value: its kind, where it was (as the caller named the line), and a
    redacted excerpt (``eyJh…(redacted, 142 chars)``, ``password=…(redacted, 12 chars)``)."""

    kind: str
    where: str
    redacted: str


def redact(value: str, keep: int) -> str:
    """``eyJh…(redacted, 142 chars)``: a public prefix at most, and the length."""
    shown = value[:keep] if keep < len(value) else value
    if keep >= len(value):
        return shown
    return f"{shown}…(redacted, {len(value)} chars)"


def scan_line(text: str) -> list[tuple[str, str]]:
    """``(kind, redacted)`` for each secret-looking value in one line (each span reported once)."""
    hits: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in SECRET_PATTERNS:
        for match in pattern.regex.finditer(text):
            start, end = match.span(pattern.group)
            value = match.group(pattern.group)
            if _MASKED.match(value) or any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            label = ""
            if pattern.keep == 0:
                # The key or scheme before the value, without quotes: "password=", "Bearer ".
                label = re.sub(r"[\s\"']", "", match.group(0)[: start - match.start()])
                label += " " if label[-1:].isalnum() else ""
            hits.append((pattern.kind, label + redact(value, pattern.keep)))
    return hits


def scan_lines(lines: Iterable[tuple[str, str]], *, max_matches: int = 50) -> list[SecretMatch]:
    """Scan ``(where, text)`` pairs; at most ``max_matches`` matches, none holding a secret."""
    found: list[SecretMatch] = []
    for where, text in lines:
        for kind, shown in scan_line(text):
            found.append(SecretMatch(kind, where, shown))
            if len(found) >= max_matches:
                return found
    return found
