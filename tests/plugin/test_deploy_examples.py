"""The in-cluster examples in deploy/ hold to the checklist's own rules."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("yaml")

from pytest_deployverify.checks.kube.rbac import (
    service_account_findings,
    verifier_access_findings,
)
from pytest_deployverify.checks.kube.security import security_findings
from pytest_deployverify.components.kubernetes.manifests import load_manifests

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_verifier_rbac_grants_no_mutating_verb() -> None:
    manifests = load_manifests(DEPLOY / "rbac.yaml")
    rules = [
        rule for role in manifests.of_kind("ClusterRole", "Role") for rule in role.get("rules", [])
    ]
    assert rules, "the RBAC example defines no rules"
    review = {"status": {"resourceRules": rules, "incomplete": False}}
    assert verifier_access_findings(review, who="deploy-verifier") == []
    # And the check would notice a write: the test can fail.
    writable = {
        "status": {
            "resourceRules": [
                *rules,
                {"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["deployments"]},
            ]
        }
    }
    assert verifier_access_findings(writable, who="deploy-verifier")


def test_verifier_is_not_bound_to_admin_or_wildcards() -> None:
    rbac = load_manifests(DEPLOY / "rbac.yaml")
    job = load_manifests(DEPLOY / "job.yaml").of_kind("Job")[0]
    findings = service_account_findings(
        job,
        role_bindings=rbac.of_kind("RoleBinding"),
        cluster_role_bindings=rbac.of_kind("ClusterRoleBinding"),
        roles=rbac.of_kind("Role"),
        cluster_roles=rbac.of_kind("ClusterRole"),
    )
    assert findings == []


def test_verifier_job_pod_is_hardened() -> None:
    job = load_manifests(DEPLOY / "job.yaml").of_kind("Job")[0]
    assert security_findings(job) == []
    # The same pod made privileged is noticed: the check reads this Job's pod template.
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {**container["securityContext"], "privileged": True}
    assert security_findings(job)
