"""The CI recipes in docs/ci/: the YAML parses, the commands they run exist with the options they
pass, they branch on the plugin's own exit codes, and their Kubernetes manifests pass the project's
pre-deploy checks (`deployverify scan`) and would fail them with a defect."""

from __future__ import annotations

import copy
import functools
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

from pytest_deployverify.cli import build_parser, main  # noqa: E402
from pytest_deployverify.pytest_plugin.recorder import (  # noqa: E402
    EXIT_CONDITIONAL,
    EXIT_GO,
    EXIT_NO_GO,
)

REPO = Path(__file__).resolve().parents[2]
CI = REPO / "docs" / "ci"
KUBE = CI / "kubernetes"


@functools.cache
def pytest_options() -> frozenset[str]:
    """Every long option `pytest --help` lists with this plugin installed."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    return frozenset(
        word.split("=")[0].rstrip(",") for word in result.stdout.split() if word.startswith("--")
    )


def commands(script: str) -> list[list[str]]:
    """The shell commands of a script (continuation lines joined), as argument lists."""
    joined = script.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                found.append(shlex.split(line, comments=True))
            except ValueError:
                continue
    return found


def check_command(argv: list[str]) -> None:
    """`pytest ...` uses only options pytest (with the plugin) knows; `deployverify ...` parses."""
    if argv[0] == "pytest":
        unknown = [
            a for a in argv if a.startswith("--") and a.split("=")[0] not in pytest_options()
        ]
        assert unknown == [], f"{shlex.join(argv)}: options pytest does not know: {unknown}"
        assert "--env" in argv
        assert "--signoff" in argv
        assert argv[argv.index("--signoff-exit") + 1] == "verdict"
    elif argv[0] == "deployverify":
        args = [a if "$" not in a else "production" for a in argv[1:]]
        build_parser().parse_args(args)


def run_commands(script: str) -> list[list[str]]:
    found = [c for c in commands(script) if c and c[0] in ("pytest", "deployverify", "pip")]
    for argv in found:
        if argv[0] != "pip":
            check_command(argv)
    return found


def test_exit_codes_are_the_documented_ones() -> None:
    assert (EXIT_GO, EXIT_CONDITIONAL, EXIT_NO_GO) == (0, 10, 11)
    readme = (CI / "README.md").read_text()
    for code, verdict in ((0, "GO"), (10, "CONDITIONAL"), (11, "NO-GO")):
        assert f"| {code} | {verdict}" in readme


def test_github_actions_job() -> None:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    job = workflow["jobs"]["verify"]
    scripts = "\n".join(step.get("run", "") for step in job["steps"])
    found = run_commands(scripts)
    tools = [c[0] for c in found]
    assert tools == ["pip", "deployverify", "pytest"]
    assert found[0][1:] == ["install", "pytest-deployverify[all]"]
    verify = next(s for s in job["steps"] if s.get("id") == "verify")["run"]
    # Branches on the plugin's codes: CONDITIONAL warns, NO-GO and a broken run fail the job.
    assert f"{EXIT_GO}) echo" in verify
    assert f'{EXIT_CONDITIONAL}) echo "::warning' in verify
    assert f'{EXIT_NO_GO}) echo "::error' in verify
    assert f"exit {EXIT_NO_GO}" in verify
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"


def test_gitlab_ci_job() -> None:
    pipeline = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    job = pipeline["verify-deployment"]
    assert job["stage"] in pipeline["stages"]
    assert pipeline["stages"].index("verify") > pipeline["stages"].index("deploy")
    found = run_commands("\n".join(job["script"]))
    assert [c[0] for c in found] == ["pip", "deployverify", "pytest"]
    # Only CONDITIONAL may fail without failing the pipeline.
    assert job["allow_failure"] == {"exit_codes": [EXIT_CONDITIONAL]}
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"


def _container_args(pod_spec: dict[str, Any]) -> list[str]:
    container = pod_spec["containers"][0]
    assert "command" not in container, "the image's entrypoint runs pytest (deploy/Dockerfile)"
    return [str(a) for a in container["args"]]


def _argo_job() -> tuple[dict[str, Any], dict[str, Any]]:
    template = yaml.safe_load((KUBE / "argo-analysistemplate.yaml").read_text())
    assert template["apiVersion"] == "argoproj.io/v1alpha1"
    assert template["kind"] == "AnalysisTemplate"
    metric = template["spec"]["metrics"][0]
    provider = metric["provider"]["job"]
    # Argo names the Job it creates itself (<run uid>.<metric>.<n>): it is scanned under the
    # instance its labels give it.
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": provider["metadata"]["labels"]["app.kubernetes.io/instance"],
            "namespace": template["metadata"]["namespace"],
            **provider["metadata"],
        },
        "spec": provider["spec"],
    }
    return template, job


def test_argo_rollouts_analysis_template_uses_the_job_provider() -> None:
    template, job = _argo_job()
    metric = template["spec"]["metrics"][0]
    assert metric["failureLimit"] == 0
    assert job["spec"]["backoffLimit"] == 0  # one verdict, not retried into a GO
    args = _container_args(job["spec"]["template"]["spec"])
    argv = ["pytest", *(a.replace("{{args.environment}}", "production") for a in args)]
    check_command(argv)
    assert "{{args.environment}}" in args
    assert {a["name"] for a in template["spec"]["args"]} == {"environment"}


def test_helm_test_hook() -> None:
    job = yaml.safe_load((KUBE / "helm-test-hook.yaml").read_text())
    assert job["kind"] == "Job"
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    check_command(["pytest", *_container_args(job["spec"]["template"]["spec"])])
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["python", "-m", "pytest"' in dockerfile


def _scan(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(
        [
            "scan", str(folder), "--env", "recipes", "--env-dir", str(CI / "profiles"),
            "--fail-on", "low", "--format", "json",
        ]
    )  # fmt: skip
    return code, json.loads(capsys.readouterr().out)


def _manifests(folder: Path, argo_job: dict[str, Any]) -> None:
    for source in (
        REPO / "deploy" / "rbac.yaml",
        KUBE / "helm-test-hook.yaml",
        KUBE / "verifier-access.yaml",
    ):
        (folder / source.name).write_text(source.read_text())
    (folder / "argo-job.yaml").write_text(yaml.safe_dump(argo_job))


def test_the_recipes_manifests_pass_the_projects_own_predeploy_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("kubernetes_validate")
    _, argo_job = _argo_job()
    _manifests(tmp_path, argo_job)
    code, report = _scan(tmp_path, capsys)
    assert code == 0, json.dumps(report, indent=1)[:4000]
    assert report["summary"]["blocking"] == []
    judged = json.dumps(report)
    assert "api-gateway-deploy-verify" in judged
    assert argo_job["metadata"]["name"] in judged
    # The same scan notices a defect in either Job: the check reads these pod templates.
    for target in ("argo-job.yaml", "helm-test-hook.yaml"):
        broken = tmp_path / "broken"
        broken.mkdir(exist_ok=True)
        _manifests(broken, argo_job)
        doc = yaml.safe_load((broken / target).read_text())
        container = doc["spec"]["template"]["spec"]["containers"][0]
        container["securityContext"] = {**container["securityContext"], "privileged": True}
        (broken / target).write_text(yaml.safe_dump(copy.deepcopy(doc)))
        code, report = _scan(broken, capsys)
        assert code == 1, target
        assert "privileged" in json.dumps(report)
