"""The Kubernetes component: ``[kubernetes]``, a read-only cached reader over the official client."""

from __future__ import annotations

from typing import Any

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.profile.model import KubernetesConfig, Profile


def _connect(section: KubernetesConfig, profile: Profile) -> Any:
    from pytest_deployverify.components.kubernetes.reader import build_kube_reader

    return build_kube_reader(section)


def _endpoint(section: KubernetesConfig) -> str:
    if section.kubeconfig:
        return f"kubeconfig {section.kubeconfig}"
    return "(in-cluster)" if section.in_cluster else "(default kubeconfig)"


component = Component(
    name="kubernetes",
    checklist=(
        "pytest_deployverify.checklist.test_kubernetes_infra",
        "pytest_deployverify.checklist.test_kubernetes_security",
    ),
    title="Kubernetes",
    sections=(
        SectionSpec("kubernetes", KubernetesConfig, "the cluster and the workloads to verify"),
    ),
    connect=_connect,
    endpoint=_endpoint,
    extra="kubernetes",
)
