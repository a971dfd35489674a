"""Every object judged: the spec-level Kubernetes items over every object read, live or rendered.

One implementation for the live cluster and for rendered manifests (pre-deploy mode,
``deployverify scan``, ``predeploy_findings``): a ``Scanner`` judges one item for one *scope*, a
workload the profile lists (``[kubernetes] workloads``: the profile's expectations apply to it) or
``OTHERS``, every object outside them (Polaris's baseline applies: the profile's workloads add
expectations, they never hide other objects). Objects are the same plain dicts in both modes;
a Pod or ReplicaSet created by a controller is judged through that controller.

What is judged, by kind: every pod-template object (Pod, Deployment, StatefulSet, DaemonSet,
ReplicaSet, Job, CronJob), ConfigMaps, Secrets (references, schema; a value is never shown),
PodDisruptionBudgets, HorizontalPodAutoscalers (with or without their target), Roles,
ClusterRoles and their bindings (any subject), NetworkPolicies, Ingresses and Services. Other
kinds are read and listed as out of scope. Live, cluster-scoped RBAC objects are judged when they
bind something of the profile's namespace (the cluster's other tenants are not this release's).

Exemptions (``checks.kube.exemptions``) move a finding to ``Judgement.exempted``, with the reason;
an exemption that cannot be honoured is a ``Judgement.notes`` entry. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_deployverify.checks.findings import Finding, NotApplicable
from pytest_deployverify.checks.kube import config, network, rbac, rules
from pytest_deployverify.checks.kube import items as declared
from pytest_deployverify.checks.kube.exemptions import Exempted, Exemption, Exemptions
from pytest_deployverify.checks.kube.expectations import KubeExpectations
from pytest_deployverify.checks.kube.objects import (
    CLUSTER_SCOPED_KINDS,
    RUN_TO_COMPLETION_KINDS,
    KubeObject,
    containers,
    dig,
    kind,
    labels,
    map_selector_matches,
    mapping,
    name,
    namespace,
    pod_from_template,
    pod_spec,
    selector_matches,
    sequence,
    subject,
    template_labels,
)
from pytest_deployverify.checks.kube.snapshots import (
    KubeObjects,
    ObjectKey,
    SchemaReport,
    parse_workload_ref,
)
from pytest_deployverify.checks.kube.workloads import (
    _one_hpa,
    effective_replicas,
    hpa_summary,
    pdb_summary,
    selecting_pdbs,
    spread_terms,
    targeting_hpas,
    workload_findings,
)

OTHERS = "*"
"""The scope of every object outside ``[kubernetes] workloads``."""

POD_TEMPLATE_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
)
CONTROLLER_KINDS = frozenset({*POD_TEMPLATE_KINDS, "ReplicationController"})
# Kinds some item judges; every other kind read is out of scope (listed in the report).
JUDGED_KINDS = frozenset(
    {
        *POD_TEMPLATE_KINDS,
        "ConfigMap",
        "Secret",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "NetworkPolicy",
        "Ingress",
        "Service",
        "ServiceAccount",
    }
)
# Read as context of other checks (selectors, capacity, release records), never judged alone.
CONTEXT_KINDS = frozenset(
    {"EndpointSlice", "Endpoints", "Node", "StorageClass", "Namespace", "PersistentVolumeClaim"}
)
UNLISTED_MIN_REPLICAS = 2  # Polaris deploymentMissingReplicas / hpaMinAvailability
HYGIENE = frozenset(
    {
        declared.RESOURCES.id,
        declared.PROBES.id,
        declared.IMAGE_TAG.id,
        declared.PULL_POLICY.id,
        declared.SECURITY_CONTEXT.id,
        declared.REPLICAS.id,
        declared.PDB.id,
        declared.HPA.id,
        declared.TOPOLOGY.id,
    }
)
AVAILABILITY = frozenset(
    {declared.REPLICAS.id, declared.PDB.id, declared.HPA.id, declared.TOPOLOGY.id}
)
NO_PROBES_KINDS = RUN_TO_COMPLETION_KINDS  # run to completion: no probes (as Polaris)

_SUBJECT = re.compile(r"(?P<kind>[A-Z][A-Za-z]*) (?:(?P<ns>[^/\s]+)/)?(?P<name>[^\s/]+)")


@dataclass(frozen=True)
class ScanSettings:
    """What the profile says about the objects: the namespace, the listed workloads, the
    expectations, the exemptions (all optional: the defaults are Polaris's baseline)."""

    namespace: str = "default"
    workloads: tuple[str, ...] = ()
    expect: KubeExpectations = field(default_factory=KubeExpectations)
    exemptions: tuple[Exemption, ...] = ()


@dataclass(frozen=True)
class Located:
    """A finding, the object it is about and the object that was judged when it was found."""

    finding: Finding
    about: ObjectKey
    judged: ObjectKey


@dataclass
class Judgement:
    """One item judged for one scope: findings (exempted ones apart), the objects judged and
    evidence of what they held."""

    item: str
    scope: str | None
    findings: list[Located] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)
    exempted: list[Exempted] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def observe(self, label: str, value: Any, **extra: Any) -> None:
        self.evidence.append({"name": label, "value": value, **extra})


def key_of(obj: KubeObject) -> ObjectKey:
    return (kind(obj), "" if kind(obj) in CLUSTER_SCOPED_KINDS else namespace(obj), name(obj))


def shown(key: ObjectKey) -> str:
    obj_kind, ns, nm = key
    return f"{obj_kind} {ns}/{nm}" if ns else f"{obj_kind} {nm}"


def is_owned(obj: KubeObject) -> bool:
    """Created by a controller the checklist judges (a ReplicaSet's Pod, a Deployment's
    ReplicaSet, a CronJob's Job): judged through that controller."""
    return any(
        mapping(ref).get("controller") is True and mapping(ref).get("kind") in CONTROLLER_KINDS
        for ref in sequence(dig(obj, "metadata", "ownerReferences"))
    )


