"""Continue tokens shaped like kube-apiserver's: base64 of a small JSON document."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from sandbox.kube.status import bad_request

_TOKEN_VERSION = "meta.k8s.io/v1"


@dataclass(frozen=True)
class ContinueToken:
    resource_version: int
    resource: str  # group_resource, so a token cannot be replayed against another resource
    namespace: str
    name: str  # the last key served; the next page starts strictly after it


def encode(token: ContinueToken) -> str:
    doc = {
        "v": _TOKEN_VERSION,
        "rv": token.resource_version,
        # The apiserver stores the next etcd key to read; NUL makes the resume point exclusive.
        "start": f"{token.resource}/{token.namespace}/{token.name}\x00",
    }
    return base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def decode(raw: str, expected_resource: str) -> ContinueToken:
    """Parse a token or raise a 400 `ApiError` with the real server's wording."""
    try:
        padded = raw + "=" * (-len(raw) % 4)
        doc = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(doc, dict) or doc.get("v") != _TOKEN_VERSION:
            raise ValueError("unsupported version")
        rv = int(doc["rv"])
        start = str(doc["start"])
        if not start.endswith("\x00") or rv <= 0:
            raise ValueError("malformed start key")
        resource, namespace, name = start[:-1].split("/", 2)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad_request(f"continue key is not valid: {exc}") from None
    if resource != expected_resource:
        raise bad_request("continue key is not valid: the token belongs to another resource")
    return ContinueToken(rv, resource, namespace, name)
