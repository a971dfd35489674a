"""Pre-deploy mode: the spec-level checks over a set of rendered manifests, before any apply.

Pods do not exist yet, so Services and NetworkPolicies are matched against the workloads' pod
templates; ConfigMaps and Secrets must be among the manifests unless named as ``external``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube.catalog import check
from pytest_deployverify.checks.kube.config import (
    configmap_sensitive_findings,
    expected_env_findings,
    reference_findings,
    required_env_findings,
    sensitive_env_findings,
)
from pytest_deployverify.checks.kube.network import (
    ingress_findings,
    network_policy_findings,
    service_selector_findings,
)
from pytest_deployverify.checks.kube.objects import KubeObject, kind, name, pod_from_template
from pytest_deployverify.checks.kube.workloads import workload_findings

APP_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True)
class PredeployOptions:
    """What the rendered release must satisfy; every field has a permissive default.

    ``app`` names the workload whose environment is checked against ``required_env``,
    ``expected_env`` and ``forbidden_env`` (default: the only Deployment, if there is one).
    """

    min_replicas: int = 2
    require_hpa: bool = True
    require_network_policy: bool = True
    app: str | None = None
    required_env: tuple[str, ...] = ()
    expected_env: Mapping[str, str] = field(default_factory=dict)
    forbidden_env: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    external: tuple[str, ...] = ()
    public_host: str | None = None


def predeploy_findings(
    objects: Iterable[KubeObject], options: PredeployOptions | None = None
) -> list[Finding]:
    """Hygiene, configuration, selectors, policies and PDB/HPA presence over rendered objects."""
    opts = options or PredeployOptions()
    everything = list(objects)
    of = {k: [o for o in everything if kind(o) == k] for k in {kind(o) for o in everything}}
    workloads = [o for k in APP_KINDS for o in of.get(k, [])]
    configmaps, secrets = of.get("ConfigMap", []), of.get("Secret", [])
    found: list[Finding] = []
    for workload in workloads:
        found += workload_findings(
            workload,
            pdbs=of.get("PodDisruptionBudget", []),
            hpas=of.get("HorizontalPodAutoscaler", []),
            min_replicas=opts.min_replicas,
            require_hpa=opts.require_hpa and kind(workload) == "Deployment",
        )
        found += sensitive_env_findings(workload, configmaps=configmaps)
        found += reference_findings(
            workload, configmaps=configmaps, secrets=secrets, external=opts.external
        )
        if opts.require_network_policy:
            found += network_policy_findings(workload, of.get("NetworkPolicy", []))
    app = _app(workloads, opts.app)
    wants_env = bool(opts.required_env or opts.expected_env or opts.forbidden_env)
    if app is not None:
        found += required_env_findings(
            app, opts.required_env, configmaps=configmaps, secrets=secrets
        )
        if opts.expected_env or opts.forbidden_env:
            found += expected_env_findings(
                app,
                opts.expected_env,
                forbidden=opts.forbidden_env,
                configmaps=configmaps,
                secrets=secrets,
            )
    elif wants_env:
        found.append(
            check("env-var-missing").finding(
                f"workload {opts.app or '<app>'}",
                "environment checks were asked for but the workload is not among the "
                "manifests (or several Deployments exist); set PredeployOptions.app",
            )
        )
    pods = [pod_from_template(w) for w in workloads]
    for service in of.get("Service", []):
        found += service_selector_findings(service, pods)
    for configmap in configmaps:
        found += configmap_sensitive_findings(configmap)
    if opts.public_host:
        for ingress in of.get("Ingress", []):
            found += ingress_findings(ingress, opts.public_host, services=of.get("Service", []))
    return found


def _app(workloads: list[KubeObject], wanted: str | None) -> KubeObject | None:
    if wanted is not None:
        return next((w for w in workloads if name(w) == wanted), None)
    deployments = [w for w in workloads if kind(w) == "Deployment"]
    return deployments[0] if len(deployments) == 1 else None
