"""Kubernetes security checklist: pod security context and service account token, secrets kept in
Secrets and long enough, no secrets in the pods' logs, the running images scanned for
vulnerabilities, network isolation and TLS on every Ingress, and RBAC (the workload's service
account exists and is not over-privileged, every role and binding, the verifier's own
credentials).

Each item judges what the Kubernetes component read once for the run (live, or the rendered
manifests in pre-deploy mode, where the live-only items are skipped with the reason). The work is
in ``pytest_deployverify.checklist.kubernetes``; declarations in ``checks.kube.items``.
"""

from __future__ import annotations

from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.kubernetes import KubeChecklist
from pytest_deployverify.checklist.support import conclude_item as conclude
from pytest_deployverify.checks.kube import items as k
from pytest_deployverify.evidence import Evidence

# ---- workload security ----------------------------------------------------------------------------


@item(k.SECURITY_CONTEXT)
def test_security_context(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.SECURITY_CONTEXT, workload), evidence)


@item(k.NETWORK_POLICY)
def test_network_policy(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.NETWORK_POLICY, workload), evidence)


@item(k.SA_TOKEN)
def test_service_account_token(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.SA_TOKEN, workload), evidence)


@item(k.INGRESS_TLS)
def test_ingress_tls_settings(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.INGRESS_TLS), evidence)


# ---- secrets --------------------------------------------------------------------------------------


@item(k.SECRET_ENV)
def test_secrets_from_secrets(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.SECRET_ENV, workload), evidence)


@item(k.SECRET_LENGTH)
def test_secret_length(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.SECRET_LENGTH), evidence)


@item(k.POD_LOG_SECRETS)
def test_pod_logs(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.POD_LOG_SECRETS, workload), evidence)


# ---- images ---------------------------------------------------------------------------------------


@item(k.IMAGE_VULNS)
def test_image_vulnerabilities(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.IMAGE_VULNS), evidence)


# ---- RBAC -----------------------------------------------------------------------------------------


@item(k.SERVICE_ACCOUNT)
def test_service_account(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.SERVICE_ACCOUNT, workload), evidence)


@item(k.SA_EXISTS)
def test_service_account_exists(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.SA_EXISTS, workload), evidence)


@item(k.RBAC)
def test_roles_and_bindings(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.RBAC), evidence)


@item(k.VERIFIER_READ_ONLY)
def test_verifier_read_only(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.VERIFIER_READ_ONLY), evidence)
