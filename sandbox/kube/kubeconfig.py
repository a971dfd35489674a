"""Writing a kubeconfig that `kubernetes.config.load_kube_config` reads unchanged."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


def kubeconfig_document(
    *,
    server: str,
    token: str,
    ca_file: str | Path | None = None,
    ca_pem: bytes | None = None,
    context_name: str = "kube-emulator",
    namespace: str = "api-gateway",
    user_name: str = "verifier",
) -> dict[str, Any]:
    """The kubeconfig as data; CA by file path, or embedded when `ca_pem` is given."""
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    elif ca_file is not None:
        cluster["certificate-authority"] = str(ca_file)
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context_name, "cluster": cluster}],
        "users": [{"name": user_name, "user": {"token": token}}],
        "contexts": [
            {
                "name": context_name,
                "context": {"cluster": context_name, "user": user_name, "namespace": namespace},
            }
        ],
        "current-context": context_name,
    }


def write_kubeconfig(path: str | Path, document: dict[str, Any]) -> Path:
    """Write atomically with mode 0600 (it holds a token), so a poller never reads half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(document, handle, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
