"""Kubernetes and Helm infrastructure checklist: rollout, hygiene, configuration, network,
capacity and the Helm release, for every workload in ``[kubernetes] workloads``.

Live by default (the read-only ``kube`` reader); with ``--manifests PATH`` (or
``[kubernetes.expect] manifests``) the spec-level items judge the rendered manifests before
anything is applied and the live-only items are skipped with the reason. The work is in
``pytest_deployverify.checklist.kubernetes``; each test names its item and records the evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_deployverify.checklist.support import conclude_item as conclude
from pytest_deployverify.evidence import Evidence

if TYPE_CHECKING:
    from pytest_deployverify.checklist.kubernetes import KubeChecklist

# ---- rollout and workload hygiene ---------------------------------------------------------------


@pytest.mark.infra
@pytest.mark.check(
    "K8S-ROLLOUT", title="Rollout settled on the release with healthy pods", severity="critical"
)
def test_rollout_settled(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-ROLLOUT", workload), evidence)


@pytest.mark.infra
@pytest.mark.check("K8S-RESOURCES", title="CPU and memory requests and limits set", severity="high")
def test_resources(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-RESOURCES", workload), evidence)


@pytest.mark.infra
@pytest.mark.check(
    "K8S-PROBES", title="Liveness and readiness probes configured and distinct", severity="high"
)
def test_probes(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-PROBES", workload), evidence)


@pytest.mark.infra
@pytest.mark.check("K8S-IMAGE-TAG", title="Images pinned by version tag or digest", severity="high")
def test_image_tag(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-IMAGE-TAG", workload), evidence)


@pytest.mark.infra
@pytest.mark.check("K8S-PULL-POLICY", title="imagePullPolicy is Always", severity="medium")
def test_pull_policy(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-PULL-POLICY", workload), evidence)


@pytest.mark.infra
@pytest.mark.check("K8S-REPLICAS", title="Enough replicas for availability", severity="medium")
def test_replicas(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-REPLICAS", workload), evidence)


@pytest.mark.infra
@pytest.mark.check(
    "K8S-PDB", title="PodDisruptionBudget protects the pods and allows drains", severity="medium"
)
def test_disruption_budget(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-PDB", workload), evidence)


@pytest.mark.infra
@pytest.mark.check(
    "K8S-HPA", title="HorizontalPodAutoscaler can scale the workload", severity="high"
)
def test_autoscaler(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-HPA", workload), evidence)


@pytest.mark.infra
@pytest.mark.check(
    "K8S-TOPOLOGY", title="Replicas spread across nodes and zones", severity="medium"
)
def test_topology(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-TOPOLOGY", workload), evidence)


# ---- configuration ------------------------------------------------------------------------------


@pytest.mark.infra
@pytest.mark.check("K8S-ENV-REQUIRED", title="Required environment variables set", severity="high")
def test_required_env(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-ENV-REQUIRED"), evidence)


@pytest.mark.infra
@pytest.mark.check(
    "K8S-ENV-VALUES", title="Environment variables hold production values", severity="high"
)
def test_env_values(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-ENV-VALUES"), evidence)


@pytest.mark.infra
@pytest.mark.check(
    "K8S-CONFIG-REFS", title="Referenced ConfigMaps, Secrets and keys exist", severity="high"
)
def test_config_references(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-CONFIG-REFS", workload), evidence)


# ---- network --------------------------------------------------------------------------------------


@pytest.mark.infra
@pytest.mark.check(
    "K8S-SERVICE", title="Service selects the pods and has ready endpoints", severity="high"
)
def test_service_endpoints(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-SERVICE", workload), evidence)


@pytest.mark.infra
@pytest.mark.check(
    "K8S-INGRESS", title="Ingress serves the public host over TLS with an address", severity="high"
)
def test_ingress(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-INGRESS"), evidence)


@pytest.mark.infra
@pytest.mark.check("K8S-DNS", title="Public host resolves to the load balancer", severity="high")
def test_dns(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-DNS"), evidence)


@pytest.mark.infra
@pytest.mark.check("K8S-NAMESPACE", title="Namespace exists and is active", severity="high")
def test_namespace(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-NAMESPACE"), evidence)


# ---- capacity -------------------------------------------------------------------------------------


@pytest.mark.infra
@pytest.mark.check("K8S-STORAGE-CLASS", title="Required StorageClasses exist", severity="high")
def test_storage_class(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-STORAGE-CLASS", workload), evidence)


@pytest.mark.infra
@pytest.mark.check(
    "K8S-NODE-CAPACITY", title="Nodes have room for the workload's requests", severity="high"
)
def test_node_capacity(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-NODE-CAPACITY", workload), evidence)


@pytest.mark.infra
@pytest.mark.check("K8S-IMAGE-SIZE", title="Image size within the limit", severity="medium")
def test_image_size(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-IMAGE-SIZE", workload), evidence)


# ---- Helm -----------------------------------------------------------------------------------------


@pytest.mark.infra
@pytest.mark.check(
    "K8S-HELM-RELEASE",
    title="Helm release deployed at the expected chart and app version",
    severity="high",
)
def test_helm_release(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-HELM-RELEASE"), evidence)


@pytest.mark.infra
@pytest.mark.check("K8S-HELM-DRIFT", title="Live objects match the Helm release", severity="high")
def test_helm_drift(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run("K8S-HELM-DRIFT"), evidence)
