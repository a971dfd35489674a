"""Is a variable or ConfigMap entry a secret? Judged by its name and by its value; never printed.

Three ways to be recognised, from strongest to weakest evidence:

* **by value**, whatever the name: a PEM private key, a token whose format its issuer made
  recognisable (AWS access key ids, GitHub, GitLab, Slack, Stripe, Google, npm, SendGrid keys,
  JWTs), or a URL carrying a password (``postgres://app:pw@db``);
* **by name**: words that always mean a secret (``PASSWORD``, ``SECRET``, ``TOKEN``,
  ``CREDENTIALS``, ``DSN``), or ``KEY`` qualified as a secret one (``API_KEY``, ``PRIVATE_KEY``,
  ``SIGNING_KEY``…), unless a last word says the entry is about the secret, not the secret itself
  (``TOKEN_URL``, ``JWT_SECRET_FILE``, ``PASSWORD_MIN_LENGTH``, ``AWS_ACCESS_KEY_ID``);
* **by both**: a name that merely hints at a key (``a_key``, ``AUTH_SALT``, ``SESSION_SIG``)
  holding a long random-looking value (high Shannon entropy). ``CACHE_KEY_PREFIX = "gw:"`` is
  not a secret; ``a_key = "q8Zr…"`` is.

Every function returns *why* (``"name"``, ``"a PEM private key"``…), never the value.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from pytest_deployverify.checks.secret_scan import scan_line

# Words that make a name secret on their own.
SECRET_WORDS = frozenset(
    {
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWORDS",
        "PASSWD",
        "PASSPHRASE",
        "PASS",
        "PWD",
        "TOKEN",
        "TOKENS",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
        "APIKEY",
        "PRIVATEKEY",
        "DSN",
    }
)
# ``<word>_KEY`` is secret for these words (API_KEY, PRIVATE_KEY...), not for CACHE_KEY.
SECRET_KEY_QUALIFIERS = frozenset(
    {
        "ACCESS",
        "API",
        "APP",
        "AUTH",
        "CLIENT",
        "CRYPTO",
        "ENCRYPTION",
        "ENCRYPT",
        "HMAC",
        "JWT",
        "LICENSE",
        "MASTER",
        "PRIVATE",
        "SECRET",
        "SESSION",
        "SIGNING",
        "SIGN",
        "SSH",
        "WEBHOOK",
    }
)
# A last word that makes the entry about a secret rather than the secret (TOKEN_URL, ..._FILE).
NOT_SECRET_SUFFIXES = frozenset(
    {
        "ALG",
        "ALGORITHM",
        "AUDIENCE",
        "COUNT",
        "DAYS",
        "DIR",
        "ENABLED",
        "ENDPOINT",
        "EXPIRATION",
        "EXPIRES",
        "EXPIRY",
        "FIELD",
        "FILE",
        "FORMAT",
        "HEADER",
        "HOST",
        "HOURS",
        "ID",
        "IDS",
        "ISSUER",
        "LEN",
        "LENGTH",
        "LIMIT",
        "LOCATION",
        "MAX",
        "MIN",
        "MINUTES",
        "MODE",
        "MS",
        "NAME",
        "NAMES",
        "PARAM",
        "PATH",
        "PORT",
        "PREFIX",
        "REF",
        "SECONDS",
        "SIZE",
        "SUFFIX",
        "TTL",
        "TYPE",
        "URI",
        "URL",
        "VERSION",
    }
)
# Words that hint at key material: secret when the value also looks random.
KEY_HINTS = frozenset(
    {"KEY", "KEYS", "AUTH", "SALT", "PEPPER", "SEED", "SIG", "SIGNATURE", "HMAC", "COOKIE", "NONCE"}
)

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# Formats a token's issuer made recognisable; the name says what it is, never the value.
TOKEN_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a PEM private key",
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    ),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    (
        "a Slack webhook URL",
        re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
    ),
    ("a Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a SendGrid key", re.compile(r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b")),
    (
        "a JWT",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),
    (
        "a URL with a password",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]*:[^\s/@]+@[^\s/@]+", re.IGNORECASE),
    ),
)

_RANDOM_CHARS = re.compile(r"[A-Za-z0-9+/=_\-.~]+")
_HEX = re.compile(r"[0-9a-fA-F]+")


def name_words(name: str) -> list[str]:
    """``jwtSigningKey`` -> JWT SIGNING KEY; ``REDIS_PASSWORD`` -> REDIS PASSWORD."""
    return [w.upper() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _WORD.findall(part)]


def secret_name(name: str) -> bool:
    """The name alone says the entry holds a secret (see the module docstring)."""
    words = name_words(name)
    if not words or words[-1] in NOT_SECRET_SUFFIXES:
        return False
    if any(w in SECRET_WORDS for w in words):
        return True
    return any(
        word in ("KEY", "KEYS") and index > 0 and words[index - 1] in SECRET_KEY_QUALIFIERS
        for index, word in enumerate(words)
    )


def key_like_name(name: str) -> bool:
    """The name hints at key material (``a_key``, ``AUTH_SALT``): secret if the value is random."""
    words = name_words(name)
    return bool(words) and any(w in KEY_HINTS or w in SECRET_WORDS for w in words)


def value_format(value: str) -> str | None:
    """What recognisable secret ``value`` contains (``"a GitHub token"``), or None: the formats
    above, then the shared log scanner's (``checks.secret_scan``: bearer tokens, AWS secret
    keys, ``password=...`` pairs)."""
    for label, pattern in TOKEN_FORMATS:
        if pattern.search(value):
            return label
    for line in value.splitlines() or [value]:
        hits = scan_line(line)
        if hits:
            return f"a {hits[0][0]}"
    return None


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``."""
    if not text:
        return 0.0
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_random(value: str) -> bool:
    """A long token of mixed letters and digits with high entropy: a generated secret.

    Hex needs 32+ characters at 3.0 bits/char; other alphabets 20+ characters at 3.5 bits/char
    with both letters and digits. Words, URLs, paths and sentences never qualify."""
    text = value.strip()
    if len(text) < 20 or not _RANDOM_CHARS.fullmatch(text) or "://" in text:
        return False
    if not (any(c.isdigit() for c in text) and any(c.isalpha() for c in text)):
        return False
    if _HEX.fullmatch(text):
        return len(text) >= 32 and shannon_entropy(text) >= 3.0
    return shannon_entropy(text) >= 3.5


def why_secret(name: str, value: str | None = None) -> str | None:
    """Why the entry ``name = value`` is a secret (``"its name"``, ``"a PEM private key"``,
    ``"a random-looking value under a key-like name"``), or None. ``value`` None: name only."""
    if value:
        found = value_format(value)
        if found:
            return f"its value is {found}"
    if secret_name(name):
        return "its name"
    if value and key_like_name(name) and looks_random(value):
        return "a random-looking value under a key-like name"
    return None