def scope_id(scope: str, listed: Sequence[str]) -> str:
    """The test id of a scope: the workload, or ``other-objects`` (``all-objects`` when the
    profile lists none)."""
    if scope != OTHERS:
        return scope
    return "other-objects" if listed else "all-objects"


class Scanner:
    """Judges the spec-level items over one ``KubeObjects`` for one profile's settings.

    Per-workload items take a listed workload or ``OTHERS``; the others (K8S-RBAC,
    K8S-INGRESS-TLS, K8S-SCHEMA) take no scope. Raises ``ObjectsUnavailable`` when a kind it
    needs could not be read, ``WorkloadError`` when a listed workload is absent, and
    ``NotApplicable`` when the scope holds nothing the item judges."""

    def __init__(
        self,
        objects: KubeObjects,
        settings: ScanSettings,
        *,
        schema: SchemaReport | None = None,
    ) -> None:
        self.objects = objects
        self.settings = settings
        self.expect = settings.expect
        self.schema = schema
        self._exemptions = Exemptions(settings.exemptions)
        self._hygiene: dict[ObjectKey, list[Finding]] = {}
        self._index: dict[ObjectKey, KubeObject] | None = None
        self._listed_keys: set[ObjectKey] | None = None

    # ---- what is in scope ---------------------------------------------------------------------

    @property
    def app(self) -> str | None:
        return self.expect.app or (self.settings.workloads[0] if self.settings.workloads else None)

    def kinds(self, obj_kind: str) -> list[KubeObject]:
        found: list[KubeObject] = list(self.objects.scanned(obj_kind))
        return found

    def index(self) -> dict[ObjectKey, KubeObject]:
        """Every readable object by (kind, namespace, name)."""
        if self._index is None:
            found: dict[ObjectKey, KubeObject] = {}
            for obj_kind in sorted(JUDGED_KINDS | {"Namespace"}):
                try:
                    found.update((key_of(o), o) for o in self.kinds(obj_kind))
                except Exception:
                    continue
            self._index = found
        return self._index

    def workloads(self) -> list[KubeObject]:
        """Top-level pod-template objects (not created by a controller)."""
        found: list[KubeObject] = []
        for obj_kind in POD_TEMPLATE_KINDS:
            found += [o for o in self.kinds(obj_kind) if not is_owned(o)]
        return found

    def listed_keys(self) -> set[ObjectKey]:
        if self._listed_keys is None:
            keys: set[ObjectKey] = set()
            for ref in self.settings.workloads:
                obj_kind, obj_name = parse_workload_ref(ref)
                keys.add((obj_kind, self.settings.namespace, obj_name))
            self._listed_keys = keys
        return self._listed_keys

    def unlisted(self, *only: str) -> list[KubeObject]:
        listed = self.listed_keys()
        return [
            w for w in self.workloads() if key_of(w) not in listed and (not only or kind(w) in only)
        ]

    def targets(self, scope: str) -> list[KubeObject]:
        """The workload a scope names, or every unlisted one."""
        if scope == OTHERS:
            return self.unlisted()
        return [self.objects.workload(scope)]

    # ---- judging ---------------------------------------------------------------------------

    def judge(self, item_id: str, scope: str | None = None) -> Judgement:
        method = getattr(self, "_" + item_id.lower().replace("-", "_"), None)
        if item_id in HYGIENE:
            assert scope is not None
            judgement = self._hygiene_item(item_id, scope)
        elif method is not None:
            judgement = method(scope) if scope is not None else method()
        else:
            raise KeyError(f"{item_id} is not judged by the scanner")
        return self._exempt(judgement)

    def _exempt(self, judgement: Judgement) -> Judgement:
        index = self.index()
        kept: list[Located] = []
        for located in judgement.findings:
            candidates = [index[k] for k in (located.about, located.judged) if k in index]
            exempted, problems = self._exemptions.check(located.finding, judgement.item, candidates)
            if exempted is not None:
                judgement.exempted.append(exempted)
            else:
                kept.append(located)
                judgement.notes += [p for p in problems if p not in judgement.notes]
        judgement.findings = kept
        return judgement

    def _locate(self, found: Iterable[Finding], judged: KubeObject) -> list[Located]:
        judged_key = key_of(judged)
        index = self.index()
        located: list[Located] = []
        for finding in found:
            about = judged_key
            match = _SUBJECT.match(finding.subject)
            if match:
                candidate = (
                    match["kind"],
                    "" if match["kind"] in CLUSTER_SCOPED_KINDS else match["ns"] or "",
                    match["name"],
                )
                if candidate in index:
                    about = candidate
            located.append(Located(finding, about, judged_key))
        return located

    def _none_outside(self, what: str) -> NotApplicable:
        listed = ", ".join(self.settings.workloads)
        outside = f" outside [kubernetes] workloads ({listed})" if listed else ""
        return NotApplicable(f"no {what}{outside} in {self.objects.where}")

    # ---- workload hygiene and availability ----------------------------------------------------

    def _min_replicas(self, workload: KubeObject) -> int:
        if key_of(workload) in self.listed_keys():
            return self.expect.min_replicas
        return UNLISTED_MIN_REPLICAS

    def _workload_findings(self, workload: KubeObject) -> list[Finding]:
        key = key_of(workload)
        if key not in self._hygiene:
            listed = key in self.listed_keys()
            pdbs = [p for p in self.kinds("PodDisruptionBudget") if same_ns(p, workload)]
            hpas = [h for h in self.kinds("HorizontalPodAutoscaler") if same_ns(h, workload)]
            self._hygiene[key] = workload_findings(
                workload,
                pdbs=pdbs,
                hpas=hpas,
                min_replicas=self._min_replicas(workload),
                require_hpa=listed and self.expect.require_hpa and kind(workload) == "Deployment",
                require_cpu_limit=self.expect.require_cpu_limit,
                pull_policy=self.expect.pull_policy,
                spread_min_replicas=self.expect.topology_spread_min_replicas,
            )
        return self._hygiene[key]

    def _hygiene_item(self, item_id: str, scope: str) -> Judgement:
        judgement = Judgement(item_id, scope)
        owned = declared.PLANS[item_id].rule_ids
        if scope == OTHERS:
            targets = self.unlisted()
            if item_id in AVAILABILITY:
                # Polaris's availability checks target Deployments; the listed workloads add
                # StatefulSets.
                targets = [t for t in targets if kind(t) == "Deployment"]
            elif item_id == declared.PROBES.id:
                targets = [t for t in targets if kind(t) not in NO_PROBES_KINDS]
            extra = self._standalone(item_id)
            if not targets and not extra:
                raise self._none_outside(_TARGETS.get(item_id, "pod-template objects"))
        else:
            listed: KubeObject = self.objects.workload(scope)
            if kind(listed) in RUN_TO_COMPLETION_KINDS and item_id in _RUN_TO_COMPLETION:
                raise NotApplicable(
                    f"{subject(listed)} runs its pods to completion: {_RUN_TO_COMPLETION[item_id]}"
                )
            if item_id in AVAILABILITY and kind(listed) not in ("Deployment", "StatefulSet"):
                raise NotApplicable(
                    f"not applicable to a {kind(listed)} (one pod per node by design)"
                )
            targets, extra = [listed], []
        for workload in targets:
            mine = [f for f in self._workload_findings(workload) if f.check_id in owned]
            judgement.findings += self._locate(mine, workload)
            judgement.judged.append(subject(workload))
            if scope != OTHERS:
                judgement.evidence += hygiene_evidence(
                    item_id,
                    workload,
                    self.expect,
                    [p for p in self.kinds("PodDisruptionBudget") if same_ns(p, workload)],
                    [h for h in self.kinds("HorizontalPodAutoscaler") if same_ns(h, workload)],
                )
        for obj, found in extra:
            judgement.findings += self._locate(found, obj)
            judgement.judged.append(subject(obj))
        if scope == OTHERS:
            judgement.observe("objects judged", judgement.judged, source=self.objects.where)
        return judgement

    def _standalone(self, item_id: str) -> list[tuple[KubeObject, list[Finding]]]:
        """PDBs and HPAs that belong to no workload judged elsewhere: judged alone."""
        if item_id not in (declared.PDB.id, declared.HPA.id):
            return []
        workloads = self.workloads()
        found: list[tuple[KubeObject, list[Finding]]] = []
        if item_id == declared.PDB.id:
            for pdb in self.kinds("PodDisruptionBudget"):
                if any(
                    same_ns(pdb, w)
                    and selector_matches(dig(pdb, "spec", "selector"), template_labels(w))
                    for w in workloads
                    if kind(w) in ("Deployment", "StatefulSet")
                ):
                    continue
                found.append((pdb, standalone_pdb_findings(pdb)))
            return found
        judged = {key_of(w) for w in workloads if kind(w) in ("Deployment", "StatefulSet")} - set()
        for hpa in self.kinds("HorizontalPodAutoscaler"):
            target = (
                str(dig(hpa, "spec", "scaleTargetRef", "kind") or ""),
                namespace(hpa),
                str(dig(hpa, "spec", "scaleTargetRef", "name") or ""),
            )
            if target in judged and (target in self.listed_keys() or target[0] == "Deployment"):
                continue  # judged with its target
            found.append((hpa, _one_hpa(hpa, UNLISTED_MIN_REPLICAS)))
        return found

    # ---- security of the pod spec beyond the security context ---------------------------------

    def _k8s_sa_token(self, scope: str) -> Judgement:
        judgement = Judgement(declared.SA_TOKEN.id, scope)
        targets = self.targets(scope)
        if not targets:
            raise self._none_outside("pod-template objects")
        accounts = {key_of(a): a for a in self.kinds("ServiceAccount")}
        for workload in targets:
            found = automount_findings(workload, accounts)
            judgement.findings += self._locate(found, workload)
            judgement.judged.append(subject(workload))
            judgement.observe(
                "automountServiceAccountToken",
                {
                    "pod": pod_spec(workload).get("automountServiceAccountToken"),
                    "service account": rbac.service_account_of(workload),
                },
                source=subject(workload),
                expected="false on the pod or on its ServiceAccount",
            )
        return judgement

    def _k8s_priority_class(self, scope: str) -> Judgement:
        judgement = Judgement(declared.PRIORITY_CLASS.id, scope)
        targets = self.targets(scope)
        if not targets:
            raise self._none_outside("pod-template objects")
        for workload in targets:
            judgement.findings += self._locate(priority_findings(workload), workload)
            judgement.judged.append(subject(workload))
        judgement.observe(
            "priorityClassName",
            {subject(w): pod_spec(w).get("priorityClassName") for w in targets},
            expected="set",
        )
        return judgement

    def _k8s_instance_label(self, scope: str) -> Judgement:
        judgement = Judgement(declared.INSTANCE_LABEL.id, scope)
        targets = self.targets(scope)
        if not targets:
            raise self._none_outside("controllers")
        for workload in targets:
            judgement.findings += self._locate(instance_label_findings(workload), workload)
            judgement.judged.append(subject(workload))
        judgement.observe(
            "label app.kubernetes.io/instance",
            {subject(w): labels(w).get(INSTANCE) for w in targets},
            expected="metadata.name",
        )
        return judgement

    # ---- configuration ---------------------------------------------------------------------

    def _k8s_secret_env(self, scope: str) -> Judgement:
        judgement = Judgement(declared.SECRET_ENV.id, scope)
        configmaps = self.kinds("ConfigMap")
        allow = self.expect.sensitive_env_allow
        targets = self.targets(scope)
        if scope == OTHERS:
            used_by_listed = {
                (namespace(w), n)
                for w in (self.objects.workload(r) for r in self._resolvable_listed())
                for n in referenced(w, "ConfigMap")
            }
            alone = [c for c in configmaps if (namespace(c), name(c)) not in used_by_listed]
            if not targets and not alone:
                raise self._none_outside("pod-template objects or ConfigMaps")
        else:
            workload = targets[0]
            used = referenced(workload, "ConfigMap")
            alone = [c for c in configmaps if name(c) in used and same_ns(c, workload)]
        for workload in targets:
            found = config.sensitive_env_findings(workload, configmaps=configmaps, allow=allow)
            judgement.findings += self._locate(found, workload)
            judgement.judged.append(subject(workload))
            if scope != OTHERS:
                literal = sorted(
                    str(mapping(e).get("name"))
                    for c in containers(pod_spec(workload))
                    for e in sequence(c.get("env"))
                    if "value" in mapping(e)
                )
                judgement.observe(
                    "literal env variables judged (by name and value; values not shown)",
                    literal,
                    source=subject(workload),
                )
        for configmap in alone:
            found = config.configmap_sensitive_findings(configmap, allow=allow)
            judgement.findings += self._locate(found, configmap)
            judgement.judged.append(subject(configmap, default_kind="ConfigMap"))
        judgement.observe("ConfigMaps read", sorted(name(c) for c in alone))
        return judgement

    def _resolvable_listed(self) -> list[str]:
        refs: list[str] = []
        for ref in self.settings.workloads:
            obj_kind, obj_name = parse_workload_ref(ref)
            if (obj_kind, self.settings.namespace, obj_name) in {
                key_of(w) for w in self.workloads()
            }:
                refs.append(ref)
        return refs

    def _k8s_config_refs(self, scope: str) -> Judgement:
        judgement = Judgement(declared.CONFIG_REFS.id, scope)
        targets = self.targets(scope)
        if not targets:
            raise self._none_outside("pod-template objects")
        external = () if self.objects.live else self.expect.external_refs
        configmaps = self.kinds("ConfigMap")
        secrets: list[KubeObject] | None = None
        for workload in targets:
            secret_refs = referenced(workload, "Secret")
            if secrets is None and secret_refs - set(external):
                secrets = self.kinds("Secret")
            judgement.findings += self._locate(
                config.reference_findings(
                    workload, configmaps=configmaps, secrets=secrets or [], external=external
                ),
                workload,
            )
            judgement.judged.append(subject(workload))
            if scope != OTHERS:
                judgement.observe("ConfigMaps", sorted(referenced(workload, "ConfigMap")))
                judgement.observe(
                    "Secrets",
                    sorted(secret_refs),
                    note=f"created outside the release (not required): {', '.join(external)}"
                    if external
                    else None,
                )
        return judgement

    # ---- network -----------------------------------------------------------------------------

    def _chosen_services(self, workload: KubeObject, ref: str) -> list[KubeObject] | None:
        """Services of a listed workload: the app's named Service (None: it does not exist), or
        those selecting its pods."""
        services = [s for s in self.kinds("Service") if same_ns(s, workload)]
        wanted = self.expect.service if ref == self.app else None
        if wanted:
            chosen = [s for s in services if name(s) == wanted]
            return chosen or None
        pod_labels = template_labels(workload)
        return [s for s in services if map_selector_matches(dig(s, "spec", "selector"), pod_labels)]

    def _k8s_service(self, scope: str) -> Judgement:
        judgement = Judgement(declared.SERVICE.id, scope)
        live = self.objects.live
        if scope == OTHERS:
            taken: set[ObjectKey] = set()
            for ref in self._resolvable_listed():
                taken |= {
                    key_of(s) for s in self._chosen_services(self.objects.workload(ref), ref) or []
                }
            chosen = [s for s in self.kinds("Service") if key_of(s) not in taken]
            if not chosen:
                raise self._none_outside("Services")
            pods = (
                self.kinds("Pod")
                if live
                else [
                    pod_from_template(w) for w in self.workloads() if kind(w) != "CronJob" or True
                ]
            )
            about: KubeObject | None = None
        else:
            workload = self.objects.workload(scope)
            if kind(workload) in RUN_TO_COMPLETION_KINDS:
                raise NotApplicable(
                    f"{subject(workload)} runs its pods to completion: they take no Service "
                    "traffic (a Service selecting them has no endpoint to keep ready)"
                )
            found = self._chosen_services(workload, scope)
            if found is None:
                wanted = self.expect.service
                judgement.findings += self._locate(
                    [
                        rules.SERVICE_TARGETS_POD(
                            f"Service {self.settings.namespace}/{wanted}",
                            f"does not exist in {self.objects.where}; create it, or fix "
                            "[kubernetes.expect] service",
                        )
                    ],
                    workload,
                )
                return judgement
            chosen = found
            judgement.observe("Services", [name(s) for s in chosen])
            if not chosen:
                judgement.observe(
                    "note",
                    "no Service selects this workload; set [kubernetes.expect] service to require "
                    "one",
                )
                return judgement
            # Live: every pod of the namespace, as the endpoint controller sees them (a Service
            # may also select a canary's pods); pre-deploy: the workload's pod template.
            pods = self.kinds("Pod") if live else self.objects.pods_of(workload)
            about = workload
        slices = self.kinds("EndpointSlice") if live else []
        for svc in chosen:
            found_here = network.service_selector_findings(svc, pods)
            if live:
                found_here += network.service_endpoint_findings(svc, slices, pods)
                judgement.observe(
                    f"Service {name(svc)} ready endpoints",
                    network.ready_endpoint_count(svc, slices),
                )
            judgement.findings += self._locate(found_here, about or svc)
            judgement.judged.append(subject(svc, default_kind="Service"))
        return judgement

    def _k8s_network_policy(self, scope: str) -> Judgement:
        judgement = Judgement(declared.NETWORK_POLICY.id, scope)
        targets = self.targets(scope)
        if not targets:
            raise self._none_outside("pod-template objects")
        policies = self.kinds("NetworkPolicy")
        directions = [str(d).capitalize() for d in self.expect.network_policy_directions]
        for workload in targets:
            found = network.network_policy_findings(workload, policies, directions)
            judgement.findings += self._locate(found, workload)
            judgement.judged.append(subject(workload))
            if scope != OTHERS:
                judgement.observe(
                    "NetworkPolicies selecting the pods, by direction",
                    {
                        d: [name(p) for p in network.covering_policies(workload, policies, d)]
                        for d in directions
                    },
                    expected="a policy with rules per direction, and a default-deny"
                    if kind(workload) not in RUN_TO_COMPLETION_KINDS
                    else "a policy with Egress rules, and a default-deny per direction (its "
                    "pods run to completion and take no traffic: the default deny is their "
                    "Ingress policy)",
                )
        judgement.observe(
            "NetworkPolicies",
            [f"{name(p)} ({', '.join(network.policy_types(p))})" for p in policies],
        )
        return judgement

    def _public_ingresses(self) -> list[KubeObject]:
        """The Ingresses K8S-INGRESS judges for the public host (it reports their TLS)."""
        host = self.expect.public_host
        if not host:
            return []
        ingresses = self.kinds("Ingress")
        if self.expect.ingress:
            return [i for i in ingresses if name(i) == self.expect.ingress]
        return [
            i
            for i in ingresses
            if any(
                network.host_matches(str(mapping(r).get("host") or ""), host)
                for r in sequence(dig(i, "spec", "rules"))
                if mapping(r).get("host")
            )
        ]

    def _k8s_ingress_tls(self) -> Judgement:
        judgement = Judgement(declared.INGRESS_TLS.id, None)
        public = {key_of(i) for i in self._public_ingresses()}
        ingresses = [i for i in self.kinds("Ingress") if key_of(i) not in public]
        if not ingresses:
            also = " other than the public host's (judged by K8S-INGRESS)" if public else ""
            raise NotApplicable(f"no Ingress{also} in {self.objects.where}")
        for ingress in ingresses:
            judgement.findings += self._locate(network.tls_settings_findings(ingress), ingress)
            judgement.judged.append(subject(ingress, default_kind="Ingress"))
        judgement.observe(
            "Ingress TLS hosts",
            {
                name(i): [
                    h
                    for t in sequence(dig(i, "spec", "tls"))
                    for h in sequence(mapping(t).get("hosts"))
                ]
                for i in ingresses
            },
            expected="a spec.tls entry on every Ingress",
            note="the public host's Ingress is judged by K8S-INGRESS" if public else None,
        )
        return judgement

    # ---- RBAC -----------------------------------------------------------------------------------

    def _rbac_objects(
        self,
    ) -> tuple[list[KubeObject], list[KubeObject], list[KubeObject], list[KubeObject]]:
        roles = self.kinds("Role")
        bindings = self.kinds("RoleBinding")
        cluster_roles = self.kinds("ClusterRole")
        cluster_bindings = self.kinds("ClusterRoleBinding")
        return roles, bindings, cluster_roles, cluster_bindings

    def _k8s_service_account(self, scope: str) -> Judgement:
        judgement = Judgement(declared.SERVICE_ACCOUNT.id, scope)
        targets = self.targets(scope)
        if not targets:
            raise self._none_outside("pod-template objects")
        roles, bindings, cluster_roles, cluster_bindings = self._rbac_objects()
        for workload in targets:
            found = rbac.service_account_findings(
                workload,
                role_bindings=bindings,
                cluster_role_bindings=cluster_bindings,
                roles=roles,
                cluster_roles=cluster_roles,
            )
            sa_ns, sa_name = namespace(workload), rbac.service_account_of(workload)
            for binding in [*bindings, *cluster_bindings]:
                if rbac.binding_applies(binding, sa_ns, sa_name) and _names_sa(
                    binding, sa_ns, sa_name
                ):
                    found += [
                        f
                        for f in rbac.binding_findings(
                            binding, roles=roles, cluster_roles=cluster_roles
                        )
                        if f.check_id in EXEC_BINDING_RULES
                    ]
            judgement.findings += self._locate(found, workload)
            judgement.judged.append(subject(workload))
            if scope != OTHERS:
                judgement.observe("service account", sa_name)
        return judgement

    def _k8s_sa_exists(self, scope: str) -> Judgement:
        judgement = Judgement(declared.SA_EXISTS.id, scope)
        targets = self.targets(scope)
        if not targets:
            raise self._none_outside("pod-template objects")
        accounts = {(namespace(a), name(a)) for a in self.kinds("ServiceAccount")}
        # Live, an account must exist in the cluster; before a deploy, one created outside the
        # release may be declared instead.
        external = () if self.objects.live else self.expect.external_service_accounts
        where = "the cluster" if self.objects.live else "the manifests"
        for workload in targets:
            found = service_account_exists_findings(workload, accounts, external, where=where)
            judgement.findings += self._locate(found, workload)
            judgement.judged.append(subject(workload))
        named = {subject(w): rbac.service_account_of(w) for w in targets}
        judgement.observe(
            "service accounts named by the pod templates",
            {
                who: f"{sa} ({_account_source(sa, ns, accounts, external)})"
                for (who, sa), ns in zip(
                    named.items(), (namespace(w) for w in targets), strict=True
                )
            },
            expected="each exists (in the cluster, the manifests, or external_service_accounts)",
            source=self.objects.where,
        )
        return judgement

    def _k8s_rbac(self) -> Judgement:
        judgement = Judgement(declared.RBAC.id, None)
        roles, bindings, cluster_roles, cluster_bindings = self._rbac_objects()
        if self.objects.live:
            # The cluster's other tenants are not this release's: cluster-scoped RBAC is judged
            # when it binds something of the namespace.
            ns = self.settings.namespace
            cluster_bindings = [b for b in cluster_bindings if _binds_namespace(b, ns)]
            wanted_roles = {
                str(dig(b, "roleRef", "name"))
                for b in [*bindings, *cluster_bindings]
                if dig(b, "roleRef", "kind") == "ClusterRole"
            }
            cluster_roles_judged = [r for r in cluster_roles if name(r) in wanted_roles]
        else:
            cluster_roles_judged = cluster_roles
        # Bindings whose subjects are all workloads' service accounts are judged with the
        # workload (K8S-SERVICE-ACCOUNT), so one defect fails one item.
        accounts = {(namespace(w), rbac.service_account_of(w)) for w in self.workloads()}
        judged_bindings = [
            b for b in [*bindings, *cluster_bindings] if not _only_accounts(b, accounts)
        ]
        for role in [*roles, *cluster_roles_judged]:
            judgement.findings += self._locate(rbac.role_findings(role), role)
            judgement.judged.append(subject(role))
        for binding in judged_bindings:
            found = rbac.binding_findings(binding, roles=roles, cluster_roles=cluster_roles)
            judgement.findings += self._locate(found, binding)
            judgement.judged.append(subject(binding))
        if not judgement.judged:
            raise NotApplicable(f"no Role, ClusterRole or binding to judge in {self.objects.where}")
        judgement.observe("roles and bindings judged", judgement.judged, source=self.objects.where)
        return judgement

    # ---- the manifests themselves ----------------------------------------------------------

    def _k8s_schema(self) -> Judgement:
        judgement = Judgement(declared.SCHEMA.id, None)
        if self.objects.live:
            raise NotApplicable(
                "objects read from the API server were validated by it; the schema check "
                "judges rendered manifests (--manifests, deployverify scan)"
            )
        report = self.schema
        if report is None:
            raise NotApplicable("no schema validation was run over the manifests")
        index = self.index()
        by_key: dict[ObjectKey, list[Finding]] = {}
        for problem in report.problems:
            rule = rules.SCHEMA_UNKNOWN if problem.unknown_api else rules.SCHEMA_INVALID
            where = f" at {problem.path}" if problem.path else ""
            by_key.setdefault(problem.key, []).append(
                rule(
                    shown(problem.key),
                    f"{problem.message}{where} (Kubernetes {report.version} schema); fix the "
                    "manifest: the API server would reject it or drop the field",
                )
            )
        for key, found in by_key.items():
            judged = index.get(key) or {
                "kind": key[0],
                "metadata": {"namespace": key[1], "name": key[2]},
            }
            judgement.findings += self._locate(found, judged)
        judgement.observe(
            "objects validated",
            report.validated,
            source=f"Kubernetes {report.version} OpenAPI schemas (strict)",
        )
        judgement.observe(
            "objects read, by kind", self.objects.inventory(), source=self.objects.where
        )
        judgement.observe(
            "kinds without a schema (not validated)", dict(report.not_validated) or None
        )
        judgement.judged = [f"{report.validated} object(s)"]
        return judgement


