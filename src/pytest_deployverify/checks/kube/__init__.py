"""Kubernetes and Helm checks as pure functions over objects held as plain dicts.

Objects are the JSON the API returns (camelCase keys) or the same loaded from YAML manifests (by
the Kubernetes component: nothing here parses YAML); list-response items lack ``kind``, so set it
first (``objects.with_kind``). Nothing here talks to a cluster: the component reads, these
functions judge and return ``Finding``s made by the ``Rule`` objects of ``rules``.

Modules: ``items`` (the checklist items, declared once, and what the runner needs of each),
``rules`` (every finding id), ``expectations`` (``[kubernetes.expect]``), ``snapshots`` (what the
component reads), ``workloads`` (hygiene + availability; ``containers``, ``security``),
``rollout``, ``jobs`` (Jobs and CronJobs: run to completion), ``config`` (``env``, ``sensitive``), ``network``, ``rbac``, ``capacity``
(``quantities``, ``images``), ``helm`` and ``drift``, ``predeploy``, ``logs``, ``vulns`` (the
running images against their vulnerability reports).
"""

from __future__ import annotations

from pytest_deployverify.checks.kube.capacity import (
    image_size_findings,
    node_headroom_findings,
    peak_replicas,
    storage_class_findings,
    volume_findings,
)
from pytest_deployverify.checks.kube.config import (
    configmap_sensitive_findings,
    expected_env_findings,
    reference_findings,
    required_env_findings,
    secret_min_length,
    sensitive_env_findings,
)
from pytest_deployverify.checks.kube.items import CHECKS, PLANS
from pytest_deployverify.checks.kube.jobs import cronjob_findings, job_findings, job_progress
from pytest_deployverify.checks.kube.network import (
    host_resolves_to,
    ingress_findings,
    network_policy_findings,
    service_endpoint_findings,
    service_selector_findings,
)
from pytest_deployverify.checks.kube.quantities import parse_quantity
from pytest_deployverify.checks.kube.rbac import (
    namespace_findings,
    service_account_findings,
    verifier_access_findings,
)
from pytest_deployverify.checks.kube.rollout import (
    Progress,
    rollout_findings,
    rollout_progress,
    wait_for_rollout,
)
from pytest_deployverify.checks.kube.rules import RULES
from pytest_deployverify.checks.kube.vulns import judge_images, running_images
from pytest_deployverify.checks.kube.workloads import workload_findings

__all__ = [
    "CHECKS",
    "PLANS",
    "RULES",
    "Progress",
    "configmap_sensitive_findings",
    "cronjob_findings",
    "expected_env_findings",
    "host_resolves_to",
    "image_size_findings",
    "ingress_findings",
    "job_findings",
    "job_progress",
    "judge_images",
    "namespace_findings",
    "network_policy_findings",
    "node_headroom_findings",
    "parse_quantity",
    "peak_replicas",
    "reference_findings",
    "required_env_findings",
    "rollout_findings",
    "rollout_progress",
    "running_images",
    "secret_min_length",
    "sensitive_env_findings",
    "service_account_findings",
    "service_endpoint_findings",
    "service_selector_findings",
    "storage_class_findings",
    "verifier_access_findings",
    "volume_findings",
    "wait_for_rollout",
    "workload_findings",
]
