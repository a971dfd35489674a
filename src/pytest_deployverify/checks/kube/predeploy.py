"""Pre-deploy mode as a library call: every spec-level check over rendered objects, before any
apply.

The same path as ``pytest --manifests`` and ``deployverify scan``: the ``Scanner``
(``checks.kube.scan``) judges every item that applies to rendered objects, for every workload
and every other object, and the environment checks run on the app. Pods do not exist yet, so
Services and NetworkPolicies are matched against the workloads' pod templates; ConfigMaps,
Secrets and ServiceAccounts must be among the manifests unless named as external.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.findings import Finding, NotApplicable
from pytest_deployverify.checks.kube import items as declared
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.config import (
    expected_env_findings,
    required_env_findings,
)
from pytest_deployverify.checks.kube.exemptions import Exemption
from pytest_deployverify.checks.kube.expectations import Direction, KubeExpectations
from pytest_deployverify.checks.kube.objects import KubeObject, kind, name, namespace
from pytest_deployverify.checks.kube.scan import (
    OTHERS,
    SCANNED_ITEMS,
    Scanner,
    ScanSettings,
    scopes_of,
)
from pytest_deployverify.checks.kube.snapshots import KubeObjects, SchemaReport

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
    # ServiceAccounts created outside the release (K8S-SA-EXISTS).
    external_service_accounts: tuple[str, ...] = ()
    public_host: str | None = None
    exemptions: tuple[Exemption, ...] = ()


def predeploy_findings(
    objects: Iterable[KubeObject],
    options: PredeployOptions | None = None,
    *,
    schema: SchemaReport | None = None,
) -> list[Finding]:
    """Every finding of the spec-level items over rendered objects (exempted ones left out):
    each Deployment, StatefulSet and DaemonSet is a listed workload (the options apply to it),
    every other object is judged too. ``schema`` adds the schema check's findings."""
    opts = options or PredeployOptions()
    everything = [dict(o) for o in objects]
    workloads = [o for o in everything if kind(o) in APP_KINDS]
    namespaces = sorted({namespace(o) for o in everything}) or ["default"]
    values: dict[str, Any] = {
        "min_replicas": opts.min_replicas,
        "require_hpa": opts.require_hpa,
        "external_refs": opts.external,
        "external_service_accounts": opts.external_service_accounts,
        "public_host": opts.public_host,
        "network_policy_directions": (Direction.INGRESS, Direction.EGRESS),
    }
    expect = KubeExpectations(**values)
    found: list[Finding] = []
    for index, ns in enumerate(namespaces):
        listed = tuple(f"{kind(w)}/{name(w)}" for w in workloads if namespace(w) == ns)
        view = KubeObjects.rendered(everything, where="manifests", namespace=ns)
        scanner = Scanner(
            view,
            ScanSettings(namespace=ns, workloads=listed, expect=expect, exemptions=opts.exemptions),
            schema=schema,
        )
        for item_id in SCANNED_ITEMS:
            if item_id == declared.NETWORK_POLICY.id and not opts.require_network_policy:
                continue
            if item_id == declared.SCHEMA.id and schema is None:
                continue
            reason = _not_applicable(item_id, expect)
            if reason:
                continue
            for scope in scopes_of(item_id, listed):
                if scope is None and index > 0:
                    continue  # namespace-less items judge every object once
                if scope == OTHERS and index > 0:
                    continue  # every object outside the listed ones, judged once
                try:
                    judgement = scanner.judge(item_id, scope)
                except NotApplicable:
                    continue
                owned = declared.PLANS[item_id].rule_ids
                found += [
                    located.finding
                    for located in judgement.findings
                    if located.finding.check_id in owned
                ]
    if opts.public_host:
        from pytest_deployverify.checks.kube.network import ingress_findings

        services = [o for o in everything if kind(o) == "Service"]
        for ingress in (o for o in everything if kind(o) == "Ingress"):
            found += ingress_findings(ingress, opts.public_host, services=services)
    found += _env_findings(everything, workloads, opts)
    return _unique(found)


def _not_applicable(item_id: str, expect: KubeExpectations) -> bool:
    if item_id == declared.PRIORITY_CLASS.id:
        return not expect.require_priority_class
    if item_id == declared.INSTANCE_LABEL.id:
        return not expect.instance_label
    if item_id == declared.PULL_POLICY.id:
        return expect.pull_policy == "off"
    if item_id == declared.TOPOLOGY.id:
        return not expect.topology_spread
    return False


def _unique(found: list[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    out: list[Finding] = []
    for finding in found:
        if finding not in seen:
            seen.add(finding)
            out.append(finding)
    return out


def _env_findings(
    everything: list[dict[str, object]], workloads: list[dict[str, object]], opts: PredeployOptions
) -> list[Finding]:
    configmaps = [o for o in everything if kind(o) == "ConfigMap"]
    secrets = [o for o in everything if kind(o) == "Secret"]
    found: list[Finding] = []
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
            rules.ENV_MISSING(
                f"workload {opts.app or '<app>'}",
                "environment checks were asked for but the workload is not among the "
                "manifests (or several Deployments exist); set PredeployOptions.app",
            )
        )
    return found


def _app(workloads: list[dict[str, object]], wanted: str | None) -> KubeObject | None:
    if wanted is not None:
        return next((w for w in workloads if name(w) == wanted), None)
    deployments = [w for w in workloads if kind(w) == "Deployment"]
    return deployments[0] if len(deployments) == 1 else None