# Items about long-running replicas, and why none applies to a run-to-completion workload.
_RUN_TO_COMPLETION = {
    declared.PROBES.id: "liveness and readiness probes are for long-running pods (as Polaris)",
    declared.REPLICAS.id: "it has no replicas to keep available (spec.parallelism and "
    "completions say how many pods run)",
    declared.PDB.id: "a PodDisruptionBudget keeps long-running replicas up during drains (a "
    "Job's backoffLimit retries an evicted pod)",
    declared.HPA.id: "a HorizontalPodAutoscaler scales long-running replicas",
    declared.TOPOLOGY.id: "spreading is for long-running replicas that serve together",
}
_TARGETS = {
    declared.REPLICAS.id: "Deployments",
    declared.PDB.id: "Deployments or PodDisruptionBudgets",
    declared.HPA.id: "Deployments or HorizontalPodAutoscalers",
    declared.TOPOLOGY.id: "Deployments",
    declared.PROBES.id: "long-running pod-template objects",
}
EXEC_BINDING_RULES = frozenset(
    {rules.CRB_EXEC.id, rules.RB_CLUSTERROLE_EXEC.id, rules.RB_ROLE_EXEC.id}
)
INSTANCE = "app.kubernetes.io/instance"


def same_ns(a: KubeObject, b: KubeObject) -> bool:
    na, nb = namespace(a), namespace(b)
    return not na or not nb or na == nb


