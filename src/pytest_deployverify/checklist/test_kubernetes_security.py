"""Kubernetes security checklist: pod security context, secrets kept in Secrets and long enough,
network isolation, and RBAC (the workload's service account and the verifier's own credentials).

Live by default (the read-only ``kube`` reader); with ``--manifests PATH`` (or
``[kubernetes.expect] manifests``) the spec-level items judge the rendered manifests before
anything is applied and the live-only items are skipped with the reason. The work is in
``pytest_deployverify.checklist.kubernetes``; each test names its item and records the evidence.
The fixtures repeat those of ``test_infra_kubernetes.py`` so either file runs alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_deployverify.checklist.support import conclude_item as conclude
from pytest_deployverify.evidence import Evidence

if TYPE_CHECKING:
    from pytest_deployverify.checklist.kubernetes import KubeChecklist

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
