"""``KubeChecklist``: runs each item against its object source and explains the outcome."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deployverify.checklist.kubernetes.items import (
    _BODIES,
    HYGIENE_ITEMS,
    ITEMS,
    PREDEPLOY_SKIP,
    ChecklistError,
    Item,
    ItemResult,
    _NotApplicable,
    _Record,
    _Skip,
)
from pytest_deployverify.checklist.kubernetes.sources import (
    LiveSource,
    ManifestSource,
    ObjectSource,
    pinned_resolver,
)
from pytest_deployverify.checks.findings import NOT_APPLICABLE_PREFIX, Finding
from pytest_deployverify.checks.kube import capacity, config, network, rbac, rollout
from pytest_deployverify.checks.kube.catalog import check
from pytest_deployverify.checks.kube.drift import drift_findings
from pytest_deployverify.checks.kube.env import main_container, secret_value
from pytest_deployverify.checks.kube.helm import latest_release, release_findings
from pytest_deployverify.checks.kube.manifests import load_manifests, parse_documents
from pytest_deployverify.checks.kube.network import Resolver
from pytest_deployverify.checks.kube.objects import (
    CLUSTER_SCOPED_KINDS,
    KubeObject,
    containers,
    dig,
    kind,
    map_selector_matches,
    mapping,
    name,
    pod_from_template,
    pod_spec,
    selector_matches,
    sequence,
    subject,
    template_labels,
)
from pytest_deployverify.checks.kube.workloads import workload_findings
from pytest_deployverify.components.kubernetes import KubernetesConfig
from pytest_deployverify.components.kubernetes.errors import KubeError
from pytest_deployverify.components.kubernetes.kinds import resolve_kind
from pytest_deployverify.expectations.kube import HelmExpectations
from pytest_deployverify.profile.model import Profile

if TYPE_CHECKING:
    from pytest_deployverify.components.kubernetes.reader import KubeReader

WORKLOAD_KINDS = {
    "deployment": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "ds": "DaemonSet",
}
# What the verifier asks SelfSubjectAccessReviews about: the write a CD tool would make, and,
# when the rules review is incomplete, the usual writes on the usual kinds.
WRITE_PROBE = ("patch", "deployments", "apps")
WRITE_PROBES_FALLBACK = tuple(
    (verb, resource, group)
    for verb in ("create", "update", "patch", "delete")
    for resource, group in (("deployments", "apps"), ("pods", ""), ("secrets", ""))
)
MB = 1_000_000


# ---- the checklist ----------------------------------------------------------------------------


class KubeChecklist:
    """Every Kubernetes/Helm checklist item over one object source, for one profile."""

    def __init__(
        self,
        source: ObjectSource,
        section: KubernetesConfig,
        *,
        version: str | None = None,
        resolver: Resolver = socket.getaddrinfo,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.section = section
        self.expect = section.expect
        self.namespace = section.namespace
        self.version = version
        self.resolver = resolver
        self._clock, self._sleep = clock, sleep
        self._hygiene: dict[str, list[Finding]] = {}

    @classmethod
    def live(cls, reader: KubeReader, profile: Profile, **options: Any) -> KubeChecklist:
        return cls(LiveSource(reader), _section(profile), version=profile.version, **options)

    @classmethod
    def from_manifests(cls, path: Path, profile: Profile, **options: Any) -> KubeChecklist:
        """Pre-deploy mode; ``ManifestError`` (a ValueError) names the file and document."""
        section = _section(profile)
        manifests = load_manifests(path, default_namespace=section.namespace)
        return cls(ManifestSource(manifests, path), section, version=profile.version, **options)

    @property
    def workloads(self) -> tuple[str, ...]:
        return self.section.workloads

    @property
    def app(self) -> str | None:
        """The workload the environment and release-image expectations apply to."""
        return self.expect.app or (self.workloads[0] if self.workloads else None)

    # ---- running items ---------------------------------------------------------------------

    def run(self, item_id: str, workload: str | None = None) -> ItemResult:
        """Judge one item (``ITEMS`` key); per-workload items need the workload reference."""
        item = ITEMS[item_id]
        if item.per_workload != (workload is not None):
            need = "a workload" if item.per_workload else "no workload"
            raise TypeError(f"{item_id} takes {need} (got {workload!r})")
        if item_id in HYGIENE_ITEMS:
            return self._run(item, self._hygiene_item, workload, item_id)
        body = getattr(self, _BODIES[item_id])
        return self._run(item, body, *([workload] if workload is not None else []))

    def run_all(self) -> list[ItemResult]:
        """Every item, per workload where it applies (for scripts and benchmarks)."""
        results: list[ItemResult] = []
        for item in ITEMS.values():
            if item.per_workload:
                results += [self.run(item.item_id, w) for w in self.workloads]
            else:
                results.append(self.run(item.item_id))
        return results

    # ---- the runner --------------------------------------------------------------------------

    def _run(self, item: Item, body: Callable[..., None], *args: Any) -> ItemResult:
        if item.live_only and not self.source.live:
            return ItemResult(item, skipped=PREDEPLOY_SKIP)
        record = _Record()
        try:
            body(record, *args)
        except _Skip as skip:
            reason = str(skip)
            if isinstance(skip, _NotApplicable):
                reason = NOT_APPLICABLE_PREFIX + reason
            return ItemResult(item, evidence=tuple(record.evidence), skipped=reason)
        except KubeError as exc:
            problem = f"could not read what this check needs: {exc}"
            return ItemResult(item, evidence=tuple(record.evidence), error=problem)
        except (ChecklistError, ValueError) as exc:
            return ItemResult(item, evidence=tuple(record.evidence), error=str(exc))
        # A check function may report ids another item owns (rollout also flags image tags):
        # each item keeps its own, so one defect fails one item.
        mine = tuple(f for f in record.findings if f.check_id in item.check_ids)
        record.observe(
            "findings",
            [f"[{f.check_id}] {f.subject}" for f in mine],
            expected=[],
            source=self.source.where,
            ok=not mine,
        )
        return ItemResult(item, mine, tuple(record.evidence))

    # ---- lookups -----------------------------------------------------------------------------

    def _ns_objects(self, obj_kind: str, *, fresh: bool = False) -> list[dict[str, Any]]:
        return self.source.objects(obj_kind, self.namespace, fresh=fresh)

    def _workload(self, ref: str, *, fresh: bool = False) -> dict[str, Any]:
        obj_kind, obj_name = _parse_ref(ref)
        candidates = self._ns_objects(obj_kind, fresh=fresh)
        for obj in candidates:
            if name(obj) == obj_name:
                return obj
        present = ", ".join(sorted(name(o) for o in candidates)) or "none"
        raise ChecklistError(
            f"{obj_kind} {self.namespace}/{obj_name} not found in {self.source.where} "
            f"({obj_kind}s there: {present}); deploy it, or fix [kubernetes] workloads/namespace "
            "in the profile"
        )

    def _pods(self, workload: KubeObject, *, fresh: bool = False) -> list[dict[str, Any]]:
        """The workload's pods; in pre-deploy mode, one pod built from its template."""
        if not self.source.live:
            return [pod_from_template(workload)]
        selector = dig(workload, "spec", "selector")
        return [
            p
            for p in self._ns_objects("Pod", fresh=fresh)
            if selector_matches(selector, _labels(p))
        ]

    def _container_of(self, ref: str) -> str | None:
        return self.expect.container if ref == self.app else None

    def _app_workload(self) -> dict[str, Any]:
        if self.app is None:
            raise _NotApplicable(
                "no workloads to check: list them in [kubernetes] workloads (or set "
                "[kubernetes.expect] app)"
            )
        return self._workload(self.app)

    def _secrets_if(self, needed: bool) -> list[dict[str, Any]]:
        # Only items that need Secrets read them: a verifier without access to Secrets fails
        # exactly those items.
        return self._ns_objects("Secret") if needed else []

    # ---- bodies ------------------------------------------------------------------------------

    def _rollout(self, rec: _Record, ref: str) -> None:
        workload = self._workload(ref)
        if kind(workload) not in ("Deployment", "StatefulSet"):
            raise _NotApplicable(
                f"the rollout check reads Deployment/StatefulSet status, not {kind(workload)}"
            )
        is_app = ref == self.app
        since = (
            rollout.rollout_start(workload, self._ns_objects("ReplicaSet"))
            if kind(workload) == "Deployment"
            else None
        )
        expect: rollout.RolloutExpectations = {
            "expected_version": self.version if is_app else None,
            "expected_digest": self.expect.image_digest if is_app else None,
            "container": self._container_of(ref),
            "since": since,
            "max_restarts": self.expect.max_restarts,
        }
        wait = self.expect.rollout
        started = self._clock()
        if wait.timeout > 0:

            def fetch() -> tuple[KubeObject, list[dict[str, Any]]]:
                current = self._workload(ref, fresh=True)
                return current, self._pods(current, fresh=True)

            progress = rollout.wait_for_rollout(
                fetch,
                timeout=wait.timeout,
                interval=wait.interval,
                clock=self._clock,
                sleep=self._sleep,
                **expect,
            )
            found = list(progress.findings)
            workload = self._workload(ref)
        else:
            found = rollout.rollout_findings(workload, self._pods(workload), **expect)
        status = mapping(workload.get("status"))
        rec.observe(
            "replicas (desired/updated/ready/available)",
            [
                dig(workload, "spec", "replicas"),
                status.get("updatedReplicas"),
                status.get("readyReplicas"),
                status.get("availableReplicas"),
            ],
            source=subject(workload),
        )
        container = main_container(workload, self._container_of(ref))
        rec.observe(
            "image",
            (container or {}).get("image"),
            expected=f"tag {self.version}" if is_app and self.version else None,
        )
        if wait.timeout > 0:
            rec.observe("waited", round(self._clock() - started, 3), unit="s")
        rec.findings += found

    def _hygiene_item(self, rec: _Record, ref: str, item_id: str) -> None:
        workload = self._workload(ref)
        if item_id in ("K8S-REPLICAS", "K8S-PDB", "K8S-HPA", "K8S-TOPOLOGY") and kind(
            workload
        ) not in ("Deployment", "StatefulSet"):
            raise _NotApplicable(
                f"not applicable to a {kind(workload)} (one pod per node by design)"
            )
        if ref not in self._hygiene:
            self._hygiene[ref] = workload_findings(
                workload,
                pdbs=self._ns_objects("PodDisruptionBudget"),
                hpas=self._ns_objects("HorizontalPodAutoscaler"),
                min_replicas=self.expect.min_replicas,
                require_hpa=self.expect.require_hpa and kind(workload) == "Deployment",
                require_cpu_limit=self.expect.require_cpu_limit,
            )
        rec.findings += self._hygiene[ref]
        for entry in _hygiene_evidence(item_id, workload, self):
            rec.evidence.append(entry)

    def _required_env(self, rec: _Record) -> None:
        wanted = self.expect.required_env
        if not wanted:
            raise _NotApplicable("no required variables: set [kubernetes.expect] required_env")
        app = self._app_workload()
        container = main_container(app, self._container_of(self.app or ""))
        rec.findings += config.required_env_findings(
            app,
            wanted,
            configmaps=self._ns_objects("ConfigMap"),
            secrets=self._secrets_if(_env_from_secret(container)),
            container=self.expect.container,
        )
        rec.observe("required", list(wanted), source=subject(app, _cname(container)))

    def _env_values(self, rec: _Record) -> None:
        expected, forbidden = self.expect.expected_env, self.expect.forbidden_env
        if not expected and not forbidden:
            raise _NotApplicable(
                "no expected values: set [kubernetes.expect] expected_env or forbidden_env"
            )
        app = self._app_workload()
        container = main_container(app, self._container_of(self.app or ""))
        names = set(expected) | set(forbidden)
        rec.findings += config.expected_env_findings(
            app,
            dict(expected),
            forbidden={k: tuple(v) for k, v in forbidden.items()},
            configmaps=self._ns_objects("ConfigMap"),
            secrets=self._secrets_if(_reads_secret(container, names)),
            container=self.expect.container,
        )
        rec.observe(
            "expected",
            dict(expected),
            note=f"forbidden: {dict((k, list(v)) for k, v in forbidden.items())}"
            if forbidden
            else None,
        )

    def _secret_env(self, rec: _Record, ref: str) -> None:
        workload = self._workload(ref)
        configmaps = self._ns_objects("ConfigMap")
        allow = self.expect.sensitive_env_allow
        rec.findings += config.sensitive_env_findings(workload, configmaps=configmaps, allow=allow)
        used = _referenced(workload, "ConfigMap")
        for cm in configmaps:
            if name(cm) in used:
                rec.findings += config.configmap_sensitive_findings(cm, allow=allow)
        rec.observe("ConfigMaps read", sorted(used))

    def _config_refs(self, rec: _Record, ref: str) -> None:
        workload = self._workload(ref)
        secret_refs = _referenced(workload, "Secret")
        external = () if self.source.live else self.expect.external_refs
        rec.findings += config.reference_findings(
            workload,
            configmaps=self._ns_objects("ConfigMap"),
            secrets=self._secrets_if(bool(secret_refs - set(external))),
            external=external,
        )
        rec.observe("ConfigMaps", sorted(_referenced(workload, "ConfigMap")))
        rec.observe("Secrets", sorted(secret_refs), note=_external_note(external))

    def _secret_length(self, rec: _Record) -> None:
        wanted = self.expect.secret_min_length
        if not wanted:
            raise _NotApplicable("no minimum lengths: set [kubernetes.expect] secret_min_length")
        secrets = {name(s): s for s in self._ns_objects("Secret")}
        checked = 0
        for entry, minimum in wanted.items():
            secret_name, _, key = entry.partition("/")
            if not key:
                raise ChecklistError(
                    f"[kubernetes.expect] secret_min_length key {entry!r}: write it as "
                    '"secret-name/KEY"'
                )
            secret = secrets.get(secret_name)
            if secret is None:
                if not self.source.live:
                    continue  # created outside the release; checked live after the deploy
                rec.findings.append(
                    check("secret-missing").finding(
                        f"Secret {self.namespace}/{secret_name}",
                        f"does not exist; create it with key {key!r} of at least {minimum} "
                        "characters",
                    )
                )
                continue
            checked += 1
            rec.findings += config.secret_min_length(secret, key, minimum)
            length = _secret_length(secret, key)
            rec.observe(f"{entry} length", length, expected=f">= {minimum}", unit="characters")
        if not self.source.live and not checked:
            raise _Skip(
                "none of the Secrets in [kubernetes.expect] secret_min_length are among the "
                "manifests (created outside the release); the check runs live after the deploy"
            )

    def _service(self, rec: _Record, ref: str) -> None:
        workload = self._workload(ref)
        services = self._ns_objects("Service")
        wanted = self.expect.service if ref == self.app else None
        if wanted:
            chosen = [s for s in services if name(s) == wanted]
            if not chosen:
                rec.findings.append(
                    check("service-targets-pod").finding(
                        f"Service {self.namespace}/{wanted}",
                        f"does not exist in {self.source.where}; create it, or fix "
                        "[kubernetes.expect] service",
                    )
                )
                return
        else:
            pod_labels = template_labels(workload)
            chosen = [
                s for s in services if map_selector_matches(dig(s, "spec", "selector"), pod_labels)
            ]
        rec.observe("Services", [name(s) for s in chosen])
        if not chosen:
            rec.observe(
                "note",
                "no Service selects this workload; set [kubernetes.expect] service to require one",
            )
            return
        # Live: every pod of the namespace, as the endpoint controller sees them (a Service may
        # also select a canary's pods); pre-deploy: the workload's pod template.
        pods = self._ns_objects("Pod") if self.source.live else self._pods(workload)
        slices = self._ns_objects("EndpointSlice") if self.source.live else []
        for svc in chosen:
            rec.findings += network.service_selector_findings(svc, pods)
            if self.source.live:
                rec.findings += network.service_endpoint_findings(svc, slices, pods)
                ready = network.ready_endpoint_count(svc, slices)
                rec.observe(f"Service {name(svc)} ready endpoints", ready)

    def _ingress(self, rec: _Record) -> None:
        host = self._public_host()
        chosen = self._ingresses(host)
        if not chosen:
            wanted = self.expect.ingress
            message = (
                f"Ingress {wanted!r} does not exist; create it or fix [kubernetes.expect] ingress"
                if wanted
                else f"no Ingress has a rule for host {host!r}; add one (host: {host}) or name "
                "it in [kubernetes.expect] ingress"
            )
            rec.findings.append(
                check("ingress-host-missing").finding(f"Namespace {self.namespace}", message)
            )
            return
        services = self._ns_objects("Service")
        for ing in chosen:
            rec.findings += network.ingress_findings(ing, host, services=services)
            if self.source.live:
                rec.observe(f"Ingress {name(ing)} address", network.ingress_addresses(ing))
        rec.observe("host", host)

    def _network_policy(self, rec: _Record, ref: str) -> None:
        workload = self._workload(ref)
        policies = self._ns_objects("NetworkPolicy")
        rec.findings += network.network_policy_findings(workload, policies)
        rec.observe("NetworkPolicies", [name(p) for p in policies])

    def _dns(self, rec: _Record) -> None:
        host = self._public_host()
        expected = list(self.expect.dns_addresses)
        if not expected:
            if not self.source.live:
                raise _Skip(
                    "pre-deploy mode has no load balancer address to compare with: set "
                    "[kubernetes.expect] dns_addresses, or let the check run live"
                )
            for ing in self._ingresses(host):
                expected += network.ingress_addresses(ing)
        pins = self.expect.resolve
        resolver = pinned_resolver(pins, self.resolver) if pins else self.resolver
        rec.findings += network.host_resolves_to(host, expected, resolver)
        pinned = host.lower().rstrip(".") in {h.lower().rstrip(".") for h in pins}
        rec.observe(
            f"{host} resolves to",
            _lookup(host, resolver),
            expected=expected,
            source="pinned by [kubernetes.expect] resolve" if pinned else "DNS",
            note="answer pinned in the profile, not looked up" if pinned else None,
        )

    def _namespace(self, rec: _Record) -> None:
        assert isinstance(self.source, LiveSource)
        obj = self.source.namespace_object(self.namespace)
        rec.findings += rbac.namespace_findings([obj] if obj else [], self.namespace)
        rec.observe(
            f"Namespace {self.namespace} phase",
            dig(obj, "status", "phase") if obj else "absent",
            expected="Active",
        )

    def _service_account(self, rec: _Record, ref: str) -> None:
        workload = self._workload(ref)
        rec.findings += rbac.service_account_findings(
            workload,
            role_bindings=self._ns_objects("RoleBinding"),
            cluster_role_bindings=self.source.objects("ClusterRoleBinding"),
            roles=self._ns_objects("Role"),
            cluster_roles=self.source.objects("ClusterRole"),
        )
        rec.observe("service account", rbac.service_account_of(workload))

    def _verifier(self, rec: _Record) -> None:
        assert isinstance(self.source, LiveSource)
        reader = self.source.reader
        rules = reader.self_subject_rules_review(self.namespace)
        probes = WRITE_PROBES_FALLBACK if rules.get("incomplete") is True else (WRITE_PROBE,)
        reviews = [self._access_review(reader, *probe) for probe in probes]
        who = (
            "in-cluster service account"
            if self.section.in_cluster
            else f"kubeconfig context {self.section.context or '(current)'}"
        )
        rec.findings += rbac.verifier_access_findings({"status": rules}, reviews, who=who)
        rec.observe(
            "SelfSubjectRulesReview verbs",
            sorted(
                {str(v) for r in sequence(rules.get("resourceRules")) for v in r.get("verbs", ())}
            ),
            expected="get, list, watch only",
            source=f"namespace {self.namespace}",
        )
        rec.observe(
            "SelfSubjectAccessReview allowed",
            {
                f"{verb} {resource}": r["status"].get("allowed")
                for (verb, resource, _), r in zip(probes, reviews, strict=True)
            },
            expected=False,
        )

    def _access_review(
        self, reader: KubeReader, verb: str, resource: str, group: str
    ) -> dict[str, Any]:
        """An answered review in the shape ``verifier_access_findings`` reads (spec + status)."""
        ns = self.namespace
        status = reader.self_subject_access_review(verb, resource, ns, group=group)
        attributes = {"verb": verb, "resource": resource, "group": group, "namespace": ns}
        return {"spec": {"resourceAttributes": attributes}, "status": status}

    def _storage_class(self, rec: _Record, ref: str) -> None:
        workload = self._workload(ref)
        claimed = {
            str(dig(t, "spec", "storageClassName"))
            for t in sequence(dig(workload, "spec", "volumeClaimTemplates"))
            if dig(t, "spec", "storageClassName")
        }
        required = sorted(set(self.expect.storage_classes) | claimed)
        classes = self.source.objects("StorageClass")
        for wanted in required:
            rec.findings += capacity.storage_class_findings(classes, wanted)
        if self.expect.require_default_storage_class:
            rec.findings += capacity.storage_class_findings(classes, require_default=True)
        rec.observe(
            "required StorageClasses",
            required,
            note=None if required else "the workload claims no storage class",
        )
        rec.observe("cluster StorageClasses", sorted(name(c) for c in classes))

    def _node_capacity(self, rec: _Record, ref: str) -> None:
        workload = self._workload(ref)
        nodes = self.source.objects("Node")
        # Every pod bound to a node takes room, whatever its namespace.
        pods = self.source.objects("Pod", None)
        rec.findings += capacity.node_headroom_findings(workload, nodes, pods)
        need = capacity.pod_requests(pod_spec(workload))
        rec.observe(
            "per pod requests",
            {"cpu": str(need["cpu"]), "memory": str(need["memory"])},
            note=f"{len(capacity.eligible_nodes(pod_spec(workload), nodes))} eligible node(s)",
        )
        rec.observe("replicas", dig(workload, "spec", "replicas"))

    def _image_size(self, rec: _Record, ref: str) -> None:
        limit = self.expect.image_size_limit_mb
        if limit is None:
            raise _NotApplicable("no size limit: set [kubernetes.expect] image_size_limit_mb")
        workload = self._workload(ref)
        container = main_container(workload, self._container_of(ref))
        if container is None:
            raise ChecklistError(f"{subject(workload)} has no container to check")
        image = str(container.get("image") or "")
        rec.findings += capacity.image_size_findings(
            image,
            self.source.objects("Node"),
            int(limit * MB),
            about=subject(workload, _cname(container)),
        )
        rec.observe("image", image, expected=f"<= {limit:g} MB")

    def _helm_release(self, rec: _Record) -> None:
        helm = self._helm()
        release = latest_release(self._ns_objects("Secret"), helm.release)
        rec.findings += release_findings(
            release,
            release_name=helm.release,
            chart_name=helm.chart,
            chart_version=helm.chart_version,
            app_version=helm.app_version or self.version,
        )
        if release is not None:
            rec.observe(
                "release",
                {
                    "revision": release.version,
                    "status": release.status,
                    "chart": f"{release.chart_name}-{release.chart_version}",
                    "appVersion": release.app_version,
                },
                expected={
                    "status": "deployed",
                    "chart": f"{helm.chart or '*'}-{helm.chart_version or '*'}",
                    "appVersion": helm.app_version or self.version,
                },
            )

    def _helm_drift(self, rec: _Record) -> None:
        helm = self._helm()
        if not helm.drift:
            raise _NotApplicable("drift check disabled: [kubernetes.expect.helm] drift = false")
        release = latest_release(self._ns_objects("Secret"), helm.release)
        if release is None:
            raise ChecklistError(
                f"no Helm release {helm.release!r} in namespace {self.namespace} to compare "
                "with (see K8S-HELM-RELEASE)"
            )
        ns = release.namespace or self.namespace
        rendered = parse_documents(
            release.manifest, f"release {release.name}", default_namespace=ns
        )
        readable, unreadable = [], []
        for obj in rendered:
            try:
                resolve_kind(kind(obj))
            except ValueError:
                unreadable.append(f"{kind(obj)} {name(obj)}")
            else:
                readable.append(obj)
        live: list[dict[str, Any]] = []
        for obj_kind in sorted({kind(o) for o in readable}):
            scope = None if obj_kind in CLUSTER_SCOPED_KINDS else ns
            live += self.source.objects(obj_kind, scope)
        rec.findings += drift_findings(
            readable, live, hpas=self._ns_objects("HorizontalPodAutoscaler"), default_namespace=ns
        )
        rec.observe(
            f"release {release.name} revision {release.version} objects compared",
            [f"{kind(o)} {name(o)}" for o in readable],
            note=f"not compared (kinds the reader does not read): {', '.join(unreadable)}"
            if unreadable
            else None,
        )

    # ---- shared pieces -----------------------------------------------------------------------

    def _public_host(self) -> str:
        if not self.expect.public_host:
            raise _NotApplicable("no public host: set [kubernetes.expect] public_host")
        return self.expect.public_host

    def _ingresses(self, host: str) -> list[dict[str, Any]]:
        ingresses = self._ns_objects("Ingress")
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

    def _helm(self) -> HelmExpectations:
        if self.expect.helm is None:
            raise _NotApplicable("no Helm release expected: set [kubernetes.expect.helm] release")
        return self.expect.helm