def _names_sa(binding: KubeObject, sa_ns: str, sa_name: str) -> bool:
    """The binding names the service account itself (groups are judged by K8S-RBAC)."""
    for subj in sequence(binding.get("subjects")):
        subj = mapping(subj)
        if (
            subj.get("kind") == "ServiceAccount"
            and str(subj.get("name")) == sa_name
            and str(subj.get("namespace") or namespace(binding)) == sa_ns
        ):
            return True
    return False


def _only_accounts(binding: KubeObject, accounts: set[tuple[str, str]]) -> bool:
    subjects = [mapping(s) for s in sequence(binding.get("subjects"))]
    return bool(subjects) and all(
        s.get("kind") == "ServiceAccount"
        and (str(s.get("namespace") or namespace(binding)), str(s.get("name"))) in accounts
        for s in subjects
    )


def _binds_namespace(binding: KubeObject, ns: str) -> bool:
    for subj in sequence(binding.get("subjects")):
        subj = mapping(subj)
        if subj.get("kind") == "ServiceAccount" and subj.get("namespace") == ns:
            return True
        if subj.get("kind") == "Group" and subj.get("name") in (
            "system:serviceaccounts",
            f"system:serviceaccounts:{ns}",
        ):
            return True
    return False


# ---- small pure checks ---------------------------------------------------------------------------


