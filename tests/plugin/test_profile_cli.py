"""`deployverify profile check|reference`, the key reference kept true, the example profile loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_deployverify.cli import main
from pytest_deployverify.components.catalog import all_components, load_profile, profile_sections
from pytest_deployverify.profile.reference import render_reference

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = REPO / "verify" / "environments"


def test_committed_reference_matches_the_code() -> None:
    committed = (ENVIRONMENTS / "REFERENCE.md").read_text(encoding="utf-8")
    assert committed == render_reference(profile_sections(all_components())), (
        "verify/environments/REFERENCE.md is stale: run "
        "`deployverify profile reference > verify/environments/REFERENCE.md`"
    )


def test_reference_lists_nested_tables_and_arrays_of_tables() -> None:
    text = render_reference(profile_sections(all_components()))
    for table in ("## `redis.expect`", "## `[gates]`", "## `[http.expect.flows]`", "## `slo`"):
        assert table in text
    assert "| `password` | secret or unset | unset |" in text


def test_example_profile_loads(tmp_path: Path) -> None:
    shutil.copy(ENVIRONMENTS / "production.toml.example", tmp_path / "production.toml")
    names = (
        "RELEASE_VERSION",
        "REDIS_PASSWORD",
        "PG_PASSWORD",
        "VERIFIER_CLIENT_SECRET",
        "GRAFANA_TOKEN",
    )
    loaded = load_profile("production", tmp_path, {name: "value-1234567890" for name in names})
    assert loaded.profile.protected
    assert loaded.profile.kubernetes is not None
    assert loaded.profile.kubernetes.expect.public_host == "api.example.com"


def test_profile_check_ok_and_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "staging.toml").write_text(
        'version = "2.0"\n[redis]\nurl = "redis://h:6379"\npassword = "${STAGING_REDIS}"\n'
    )
    monkeypatch.setenv("STAGING_REDIS", "s3cret-value-xyz")
    assert main(["profile", "check", "staging", "--env-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "environment 'staging'" in out
    assert "components: redis" in out
    assert "variables read: STAGING_REDIS" in out
    assert "s3cret-value-xyz" not in out
    monkeypatch.delenv("STAGING_REDIS")
    assert main(["profile", "check", "staging", "--env-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "staging.toml:4: redis.password: needs environment variable STAGING_REDIS" in err
    assert "Traceback" not in err