def _section(profile: Profile) -> KubernetesConfig:
    section = profile.component("kubernetes")
    if not isinstance(section, KubernetesConfig):
        raise ChecklistError(f"kubernetes is not configured for environment {profile.name}")
    return section


def _parse_ref(ref: str) -> tuple[str, str]:
    """``api-gateway`` (a Deployment) or ``StatefulSet/redis`` → (kind, name)."""
    head, sep, tail = ref.partition("/")
    if not sep:
        return "Deployment", ref
    obj_kind = WORKLOAD_KINDS.get(head.lower())
    if obj_kind is None or not tail:
        raise ChecklistError(
            f"[kubernetes] workloads entry {ref!r}: write NAME (a Deployment) or KIND/NAME with "
            "KIND one of Deployment, StatefulSet, DaemonSet"
        )
    return obj_kind, tail


def _labels(obj: KubeObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping(dig(obj, "metadata", "labels")).items()}


def _cname(container: Mapping[str, Any] | None) -> str | None:
    return str(container.get("name")) if container else None


def _env_from_secret(container: Mapping[str, Any] | None) -> bool:
    return any(
        mapping(source).get("secretRef") for source in sequence((container or {}).get("envFrom"))
    )


def _reads_secret(container: Mapping[str, Any] | None, names: Iterable[str]) -> bool:
    """Does any of ``names`` take its value from a Secret (directly or through envFrom)?"""
    wanted = set(names)
    for entry in sequence((container or {}).get("env")):
        entry = mapping(entry)
        if entry.get("name") in wanted and dig(entry, "valueFrom", "secretKeyRef"):
            return True
    return _env_from_secret(container)