def automount_findings(
    workload: KubeObject, accounts: Mapping[ObjectKey, KubeObject]
) -> list[Finding]:
    """Polaris automountServiceAccountToken: the pod sets it false, or (unset) its ServiceAccount
    does; a pod setting it true fails whatever the account says."""
    spec = pod_spec(workload)
    pod_value = spec.get("automountServiceAccountToken")
    if pod_value is False:
        return []
    sa_name = rbac.service_account_of(workload)
    account = accounts.get(("ServiceAccount", namespace(workload), sa_name))
    if (
        pod_value is not True
        and account is not None
        and account.get("automountServiceAccountToken") is False
    ):
        return []
    if pod_value is True:
        why = "automountServiceAccountToken: true on the pod"
    elif account is None:
        why = f"it is unset on the pod and ServiceAccount {sa_name} is not among the objects read"
    else:
        why = f"it is unset on the pod and on ServiceAccount {sa_name}"
    return [
        rules.AUTOMOUNT_TOKEN(
            subject(workload),
            f"the pods get an API token mounted ({why}); set automountServiceAccountToken: false "
            "on the pod spec (or its ServiceAccount) unless the app calls the Kubernetes API",
        )
    ]


BUILT_IN_ACCOUNT = "default"  # created in every namespace by the ServiceAccount controller


