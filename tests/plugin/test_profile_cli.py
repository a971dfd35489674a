"""`deployverify profile check|reference|schema`: the key reference kept true and complete (every
key described from the comment next to its field), the JSON Schema checked with `jsonschema` and the
`taplo` CLI against the project's profiles, the example profile loading."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify.cli import main
from pytest_deployverify.cli.profile_commands import documented_sections, gate_extras
from pytest_deployverify.components.catalog import all_components, load_profile, profile_sections
from pytest_deployverify.profile import reference
from pytest_deployverify.profile.jsonschema import json_compatible, profile_schema
from pytest_deployverify.profile.model import Profile, SectionSpec
from pytest_deployverify.profile.reference import render_reference

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = REPO / "verify" / "environments"
EXAMPLES = [*sorted(ENVIRONMENTS.glob("*.toml")), ENVIRONMENTS / "production.toml.example"]


def test_committed_reference_matches_the_code() -> None:
    committed = (ENVIRONMENTS / "REFERENCE.md").read_text(encoding="utf-8")
    assert committed == render_reference(*documented_sections()), (
        "verify/environments/REFERENCE.md is stale: run "
        "`deployverify profile reference > verify/environments/REFERENCE.md`"
    )


def test_reference_lists_nested_tables_and_arrays_of_tables() -> None:
    text = render_reference(profile_sections(all_components()))
    for table in ("## `redis.expect`", "## `[gates]`", "## `[http.expect.flows]`", "## `slo`"):
        assert table in text
    assert "| `password` | secret or unset | unset |" in text


def test_reference_gives_meaning_and_example_from_the_comment_next_to_the_field() -> None:
    text = render_reference(*documented_sections())
    # model.py: `# The release that must be running (`version = "1.4.2"`, or ...` above the field.
    row = next(line for line in text.splitlines() if line.startswith("| `version` | string"))
    assert "The release that must be running" in row
    assert '`version = "1.4.2"`' in row
    # A secret's example is a variable, never a value.
    assert '`password = "${REDIS_PASSWORD}"`' in text
    # Every example is valid TOML.
    for line in text.splitlines():
        if line.startswith("| `") and line.count("|") >= 6:
            example = line.rsplit("|", 2)[-2].strip().strip("`")
            if " = " in example:
                tomllib.loads(example.replace("\\|", "|"))


def test_descriptions_come_from_comments_docstrings_and_metadata() -> None:
    @dataclasses.dataclass
    class Sample:
        # Above the field,
        # on two lines.
        above: int = 1
        trailing: str = ""  # At the end of the line.
        after: bool = False
        """An attribute docstring."""
        meta: int = dataclasses.field(default=2, metadata={"description": "From metadata."})

        bare: int = 0  # type: ignore[assignment]

        # -- A heading of the fields below --
        # Under a heading.
        headed: int = 3
        # -- Another heading --
        heading_only: int = 4
        # --allow-destructive lets it run (an option, not a heading).
        option_first: int = 5

    described = {
        f.name: reference.field_description(Sample, f.name) for f in dataclasses.fields(Sample)
    }
    assert described == {
        "above": "Above the field, on two lines.",
        "trailing": "At the end of the line.",
        "after": "An attribute docstring.",
        "meta": "From metadata.",
        "bare": "",
        "headed": "Under a heading.",
        "heading_only": "",
        "option_first": "--allow-destructive lets it run (an option, not a heading).",
    }


@dataclasses.dataclass(frozen=True)
class _Login:
    """A login."""

    user: str = "someone"  # The user name: <user>, or `<user>` in code.


@dataclasses.dataclass(frozen=True)
class _Holder:
    # The burst's own account.
    burst: _Login | None = None
    plain: _Login | None = None


def test_a_nested_table_is_described_by_the_field_that_holds_it() -> None:
    """A shared table (``Credentials``) says what it is; the comment next to the field holding it
    says what this use of it is for, and comes first."""
    sections = (SectionSpec("sample", _Holder, "a sample table"),)
    described = {t.table: t.description for t in reference.tables(sections)}
    assert described["sample"] == "A sample table."
    assert described["sample.burst"] == "The burst's own account. A login."
    assert described["sample.plain"] == "A login."
    text = render_reference(sections)
    assert "## `sample.burst`\n\nThe burst's own account. A login.\n" in text


def test_angle_brackets_outside_code_survive_markdown() -> None:
    """``<status_label>`` would be an HTML tag to a Markdown renderer, and vanish."""
    text = render_reference(*documented_sections())
    row = next(line for line in text.splitlines() if line.startswith("| `error_matcher` |"))
    assert "empty: &lt;status_label>=~" in row
    # Inside a code span it stays as written.
    sample = render_reference((SectionSpec("sample", _Holder, "a sample table"),))
    assert "The user name: &lt;user>, or `<user>` in code." in sample


def test_defaults_are_written_as_the_profile_writes_them() -> None:
    text = render_reference(*documented_sections())
    row = next(line for line in text.splitlines() if "| `network_policy_directions` |" in line)
    assert '| `["ingress", "egress"]` |' in row
    assert "Direction." not in text
    assert '| `covers` | array of string | `["failures"]` |' in text


def test_every_profile_key_of_its_own_is_described() -> None:
    """The profile's own keys (profile/model.py) all have a meaning in the reference."""
    missing = reference.undescribed(())
    assert missing == [], f"profile keys without a description: {missing}"


def test_every_component_key_and_gate_parameter_is_described() -> None:
    """Every key of the component tables and every gate parameter has a meaning in the reference
    (the comment next to its field); a new key without one fails here."""
    sections, extras = documented_sections()
    missing = reference.undescribed(sections, extras)
    assert missing == [], f"{len(missing)} keys without a description:\n" + "\n".join(missing)


