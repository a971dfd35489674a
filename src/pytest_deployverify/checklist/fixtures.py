"""Fixtures shared by the checklist files: the Kubernetes checklist per workload. Imports of optional clients happen inside the fixtures, so a checklist run without
the Kubernetes extra still collects every other file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_deployverify.profile.model import Profile
from pytest_deployverify.pytest_plugin.applicability import not_applicable
from pytest_deployverify.pytest_plugin.context import get_context

if TYPE_CHECKING:
    from pytest_deployverify.checklist.kubernetes import KubeChecklist


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One Kubernetes test per workload of the profile (known at collection time)."""
    if "workload" not in metafunc.fixturenames:
        return
    context = get_context(metafunc.config)
    section = context.profile.kubernetes if context and context.profile else None
    names = list(section.workloads) if section else []
    # No workloads: one parameter that skips with the reason instead of vanishing silently.
    metafunc.parametrize("workload", names or [""], ids=names or ["no-workloads"], indirect=True)


@pytest.fixture(scope="module")
def k8s(request: pytest.FixtureRequest, profile: Profile) -> KubeChecklist:
    """The checklist over the live cluster, or over rendered manifests in pre-deploy mode."""
    if profile.kubernetes is None:
        not_applicable(f"kubernetes is not configured for environment {profile.name}")
    pytest.importorskip(
        "yaml", reason="the Kubernetes checks need: pip install 'pytest-deployverify[kubernetes]'"
    )
    from pytest_deployverify.checklist.kubernetes import KubeChecklist, manifests_path
    from pytest_deployverify.checks.kube.manifests import ManifestError

    path = manifests_path(
        profile.kubernetes.expect,
        request.config.getoption("deployverify_manifests", None),
        cwd=Path.cwd(),
        rootdir=request.config.rootpath,
    )
    if path is not None:
        try:
            return KubeChecklist.from_manifests(path, profile)
        except ManifestError as exc:
            pytest.fail(f"pre-deploy manifests: {exc}", pytrace=False)
    reader = request.getfixturevalue("kube")  # only now: pre-deploy mode needs no cluster
    return KubeChecklist.live(reader, profile)


@pytest.fixture
def workload(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if not name:
        not_applicable("no workloads to check: list them in [kubernetes] workloads")
    return name
