"""The read-only Kubernetes reader handed to checks.

Built on the official client from a kubeconfig file and context, or the in-cluster service
account, without touching the client's global default configuration. No hidden retries
(``retries = 0``), a timeout on every call, pagination with ``limit``/``continue``, and a per-run
cache so fifty checks over the pods of one namespace cost one LIST (plus its pages).

Objects come back as plain dicts parsed straight from the JSON body: checks only need data, and
skipping the client's model classes is several times faster (``bench/bench_kube_parse.py``).
Each item carries ``kind`` and ``apiVersion`` like a manifest does, so the same check functions
run on live objects and on rendered manifests. Cached dicts are shared: treat them as read-only.

The reader is thread-safe: ``list_many`` sends independent LISTs concurrently (the run waits one
round trip for every kind, not one per kind), and concurrent first reads of the same list wait
for one request. Container logs (``pod_log``, a GET of the ``pods/log`` subresource) come back
as text lines, never cached.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import kubernetes.client as k8s
import urllib3
from kubernetes.client import Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config import ConfigException, load_incluster_config, load_kube_config
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError

from pytest_deployverify.components.errors import ComponentUnavailable, causes, network_problem
from pytest_deployverify.components.kubernetes import KubernetesConfig
from pytest_deployverify.components.kubernetes.errors import (
    KubeApiError,
    KubeError,
    KubeForbidden,
    KubeNotFound,
    KubeUnauthorized,
    KubeUnreachable,
    ReadOnlyViolation,
)
from pytest_deployverify.components.kubernetes.guard import ReadOnlyApiClient
from pytest_deployverify.components.kubernetes.kinds import KINDS, Kind, resolve_kind
from pytest_deployverify.components.kubernetes.selectors import object_labels, parse_label_selector

__all__ = [
    "KINDS",
    "KubeApiError",
    "KubeError",
    "KubeForbidden",
    "KubeNotFound",
    "KubeReader",
    "KubeUnauthorized",
    "KubeUnreachable",
    "ReadOnlyViolation",
    "build_kube_reader",
    "kube_configuration",
]

COMPONENT = "kubernetes"
MAX_CONCURRENT = 16  # requests in flight at once; the connection pool is sized for it
LOG_LIMIT_BYTES = 1_048_576  # a tail of a few hundred lines never needs more
T = TypeVar("T")
R = TypeVar("R")
ListKey = tuple[str, str | None, str | None, str | None]  # kind, namespace, labels, fields
ObjectKey = tuple[str, str | None, str]  # kind, namespace, name
# ``KubeReader.list`` shadows the builtin inside the class body.
Objects = list[dict[str, Any]]
Lines = list[str]


def kube_configuration(config: KubernetesConfig) -> Configuration:
    """A fresh client ``Configuration`` (never the process-wide default) with retries off."""
    # type.__call__ bypasses any default-copying constructor, as new_client_from_config does.
    configuration: Configuration = type.__call__(Configuration)
    if config.in_cluster:
        load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    else:
        # What new_client_from_config does, but the ApiClient we build from it is read-only.
        load_kube_config(  # type: ignore[no-untyped-call]
            config_file=config.kubeconfig,
            context=config.context,
            client_configuration=configuration,
            persist_config=False,  # never rewrite the user's kubeconfig (token refreshes)
        )
    # urllib3 retries 3 times by default; client-go style retries are opt-in and stay off.
    configuration.retries = 0
    configuration.client_go_retries = False
    # Concurrent LISTs each hold a connection: a pool smaller than that would open and drop
    # extra connections (a TLS handshake each) instead of reusing them.
    configuration.connection_pool_maxsize = MAX_CONCURRENT
    return configuration


def concurrently(
    call: Callable[[T], R], items: Iterable[T], *, max_workers: int = MAX_CONCURRENT
) -> list[R | Exception]:
    """``call(item)`` for every item, at most ``max_workers`` at a time; results (or the
    exception each raised) in the order of ``items``."""
    work = list(items)

    def guarded(item: T) -> R | Exception:
        try:
            return call(item)
        except Exception as exc:  # handed back to the caller, who decides what it means
            return exc

    if len(work) <= 1:
        return [guarded(item) for item in work]
    with ThreadPoolExecutor(
        max_workers=min(max_workers, len(work)), thread_name_prefix="deployverify-kube"
    ) as pool:
        return list(pool.map(guarded, work))


class KubeReader:
    """Lists and gets objects as dicts; refuses every mutating request before sending it."""

    def __init__(
        self,
        api_client: ReadOnlyApiClient,
        *,
        timeout: float,
        page_size: int = 500,
        default_namespace: str = "default",
        endpoint: str | None = None,
    ) -> None:
        self.api_client = api_client
        self.timeout = timeout
        self.page_size = page_size
        self.default_namespace = default_namespace
        self.endpoint = endpoint or str(api_client.configuration.host)
        self._apis: dict[str, Any] = {}
        self._lists: dict[ListKey, Objects] = {}
        self._objects: dict[ObjectKey, dict[str, Any]] = {}
        self._reviews: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._lock = threading.Lock()
        self.requests_sent = 0
        self.cache_hits = 0

    @classmethod
    def from_config(cls, config: KubernetesConfig) -> KubeReader:
        configuration = kube_configuration(config)
        where = str(configuration.host)
        if config.context:
            where += f" (context {config.context})"
        return cls(
            ReadOnlyApiClient(configuration),
            timeout=config.timeout,
            page_size=config.page_size,
            default_namespace=config.namespace,
            endpoint=where,
        )

    # ---- reads --------------------------------------------------------------------------------

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        *,
        fresh: bool = False,
    ) -> Objects:
        """Every object of ``kind`` (in ``namespace``; all namespaces when None), paginated.

        Served from the run's cache when the same read, or an unfiltered read it can be cut
        from, was made before; ``fresh=True`` asks the server again (and refreshes the cache).
        """
        spec = resolve_kind(kind)
        ns = namespace if spec.namespaced else None
        key: ListKey = (spec.plural, ns, label_selector or None, field_selector or None)
        with self._key_lock(("list", *key)):
            if not fresh:
                cached = self._cached_list(spec, key)
                if cached is not None:
                    self._hit()
                    return cached
            items = self._list_pages(spec, ns, key[2], key[3])
            with self._lock:
                self._lists[key] = items
            return list(items)

    def list_many(
        self, scopes: Iterable[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], Objects | KubeError]:
        """``list(kind, namespace)`` for every ``(kind, namespace)``, concurrently; each answer is
        the objects or the ``KubeError`` that read raised (a 403 on one kind fails that kind
        only). Other exceptions propagate."""
        wanted = list(dict.fromkeys(scopes))
        answers = concurrently(lambda scope: self.list(scope[0], scope[1]), wanted)
        results: dict[tuple[str, str | None], Objects | KubeError] = {}
        for scope, answer in zip(wanted, answers, strict=True):
            if isinstance(answer, Exception) and not isinstance(answer, KubeError):
                raise answer
            results[scope] = answer
        return results

    def pod_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        tail_lines: int,
        previous: bool = False,
        limit_bytes: int = LOG_LIMIT_BYTES,
    ) -> Lines:
        """The last ``tail_lines`` lines of a container's log (``previous``: of the instance
        before its last restart). A GET of ``pods/log``; never cached."""
        api = self._api_class("CoreV1Api")
        kwargs: dict[str, Any] = {
            "container": container,
            "tail_lines": tail_lines,
            "limit_bytes": limit_bytes,
        }
        if previous:
            kwargs["previous"] = True
        body = self._send(
            api.read_namespaced_pod_log,
            (pod, namespace),
            kwargs,
            "get",
            None,
            namespace,
            pod,
            resource="pods/log",
        )
        return body.decode("utf-8", errors="replace").splitlines()

    def get(
        self, kind: str, namespace: str | None, name: str, *, fresh: bool = False
    ) -> dict[str, Any]:
        """One object; ``KubeNotFound`` if it does not exist."""
        spec = resolve_kind(kind)
        ns = (namespace or self.default_namespace) if spec.namespaced else None
        key = (spec.plural, ns, name)
        with self._key_lock(("get", *key)):
            if not fresh:
                with self._lock:
                    found = self._objects.get(key)
                    base = self._lists.get((spec.plural, ns, None, None))
                    if found is None and base is None and ns is not None:
                        base = self._lists.get((spec.plural, None, None, None))
                if found is None and base is not None:
                    found = next((o for o in base if _identity(o) == (ns, name)), None)
                if found is not None:
                    self._hit()
                    return found
            api = self._api(spec)
            args = spec.args(ns, name)
            obj = self._call(getattr(api, spec.read_method), args, {}, "get", spec, ns, name)
            _stamp(obj, spec)
            with self._lock:
                self._objects[key] = obj
            return obj

    def self_subject_rules_review(self, namespace: str | None = None) -> dict[str, Any]:
        """What the verifier may do in ``namespace``: the review's ``status`` (resourceRules…)."""
        ns = namespace or self.default_namespace
        key = ("rules", ns)
        with self._key_lock(key):
            if key not in self._reviews:
                body = k8s.V1SelfSubjectRulesReview(
                    api_version="authorization.k8s.io/v1",
                    kind="SelfSubjectRulesReview",
                    spec=k8s.V1SelfSubjectRulesReviewSpec(namespace=ns),
                )
                api = self._api_class("AuthorizationV1Api")
                doc = self._call(
                    api.create_self_subject_rules_review,
                    (body,),
                    {},
                    "create",
                    None,
                    ns,
                    None,
                    resource="selfsubjectrulesreviews.authorization.k8s.io",
                )
                self._reviews[key] = doc.get("status") or {}
            return self._reviews[key]

    def self_subject_access_review(
        self,
        verb: str,
        resource: str,
        namespace: str | None = None,
        *,
        group: str | None = None,
        subresource: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Whether the verifier may ``verb`` ``resource``: the review's ``status`` (``allowed``…).

        ``group`` defaults to the group of a kind this reader knows (``deployments`` → apps)."""
        if group is None:
            try:
                spec = resolve_kind(resource)
            except ValueError:
                group = ""
            else:
                group, resource = spec.group, spec.resource
        key = ("access", verb, resource, namespace, group, subresource, name)
        with self._key_lock(key):
            if key not in self._reviews:
                attributes = k8s.V1ResourceAttributes(
                    verb=verb,
                    resource=resource,
                    namespace=namespace,
                    group=group,
                    subresource=subresource,
                    name=name,
                )
                body = k8s.V1SelfSubjectAccessReview(
                    api_version="authorization.k8s.io/v1",
                    kind="SelfSubjectAccessReview",
                    spec=k8s.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes),
                )
                api = self._api_class("AuthorizationV1Api")
                doc = self._call(
                    api.create_self_subject_access_review,
                    (body,),
                    {},
                    "create",
                    None,
                    namespace,
                    None,
                    resource="selfsubjectaccessreviews.authorization.k8s.io",
                )
                self._reviews[key] = doc.get("status") or {}
            return self._reviews[key]

    def can(self, verb: str, resource: str, namespace: str | None = None) -> bool:
        """True when a SelfSubjectAccessReview allows ``verb`` on ``resource``."""
        return bool(self.self_subject_access_review(verb, resource, namespace).get("allowed"))

    def version(self) -> dict[str, Any]:
        """``GET /version``: the server's build info (the probe: cheap, but authenticated)."""
        api = self._api_class("VersionApi")
        return self._call(api.get_code, (), {}, "get", None, None, None, resource="/version")

    # ---- cache --------------------------------------------------------------------------------

    def invalidate(self, kind: str | None = None) -> None:
        """Forget cached reads (of one kind, or all), e.g. before re-reading a rollout."""
        plural = resolve_kind(kind).plural if kind else None
        with self._lock:
            for key in [k for k in self._lists if plural is None or k[0] == plural]:
                del self._lists[key]
            for obj_key in [k for k in self._objects if plural is None or k[0] == plural]:
                del self._objects[obj_key]
            if plural is None:
                self._reviews.clear()

    def close(self) -> None:
        self.api_client.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> KubeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ----------------------------------------------------------------------------

    def _cached_list(self, spec: Kind, key: ListKey) -> Objects | None:
        plural, ns, labels, fields = key
        with self._lock:
            exact = self._lists.get(key)
            if exact is not None:
                return list(exact)
            if fields is not None:
                return None  # field selectors are evaluated by the server only
            base = self._lists.get((plural, ns, None, None))
            if base is None and ns is not None:
                everywhere = self._lists.get((plural, None, None, None))
                if everywhere is not None:
                    base = [o for o in everywhere if _identity(o)[0] == ns]
        if base is None:
            return None
        if labels is None:
            return list(base)
        matches = parse_label_selector(labels)
        if matches is None:
            return None
        return [o for o in base if matches(object_labels(o))]

    def _list_pages(
        self, spec: Kind, ns: str | None, labels: str | None, fields: str | None
    ) -> Objects:
        api = self._api(spec)
        method = getattr(api, spec.list_method(all_namespaces=ns is None))
        args = spec.args(ns)
        restarted = False
        items: Objects = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": self.page_size}
            if labels:
                kwargs["label_selector"] = labels
            if fields:
                kwargs["field_selector"] = fields
            if token:
                kwargs["_continue"] = token
            try:
                doc = self._call(method, args, kwargs, "list", spec, ns, None)
            except KubeApiError as exc:
                # 410 Gone: the continue token expired mid-way; start one consistent list again.
                if exc.status == 410 and token and not restarted:
                    restarted, items, token = True, [], None
                    continue
                raise
            for item in doc.get("items") or ():
                _stamp(item, spec)
                items.append(item)
            token = (doc.get("metadata") or {}).get("continue") or None
            if not token:
                return items

    def _call(
        self,
        method: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        verb: str,
        spec: Kind | None,
        namespace: str | None,
        name: str | None,
        *,
        resource: str | None = None,
    ) -> dict[str, Any]:
        what = resource or (spec.group_resource if spec else "?")
        body = self._send(method, args, kwargs, verb, spec, namespace, name, resource=resource)
        try:
            doc = json.loads(body)
        except ValueError as exc:
            problem = f"answered {verb} {what} with a body that is not JSON: {exc}"
            raise KubeApiError(
                f"{COMPONENT} at {self.endpoint} {problem}", status=200, problem=problem
            ) from None
        if not isinstance(doc, dict):
            raise KubeApiError(
                f"{COMPONENT} at {self.endpoint} answered with {type(doc)}", status=200
            )
        return doc

    def _send(
        self,
        method: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        verb: str,
        spec: Kind | None,
        namespace: str | None,
        name: str | None,
        *,
        resource: str | None = None,
    ) -> bytes:
        """One request; the raw body, or a ``KubeError`` saying what failed and the fix."""
        what = resource or (spec.group_resource if spec else "?")
        with self._lock:
            self.requests_sent += 1
        try:
            response = method(
                *args,
                _preload_content=False,
                _request_timeout=(self.timeout, self.timeout),
                **kwargs,
            )
            try:
                body = response.data
            finally:
                response.release_conn()
        except ReadOnlyViolation:
            raise
        except ApiException as exc:
            raise self._api_error(exc, verb, what, spec, namespace, name) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            problem = network_problem(exc, self.timeout, _phase(exc)) or (
                f"is unreachable: {type(exc).__name__}: {exc}"
            )
            raise KubeUnreachable(f"{COMPONENT} at {self.endpoint} {problem}", problem) from exc
        return bytes(body)

    def _api_error(
        self,
        exc: ApiException,
        verb: str,
        what: str,
        spec: Kind | None,
        namespace: str | None,
        name: str | None,
    ) -> KubeError:
        status = int(exc.status or 0)
        detail = _status_message(exc)
        target = what + (f" {name!r}" if name else "")
        scope = f" in namespace {namespace}" if namespace else ""
        if status == 401:
            problem = (
                f"rejected the credentials (401 Unauthorized) for {verb} {target}{scope}: "
                "check the token or client certificate of the kubeconfig context (expired? "
                "wrong cluster?)"
            )
            return KubeUnauthorized(f"{COMPONENT} at {self.endpoint} {problem}", problem)
        if status == 403:
            if spec is not None and spec.namespaced and namespace:
                fix = (
                    f"grant the verifier a Role in namespace {namespace} with verbs [get, list] "
                    f"on {spec.group_resource} (bound by a RoleBinding)"
                )
            elif spec is not None:
                fix = (
                    f"grant the verifier a ClusterRole with verbs [get, list] on "
                    f"{spec.group_resource} (bound by a ClusterRoleBinding)"
                )
            elif "/" in what and namespace:  # a subresource: pods/log
                fix = (
                    f"grant the verifier a Role in namespace {namespace} with verb [{verb}] on "
                    f"{what} (bound by a RoleBinding)"
                )
            else:
                fix = f"grant the verifier {verb} on {what}"
            problem = f"forbids {verb} {target}{scope} (403 Forbidden: {detail}); fix: {fix}"
            return KubeForbidden(
                f"{COMPONENT} at {self.endpoint} {problem}",
                verb=verb,
                resource=what,
                namespace=namespace,
                problem=problem,
            )
        if status == 404:
            problem = (
                f"has no {target}{scope} (404 Not Found: {detail})"
                if name
                else f"does not serve {target}{scope} (404 Not Found: {detail})"
            )
            return KubeNotFound(f"{COMPONENT} at {self.endpoint} {problem}", problem)
        problem = f"answered {verb} {target}{scope} with {status} {exc.reason}: {detail}"
        return KubeApiError(
            f"{COMPONENT} at {self.endpoint} {problem}", status=status, problem=problem
        )

    def _hit(self) -> None:
        with self._lock:
            self.cache_hits += 1

    def _api(self, spec: Kind) -> Any:
        return self._api_class(spec.api_class)

    def _api_class(self, name: str) -> Any:
        with self._lock:
            api = self._apis.get(name)
            if api is None:
                api = self._apis[name] = getattr(k8s, name)(self.api_client)
            return api

    def _key_lock(self, key: tuple[Any, ...]) -> threading.Lock:
        # Concurrent first reads of the same key wait for one request instead of racing.
        with self._lock:
            lock = self._key_locks.get(key)
            if lock is None:
                lock = self._key_locks[key] = threading.Lock()
            return lock


def _identity(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace"), metadata.get("name")


def _stamp(obj: dict[str, Any], spec: Kind) -> None:
    """List items come without kind/apiVersion; put them back so items read like manifests."""
    obj.setdefault("apiVersion", spec.api_version)
    obj.setdefault("kind", spec.kind)


def _status_message(exc: ApiException) -> str:
    try:
        doc = json.loads(exc.body or "")
    except ValueError:
        return str(exc.reason or "").strip() or "no detail"
    if isinstance(doc, dict) and doc.get("message"):
        return str(doc["message"])
    return str(exc.reason or "no detail")


def _phase(exc: BaseException) -> str | None:
    for item in causes(exc):
        reason = getattr(item, "reason", None)
        for candidate in (item, reason):
            if isinstance(candidate, ConnectTimeoutError):
                return "connect"
            if isinstance(candidate, ReadTimeoutError):
                return "read"
    return None


def build_kube_reader(config: KubernetesConfig) -> KubeReader:
    """The probed reader: ``GET /version`` (authenticated) must answer within the timeout."""
    source = (
        "in-cluster service account"
        if config.in_cluster
        else f"kubeconfig {config.kubeconfig or '(default)'}"
        + (f" (context {config.context})" if config.context else "")
    )
    try:
        reader = KubeReader.from_config(config)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        raise ComponentUnavailable(
            COMPONENT, source, f"could not be configured: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        reader.version()
    except KubeError as exc:
        reader.close()
        raise ComponentUnavailable(COMPONENT, reader.endpoint, exc.problem) from exc
    return reader
