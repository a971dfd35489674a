"""The Kubernetes and Helm checklist as plain calls: judge each item over the component's
snapshots, and explain. The runner lives with the component (``components.kubernetes.runner``,
``checklist_items``, ``sources``) so ``deployverify scan`` runs the very same items without the
checklist layer; this package re-exports it for the checklist files.

The Kubernetes component reads the cluster once (``kubernetes.objects``: every kind the
checklist needs, LISTed concurrently) or loads the rendered manifests (pre-deploy mode); one
``KubeChecklist`` per run answers each item (``checks.kube.items``) with an ``ItemResult``: the
findings of the check functions in ``checks.kube``, the evidence of what was judged, or the
reason it was skipped. Items that need a cluster (rollout, nodes, Helm records, logs) are
skipped in pre-deploy mode. No pytest here: ``checklist/test_kubernetes_*.py`` turn results into
test outcomes.

A kind that could not be read (403 Forbidden on Secrets) becomes the ``error`` of exactly the
items that need it, with the reader's message naming the verb, resource, namespace and the RBAC
fix. Secret values never appear in a result: findings report lengths and sources, evidence
reports names.
"""

from __future__ import annotations

from pytest_deployverify.components.kubernetes.checklist_items import (
    ITEMS,
    PREDEPLOY_SKIP,
    ChecklistError,
    Item,
    ItemResult,
)
from pytest_deployverify.components.kubernetes.runner import KubeChecklist
from pytest_deployverify.components.kubernetes.sources import manifests_path, pinned_resolver

__all__ = [
    "ITEMS",
    "PREDEPLOY_SKIP",
    "ChecklistError",
    "Item",
    "ItemResult",
    "KubeChecklist",
    "manifests_path",
    "pinned_resolver",
]
