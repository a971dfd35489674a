from __future__ import annotations

import pytest

from pytest_deployverify.evidence import Evidence, plain
from pytest_deployverify.profile.secrets import Secret
from pytest_deployverify.profile.settings import resolve
from pytest_deployverify.pytest_plugin.markers import parse_check_marker
from pytest_deployverify.pytest_plugin.options import parse_approval, parse_attestation


def test_check_marker_ok() -> None:
    assert parse_check_marker(("ID-1",), {"title": "T", "severity": "HIGH"}) == {
        "id": "ID-1",
        "title": "T",
        "severity": "high",
    }


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        ((), {"idd": "x"}, "did you mean 'id'"),
        (("X",), {"severty": "high"}, "did you mean 'severity'"),
        (("X",), {"severity": "urgent"}, "unknown severity 'urgent'"),
        ((), {}, "missing 1 required positional argument"),
        (("",), {}, "non-empty"),
        (("X", "title"), {}, "takes 1 positional argument"),
        ((3,), {}, "non-empty string"),
    ],
)
def test_check_marker_errors(
    args: tuple[object, ...], kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_check_marker(args, dict(kwargs))


def test_resolution_order() -> None:
    env = {"DEPLOYVERIFY_ENV": "staging"}

    def pick(cli: str | None, environ: dict[str, str], ini: str | None) -> str:
        r = resolve(
            option="--env",
            cli_value=cli,
            env_var="DEPLOYVERIFY_ENV",
            environ=environ,
            ini_name="deployverify_env",
            ini_value=lambda: ini,
        )
        return r.describe()

    assert pick("prod", env, "dev") == "prod (from --env)"
    assert pick(None, env, "dev") == "staging (from DEPLOYVERIFY_ENV)"
    assert pick(None, {}, "dev") == "dev (from ini deployverify_env)"
    assert pick(None, {}, None) == "None (from default)"


def test_approval_parsing() -> None:
    a = parse_approval("Security=Dana Smith@2026-11-21")
    assert (a.role, a.name, a.date) == ("Security", "Dana Smith", "2026-11-21")
    b = parse_attestation("oncall=sam")
    assert (b.item_id, b.name, len(b.date)) == ("oncall", "sam", 10)


def test_evidence_is_plain_and_masks_secrets() -> None:
    ev = Evidence()
    ev.record("token", Secret("zzz-secret"), expected=float("nan"), source="GET /x", ok=False)
    ev.record("big", "x" * 5000)
    ev.record("obj", object())
    assert ev.entries[0] == {
        "name": "token",
        "value": "***",
        "expected": "nan",
        "source": "GET /x",
        "ok": False,
    }
    assert len(ev.entries[1]["value"]) == 2000
    assert isinstance(ev.entries[2]["value"], str)
    assert plain({"a": (1, 2), "b": {3}}) == {"a": [1, 2], "b": [3]}