def _referenced(workload: KubeObject, obj_kind: str) -> set[str]:
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


def _external_note(external: Sequence[str]) -> str | None:
    return (
        f"created outside the release (not required): {', '.join(external)}" if external else None
    )


def _secret_length(secret: KubeObject, key: str) -> int | None:
    try:
        value = secret_value(secret, key)
    except ValueError:
        return None
    return None if value is None else len(value)


def _lookup(host: str, resolver: Resolver) -> list[str] | str:
    try:
        return sorted({str(info[4][0]) for info in resolver(host, None)})
    except OSError as exc:
        return f"lookup failed: {exc}"


def _hygiene_evidence(
    item_id: str, workload: KubeObject, checklist: KubeChecklist
) -> list[dict[str, Any]]:
    """A few observed values per hygiene item (what a reviewer would look at)."""
    spec = pod_spec(workload)
    regular = containers(spec, init=False)
    entries: list[dict[str, Any]] = []

    def add(label: str, value: Any, **extra: Any) -> None:
        entries.append({"name": label, "value": value, "source": subject(workload), **extra})

    if item_id == "K8S-RESOURCES":
        add("resources", {_cname(c): dict(mapping(c.get("resources"))) for c in containers(spec)})
    elif item_id == "K8S-PROBES":
        add(
            "probes",
            {
                _cname(c): sorted(
                    p for p in ("livenessProbe", "readinessProbe", "startupProbe") if c.get(p)
                )
                for c in regular
            },
        )
    elif item_id in ("K8S-IMAGE-TAG", "K8S-PULL-POLICY"):
        add(
            "images",
            {
                _cname(c): f"{c.get('image')} ({c.get('imagePullPolicy') or 'default pull policy'})"
                for c in containers(spec)
            },
        )
    elif item_id == "K8S-SECURITY-CONTEXT":
        add("pod securityContext", dict(mapping(spec.get("securityContext"))))
    elif item_id in ("K8S-REPLICAS", "K8S-HPA", "K8S-PDB", "K8S-TOPOLOGY"):
        add(
            "replicas",
            dig(workload, "spec", "replicas"),
            expected=f">= {checklist.expect.min_replicas}",
        )
    return entries