def _account_source(
    account: str, ns: str, accounts: set[tuple[str, str]], external: Sequence[str]
) -> str:
    if account == BUILT_IN_ACCOUNT:
        return "built in"
    if (ns, account) in accounts:
        return "exists"
    if account in external:
        return "external"
    return "MISSING"


def service_account_exists_findings(
    workload: KubeObject,
    accounts: set[tuple[str, str]],
    external: Sequence[str] = (),
    *,
    where: str = "the manifests",
) -> list[Finding]:
    """The ServiceAccount the pod template names exists in the workload's namespace (``accounts``:
    (namespace, name) pairs), is declared ``external`` (created outside the release), or is
    ``default`` (Kubernetes creates it in every namespace)."""
    account = rbac.service_account_of(workload)
    ns = namespace(workload)
    if _account_source(account, ns, accounts, external) != "MISSING":
        return []
    fix = (
        "create the ServiceAccount"
        if where == "the cluster"
        else "add the ServiceAccount to the release, or list it in [kubernetes.expect] "
        "external_service_accounts when it is created outside the release"
    )
    return [
        rules.SERVICE_ACCOUNT_MISSING(
            subject(workload),
            f"names ServiceAccount {ns + '/' if ns else ''}{account}, which does not exist in "
            f"{where}: the controller cannot create its pods; {fix}",
        )
    ]


