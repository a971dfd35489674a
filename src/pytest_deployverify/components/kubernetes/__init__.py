"""The Kubernetes component: ``[kubernetes]``, a read-only cached reader over the official client."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from pytest_deployverify.components.base import Component, SectionSpec
from pytest_deployverify.expectations.kube import KubeExpectations
from pytest_deployverify.profile.fields import Seconds
from pytest_deployverify.profile.model import Profile
from pytest_deployverify.profile.schema import Range


@dataclasses.dataclass(frozen=True, kw_only=True)
class KubernetesConfig:
    """Where the cluster is and which workloads the checklist is about."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    namespace: str = "default"
    workloads: tuple[str, ...] = ()
    timeout: Seconds = 10.0
    page_size: Annotated[int, Range(ge=1, le=5000)] = 500
    expect: KubeExpectations = dataclasses.field(default_factory=KubeExpectations)


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