def test_gate_parameters_are_documented_with_the_gates_that_read_them() -> None:
    from pytest_deployverify.checks import gates

    extras = gate_extras()
    params = {k.name: k for k in extras.keys[(gates.MetricGate, "params")]}
    assert set(params) == set(gates.DEFAULT_PARAMS)
    assert "error_rate" in params["selector"].used_by
    assert params["hpa_selector"].used_by == ("hpa_at_max",)
    assert "5.." in params["error_matcher"].description  # the comment next to it in gates.py
    text = render_reference(*documented_sections())
    assert "### Gate parameters (`[[gates]] params`)" in text
    assert "### Ready-made gates (`[[gates]] name`)" in text
    for name in gates.READY_MADE:
        assert f"| `{name}` |" in text


# -- the JSON Schema --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "profile.schema.json"
    path.write_text(json.dumps(profile_schema(*documented_sections())))
    return path


def _validator(schema_file: Path) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(schema_file.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


BAD_PROFILE = """\
protected = "yes"
versoin = "1.0"

[redis]
url = "redis://cache:6379/0"
timeout = "slow"

[redis.expect]
persistence = "sometimes"
"""


def test_schema_command_prints_a_draft_2020_12_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    props = schema["properties"]
    assert props["protected"]["default"] is False
    assert "destructive" in props["protected"]["description"]
    assert props["waivers"]["type"] == "array"
    assert {"kubernetes", "redis", "postgres", "prometheus", "gates", "services"} <= set(props)
    defs = schema["$defs"]
    redis = defs[props["redis"]["$ref"].rsplit("/", 1)[1]]
    assert redis["additionalProperties"] is False
    assert redis["required"] == ["url"]
    assert redis["properties"]["timeout"]["anyOf"][0] == {
        "type": "number", "exclusiveMinimum": 0, "maximum": 3600
    }  # fmt: skip
    gate = defs[props["gates"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert "selector" in gate["properties"]["params"]["properties"]
    assert "error_rate" in gate["properties"]["name"]["examples"]
    severity = props["default_severity"]["anyOf"][0]
    assert severity["enum"] == ["critical", "high", "medium", "low", "info"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_profiles_validate_against_the_schema(schema_file: Path, path: Path) -> None:
    validator = _validator(schema_file)
    data = json_compatible(tomllib.loads(path.read_text(encoding="utf-8")))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def test_schema_rejects_a_wrong_type_an_unknown_key_and_a_bad_enum(schema_file: Path) -> None:
    validator = _validator(schema_file)
    errors = {tuple(e.absolute_path) for e in validator.iter_errors(tomllib.loads(BAD_PROFILE))}
    assert ("protected",) in errors
    assert ("redis", "timeout") in errors
    assert ("redis", "expect", "persistence") in errors
    assert () in errors  # versoin: additionalProperties at the top level


def _taplo() -> Path:
    found = shutil.which("taplo") or str(Path(sys.executable).parent / "taplo")
    if not Path(found).is_file():
        pytest.skip("the taplo CLI (pip install taplo) is not installed")
    return Path(found)


def _taplo_check(taplo: Path, profile: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(taplo), "check", str(profile)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "NO_COLOR": "1"},
    )


def test_taplo_validates_the_example_profiles_through_their_schema_line(
    schema_file: Path, tmp_path: Path
) -> None:
    """As an editor does: the `#:schema` line on the profile's first line names the schema."""
    taplo = _taplo()
    shutil.copy(schema_file, tmp_path / "profile.schema.json")
    for path in EXAMPLES:
        copy = tmp_path / path.name.replace(".toml.example", "-example.toml")
        copy.write_text("#:schema ./profile.schema.json\n" + path.read_text(encoding="utf-8"))
        result = _taplo_check(taplo, copy, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("#:schema ./profile.schema.json\n" + BAD_PROFILE)
    result = _taplo_check(taplo, bad, tmp_path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "'versoin' was unexpected" in output
    assert "bad.toml:2:13" in output  # protected = "yes": the line and column of the value
    assert '"sometimes"' in output


def test_taplo_finds_the_schema_init_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taplo = _taplo()
    assert main(["init", "prod", "--env-dir", str(tmp_path)]) == 0
    result = _taplo_check(taplo, tmp_path / "prod.toml", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "prod.toml").write_text(
        (tmp_path / "prod.toml").read_text() + "\n[kubernetes]\nnamespaces = 1\n"
    )
    result = _taplo_check(taplo, tmp_path / "prod.toml", tmp_path)
    assert result.returncode != 0
    assert "'namespaces' was unexpected" in result.stdout + result.stderr


def test_schema_knows_every_key_the_validator_knows() -> None:
    """The schema and the validator read the same dataclasses: same keys, same required ones."""
    schema = profile_schema(*documented_sections())
    own = {f.name for f in dataclasses.fields(Profile) if f.name != "sections"}
    sections = {spec.key for spec in profile_sections(all_components())}
    assert set(schema["properties"]) == own | sections


def test_example_profile_loads(tmp_path: Path) -> None:
    # A file the example names on the reader's machine (its CA bundle) is checked to exist: here
    # it is a stand-in file.
    stand_in = tmp_path / "internal-ca.pem"
    stand_in.write_text("-----BEGIN CERTIFICATE-----\n")
    text = (ENVIRONMENTS / "production.toml.example").read_text(encoding="utf-8")
    (tmp_path / "production.toml").write_text(
        text.replace('"/etc/ssl/internal-ca.pem"', json.dumps(str(stand_in)))
    )
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