def priority_findings(workload: KubeObject) -> list[Finding]:
    """Polaris priorityClassNotSet: ``priorityClassName`` is set."""
    if pod_spec(workload).get("priorityClassName"):
        return []
    return [
        rules.PRIORITY_CLASS(
            subject(workload),
            "no priorityClassName: under node pressure its pods are evicted or preempted like "
            "any batch job; set priorityClassName to the service's PriorityClass",
        )
    ]


def instance_label_findings(workload: KubeObject) -> list[Finding]:
    """Polaris metadataAndInstanceMismatched: label app.kubernetes.io/instance equals the
    controller's metadata.name."""
    value = labels(workload).get(INSTANCE)
    if value == name(workload):
        return []
    observed = f"is {value!r}" if value is not None else "is missing"
    return [
        rules.INSTANCE_LABEL(
            subject(workload),
            f"label {INSTANCE} {observed}, metadata.name is {name(workload)!r}: tools that "
            f"group objects by instance mislabel it; set {INSTANCE}: {name(workload)} (or "
            "[kubernetes.expect] instance_label = false for charts named <release>-<chart>)",
        )
    ]


def standalone_pdb_findings(pdb: KubeObject) -> list[Finding]:
    """Polaris pdbDisruptionsIsZero for a PDB whose pods are not among the objects: minAvailable
    100% or maxUnavailable 0 allows no voluntary eviction whatever the replica count."""
    spec = mapping(pdb.get("spec"))
    min_available = str(spec.get("minAvailable", "")).strip()
    max_unavailable = str(spec.get("maxUnavailable", "")).strip()
    if min_available == "100%" or max_unavailable in {"0", "0%"}:
        setting = (
            "minAvailable: 100%"
            if min_available == "100%"
            else f"maxUnavailable: {max_unavailable}"
        )
        return [
            rules.PDB_BLOCKS(
                subject(pdb),
                f"{setting} allows no voluntary disruption, so node drains hang; use "
                "maxUnavailable: 1 or a minAvailable below the replica count",
            )
        ]
    return []


def referenced(workload: KubeObject, obj_kind: str) -> set[str]:
    """Names of the ConfigMaps or Secrets the pod spec reads (env, envFrom, volumes, pulls)."""
    spec = pod_spec(workload)
    is_cm = obj_kind == "ConfigMap"
    env_key, from_key = (
        ("configMapKeyRef", "configMapRef") if is_cm else ("secretKeyRef", "secretRef")
    )
    found: set[str] = set()
    for c in containers(spec):
        for entry in sequence(c.get("env")):
            found.add(str(dig(entry, "valueFrom", env_key, "name") or ""))
        for source in sequence(c.get("envFrom")):
            found.add(str(dig(source, from_key, "name") or ""))
    for volume in sequence(spec.get("volumes")):
        found.add(
            str(
                dig(volume, "configMap", "name")
                if is_cm
                else dig(volume, "secret", "secretName") or ""
            )
        )
        for projected in sequence(dig(volume, "projected", "sources")):
            found.add(str(dig(projected, "configMap" if is_cm else "secret", "name") or ""))
    if not is_cm:
        found |= {str(mapping(p).get("name") or "") for p in sequence(spec.get("imagePullSecrets"))}
    found.discard("")
    found.discard("None")
    return found


def _cname(container: Mapping[str, Any] | None) -> str | None:
    return str(container.get("name")) if container else None


