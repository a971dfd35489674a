"""The redactor finds a secret in every form output gives it: escaped, encoded, shortened."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest
from _pytest._io.saferepr import saferepr

from pytest_deployverify.profile.encodings import trie_pattern
from pytest_deployverify.profile.secrets import MASK, Redactor
from pytest_deployverify.signoff.text import md

CANARIES = {
    "backslash": "canary\\path-4f9e1c",
    "quotes": "can'ary\"both-77d2a1",
    "underscore": "canary_under_score_9",
    "non-ascii": "canäry-ñoño-€-5521bb",
    "long": "k" + "".join(f"{i:03d}" for i in range(100)),  # 301 characters
    "spaces+": "canary plus+and space/slash=9",
}


def encodings(value: str) -> dict[str, str]:
    """Texts in which ``value`` appears the way a reporter, log or file writes it."""
    return {
        "raw": f"token={value};",
        "repr": repr({"token": value}),
        "repr-of-repr": repr(f"ValueError('bad {value!r}')"),
        "json": json.dumps({"token": value}),
        "json-ascii": json.dumps({"token": value}, ensure_ascii=True),
        "json-utf8": json.dumps({"token": value}, ensure_ascii=False),
        "url": "https://h/?t=" + quote(value, safe=""),
        "url-path": "https://h/" + quote(value),
        "form": "t=" + quote_plus(value),
        "html": "<td>" + html.escape(value) + "</td>",
        "xml-attr": '<skipped message="'
        + value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        + '"/>',
        "markdown": "| " + md(value) + " |",
        "basic-auth": "Authorization: Basic "
        + base64.b64encode(f"svc-user:{value}".encode()).decode(),
        "basic-auth-2": "Basic " + base64.b64encode(f"ab:{value}".encode()).decode(),
        "basic-auth-3": "Basic " + base64.b64encode(f"a:{value}".encode()).decode(),
        "base64": base64.b64encode(value.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),
    }


@pytest.mark.parametrize("name", sorted(CANARIES))
def test_every_encoding_of_every_canary_is_masked(name: str) -> None:
    value = CANARIES[name]
    redactor = Redactor([value])
    for kind, text in encodings(value).items():
        masked = redactor.redact(text)
        assert MASK in masked, (kind, text)
        leftovers = [f for f in (value, repr(value)[1:-1], json.dumps(value)[1:-1]) if f in masked]
        assert not leftovers, (kind, masked)


def test_a_long_secret_shortened_by_pytest_leaves_no_identifying_piece() -> None:
    value = CANARIES["long"]
    shortened = saferepr({"key": value, "other": "x" * 50}, maxsize=240)
    assert "..." in shortened
    masked = Redactor([value]).redact(shortened)
    # Whatever is left of the value between masks is shorter than a window.
    for piece in masked.replace("...", " ").split(MASK):
        for run in piece.split():
            assert not (len(run) >= 8 and run.strip("'{}:,") in value), run


def test_a_bearer_header_secret_masks_the_bare_token_too() -> None:
    token = "eyJhbGciOi.payload-part.sig-nature-77"
    redactor = Redactor([f"Bearer {token}"])
    assert redactor.redact(f"Authorization: Bearer {token}") == f"Authorization: {MASK}"
    assert redactor.redact(f"token was {token}.") == f"token was {MASK}."


def test_the_longest_form_wins_and_ordinary_text_is_untouched() -> None:
    redactor = Redactor(["abcd-secret-1234", "abcd-secret-1234-longer-one"])
    assert redactor.redact("x abcd-secret-1234-longer-one y") == f"x {MASK} y"
    assert redactor.redact("nothing to see here, only ordinary words") == (
        "nothing to see here, only ordinary words"
    )


def test_trie_pattern_matches_exactly_the_words() -> None:
    pattern = trie_pattern(["abc", "abcdef", "abx", "zz"])
    assert pattern is not None
    assert pattern.findall("abcdef abc abx abz zz") == ["abcdef", "abc", "abx", "zz"]
    assert trie_pattern([]) is None


def test_many_secrets_still_redact_a_large_text() -> None:
    secrets = [f"secret-value-{n:04d}-" + "q" * 40 for n in range(30)]
    redactor = Redactor(secrets)
    text = ("ordinary log line without anything special\n" * 20000) + secrets[17]
    assert redactor.redact(text).endswith(MASK)
