"""Fixtures and hooks shared by the checklist files: the Kubernetes checklist and its workloads.

Registered as a plugin when an environment is selected. Pre-deploy mode (``--manifests PATH``,
or ``[kubernetes.expect] manifests``) is settled at configure time: the run's Kubernetes
component then reads the rendered manifests instead of the cluster, so neither the concurrent
prefetch nor any item ever connects to a cluster. No client library is imported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.applicability import not_applicable
from pytest_deployverify.pytest_plugin.component_fixtures import Snapshots
from pytest_deployverify.pytest_plugin.context import get_context

if TYPE_CHECKING:
    from pytest_deployverify.checklist.kubernetes import KubeChecklist

NO_WORKLOADS = "no workloads to check: list them in [kubernetes] workloads"


def pytest_configure(config: pytest.Config) -> None:
    """Pre-deploy mode: the run's Kubernetes component reads the rendered manifests."""
    context = get_context(config)
    profile = context.profile if context is not None else None
    section = profile.component("kubernetes") if profile is not None else None
    if context is None or section is None:
        return
    from pytest_deployverify.components.kubernetes import predeploy
    from pytest_deployverify.components.kubernetes.sources import manifests_path

    path = manifests_path(
        section.expect,
        config.getoption("deployverify_manifests", None),
        cwd=Path.cwd(),
        rootdir=config.rootpath,
    )
    if path is not None:
        context.components[:] = [
            predeploy(c, path) if c.name == "kubernetes" else c for c in context.components
        ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One Kubernetes test per workload of the profile (known at collection time), and, for the
    items that judge every object, one more for the objects outside them (``other-objects``, or
    ``all-objects`` when the profile lists no workload): the listed workloads add expectations,
    they never hide other objects."""
    if "workload" not in metafunc.fixturenames:
        return
    from pytest_deployverify.checks.declarations import SPEC_ATTRIBUTE
    from pytest_deployverify.checks.kube.items import PLANS
    from pytest_deployverify.checks.kube.scan import OTHERS, scope_id

    context = get_context(metafunc.config)
    profile = context.profile if context is not None else None
    section = profile.component("kubernetes") if profile is not None else None
    names = list(section.workloads) if section is not None else []
    spec = getattr(metafunc.function, SPEC_ATTRIBUTE, None)
    plan = PLANS.get(spec.id) if spec is not None else None
    if plan is not None and plan.scans:
        values = [*names, OTHERS]
        metafunc.parametrize(
            "workload", values, ids=[scope_id(v, names) for v in values], indirect=True
        )
        return
    # No workloads: one parameter that skips with the reason instead of vanishing silently.
    metafunc.parametrize("workload", names or [""], ids=names or ["no-workloads"], indirect=True)


@pytest.fixture(scope="module")
def k8s(snapshot: Snapshots, profile: Profile) -> KubeChecklist:
    """The checklist over the run's Kubernetes snapshot (live, or the rendered manifests)."""
    from pytest_deployverify.checklist.kubernetes import KubeChecklist

    objects = snapshot("kubernetes.objects")
    section = snapshot.section("kubernetes")
    refresh: Any = None
    if objects.live and section.expect.rollout.timeout > 0:
        # Waiting for a rollout reads the workload and its pods again until it settles.
        from pytest_deployverify.components.kubernetes.reads import fresh_lister

        refresh = fresh_lister(snapshot.client("kubernetes"), section.namespace)
    return KubeChecklist(objects, profile, read=snapshot, refresh=refresh)


@pytest.fixture
def workload(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if not name:
        not_applicable(NO_WORKLOADS)
    return name
