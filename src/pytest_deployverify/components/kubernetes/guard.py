"""An ``ApiClient`` of the official client that cannot change the cluster.

Every request the generated API classes make passes ``param_serialize`` (building it), then
``call_api`` and ``rest_client.request`` (sending it). All three refuse mutating verbs, so even
``CoreV1Api(reader.api_client).delete_namespaced_pod(...)`` raises ``ReadOnlyViolation`` before a
byte is sent; the three layers keep the guard when one is bypassed (``kubernetes.stream``
replaces ``call_api`` on the instance for websocket calls, for example).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kubernetes.client import ApiClient, Configuration
from kubernetes.client.rest import RESTClientObject

from pytest_deployverify.components.kubernetes.errors import ReadOnlyViolation

SAFE_METHODS = frozenset({"GET", "HEAD"})
# POSTs that create nothing: the server answers a question about the caller's own permissions.
REVIEW_PATHS = (
    "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
)
# Subresources that act on a workload even through GET (websocket upgrades, proxying).
ACTING_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})


def check_read_only(method: str, url: str) -> None:
    """Raise ``ReadOnlyViolation`` unless ``method url`` is a read or a self-review."""
    verb = method.upper()
    path = urlsplit(url).path.rstrip("/")
    segments = [part for part in path.split("/") if part]
    if verb in SAFE_METHODS:
        subresource = _subresource(segments)
        if subresource in ACTING_SUBRESOURCES:
            raise ReadOnlyViolation(
                f"refused {verb} {path}: {subresource} acts on a workload; the "
                "deployverify Kubernetes reader only reads (no request was sent)"
            )
        return
    if verb == "POST" and path.endswith(REVIEW_PATHS):
        return
    raise ReadOnlyViolation(
        f"refused {verb} {path}: the deployverify Kubernetes reader is read-only and sends "
        "only GET (plus SelfSubject*Review POSTs, which write nothing); no request was sent"
    )


def _subresource(segments: list[str]) -> str | None:
    """``exec`` for ``.../api/v1/namespaces/ns/pods/web-0/exec``; None for a plain object path.

    Parsed by position, so an object that happens to be named ``exec`` is still readable."""
    roots = [i for i, part in enumerate(segments) if part in ("api", "apis")]
    if not roots:
        return None
    root = roots[0]
    # /api/<version>/... or /apis/<group>/<version>/...
    rest = segments[root + (2 if segments[root] == "api" else 3) :]
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]  # namespaces/<ns>/<resource>/<name>/<subresource>
    return rest[2] if len(rest) >= 3 else None


class ReadOnlyRESTClient(RESTClientObject):
    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        check_read_only(method, url)
        return super().request(method, url, *args, **kwargs)  # type: ignore[no-untyped-call]


class ReadOnlyApiClient(ApiClient):
    """``kubernetes.client.ApiClient`` that refuses every mutating request before sending it."""

    def __init__(self, configuration: Configuration, **kwargs: Any) -> None:
        super().__init__(configuration, **kwargs)
        # Replace the transport with the guarded one; the parent's pool has sent nothing yet.
        self.rest_client.close()
        self.rest_client = ReadOnlyRESTClient(configuration)

    def param_serialize(self, method: str, resource_path: str, *args: Any, **kwargs: Any) -> Any:
        check_read_only(method, resource_path)
        return super().param_serialize(method, resource_path, *args, **kwargs)

    def call_api(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        check_read_only(method, url)
        return super().call_api(method, url, *args, **kwargs)
