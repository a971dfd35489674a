"""Helm v3 release records as Helm's Secret storage driver keeps them.

Helm stores `base64(gzip(json(release)))` as the Secret's `release` value; the Kubernetes API then
base64-encodes Secret data again, so `data.release` on the wire is base64 of that string.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

_GZIP_MAGIC = b"\x1f\x8b\x08"


def encode_release(release: dict[str, Any]) -> str:
    """The value of `data.release` in a `helm.sh/release.v1` Secret, as the API returns it."""
    payload = json.dumps(release, separators=(",", ":")).encode()
    # mtime=0 keeps the fixture bytes stable between runs.
    helm_value = base64.b64encode(gzip.compress(payload, mtime=0))
    return base64.b64encode(helm_value).decode("ascii")


def decode_release(data_release: str) -> dict[str, Any]:
    """Inverse of `encode_release` (accepts uncompressed JSON too, as Helm does)."""
    raw = base64.b64decode(base64.b64decode(data_release))
    if raw.startswith(_GZIP_MAGIC):
        raw = gzip.decompress(raw)
    decoded: dict[str, Any] = json.loads(raw)
    return decoded


def release_secret(
    release: dict[str, Any], *, namespace: str, status: str | None = None
) -> dict[str, Any]:
    """A complete release Secret (`sh.helm.release.v1.<name>.v<version>`) for a release dict."""
    name = str(release["name"])
    version = int(release["version"])
    status = status or str(release.get("info", {}).get("status", "deployed"))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"sh.helm.release.v1.{name}.v{version}",
            "namespace": namespace,
            "labels": {
                "name": name,
                "owner": "helm",
                "status": status,
                "version": str(version),
            },
        },
        "type": "helm.sh/release.v1",
        "data": {"release": encode_release(release)},
    }
