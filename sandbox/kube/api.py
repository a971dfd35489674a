"""Request semantics: routing by the real URL layout, auth, RBAC, list/get, selectors, paging.

Independent of HTTP plumbing: `KubeApi.handle` takes a parsed `ApiRequest` and returns bytes to
send (or a watch stream); failures are `ApiError`s carrying a `Status`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.kube import discovery, paging
from sandbox.kube.access import AccessPolicy
from sandbox.kube.logs import PodLogs, resolve_container
from sandbox.kube.requestlog import RequestRecord
from sandbox.kube.resources import REVIEW_RESOURCES, ResourceType, by_path
from sandbox.kube.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from sandbox.kube.status import (
    ApiError,
    bad_request,
    expired,
    forbidden,
    method_not_allowed,
    not_found,
    path_not_found,
    unauthorized,
)
from sandbox.kube.store import ObjectStore, Snapshot

_HEALTH_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
_WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_DEFAULT_WATCH_SECONDS = 30.0
_EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter."
)


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    authorization: str | None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass(frozen=True)
class WatchStream:
    """A watch answer: these JSON event lines, then the stream stays open for `timeout` s."""

    events: tuple[bytes, ...]
    timeout: float


@dataclass(frozen=True)
class _Route:
    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def _json(status: int, doc: dict[str, Any]) -> ApiResponse:
    return ApiResponse(status, json.dumps(doc, separators=(",", ":")).encode())


class KubeApi:
    """The API server's behaviour over an `ObjectStore` and an `AccessPolicy`."""

    def __init__(
        self,
        store: ObjectStore,
        access: AccessPolicy,
        token: Callable[[], str],
        server_address: Callable[[], str],
        git_version: str = "v1.32.3",
        logs: PodLogs | None = None,
    ) -> None:
        self.store = store
        self.access = access
        self.logs = logs if logs is not None else PodLogs()
        self._token = token
        self._server_address = server_address
        self.git_version = git_version

    def handle(self, req: ApiRequest, record: RequestRecord) -> ApiResponse | WatchStream:
        try:
            return self._handle(req, record)
        except ApiError as err:
            return _json(err.code, err.status)

    # ---- dispatch -----------------------------------------------------------------------------

    def _handle(self, req: ApiRequest, record: RequestRecord) -> ApiResponse | WatchStream:
        path = req.path.rstrip("/") or "/"
        if path in _HEALTH_PATHS and req.method == "GET":
            return ApiResponse(200, b"ok", "text/plain; charset=utf-8")
        self._authenticate(req)
        parts = [p for p in path.split("/") if p]
        if parts == ["version"]:
            return self._read_only(req, discovery.version_info(self.git_version))
        if parts == ["api"]:
            return self._read_only(req, discovery.api_versions(self._server_address()))
        if parts == ["apis"]:
            return self._read_only(req, discovery.api_group_list())
        if len(parts) >= 2 and parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        elif len(parts) >= 2 and parts[0] == "apis":
            if len(parts) == 2:
                doc = discovery.api_group(parts[1])
                if doc is None:
                    raise path_not_found()
                return self._read_only(req, doc)
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise path_not_found()
        if not rest:
            doc = discovery.resource_list(group, version)
            if doc is None:
                raise path_not_found()
            return self._read_only(req, doc)
        route = self._route(group, version, rest)
        record.resource = route.resource.plural
        record.namespace = route.namespace
        if route.resource in REVIEW_RESOURCES:
            record.verb = "create" if req.method == "POST" else None
            return self._review(req, route)
        if route.resource.plural == "pods" and route.subresource == "log":
            return self._log(req, route, record)
        return self._resource(req, route, record)

    def _authenticate(self, req: ApiRequest) -> None:
        header = req.authorization or ""
        scheme, _, token = header.partition(" ")
        expected = self._token()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
            raise unauthorized()

    @staticmethod
    def _read_only(req: ApiRequest, doc: dict[str, Any]) -> ApiResponse:
        if req.method != "GET":
            raise method_not_allowed()
        return _json(200, doc)

    @staticmethod
    def _route(group: str, version: str, rest: list[str]) -> _Route:
        # /namespaces/{ns}/{plural}[/{name}[/{sub}]] for namespaced resources ...
        if len(rest) >= 3 and rest[0] == "namespaces":
            resource = by_path(group, version, rest[2])
            if resource is not None and resource.namespaced and len(rest) <= 5:
                name = rest[3] if len(rest) >= 4 else None
                sub = rest[4] if len(rest) == 5 else None
                return _Route(resource, rest[1], name, sub)
        # ... /{plural}[/{name}[/{sub}]] for cluster-scoped ones and cluster-wide lists.
        resource = by_path(group, version, rest[0])
        if resource is None or len(rest) > 3 or (resource.namespaced and len(rest) > 1):
            raise path_not_found()
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else None
        return _Route(resource, None, name, sub)

    # ---- stored resources ---------------------------------------------------------------------

    def _resource(
        self, req: ApiRequest, route: _Route, record: RequestRecord
    ) -> ApiResponse | WatchStream:
        resource = route.resource
        if route.subresource not in (None, "status"):
            raise path_not_found()
        if req.method == "GET":
            if route.name is None:
                verb = "watch" if _truthy(req.param("watch")) else "list"
            else:
                verb = "get"
        elif req.method in _WRITE_VERBS:
            verb = _WRITE_VERBS[req.method]
            if verb == "delete" and route.name is None:
                verb = "deletecollection"
        else:
            record.verb = None
            raise method_not_allowed()
        record.verb = verb
        if not self.access.allows(verb, resource.group, resource.plural, route.namespace):
            raise forbidden(resource, verb, self.access.user, route.namespace, route.name)
        if verb == "get":
            assert route.name is not None
            stored = self.store.lookup(resource, route.namespace, route.name)
            if stored is None:
                raise not_found(resource, route.name)
            return ApiResponse(200, stored.get_json())
        if verb == "list":
            return self._list(req, route)
        if verb == "watch":
            return self._watch(req, route)
        # Writes are outside the emulator's scope; the attempt is recorded by the caller.
        raise method_not_allowed()

    def _log(self, req: ApiRequest, route: _Route, record: RequestRecord) -> ApiResponse:
        """``GET .../pods/{name}/log``: the container's log as text (tailLines, limitBytes,
        previous, container), authorized as ``get`` on ``pods/log``."""
        resource = route.resource
        record.resource = "pods/log"
        if req.method != "GET":
            record.verb = None
            raise method_not_allowed()
        record.verb = "get"
        if not self.access.allows("get", resource.group, "pods/log", route.namespace):
            raise forbidden(
                resource, "get", self.access.user, route.namespace, route.name, subresource="log"
            )
        if route.name is None or route.namespace is None:
            raise path_not_found()
        stored = self.store.lookup(resource, route.namespace, route.name)
        if stored is None:
            raise not_found(resource, route.name)
        previous = _truthy(req.param("previous"))
        container, problem = resolve_container(stored.obj, req.param("container"), previous)
        if problem is not None:
            raise bad_request(problem)
        lines = self.logs.lines(route.namespace, route.name, container, previous)
        tail = _limit(req.param("tailLines"))
        if tail is not None:
            lines = lines[-tail:] if tail else []
        body = "".join(line + "\n" for line in lines).encode()
        limit = _limit(req.param("limitBytes"))
        if limit is not None:
            body = body[:limit]
        return ApiResponse(200, body, "text/plain")

    def _list(self, req: ApiRequest, route: _Route) -> ApiResponse:
        resource = route.resource
        labels, fields = _selectors(req, resource)
        limit = _limit(req.param("limit"))
        token_text = req.param("continue")
        if token_text:
            token = paging.decode(token_text, resource.group_resource)
            snap = self.store.recall(resource, token.resource_version)
            if snap is None:
                raise expired(_EXPIRED_MESSAGE)
            lo, hi = snap.namespace_range(route.namespace)
            lo = max(lo, snap.position_after((token.namespace, token.name)))
        else:
            snap = self.store.snapshot(resource)
            lo, hi = snap.namespace_range(route.namespace)

        selected: list[bytes] = []
        index = lo
        last_key: tuple[str, str] | None = None
        more = False
        filtering = bool(labels.requirements or fields.terms)
        for index in range(lo, hi):
            stored = snap.items[index]
            if filtering and not (
                labels.matches(stored.obj["metadata"].get("labels")) and fields.matches(stored.obj)
            ):
                continue
            if limit is not None and len(selected) == limit:
                more = True
                break
            selected.append(stored.item_json)
            last_key = stored.key

        meta: dict[str, Any] = {"resourceVersion": str(snap.resource_version)}
        if more and last_key is not None:
            self.store.remember(resource, snap)
            meta["continue"] = paging.encode(
                paging.ContinueToken(
                    snap.resource_version, resource.group_resource, last_key[0], last_key[1]
                )
            )
            if not filtering:
                # Like the real server: only known exactly when no selector filters the list.
                meta["remainingItemCount"] = hi - index
        return ApiResponse(200, _list_body(resource, meta, selected))

    def _watch(self, req: ApiRequest, route: _Route) -> WatchStream:
        labels, fields = _selectors(req, route.resource)
        snap: Snapshot = self.store.snapshot(route.resource)
        lo, hi = snap.namespace_range(route.namespace)
        events = tuple(
            b'{"type":"ADDED","object":' + s.get_json() + b"}\n"
            for s in snap.items[lo:hi]
            if labels.matches(s.obj["metadata"].get("labels")) and fields.matches(s.obj)
        )
        timeout_text = req.param("timeoutSeconds")
        try:
            timeout = float(timeout_text) if timeout_text else _DEFAULT_WATCH_SECONDS
        except ValueError:
            raise bad_request(f"invalid timeoutSeconds: {timeout_text!r}") from None
        return WatchStream(events, max(0.0, timeout))

    # ---- self reviews -------------------------------------------------------------------------

    def _review(self, req: ApiRequest, route: _Route) -> ApiResponse:
        if req.method != "POST" or route.name is not None or route.namespace is not None:
            raise method_not_allowed()
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            raise bad_request("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise bad_request("the request body must be an object")
        spec = body.get("spec") or {}
        resource = route.resource
        if resource.plural == "selfsubjectaccessreviews":
            status = self.access.access_review_status(spec)
        elif resource.plural == "selfsubjectrulesreviews":
            namespace = str(spec.get("namespace") or "")
            if not namespace:
                raise bad_request("no namespace on request")
            status = self.access.rules_review_status(namespace)
        else:
            status = {
                "userInfo": {"username": self.access.user, "groups": list(self.access.groups)}
            }
            spec = None
        doc: dict[str, Any] = {
            "kind": resource.kind,
            "apiVersion": resource.api_version,
            "metadata": {},
        }
        if spec is not None:
            doc["spec"] = spec
        doc["status"] = status
        return _json(201, doc)


def _list_body(resource: ResourceType, meta: dict[str, Any], items: list[bytes]) -> bytes:
    head = json.dumps(
        {"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": meta},
        separators=(",", ":"),
    ).encode()
    return head[:-1] + b',"items":[' + b",".join(items) + b"]}"


def _selectors(req: ApiRequest, resource: ResourceType) -> tuple[LabelSelector, FieldSelector]:
    try:
        labels = parse_label_selector(req.param("labelSelector") or "")
        fields = parse_field_selector(req.param("fieldSelector") or "", resource.field_labels)
    except SelectorError as err:
        raise bad_request(str(err)) from None
    return labels, fields


def _limit(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"invalid limit: {raw!r}") from None
    return value if value > 0 else None


def _truthy(raw: str | None) -> bool:
    return raw is not None and raw.lower() in ("true", "1")
