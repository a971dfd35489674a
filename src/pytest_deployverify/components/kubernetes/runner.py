"""``KubeChecklist``: runs each item over the component's snapshots and explains the outcome.

The objects were read once (``kubernetes.objects``: concurrent LISTs of the live cluster, or the
rendered manifests); an item costs no request. The verifier's access reviews and the pod logs
are their own snapshots (``kubernetes.access``, ``kubernetes.pod_logs``), read through ``read``.
Only a rollout the profile asks to wait for reads again (``refresh``), and K8S-DNS resolves the
public host (``resolver``).
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deployverify.checks.declarations import CheckSpec
from pytest_deployverify.checks.findings import NOT_APPLICABLE_PREFIX, NotApplicable
from pytest_deployverify.checks.kube import (
    capacity,
    config,
    jobs,
    network,
    rbac,
    rollout,
    rules,
    vulns,
)
from pytest_deployverify.checks.kube import items as declared
from pytest_deployverify.checks.kube.drift import drift_findings
from pytest_deployverify.checks.kube.env import main_container, secret_value
from pytest_deployverify.checks.kube.expectations import HelmExpectations
from pytest_deployverify.checks.kube.helm import latest_release, release_findings
from pytest_deployverify.checks.kube.images import parse_image
from pytest_deployverify.checks.kube.logs import pod_log_findings, scanned_summary
from pytest_deployverify.checks.kube.network import Resolver
from pytest_deployverify.checks.kube.objects import (
    CLUSTER_SCOPED_KINDS,
    RUN_TO_COMPLETION_KINDS,
    KubeObject,
    dig,
    is_job_pod,
    kind,
    labels,
    mapping,
    name,
    pod_spec,
    selector_matches,
    sequence,
    subject,
)
from pytest_deployverify.checks.kube.scan import OTHERS, Located, Scanner, ScanSettings, scopes_of
from pytest_deployverify.checks.kube.snapshots import (
    KubeObjects,
    ObjectsUnavailable,
    PodLogs,
    VerifierAccess,
    WorkloadError,
    parse_workload_ref,
)
from pytest_deployverify.checks.versions import compare_versions
from pytest_deployverify.components.errors import ComponentError
from pytest_deployverify.components.kubernetes import KubernetesConfig
from pytest_deployverify.components.kubernetes.checklist_items import (
    ITEMS,
    PREDEPLOY_SKIP,
    ChecklistError,
    Item,
    ItemResult,
    _NotApplicable,
    _Record,
    _Skip,
)
from pytest_deployverify.components.kubernetes.sources import pinned_resolver
from pytest_deployverify.profile.model import Profile

if TYPE_CHECKING:
    from pytest_deployverify.components.kubernetes.reader import KubeReader

MB = 1_000_000
_BODIES = {
    declared.ROLLOUT.id: "_rollout",
    declared.ENV_REQUIRED.id: "_required_env",
    declared.ENV_VALUES.id: "_env_values",
    declared.SECRET_LENGTH.id: "_secret_length",
    declared.INGRESS.id: "_ingress",
    declared.DNS.id: "_dns",
    declared.NAMESPACE.id: "_namespace",
    declared.VERIFIER_READ_ONLY.id: "_verifier",
    declared.STORAGE_CLASS.id: "_storage_class",
    declared.NODE_CAPACITY.id: "_node_capacity",
    declared.IMAGE_SIZE.id: "_image_size",
    declared.HELM_RELEASE.id: "_helm_release",
    declared.HELM_DRIFT.id: "_helm_drift",
    declared.POD_LOG_SECRETS.id: "_pod_logs",
    declared.IMAGE_VULNS.id: "_image_vulns",
}

Read = Callable[[str], Any]
Refresh = Callable[[str], list[dict[str, Any]]]


# ---- the checklist ----------------------------------------------------------------------------


class KubeChecklist:
    """Every Kubernetes/Helm checklist item over one ``KubeObjects`` snapshot, for one profile.

    ``read("kubernetes.access")`` hands the other snapshots (the plugin's ``snapshot`` fixture);
    ``refresh(kind)`` re-lists a kind for a rollout the profile asks to wait for.
    """

    def __init__(
        self,
        objects: KubeObjects,
        profile: Profile,
        *,
        read: Read | None = None,
        refresh: Refresh | None = None,
        resolver: Resolver = socket.getaddrinfo,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.objects = objects
        self.profile = profile
        self.section = _section(profile)
        self.expect = self.section.expect
        self.namespace = self.section.namespace
        self.version = profile.version
        self.read = read or _no_read
        self.refresh = refresh
        self.resolver = resolver
        self._clock, self._sleep = clock, sleep
        self.scanner = Scanner(
            objects,
            ScanSettings(
                namespace=self.namespace,
                workloads=self.section.workloads,
                expect=self.expect,
                exemptions=self.section.exemptions,
            ),
        )

    @classmethod
    def live(cls, reader: KubeReader, profile: Profile, **options: Any) -> KubeChecklist:
        """Over a reader directly (scripts, benchmarks): the same reads the component makes."""
        from pytest_deployverify.components.kubernetes import reads

        section = _section(profile)
        objects = reads.read_objects(reader, section)
        snapshots: dict[str, Any] = {}

        def read(ref: str) -> Any:
            if ref not in snapshots:
                if ref == declared.ACCESS:
                    snapshots[ref] = reads.read_access(reader, section)
                elif ref == declared.POD_LOGS:
                    snapshots[ref] = reads.read_pod_logs(reader, section, objects)
                elif ref == declared.IMAGE_SCANS:
                    if section.expect.vulnerabilities is None:
                        raise NotApplicable("[kubernetes.expect.vulnerabilities] is not set")
                    snapshots[ref] = reads.read_image_scans(reader, section, live=True)
                elif ref == declared.SCHEMA_READ:
                    raise NotApplicable("objects read from the API server were validated by it")
                else:
                    raise KeyError(f"KubeChecklist.live does not read {ref!r}")
            return snapshots[ref]

        options.setdefault("refresh", reads.fresh_lister(reader, section.namespace))
        return cls(objects, profile, read=read, **options)

    @classmethod
    def from_manifests(cls, path: Path, profile: Profile, **options: Any) -> KubeChecklist:
        """Pre-deploy mode; ``ManifestError`` (a ValueError) names the file and document."""
        from pytest_deployverify.components.kubernetes.reads import read_manifests

        section = _section(profile)
        objects = read_manifests(path, section)
        options.setdefault("read", manifest_reads(objects, section))
        return cls(objects, profile, **options)

    @property
    def workloads(self) -> tuple[str, ...]:
        return self.section.workloads

    @property
    def app(self) -> str | None:
        """The workload the environment and release-image expectations apply to."""
        return self.expect.app or (self.workloads[0] if self.workloads else None)

    # ---- running items ---------------------------------------------------------------------

    def run(self, check: str | CheckSpec, workload: str | None = None) -> ItemResult:
        """Judge one item (its declaration or id); per-workload items need the workload."""
        item_id = check.id if isinstance(check, CheckSpec) else check
        item = ITEMS[item_id]
        if item.per_workload != (workload is not None):
            need = "a workload" if item.per_workload else "no workload"
            raise TypeError(f"{item_id} takes {need} (got {workload!r})")
        if workload == OTHERS and not item.plan.scans:
            raise TypeError(f"{item_id} judges the listed workloads only (got {workload!r})")
        if item.plan.scans:
            result = self._run(item, self._scanned, item_id, workload)
        else:
            body = getattr(self, _BODIES[item_id])
            result = self._run(item, body, *([workload] if workload is not None else []))
        return dataclasses.replace(result, scope=workload)

    def scopes(self, check: str | CheckSpec) -> list[str | None]:
        """The scopes an item runs for: each listed workload (and, for items judging every
        object, ``OTHERS``), or once."""
        item_id = check.id if isinstance(check, CheckSpec) else check
        return scopes_of(item_id, self.workloads)

    def run_all(self, *, spec_only: bool = False) -> list[ItemResult]:
        """Every item for every scope (for scripts, benchmarks and ``deployverify scan``);
        ``spec_only`` leaves out the live-only items."""
        results: list[ItemResult] = []
        for item in ITEMS.values():
            if spec_only and item.live_only:
                continue
            results += [self.run(item.item_id, scope) for scope in self.scopes(item.item_id)]
        return results

    def _scanned(self, rec: _Record, item_id: str, scope: str | None) -> None:
        if item_id == declared.SCHEMA.id and self.scanner.schema is None and not self.objects.live:
            self.scanner.schema = self.read(declared.SCHEMA_READ)
        judgement = self.scanner.judge(item_id, scope)
        rec.located += judgement.findings
        rec.findings += [located.finding for located in judgement.findings]
        rec.exempted += judgement.exempted
        rec.evidence += judgement.evidence
        if judgement.exempted:
            rec.observe(
                "exempted (not counted; each with its reason)",
                [
                    f"[{e.finding.check_id}] {e.finding.subject}: {e.reason} ({e.by})"
                    for e in judgement.exempted
                ],
            )
        if judgement.notes:
            rec.observe("exemptions not honoured", judgement.notes, ok=False)

    # ---- the runner --------------------------------------------------------------------------

    def _run(self, item: Item, body: Callable[..., None], *args: Any) -> ItemResult:
        if item.live_only and not self.objects.live:
            return ItemResult(item, skipped=PREDEPLOY_SKIP)
        reason = item.spec.not_applicable(self.profile)
        if reason is not None:
            return ItemResult(item, skipped=NOT_APPLICABLE_PREFIX + reason)
        record = _Record()
        try:
            body(record, *args)
        except _Skip as skip:
            reason = str(skip)
            if isinstance(skip, _NotApplicable):
                reason = NOT_APPLICABLE_PREFIX + reason
            return ItemResult(item, evidence=tuple(record.evidence), skipped=reason)
        except NotApplicable as skip:
            reason = NOT_APPLICABLE_PREFIX + str(skip)
            return ItemResult(item, evidence=tuple(record.evidence), skipped=reason)
        except (ObjectsUnavailable, ComponentError) as exc:
            problem = f"could not read what this check needs: {exc}"
            return ItemResult(item, evidence=tuple(record.evidence), error=problem)
        except (ChecklistError, WorkloadError, ValueError) as exc:
            return ItemResult(item, evidence=tuple(record.evidence), error=str(exc))
        # A check function may report ids another item owns (rollout also flags image tags):
        # each item keeps its own, so one defect fails one item.
        mine = tuple(f for f in record.findings if f.check_id in item.check_ids)
        record.observe(
            "findings",
            [f"[{f.check_id}] {f.subject}" for f in mine],
            expected=[],
            source=self.objects.where,
            ok=not mine,
        )
        located = tuple(loc for loc in record.located if loc.finding.check_id in item.check_ids)
        return ItemResult(
            item,
            mine,
            tuple(record.evidence),
            located=located,
            exempted=tuple(record.exempted),
        )

    # ---- lookups -----------------------------------------------------------------------------

    def _ns(self, obj_kind: str) -> list[dict[str, Any]]:
        return self.objects.objects(obj_kind)

    def _container_of(self, ref: str) -> str | None:
        return self.expect.container if ref == self.app else None

    def _app_workload(self) -> dict[str, Any]:
        if self.app is None:
            raise _NotApplicable(
                "no workloads to check: list them in [kubernetes] workloads (or set "
                "[kubernetes.expect] app)"
            )
        return self.objects.workload(self.app)

    def _secrets_if(self, needed: bool) -> list[dict[str, Any]]:
        # Only items that need Secrets read them: a verifier without access to Secrets fails
        # exactly those items.
        return self._ns("Secret") if needed else []

    # ---- bodies ------------------------------------------------------------------------------

    def _rollout(self, rec: _Record, ref: str) -> None:
        workload: KubeObject = self.objects.workload(ref)
        if kind(workload) in RUN_TO_COMPLETION_KINDS:
            judge = self._job_rollout if kind(workload) == "Job" else self._cronjob_rollout
            judge(rec, ref, workload)
            return
        if kind(workload) not in ("Deployment", "StatefulSet"):
            raise _NotApplicable(
                f"the rollout check reads Deployment/StatefulSet status, not {kind(workload)}"
            )
        is_app = ref == self.app
        since = (
            rollout.rollout_start(workload, self._ns("ReplicaSet"))
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
        waited = wait.timeout > 0 and self.refresh is not None
        if waited:
            refresh = self.refresh
            assert refresh is not None
            latest: list[KubeObject] = [workload]
            obj_kind, obj_name = parse_workload_ref(ref)

            def fetch() -> tuple[KubeObject, list[dict[str, Any]]]:
                current = next((o for o in refresh(obj_kind) if name(o) == obj_name), None)
                if current is None:
                    raise ChecklistError(f"{obj_kind} {self.namespace}/{obj_name} disappeared")
                latest[0] = current
                selector = dig(current, "spec", "selector")
                pods = [p for p in refresh("Pod") if selector_matches(selector, labels(p))]
                return current, pods

            progress = rollout.wait_for_rollout(
                fetch,
                timeout=wait.timeout,
                interval=wait.interval,
                clock=self._clock,
                sleep=self._sleep,
                **expect,
            )
            found = list(progress.findings)
            workload = latest[0]
        else:
            found = rollout.rollout_findings(workload, self.objects.pods_of(workload), **expect)
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
        self._observe_image(rec, workload, ref)
        if waited:
            rec.observe("waited", round(self._clock() - started, 3), unit="s")
        rec.findings += found

    def _observe_image(self, rec: _Record, workload: KubeObject, ref: str) -> None:
        is_app = ref == self.app
        container = main_container(workload, self._container_of(ref))
        image = str((container or {}).get("image") or "")
        tag = parse_image(image).tag
        rec.observe(
            "image",
            image or None,
            expected=f"tag {self.version}" if is_app and self.version else None,
            note=f"compared {compare_versions(self.version, tag).describe()}"
            if is_app and self.version and tag
            else None,
        )

    def _release_expectations(self, ref: str) -> rollout.RolloutExpectations:
        is_app = ref == self.app
        return {
            "expected_version": self.version if is_app else None,
            "expected_digest": self.expect.image_digest if is_app else None,
            "container": self._container_of(ref),
            "max_restarts": self.expect.max_restarts,
        }

    def _job_rollout(self, rec: _Record, ref: str, job: KubeObject) -> None:
        """A Job: completed (waiting like a rollout while it runs), not failed, on the release
        image. Its pods are not expected Ready: Succeeded is their goal."""
        expect = self._release_expectations(ref)
        wait = self.expect.rollout
        started = self._clock()
        waited = wait.timeout > 0 and self.refresh is not None
        pods = self.objects.pods_of(job)
        if waited:
            refresh = self.refresh
            assert refresh is not None
            latest: list[KubeObject] = [job]
            seen: list[list[dict[str, Any]]] = [pods]

            def fetch() -> tuple[KubeObject, list[dict[str, Any]]]:
                current = next((o for o in refresh("Job") if name(o) == name(job)), None)
                if current is None:
                    raise ChecklistError(f"Job {self.namespace}/{name(job)} disappeared")
                latest[0] = current
                seen[0] = [p for p in refresh("Pod") if is_job_pod(p, current)]
                return current, seen[0]

            progress = rollout.wait_for_rollout(
                fetch,
                timeout=wait.timeout,
                interval=wait.interval,
                clock=self._clock,
                sleep=self._sleep,
                judge=jobs.job_progress,
                **expect,
            )
            found = list(progress.findings)
            job, pods = latest[0], seen[0]
        else:
            found = jobs.job_findings(job, pods, **expect)
        rec.observe(
            "Job",
            jobs.job_summary(job),
            expected="Complete (not Failed, not still running)",
            source=subject(job),
        )
        rec.observe(
            "pods (phase)",
            jobs.job_pods_summary(pods),
            note="Succeeded is the goal of a Job's pods; a pod that failed before a retry "
            "succeeded is the Job's own retry (backoffLimit), not a finding",
        )
        self._observe_image(rec, job, ref)
        if waited:
            rec.observe("waited", round(self._clock() - started, 3), unit="s")
        rec.findings += found

    def _cronjob_rollout(self, rec: _Record, ref: str, cronjob: KubeObject) -> None:
        """A CronJob: not suspended (unless expected), the release image in its template, and
        its most recent run (the newest Job it owns) not failed. Nothing to wait for."""
        expect = self._release_expectations(ref)
        owned = self.objects.jobs_of(cronjob)
        suspended_ok = self.expect.suspended_ok(name(cronjob))
        rec.findings += jobs.cronjob_findings(
            cronjob,
            owned,
            self.objects.pods_of(cronjob),
            suspended_ok=suspended_ok,
            **expect,
        )
        rec.observe(
            "CronJob",
            jobs.cronjob_summary(cronjob, owned, suspended_ok=suspended_ok),
            expected="not suspended; the most recent run completed or running (or none yet)",
            source=subject(cronjob),
        )
        self._observe_image(rec, cronjob, ref)

    def _required_env(self, rec: _Record) -> None:
        wanted = self.expect.required_env
        app = self._app_workload()
        container = main_container(app, self._container_of(self.app or ""))
        rec.findings += config.required_env_findings(
            app,
            wanted,
            configmaps=self._ns("ConfigMap"),
            secrets=self._secrets_if(_env_from_secret(container)),
            container=self.expect.container,
        )
        rec.observe("required", list(wanted), source=subject(app, _cname(container)))

    def _env_values(self, rec: _Record) -> None:
        expected, forbidden = self.expect.expected_env, self.expect.forbidden_env
        app = self._app_workload()
        container = main_container(app, self._container_of(self.app or ""))
        names = set(expected) | set(forbidden)
        rec.findings += config.expected_env_findings(
            app,
            dict(expected),
            forbidden={k: tuple(v) for k, v in forbidden.items()},
            configmaps=self._ns("ConfigMap"),
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

    def _secret_length(self, rec: _Record) -> None:
        wanted = self.expect.secret_min_length
        secrets = {name(s): s for s in self._ns("Secret")}
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
                if not self.objects.live:
                    continue  # created outside the release; checked live after the deploy
                rec.findings.append(
                    rules.SECRET_MISSING(
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
        if not self.objects.live and not checked:
            raise _Skip(
                "none of the Secrets in [kubernetes.expect] secret_min_length are among the "
                "manifests (created outside the release); the check runs live after the deploy"
            )

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
            rec.findings.append(rules.INGRESS_HOST(f"Namespace {self.namespace}", message))
            return
        services = self._ns("Service")
        for ing in chosen:
            rec.findings += network.ingress_findings(ing, host, services=services)
            if self.objects.live:
                rec.observe(f"Ingress {name(ing)} address", network.ingress_addresses(ing))
        rec.observe("host", host)

    def _dns(self, rec: _Record) -> None:
        host = self._public_host()
        expected = list(self.expect.dns_addresses)
        if not expected:
            if not self.objects.live:
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
        obj = self.objects.namespace_object()
        rec.findings += rbac.namespace_findings([obj] if obj else [], self.namespace)
        rec.observe(
            f"Namespace {self.namespace} phase",
            dig(obj, "status", "phase") if obj else "absent",
            expected="Active",
        )

    def _verifier(self, rec: _Record) -> None:
        access: VerifierAccess = self.read(declared.ACCESS)
        rules_review = mapping(access.rules)
        rec.findings += rbac.verifier_access_findings(
            {"status": rules_review}, access.reviews, who=access.who
        )
        rec.observe(
            "SelfSubjectRulesReview verbs",
            sorted(
                {
                    str(v)
                    for r in sequence(rules_review.get("resourceRules"))
                    for v in mapping(r).get("verbs", ())
                }
            ),
            expected="get, list, watch only",
            source=f"namespace {access.namespace}",
        )
        rec.observe(
            "SelfSubjectAccessReview allowed",
            {
                f"{dig(r, 'spec', 'resourceAttributes', 'verb')} "
                f"{dig(r, 'spec', 'resourceAttributes', 'resource')}": dig(r, "status", "allowed")
                for r in access.reviews
            },
            expected=False,
        )

    def _storage_class(self, rec: _Record, ref: str) -> None:
        workload = self.objects.workload(ref)
        claimed = {
            str(dig(t, "spec", "storageClassName"))
            for t in sequence(dig(workload, "spec", "volumeClaimTemplates"))
            if dig(t, "spec", "storageClassName")
        }
        required = sorted(set(self.expect.storage_classes) | claimed)
        if not required and not self.expect.require_default_storage_class:
            # Nothing to judge: a pass here would vouch for nothing.
            raise _NotApplicable(
                "the workload claims no storage class; set [kubernetes.expect] storage_classes "
                "or require_default_storage_class to judge the cluster's StorageClasses"
            )
        classes = self.objects.objects("StorageClass", None)
        for wanted in required:
            rec.findings += capacity.storage_class_findings(classes, wanted)
        if self.expect.require_default_storage_class:
            rec.findings += capacity.storage_class_findings(classes, require_default=True)
        rec.observe(
            "required StorageClasses",
            required,
            note=None if required else "none named: only a default StorageClass is required",
        )
        rec.observe("cluster StorageClasses", sorted(name(c) for c in classes))

    def _node_capacity(self, rec: _Record, ref: str) -> None:
        workload = self.objects.workload(ref)
        if kind(workload) == "Job" and jobs.job_state(workload).terminal:
            raise _NotApplicable(
                f"the Job has finished ({jobs.job_state(workload).describe()}): its pods need "
                "no more room on the nodes"
            )
        nodes = self.objects.objects("Node", None)
        # Every pod bound to a node takes room, whatever its namespace.
        pods = self.objects.objects("Pod", None)
        margin = self.expect.capacity_margin
        peak = (
            capacity.peak_replicas(workload, self._ns("HorizontalPodAutoscaler"))
            if self.expect.capacity_worst_case
            else None
        )
        rec.findings += capacity.node_headroom_findings(
            workload, nodes, pods, peak=peak, margin=margin
        )
        need = capacity.pod_requests(pod_spec(workload))
        rec.observe(
            "per pod requests",
            {"cpu": str(need["cpu"]), "memory": str(need["memory"])},
            note=f"{len(capacity.eligible_nodes(pod_spec(workload), nodes))} eligible node(s)",
        )
        if kind(workload) in RUN_TO_COMPLETION_KINDS:
            rec.observe("pods at once (parallelism)", capacity.pods_at_once(workload))
        else:
            rec.observe("replicas", dig(workload, "spec", "replicas"))
        rec.observe(
            "worst case (pods at once)",
            peak.count if peak is not None else None,
            note=peak.because
            if peak is not None
            else "[kubernetes.expect] capacity_worst_case = false: the current replicas only",
        )
        rec.observe(
            "room per eligible node (more pods of this workload)",
            capacity.node_room(workload, nodes, pods, margin=margin),
            note=f"keeping {margin:.0%} of each node's CPU and memory free "
            "([kubernetes.expect] capacity_margin)"
            if margin
            else None,
        )
        claims = capacity.claimed_volumes(workload)
        if not claims:
            rec.observe(
                "persistent volumes",
                [],
                note="the workload claims no PersistentVolumeClaim (how full a volume is, from "
                "kubelet volume stats, is not read)",
            )
            return
        pvcs = self._ns("PersistentVolumeClaim")
        classes = self.objects.objects("StorageClass", None)
        rec.findings += capacity.volume_findings(
            workload, pvcs, classes, require_expansion=self.expect.require_volume_expansion
        )
        rec.observe(
            "persistent volumes",
            capacity.volume_summary(workload, pvcs, classes),
            expected="Bound, capacity >= requested"
            + (", expandable StorageClass" if self.expect.require_volume_expansion else ""),
            note="how full a volume is (kubelet volume stats) is not read",
        )

    def _image_size(self, rec: _Record, ref: str) -> None:
        limit = self.expect.image_size_limit_mb
        assert limit is not None  # the declaration needs it
        workload = self.objects.workload(ref)
        container = main_container(workload, self._container_of(ref))
        if container is None:
            raise ChecklistError(f"{subject(workload)} has no container to check")
        image = str(container.get("image") or "")
        rec.findings += capacity.image_size_findings(
            image,
            self.objects.objects("Node", None),
            int(limit * MB),
            about=subject(workload, _cname(container)),
        )
        rec.observe("image", image, expected=f"<= {limit:g} MB")

    def _helm_release(self, rec: _Record) -> None:
        helm = self._helm()
        release = latest_release(self._ns("Secret"), helm.release)
        app_version = helm.app_version or self.version
        rec.findings += release_findings(
            release,
            release_name=helm.release,
            chart_name=helm.chart,
            chart_version=helm.chart_version,
            app_version=app_version,
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
                    "appVersion": app_version,
                },
                note=compare_versions(app_version, release.app_version).describe()
                if app_version
                else None,
            )

    def _helm_drift(self, rec: _Record) -> None:
        helm = self._helm()
        release = latest_release(self._ns("Secret"), helm.release)
        if release is None:
            raise ChecklistError(
                f"no Helm release {helm.release!r} in namespace {self.namespace} to compare "
                "with (see K8S-HELM-RELEASE)"
            )
        ns = release.namespace or self.namespace
        from pytest_deployverify.components.kubernetes.manifests import parse_documents

        rendered = parse_documents(
            release.manifest, f"release {release.name}", default_namespace=ns
        )
        readable, unreadable = [], []
        for obj in rendered:
            try:
                self.objects.objects(kind(obj), None if kind(obj) in CLUSTER_SCOPED_KINDS else ns)
            except ObjectsUnavailable:
                unreadable.append(f"{kind(obj)} {name(obj)}")
            else:
                readable.append(obj)
        live: list[dict[str, Any]] = []
        for obj_kind in sorted({kind(o) for o in readable}):
            scope = None if obj_kind in CLUSTER_SCOPED_KINDS else ns
            live += self.objects.objects(obj_kind, scope)
        rec.findings += drift_findings(
            readable, live, hpas=self._ns("HorizontalPodAutoscaler"), default_namespace=ns
        )
        rec.observe(
            f"release {release.name} revision {release.version} objects compared",
            [f"{kind(o)} {name(o)}" for o in readable],
            note=f"not compared (kinds the checklist does not read): {', '.join(unreadable)}"
            if unreadable
            else None,
        )

    def _pod_logs(self, rec: _Record, ref: str) -> None:
        logs: PodLogs = self.read(declared.POD_LOGS)
        if ref in logs.skipped:
            raise ChecklistError(f"the logs of {ref} were not read: {logs.skipped[ref]}")
        mine = logs.of(ref)
        obj_kind = parse_workload_ref(ref)[0]
        if not mine and obj_kind in RUN_TO_COMPLETION_KINDS:
            raise _NotApplicable(
                f"{obj_kind} {self.namespace}/{parse_workload_ref(ref)[1]} has no pod now (a "
                "CronJob between runs, or a Job's finished pods removed): no log to read"
            )
        found = pod_log_findings(mine)
        rec.findings += found
        rec.observe(
            f"container logs scanned (last {logs.tail_lines} lines each)",
            scanned_summary(mine),
            expected="no private key, token or password in any line",
            note="previous instances are read for containers that restarted",
        )
        rec.observe(
            "secrets found (values not shown)",
            [f"{f.subject}: {f.message.split(';', 1)[0]}" for f in found],
            expected=[],
        )

    def _image_vulns(self, rec: _Record) -> None:
        expect = self.expect.vulnerabilities
        assert expect is not None  # the declaration needs it
        scans: vulns.ImageScans = self.read(declared.IMAGE_SCANS)
        if self.objects.live:
            images = vulns.running_images(self._ns("Pod"))
            what = f"the pods of namespace {self.namespace}"
            scheduled = self._scheduled_images(images)
            if scheduled:
                images += scheduled
                what += " and the pod templates of the listed Jobs and CronJobs"
        else:
            images = vulns.template_images(self.scanner.workloads())
            what = f"the pod templates of {self.objects.where}"
        if not images:
            raise _NotApplicable(f"no image runs in {what}")
        verdicts = vulns.judge_images(
            images, scans, expect, waiver_max_days=self.profile.policy.waiver_max_days
        )
        for verdict in verdicts:
            rec.findings += verdict.findings
            owner = verdict.image.owners[0] if verdict.image.owners else ("Image", "", "")
            rec.located += [Located(f, owner, owner) for f in verdict.findings]
        rec.observe(
            "reports read",
            list(scans.sources),
            note="; ".join(scans.notes) or None,
        )
        rec.observe(
            "images judged",
            [verdict.summary() for verdict in verdicts],
            expected=f"a report (matched by digest where known) younger than "
            f"{expect.max_report_age}; no vulnerability at or above {expect.severity.value} "
            "but those an ignore entry in force accepts",
            source=what,
        )

    def _scheduled_images(self, running: list[vulns.RunningImage]) -> list[vulns.RunningImage]:
        """Images of the listed Jobs and CronJobs that no pod runs now (a finished Job, a
        CronJob between runs): they ran or will run, so their templates are judged."""
        batch: list[KubeObject] = []
        for ref in self.workloads:
            if parse_workload_ref(ref)[0] in RUN_TO_COMPLETION_KINDS:
                try:
                    batch.append(self.objects.workload(ref))
                except WorkloadError:
                    continue  # K8S-ROLLOUT and the per-workload items name it
        shown = {image.image for image in running}
        return [i for i in vulns.template_images(batch) if i.image not in shown]

    # ---- shared pieces -----------------------------------------------------------------------

    def _public_host(self) -> str:
        host = self.expect.public_host
        assert host is not None  # the declaration needs it
        return host

    def _ingresses(self, host: str) -> list[dict[str, Any]]:
        ingresses = self._ns("Ingress")
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
        helm = self.expect.helm
        assert helm is not None  # the declaration needs it
        return helm


def manifest_reads(objects: KubeObjects, section: KubernetesConfig) -> Read:
    """What pre-deploy mode reads besides the objects: their schema validation, and the
    vulnerability report files the profile names."""
    cache: dict[str, Any] = {}

    def read(ref: str) -> Any:
        if ref == declared.IMAGE_SCANS:
            if section.expect.vulnerabilities is None:
                raise NotApplicable("[kubernetes.expect.vulnerabilities] is not set")
            if ref not in cache:
                from pytest_deployverify.components.kubernetes.reads import read_image_scans

                cache[ref] = read_image_scans(None, section, live=False)
            return cache[ref]
        if ref != declared.SCHEMA_READ:
            raise NotApplicable(PREDEPLOY_SKIP)
        if ref not in cache:
            from pytest_deployverify.components.kubernetes.schema import validate_objects

            cache[ref] = validate_objects(objects.manifests, section.expect.schema_version)
        return cache[ref]

    return read


def _no_read(ref: str) -> Any:
    raise ChecklistError(f"{ref} was not handed to the checklist")


def _section(profile: Profile) -> KubernetesConfig:
    section = profile.component("kubernetes")
    if not isinstance(section, KubernetesConfig):
        raise ChecklistError(f"kubernetes is not configured for environment {profile.name}")
    return section


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
