"""`Status` failure objects shaped exactly like the ones kube-apiserver returns."""

from __future__ import annotations

from typing import Any

from sandbox.kube.resources import ResourceType


class ApiError(Exception):
    """A failure to answer with a `Status` body; raised anywhere below the HTTP layer."""

    def __init__(self, status: dict[str, Any]) -> None:
        super().__init__(status["message"])
        self.status = status

    @property
    def code(self) -> int:
        return int(self.status["code"])


def failure(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A `Status` of `Failure`; `details` is omitted when None, as the server does."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def _details(resource: ResourceType, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    return details


def unauthorized() -> ApiError:
    return ApiError(failure(401, "Unauthorized", "Unauthorized"))


def not_found(resource: ResourceType, name: str) -> ApiError:
    message = f'{resource.group_resource} "{name}" not found'
    return ApiError(failure(404, "NotFound", message, _details(resource, name)))


def path_not_found() -> ApiError:
    return ApiError(
        failure(404, "NotFound", "the server could not find the requested resource", {})
    )


def forbidden(
    resource: ResourceType,
    verb: str,
    user: str,
    namespace: str | None,
    name: str | None,
    *,
    subresource: str | None = None,
) -> ApiError:
    subject = f'{resource.group_resource} "{name}"' if name else resource.group_resource
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    plural = f"{resource.plural}/{subresource}" if subresource else resource.plural
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{plural}" '
        f'in API group "{resource.group}" {scope}'
    )
    return ApiError(failure(403, "Forbidden", message, _details(resource, name)))


def method_not_allowed() -> ApiError:
    return ApiError(
        failure(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            {},
        )
    )


def bad_request(message: str) -> ApiError:
    return ApiError(failure(400, "BadRequest", message))


def expired(message: str) -> ApiError:
    return ApiError(failure(410, "Expired", message))


def internal_error(message: str) -> ApiError:
    return ApiError(
        failure(
            500,
            "InternalError",
            f"Internal error occurred: {message}",
            {"causes": [{"message": message}]},
        )
    )


_SERVER_ERROR_REASONS = {
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def injected_failure(code: int) -> dict[str, Any]:
    """The Status body for a fault-injected error answer with HTTP `code`."""
    reason = _SERVER_ERROR_REASONS.get(code, "InternalError" if code >= 500 else "BadRequest")
    if reason == "InternalError":
        return internal_error("injected fault").status | {"code": code}
    return failure(code, reason, f"injected fault ({reason})")
