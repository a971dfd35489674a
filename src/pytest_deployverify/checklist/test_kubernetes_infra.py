"""Kubernetes and Helm infrastructure checklist: rollout, hygiene, configuration, network,
capacity and the Helm release, for every workload in ``[kubernetes] workloads``.

Each item judges the objects the Kubernetes component read once for the run (live, or the
rendered manifests in pre-deploy mode: ``--manifests PATH`` or ``[kubernetes.expect]
manifests``, where the live-only items are skipped with the reason). The work is in
``pytest_deployverify.checklist.kubernetes``; declarations in ``checks.kube.items``.
"""

from __future__ import annotations

from pytest_deployverify.checklist import item
from pytest_deployverify.checklist.kubernetes import KubeChecklist
from pytest_deployverify.checklist.support import conclude_item as conclude
from pytest_deployverify.checks.kube import items as k
from pytest_deployverify.evidence import Evidence

# ---- rollout and workload hygiene ---------------------------------------------------------------


@item(k.ROLLOUT)
def test_rollout_settled(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.ROLLOUT, workload), evidence)


@item(k.RESOURCES)
def test_resources(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.RESOURCES, workload), evidence)


@item(k.PROBES)
def test_probes(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.PROBES, workload), evidence)


@item(k.IMAGE_TAG)
def test_image_tag(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.IMAGE_TAG, workload), evidence)


@item(k.PULL_POLICY)
def test_pull_policy(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.PULL_POLICY, workload), evidence)


@item(k.REPLICAS)
def test_replicas(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.REPLICAS, workload), evidence)


@item(k.PDB)
def test_disruption_budget(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.PDB, workload), evidence)


@item(k.HPA)
def test_autoscaler(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.HPA, workload), evidence)


@item(k.TOPOLOGY)
def test_topology(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.TOPOLOGY, workload), evidence)


@item(k.PRIORITY_CLASS)
def test_priority_class(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.PRIORITY_CLASS, workload), evidence)


@item(k.INSTANCE_LABEL)
def test_instance_label(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.INSTANCE_LABEL, workload), evidence)


# ---- configuration ------------------------------------------------------------------------------


@item(k.ENV_REQUIRED)
def test_required_env(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.ENV_REQUIRED), evidence)


@item(k.ENV_VALUES)
def test_env_values(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.ENV_VALUES), evidence)


@item(k.CONFIG_REFS)
def test_config_references(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.CONFIG_REFS, workload), evidence)


@item(k.SCHEMA)
def test_manifest_schema(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.SCHEMA), evidence)


# ---- network --------------------------------------------------------------------------------------


@item(k.SERVICE)
def test_service_endpoints(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.SERVICE, workload), evidence)


@item(k.INGRESS)
def test_ingress(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.INGRESS), evidence)


@item(k.DNS)
def test_dns(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.DNS), evidence)


@item(k.NAMESPACE)
def test_namespace(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.NAMESPACE), evidence)


# ---- capacity -------------------------------------------------------------------------------------


@item(k.STORAGE_CLASS)
def test_storage_class(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.STORAGE_CLASS, workload), evidence)


@item(k.NODE_CAPACITY)
def test_node_capacity(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.NODE_CAPACITY, workload), evidence)


@item(k.IMAGE_SIZE)
def test_image_size(k8s: KubeChecklist, workload: str, evidence: Evidence) -> None:
    conclude(k8s.run(k.IMAGE_SIZE, workload), evidence)


# ---- Helm -----------------------------------------------------------------------------------------


@item(k.HELM_RELEASE)
def test_helm_release(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.HELM_RELEASE), evidence)


@item(k.HELM_DRIFT)
def test_helm_drift(k8s: KubeChecklist, evidence: Evidence) -> None:
    conclude(k8s.run(k.HELM_DRIFT), evidence)
