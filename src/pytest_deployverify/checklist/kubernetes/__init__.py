"""The Kubernetes and Helm checklist as plain calls: fetch what each item needs, judge, explain.

One ``KubeChecklist`` per run reads objects from a live cluster (``KubeReader``: one LIST per
kind and namespace, cached for the run, so fifty items cost no more requests than one) or from
rendered manifests (pre-deploy mode), and answers each checklist item with an ``ItemResult``:
the findings of the check functions in ``checks.kube``, small evidence, or the reason it was
skipped. Items that need a cluster (rollout, nodes, Helm records) are skipped in pre-deploy mode.
No pytest here: ``verify/test_*_kubernetes.py`` turn results into test outcomes.

Reads that fail (403 Forbidden on one kind, an unreachable API) become the item's ``error``, with
the reader's message naming the verb, resource, namespace and the RBAC fix; only the items that
need that read fail. Secrets are fetched only by items that need them, and their values never
appear in a result: findings report lengths and sources, evidence reports names.
"""

from __future__ import annotations

from pytest_deployverify.checklist.kubernetes.items import (
    ITEMS,
    PREDEPLOY_SKIP,
    ChecklistError,
    Item,
    ItemResult,
)
from pytest_deployverify.checklist.kubernetes.runner import KubeChecklist
from pytest_deployverify.checklist.kubernetes.sources import (
    LiveSource,
    ManifestSource,
    ObjectSource,
    manifests_path,
    pinned_resolver,
)

__all__ = [
    "ITEMS",
    "PREDEPLOY_SKIP",
    "ChecklistError",
    "Item",
    "ItemResult",
    "KubeChecklist",
    "LiveSource",
    "ManifestSource",
    "ObjectSource",
    "manifests_path",
    "pinned_resolver",
]
