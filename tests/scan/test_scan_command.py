"""``deployverify scan``: standard input, text/JSON/SARIF, the severity threshold, exemptions
that are shown and never silent, secrets never printed, what was read and what was out of scope,
and no pytest in the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pytest_deployverify.cli import main
from tests.scan.cases import CASES, NS, failing, find, first, release
from tests.scan.helpers import ENV, scan, scan_findings, write_release

REPO = Path(__file__).resolve().parents[2]


def _case(name: str):  # type: ignore[no-untyped-def]
    return next(c for c in CASES if c.id == name)


def test_standard_input_as_helm_template_pipes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    objects = failing(_case("run-as-privileged"))
    text = "".join("---\n# Source: shop/templates/x.yaml\n" + yaml.safe_dump(o) for o in objects)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(text))
    code = main(
        ["scan", "-", "--namespace", NS, "--format", "sarif", "--source-name", "chart.yaml"]
    )
    assert code == 1  # a high item failed, the default threshold
    sarif = json.loads(capsys.readouterr().out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "run-as-privileged"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "chart.yaml"
    line = text.splitlines()[location["region"]["startLine"] - 1]
    assert line.startswith("apiVersion: apps/v1") or line.startswith("kind:"), line
    assert result["level"] == "error"
    assert result["properties"]["item"] == "K8S-SECURITY-CONTEXT[all-objects]"
    assert "DaemonSet shop/agent container agent" in result["message"]["text"]


def test_sarif_2_1_0_has_rules_levels_and_file_locations(tmp_path: Path) -> None:
    objects = failing(_case("tls-settings-missing"))
    code, sarif = scan(tmp_path, objects, None, "--fail-on", "medium", fmt="sarif")
    assert code == 1
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["tls-settings-missing"]["defaultConfiguration"]["level"] == "warning"
    assert rules["tls-settings-missing"]["properties"]["equivalent"] == "Polaris tlsSettingsMissing"
    (result,) = run["results"]
    assert result["ruleId"] == "tls-settings-missing"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "tls-settings-missing"
    physical = result["locations"][0]["physicalLocation"]
    uri = physical["artifactLocation"]["uri"]
    assert uri.endswith("rendered/release.yaml")
    lines = (tmp_path / "rendered" / "release.yaml").read_text().splitlines()
    document = "\n".join(lines[physical["region"]["startLine"] - 1 :][:4])
    assert "kind: Ingress" in document
    assert run["invocations"][0]["executionSuccessful"] is True


def test_the_exit_code_follows_the_threshold(tmp_path: Path) -> None:
    objects = failing(_case("tls-settings-missing"))  # K8S-INGRESS-TLS is medium
    assert scan(tmp_path / "a", objects)[0] == 0  # --fail-on high (default)
    assert scan(tmp_path / "b", objects, None, "--fail-on", "medium")[0] == 1
    assert scan(tmp_path / "c", objects, None, "--fail-on", "none")[0] == 0
    _, text = scan(tmp_path / "d", objects, None, "--fail-on", "medium", fmt="text")
    assert "FAIL K8S-INGRESS-TLS (medium) Every Ingress has TLS settings" in text
    assert "FAILED (--fail-on medium): K8S-INGRESS-TLS" in text


def test_text_says_what_was_read_by_kind_and_what_was_out_of_scope(tmp_path: Path) -> None:
    objects = release()
    objects.append(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "shop-tls", "namespace": NS},
            "spec": {"secretName": "shop-tls", "issuerRef": {"name": "letsencrypt"}},
        }
    )
    code, text = scan(tmp_path, objects, None, fmt="text")
    assert code == 0
    assert f"read: {len(objects)} object(s): " in text
    assert "CronJob 1, DaemonSet 1, Deployment 1" in text
    assert "out of scope (kinds not judged): Certificate 1" in text
    _, report = scan(tmp_path / "json", objects)
    assert report["inventory"]["out_of_scope"] == {"Certificate": 1}
    schema = next(i for i in report["items"] if i["id"] == "K8S-SCHEMA")
    assert schema["outcome"] == "passed"


def test_typos_are_caught_before_apply(tmp_path: Path) -> None:
    objects = release()
    web = find(objects, "Deployment", "web")
    web["spec"]["replica"] = 3
    first(web)["imagePullPolicy"] = "always"
    _, report = scan(tmp_path, objects, None, "--fail-on", "none")
    lines = scan_findings(report)["K8S-SCHEMA"]
    assert any(
        "unknown field 'replica' (did you mean 'replicas'?) at spec" in line for line in lines
    )
    assert any(
        "'always' is not one of Always, Never, IfNotPresent at "
        "spec.template.spec.containers[0].imagePullPolicy" in line
        for line in lines
    )


def test_a_secret_value_is_never_printed(tmp_path: Path) -> None:
    objects = release()
    secret = find(objects, "Secret", "shop-secrets")
    secret["stringData"]["db-password"] = 424242424242  # a number: the schema wants a string
    secret["data"] = {"token": ["not", "a", "string"]}
    _, report = scan(tmp_path, objects, None, "--fail-on", "none")
    text = json.dumps(report)
    assert "424242424242" not in text
    assert "not', 'a'" not in text
    assert '"not"' not in text
    lines = scan_findings(report)["K8S-SCHEMA"]
    assert any("expected string, got integer at stringData.db-password" in line for line in lines)
    assert "value-never-printed" not in json.dumps(scan(tmp_path / "2", release())[1])


def test_exemptions_are_honoured_with_a_reason_and_shown(tmp_path: Path) -> None:
    objects = failing(_case("host-network-set"))
    agent = find(objects, "DaemonSet", "agent")
    agent["metadata"]["annotations"] = {
        "deployverify.io/exempt.hostNetworkSet": "CNI agent: programs the node's network"
    }
    code, report = scan(tmp_path, objects)
    assert code == 0
    assert scan_findings(report) == {}
    item = next(i for i in report["items"] if i["id"] == "K8S-SECURITY-CONTEXT[all-objects]")
    (exempted,) = item["exempted"]
    assert exempted["check_id"] == "host-network-set"
    assert exempted["reason"] == "CNI agent: programs the node's network"
    assert (
        "annotation deployverify.io/exempt.hostNetworkSet on DaemonSet shop/agent"
        in (exempted["by"])
    )
    _, text = scan(tmp_path / "text", objects, fmt="text")
    assert "Exempted (not counted):" in text
    assert "CNI agent: programs the node's network" in text
    _, sarif = scan(tmp_path / "sarif", objects, fmt="sarif")
    (suppressed,) = sarif["runs"][0]["results"]
    assert suppressed["suppressions"][0]["kind"] == "inSource"


def test_an_exemption_without_a_reason_is_not_honoured_and_says_so(tmp_path: Path) -> None:
    objects = failing(_case("host-network-set"))
    find(objects, "DaemonSet", "agent")["metadata"]["annotations"] = {
        "polaris.fairwinds.com/hostNetworkSet-exempt": "true"
    }
    code, report = scan(tmp_path, objects)
    assert code == 1
    assert "K8S-SECURITY-CONTEXT[all-objects]" in scan_findings(report)


def test_profile_exemptions_name_checks_objects_and_a_reason(tmp_path: Path) -> None:
    case = _case("host-network-set")
    objects = failing(case)
    rendered, envs = write_release(tmp_path, objects)
    profile = envs / f"{ENV}.toml"
    profile.write_text(
        profile.read_text() + '\n[[kubernetes.exemptions]]\nchecks = ["host-network-set"]\n'
        'objects = ["DaemonSet/agent"]\nreason = "node agent, reviewed in SEC-123"\n',
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    code = main(
        [
            "scan",
            str(rendered),
            "--env",
            ENV,
            "--env-dir",
            str(envs),
            "--format",
            "json",
            "-o",
            str(out),
        ]
    )
    report = json.loads(out.read_text())
    assert code == 0
    (exempted,) = [e for i in report["items"] for e in i["exempted"]]
    assert exempted["reason"] == "node agent, reviewed in SEC-123"
    assert exempted["by"].startswith("profile [[kubernetes.exemptions]] host-network-set")
    # A reason is required.
    profile.write_text(profile.read_text().replace("node agent, reviewed in SEC-123", "true"))
    assert main(["scan", str(rendered), "--env", ENV, "--env-dir", str(envs)]) == 2


def test_the_command_does_not_import_pytest(tmp_path: Path) -> None:
    rendered, _ = write_release(tmp_path, release())
    code = (
        "import sys\n"
        "from pytest_deployverify.cli import main\n"
        f"status = main(['scan', {str(rendered)!r}, '--namespace', 'shop', '-o', {str(tmp_path / 'r.txt')!r}])\n"
        "assert 'pytest' not in sys.modules, 'pytest was imported'\n"
        "assert '_pytest' not in sys.modules\n"
        "raise SystemExit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "items:" in (tmp_path / "r.txt").read_text()


def test_a_broken_manifest_is_a_usage_error_naming_file_and_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {}\n")
    assert main(["scan", str(bad)]) == 2
    assert f"{bad}: document 2: Service has no metadata.name" in capsys.readouterr().err
