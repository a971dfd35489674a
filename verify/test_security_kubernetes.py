"""Kubernetes security checklist: pod security context, secrets kept in Secrets and long enough,
network isolation, and RBAC (the workload's service account and the verifier's own credentials).

Live by default (the read-only ``kube`` reader); with ``--manifests PATH`` (or
``[kubernetes.expect] manifests``) the spec-level items judge the rendered manifests before
anything is applied and the live-only items are skipped with the reason. The work is in
``pytest_deployverify.kube_checklist``; each test names its item and records the evidence.
The fixtures repeat those of ``test_infra_kubernetes.py`` so either file runs alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_deployverify.applicability import not_applicable

pytest.importorskip(
    "yaml", reason="the Kubernetes checks need: pip install 'pytest-deployverify[kubernetes]'"
)

from pytest_deployverify.checks.kube.manifests import ManifestError
from pytest_deployverify.context import get_context
from pytest_deployverify.evidence import Evidence
from pytest_deployverify.kube_checklist import ItemResult, KubeChecklist, manifests_path
from pytest_deployverify.profile import Profile


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per workload of the profile (known at collection time)."""
    if "workload" not in metafunc.fixturenames:
        return
    context = get_context(metafunc.config)
    section = context.profile.kubernetes if context and context.profile else None
    names = list(section.workloads) if section else []
    # No workloads: one parameter that skips with the reason instead of vanishing silently.
    metafunc.parametrize("workload", names or [""], ids=names or ["no-workloads"], indirect=True)


@pytest.fixture(scope="module")
def k8s(request: pytest.FixtureRequest, profile: Profile) -> KubeChecklist:
    """The checklist over the live cluster, or over rendered manifests in pre-deploy mode."""
    if profile.kubernetes is None:
        not_applicable(f"kubernetes is not configured for environment {profile.name}")
    path = manifests_path(
        profile.kubernetes.expect,
        request.config.getoption("deployverify_manifests", None),
        cwd=Path.cwd(),
        rootdir=request.config.rootpath,
    )
    if path is not None:
        try:
            return KubeChecklist.from_manifests(path, profile)
        except ManifestError as exc:
            pytest.fail(f"pre-deploy manifests: {exc}", pytrace=False)
    reader = request.getfixturevalue("kube")  # only now: pre-deploy mode needs no cluster
    return KubeChecklist.live(reader, profile)


@pytest.fixture
def workload(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if not name:
        not_applicable("no workloads to check: list them in [kubernetes] workloads")
    return name


def conclude(result: ItemResult, evidence: Evidence) -> None:
    """Record what the item observed, then pass, skip with its reason, or fail with its message."""
    __tracebackhide__ = True  # the report points at the test and shows the message
    for entry in result.evidence:
        evidence.record(**entry)
    if result.skipped:
        pytest.skip(result.skipped)
    passed = result.passed  # a plain bool keeps the report to the message
    assert passed, result.message


# ---- workload security ----------------------------------------------------------------------------


@pytest.mark.security
@pytest.mark.check(
    "K8S-SECURITY-CONTEXT",
    title="Pods run non-root, unprivileged, read-only, without host access",
    severity="critical",
)
def test_security_context(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-SECURITY-CONTEXT", workload), evidence)


@pytest.mark.security
@pytest.mark.check(
    "K8S-NETWORK-POLICY", title="NetworkPolicies isolate the pods (default deny)", severity="high"
)
def test_network_policy(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-NETWORK-POLICY", workload), evidence)


# ---- secrets --------------------------------------------------------------------------------------


@pytest.mark.security
@pytest.mark.check(
    "K8S-SECRET-ENV", title="Secrets come from Secrets, not literals or ConfigMaps", severity="high"
)
def test_secrets_from_secrets(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-SECRET-ENV", workload), evidence)


@pytest.mark.security
@pytest.mark.check("K8S-SECRET-LENGTH", title="Secrets are long enough", severity="high")
def test_secret_length(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-SECRET-LENGTH"), evidence)


# ---- RBAC -----------------------------------------------------------------------------------------


@pytest.mark.security
@pytest.mark.check(
    "K8S-SERVICE-ACCOUNT",
    title="Workload service account is not cluster-admin or wildcard",
    severity="critical",
)
def test_service_account(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-SERVICE-ACCOUNT", workload), evidence)


@pytest.mark.security
@pytest.mark.check(
    "K8S-VERIFIER-READ-ONLY", title="Verifier credentials are read-only", severity="high"
)
def test_verifier_read_only(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-VERIFIER-READ-ONLY"), evidence)
