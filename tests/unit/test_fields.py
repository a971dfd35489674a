"""The profile's field types and scalar checks: what they accept, what they refuse, and that a
refusal says what is wrong without the value."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.profile.fields import (
    Duration,
    ExistingFile,
    HeaderName,
    HeaderText,
    HeaderValue,
    HttpUrl,
    PostgresDsn,
    RedisUrl,
    Seconds,
    describe_character,
    parse_duration,
)
from pytest_deployverify.profile.schema import SchemaError, build, convert
from pytest_deployverify.profile.secrets import (
    MIN_SECRET_LENGTH,
    Endpoint,
    Secret,
    secret_length_problem,
)

LOC = ("t", "k")
SECRET = "s3cr3t-canary-77"


def refusal(value: Any, hint: Any) -> str:
    with pytest.raises(SchemaError) as info:
        convert(value, hint, LOC)
    (error,) = info.value.errors
    assert error.loc == LOC
    return error.message


# --- URLs and DSNs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hint", "value"),
    [
        (HttpUrl, "https://api.example.com"),
        (HttpUrl, "http://u:long-password-1@[::1]:8443/x?y=1"),
        (HttpUrl, "http://[fe80::1%25eth0]:80/"),
        (RedisUrl, "rediss://:p%40ss-word-1@cache.internal:6380/0"),
        (PostgresDsn, "postgresql://app@db:5432/app?sslmode=verify-full"),
        (PostgresDsn, "postgres://app@db/app"),
    ],
)
def test_good_urls_are_accepted(hint: Any, value: str) -> None:
    endpoint = convert(value, hint, LOC)
    assert isinstance(endpoint, Endpoint)
    assert endpoint.get() == value


@pytest.mark.parametrize(
    ("hint", "value", "expected"),
    [
        (PostgresDsn, f"app:{SECRET}@127.0.0.1:5432/db", "URL has no scheme: it must start with "
         "postgresql:// or postgres://"),
        (PostgresDsn, f"postgresql://app:{SECRET}@[::1:5432/db", "malformed URL: the IPv6 host "
         "is not valid; write an IPv6 address in brackets"),
        (HttpUrl, f"https://u:{SECRET}@[gateway]/", "the IPv6 host is not valid"),
        (RedisUrl, SECRET, "URL has no scheme: it must start with redis:// or rediss://"),
        (RedisUrl, f"http://:{SECRET}@h:1", "URL must start with redis:// or rediss://, not "
         "http://"),
        (HttpUrl, f"gopher://{SECRET}.example/", "URL must start with http:// or https://"),
        (HttpUrl, f"https://u:{SECRET}@h:port/", "malformed URL: the port is not a number from "
         "1 to 65535"),
        (HttpUrl, "https://h:99999/", "the port is not a number from 1 to 65535"),
        (HttpUrl, "https://h:0/", "the port is not a number from 1 to 65535"),
        (HttpUrl, "https://", "URL has no host"),
        (HttpUrl, f"https://u:{SECRET}@h/\r\n", "URL contains a carriage return (CR) at "
         "character 30"),
        (HttpUrl, f"https://h/{SECRET}\n", "a line feed (LF) at character 27"),
        (RedisUrl, f"redis://:{SECRET}@h\x00:1", "a NUL character at character 28"),
        (HttpUrl, "https://h/\x1b[0m", "a control character (U+001B)"),
        (HttpUrl, "https://h/\u2028", "a whitespace character (U+2028) at character 11: a URL is "
         "one line"),
        (HttpUrl, "https://h/\u200bx", "an invisible formatting character (U+200B)"),
        (HttpUrl, f"https://api example.com/{SECRET}", "URL contains a space at character 12: "
         "a URL has no whitespace"),
        (HttpUrl, f" https://h/{SECRET}", "a space at character 1"),
        (HttpUrl, f"https://h/{SECRET}\t", "a tab"),
        (PostgresDsn, f"postgresql://app:{SECRET}@db\u00a0/x", "a whitespace character (U+00A0)"),
    ],
)  # fmt: skip
def test_bad_urls_say_what_is_wrong_without_the_value(hint: Any, value: str, expected: str) -> None:
    message = refusal(value, hint)
    assert expected in message
    assert SECRET not in message
    assert value not in message


# --- header names and values ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Table:
    token: HeaderValue | None = None
    headers: Mapping[HeaderName, HeaderValue] = dataclasses.field(default_factory=dict)
    name: HeaderName | None = None
    tenant: HeaderText | None = None


def test_good_headers_are_accepted() -> None:
    table = build(
        Table,
        {"token": "Bearer abc.def-ghi", "headers": {"X-Api-Key": "key\twith-tab-123"}, "name": "a!#$%&'*+-.^_`|~z", "tenant": "acme"},
    )  # fmt: skip
    assert table.tenant == "acme"  # not a secret: any length
    assert isinstance(table.token, Secret)
    assert table.token.get() == "Bearer abc.def-ghi"
    assert table.headers["X-Api-Key"].get() == "key\twith-tab-123"


@pytest.mark.parametrize(
    ("data", "loc", "expected"),
    [
        ({"token": SECRET + "\r\n"}, ("token",), "header value contains a carriage return (CR) at character 17"),
        ({"token": SECRET + "\nX-Evil: 1"}, ("token",), "a line feed (LF)"),
        ({"token": "cnry-\u00fcml-" + SECRET}, ("token",), "a non-ASCII character at character 6"),
        ({"token": SECRET + "\x00"}, ("token",), "a NUL character"),
        ({"token": SECRET + "\x7f"}, ("token",), "a DEL character"),
        ({"token": " " + SECRET}, ("token",), "starts or ends with whitespace"),
        ({"token": SECRET + "\t"}, ("token",), "starts or ends with whitespace"),
        ({"token": "short"}, ("token",), f"shorter than {MIN_SECRET_LENGTH} characters"),
        ({"headers": {"X-Api-Key": SECRET + "\n"}}, ("headers", "X-Api-Key"), "a line feed"),
        ({"headers": {"X Api": SECRET}}, ("headers", "X Api"), "is not a valid HTTP header name: it contains a space at character 2"),
        ({"headers": {"X-Api:": SECRET}}, ("headers", "X-Api:"), "the character ':'"),
        ({"headers": {"X-\u00e4": SECRET}}, ("headers", "X-\u00e4"), "a non-ASCII character"),
        ({"headers": {"": SECRET}}, ("headers", ""), "header name is empty"),
        ({"name": "X-A\r\nB"}, ("name",), "a carriage return (CR)"),
        ({"tenant": "acme\n"}, ("tenant",), "header value contains a line feed (LF) at character 5"),
        ({"tenant": "\u00e4cme"}, ("tenant",), "a non-ASCII character at character 1"),
    ],
)  # fmt: skip
def test_bad_headers_are_refused_without_the_value(
    data: dict[str, Any], loc: tuple[str, ...], expected: str
) -> None:
    with pytest.raises(SchemaError) as info:
        build(Table, data)
    (error,) = info.value.errors
    assert error.loc == loc
    assert expected in error.message
    assert SECRET not in error.message


# --- files that must exist ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Files:
    ca_file: ExistingFile | None = None


def test_an_existing_file_is_given_as_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("pem")
    monkeypatch.chdir(tmp_path)
    assert build(Files, {"ca_file": "certs/ca.pem"}).ca_file == str(tmp_path / "certs" / "ca.pem")
    absolute = str(tmp_path / "certs" / "ca.pem")
    assert build(Files, {"ca_file": absolute}).ca_file == absolute


def test_a_home_relative_file_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "kubeconfig").write_text("apiVersion: v1")
    assert build(Files, {"ca_file": "~/kubeconfig"}).ca_file == str(tmp_path / "kubeconfig")


def _files_error(value: str) -> str:
    with pytest.raises(SchemaError) as info:
        build(Files, {"ca_file": value})
    (error,) = info.value.errors
    assert error.loc == ("ca_file",)
    return error.message


def test_a_missing_file_is_named_with_where_relative_paths_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    message = _files_error("certs/ca.pem")
    assert "file 'certs/ca.pem' does not exist" in message
    assert f"relative to {tmp_path}, the folder the run starts in" in message
    assert "leave the key out" in message
    absolute = _files_error(str(tmp_path / "nope.pem"))
    assert f"file '{tmp_path / 'nope.pem'}' does not exist; fix the path" in absolute


def test_folders_links_and_empty_values_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "certs").mkdir()
    os.symlink("gone.pem", tmp_path / "dangling.pem")
    os.symlink("loop-b.pem", tmp_path / "loop-a.pem")
    os.symlink("loop-a.pem", tmp_path / "loop-b.pem")
    os.mkfifo(tmp_path / "fifo")
    assert "'certs' is a folder" in _files_error("certs")
    assert "symbolic link to a file that does not exist" in _files_error("dangling.pem")
    assert "symbolic link that loops" in _files_error("loop-a.pem")
    assert "'fifo' is not a regular file" in _files_error("fifo")
    assert "is empty: give the path of a file" in _files_error(" ")
    assert "the path contains a line feed (LF)" in _files_error("ca.pem\n")


def test_an_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Permission bits do not stop root, so the refusal of the open itself is simulated.
    (tmp_path / "key.pem").write_text("pem")

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    message = _files_error(str(tmp_path / "key.pem"))
    assert "cannot be read (Permission denied)" in message
    assert "make it readable by the user that runs the verification" in message


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), "nan", "NaN", " inf", "1e999"]
)
def test_non_finite_numbers_are_not_numbers(value: Any) -> None:
    message = refusal(value, Seconds)
    assert message.startswith("is not a finite number (nan or inf)")
    assert "greater than" not in message


def test_a_huge_integer_is_refused_not_a_crash() -> None:
    assert refusal(10**400, Seconds) == "is too large to be a number; write a smaller value"


def test_a_duration_that_is_nan_says_so() -> None:
    assert "not a finite number" in refusal(float("nan"), Duration)
    assert convert("15m", Duration, LOC) == "15m"
    with pytest.raises(ValueError, match="finite number of seconds"):
        parse_duration(float("inf"))


# --- secrets too short to redact ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (Secret("a" * MIN_SECRET_LENGTH), None),
        (Secret(""), None),
        (Secret("a" * (MIN_SECRET_LENGTH - 1)), "this secret is shorter than 8 characters"),
        (Endpoint("redis://cache:6379"), None),
        (Endpoint("redis://:long-enough@cache:6379"), None),
        (Endpoint("redis://:pw@cache:6379"), "the password or token in this URL is shorter"),
        (Endpoint("https://h/?token=abc"), "the password or token in this URL is shorter"),
        (Endpoint("http://[::1/"), None),  # malformed: the URL check says why
    ],
)
def test_secret_length_problem(secret: Secret, problem: str | None) -> None:
    found = secret_length_problem(secret)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)
        assert secret.get() not in found or not secret.get()


def test_a_short_secret_is_refused_at_validation() -> None:
    message = refusal("abc1234", Secret)
    assert "shorter than 8 characters" in message
    assert "abc1234" not in message
    assert convert("", Secret, LOC) == Secret("")


# --- the schema's own messages --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Chatty:
    """A table whose own check quotes a value it should not: the schema masks the secrets."""

    password: Secret
    label: str

    def __post_init__(self) -> None:
        if self.label == self.password.get():
            raise ValueError(f"label {self.label!r} must not be the password")


def test_no_schema_message_contains_a_secret_seen_in_the_same_build() -> None:
    with pytest.raises(SchemaError) as info:
        build(Chatty, {"password": SECRET, "label": SECRET})
    assert SECRET not in str(info.value)
    assert "label '***' must not be the password" in str(info.value)


def test_a_union_reports_the_reason_of_the_option_that_took_the_value() -> None:
    assert refusal(float("nan"), Duration).startswith("is not a finite number")
    assert refusal(True, Duration) == "unexpected a boolean"


def test_describe_character_never_spells_out_non_ascii() -> None:
    assert describe_character("\r") == "a carriage return (CR)"
    assert describe_character("\x01") == "a control character (U+0001)"
    assert describe_character("\u00fc") == "a non-ASCII character"
    assert describe_character(":") == "the character ':'"
