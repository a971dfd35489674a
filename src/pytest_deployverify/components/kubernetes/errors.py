"""Errors of the Kubernetes reader, each saying what was refused and how to fix it."""

from __future__ import annotations


class KubeError(Exception):
    """A Kubernetes read failed. ``problem`` is the phrase after "kubernetes at <endpoint>"."""

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem or message


class ReadOnlyViolation(KubeError):
    """A mutating request was attempted through the read-only client; nothing was sent."""


class KubeUnreachable(KubeError):
    """No HTTP answer: refused, timed out, TLS failure."""


class KubeUnauthorized(KubeError):
    """401: the credentials were rejected (expired or wrong token, unknown client certificate)."""


class KubeForbidden(KubeError):
    """403: authenticated, but RBAC does not allow this verb on this resource."""

    def __init__(
        self, message: str, *, verb: str, resource: str, namespace: str | None, problem: str
    ) -> None:
        super().__init__(message, problem)
        self.verb = verb
        self.resource = resource
        self.namespace = namespace


class KubeNotFound(KubeError):
    """404: the object (or the namespace, or the API group) does not exist."""


class KubeApiError(KubeError):
    """Any other error status from the API server."""

    def __init__(self, message: str, *, status: int, problem: str | None = None) -> None:
        super().__init__(message, problem)
        self.status = status