def hygiene_evidence(
    item_id: str,
    workload: KubeObject,
    expect: KubeExpectations,
    pdbs: Sequence[KubeObject],
    hpas: Sequence[KubeObject],
) -> list[dict[str, Any]]:
    """What each hygiene item judged: the containers' settings, the PDBs, HPAs and spread
    constraints themselves (not only the replica count)."""
    spec = pod_spec(workload)
    regular = containers(spec, init=False)
    entries: list[dict[str, Any]] = []

    def add(label: str, value: Any, **extra: Any) -> None:
        entries.append({"name": label, "value": value, "source": subject(workload), **extra})

    targeting = [hpa_summary(h) for h in targeting_hpas(workload, hpas)]
    replicas = dig(workload, "spec", "replicas")
    if item_id == declared.RESOURCES.id:
        add("resources", {_cname(c): dict(mapping(c.get("resources"))) for c in containers(spec)})
    elif item_id == declared.PROBES.id:
        add(
            "probes",
            {
                _cname(c): sorted(
                    p for p in ("livenessProbe", "readinessProbe", "startupProbe") if c.get(p)
                )
                for c in regular
            },
        )
    elif item_id == declared.IMAGE_TAG.id:
        add("images", {_cname(c): c.get("image") for c in containers(spec)})
    elif item_id == declared.PULL_POLICY.id:
        add(
            "images (imagePullPolicy)",
            {
                _cname(c): f"{c.get('image')} ({c.get('imagePullPolicy') or 'default pull policy'})"
                for c in containers(spec)
            },
            expected="Always for unpinned images; IfNotPresent allowed on a version tag or digest"
            if expect.pull_policy == "pinned"
            else "Always for every image",
            note=f"[kubernetes.expect] pull_policy = {expect.pull_policy.value!r}",
        )
    elif item_id == declared.SECURITY_CONTEXT.id:
        add("pod securityContext", dict(mapping(spec.get("securityContext"))))
        add(
            "container securityContext",
            {_cname(c): dict(mapping(c.get("securityContext"))) for c in containers(spec)},
        )
        add(
            "hostPath volumes",
            [
                mapping(v).get("name")
                for v in sequence(spec.get("volumes"))
                if mapping(v).get("hostPath")
            ],
            expected=[],
        )
    elif item_id == declared.REPLICAS.id:
        if targeting:
            add(
                "replicas",
                {"spec.replicas": replicas, "managed by": targeting},
                expected=f"HPA minReplicas >= {expect.min_replicas} (judged by K8S-HPA)",
                note="an HorizontalPodAutoscaler owns the replica count: this item defers to "
                "it and K8S-HPA judges its minReplicas",
            )
        else:
            add("replicas", replicas, expected=f">= {expect.min_replicas}")
    elif item_id == declared.PDB.id:
        add(
            "PodDisruptionBudgets selecting the pods",
            [pdb_summary(p) for p in selecting_pdbs(workload, pdbs)],
            expected="at least one, allowing a voluntary disruption",
        )
        add(
            "replicas the budget is judged against",
            effective_replicas(workload, hpas),
            note="an HPA's minReplicas when one manages the workload, else spec.replicas",
        )
    elif item_id == declared.HPA.id:
        add(
            "HorizontalPodAutoscalers targeting the workload",
            targeting,
            expected=f"minReplicas >= {expect.min_replicas}, maxReplicas > minReplicas, "
            "currentReplicas < maxReplicas, current metrics reported"
            + ("" if expect.require_hpa else " (an HPA is not required)"),
        )
    elif item_id == declared.TOPOLOGY.id:
        add(
            "spread constraints on the pod's own labels",
            spread_terms(workload),
            expected="a topologySpreadConstraint or pod anti-affinity (topologyKey zone or "
            "hostname)",
        )
        add(
            "replicas",
            effective_replicas(workload, hpas),
            note=f"spread is judged from {expect.topology_spread_min_replicas} replicas "
            "([kubernetes.expect] topology_spread_min_replicas)",
        )
    return entries


# ---- the whole scan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    """What was read, by kind: judged, read as context, or out of scope; and the objects judged
    through their controller."""

    read: Mapping[str, int]
    judged: Mapping[str, int]
    context: Mapping[str, int]
    out_of_scope: Mapping[str, int]
    through_controller: int
    unreadable: Mapping[str, str]

    def plain(self) -> dict[str, Any]:
        return {
            "read": dict(self.read),
            "judged": dict(self.judged),
            "context": dict(self.context),
            "out_of_scope": dict(self.out_of_scope),
            "judged_through_their_controller": self.through_controller,
            "unreadable": dict(self.unreadable),
        }

    def lines(self) -> list[str]:
        def fmt(counts: Mapping[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"

        out = [
            f"read: {sum(self.read.values())} object(s): {fmt(self.read)}",
            f"judged: {fmt(self.judged)}"
            + (
                f" ({self.through_controller} Pod/ReplicaSet/Job judged through their controller)"
                if self.through_controller
                else ""
            ),
        ]
        if self.context:
            out.append(f"read as context only: {fmt(self.context)}")
        out.append(f"out of scope (kinds not judged): {fmt(self.out_of_scope)}")
        for obj_kind, problem in self.unreadable.items():
            out.append(f"could not read {obj_kind}: {problem}")
        return out


def inventory(objects: KubeObjects) -> Inventory:
    read = objects.inventory()
    owned = 0
    for obj_kind in ("Pod", "ReplicaSet", "Job"):
        try:
            owned += sum(1 for o in objects.scanned(obj_kind) if is_owned(o))
        except Exception:
            continue
    return Inventory(
        read=read,
        judged={k: v for k, v in read.items() if k in JUDGED_KINDS},
        context={k: v for k, v in read.items() if k in CONTEXT_KINDS},
        out_of_scope={k: v for k, v in read.items() if k not in JUDGED_KINDS | CONTEXT_KINDS},
        through_controller=owned,
        unreadable=objects.unreadable() if objects.live else {},
    )


def scopes_of(item_id: str, workloads: Sequence[str]) -> list[str | None]:
    """The scopes an item runs for: per workload (each listed one, then the others), or once."""
    plan = declared.PLANS[item_id]
    if not plan.per_workload:
        return [None]
    return [*workloads, OTHERS] if plan.scans else list(workloads)


SCANNED_ITEMS: tuple[str, ...] = tuple(
    spec.id for spec in declared.CHECKS if declared.PLANS[spec.id].scans
)
"""Items judging every object (the Scanner's), in declaration order."""
