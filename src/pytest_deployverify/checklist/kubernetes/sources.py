"""Where the checklist reads objects from: the live cluster, or rendered manifests (pre-deploy)."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pytest_deployverify.checks.kube.manifests import Manifests
from pytest_deployverify.checks.kube.network import Resolver
from pytest_deployverify.checks.kube.objects import (
    CLUSTER_SCOPED_KINDS,
    kind,
    namespace,
)
from pytest_deployverify.components.kubernetes.errors import KubeNotFound
from pytest_deployverify.expectations.kube import KubeExpectations

if TYPE_CHECKING:
    from pytest_deployverify.components.kubernetes.reader import KubeReader


# ---- where objects come from ------------------------------------------------------------------


class ObjectSource(Protocol):
    """Objects by kind: a live cluster or a set of rendered manifests."""

    live: bool
    where: str

    def objects(
        self, obj_kind: str, obj_namespace: str | None = None, *, fresh: bool = False
    ) -> list[dict[str, Any]]:
        """Objects of ``obj_kind`` in ``obj_namespace`` (None: cluster-scoped or everywhere)."""
        ...


class LiveSource:
    """Reads through the run's ``KubeReader``: each (kind, namespace) list costs one request."""

    live = True

    def __init__(self, reader: KubeReader) -> None:
        self.reader = reader
        self.where = f"kubernetes at {reader.endpoint}"

    def objects(
        self, obj_kind: str, obj_namespace: str | None = None, *, fresh: bool = False
    ) -> list[dict[str, Any]]:
        return self.reader.list(obj_kind, obj_namespace, fresh=fresh)

    def namespace_object(self, wanted: str) -> dict[str, Any] | None:
        try:
            return self.reader.get("Namespace", None, wanted)
        except KubeNotFound:
            return None


class ManifestSource:
    """Rendered manifests loaded once (``helm template`` output, a folder of YAML)."""

    live = False

    def __init__(self, manifests: Manifests, path: Path) -> None:
        self.manifests = manifests
        self.where = f"manifests {path}"

    def objects(
        self, obj_kind: str, obj_namespace: str | None = None, *, fresh: bool = False
    ) -> list[dict[str, Any]]:
        return [
            obj
            for obj in self.manifests
            if kind(obj) == obj_kind
            and (
                obj_namespace is None
                or obj_kind in CLUSTER_SCOPED_KINDS
                or namespace(obj) == obj_namespace
            )
        ]


def manifests_path(
    expect: KubeExpectations, cli_value: str | None, *, cwd: Path, rootdir: Path
) -> Path | None:
    """The pre-deploy manifests: ``--manifests`` (relative to where pytest runs) wins over the
    profile's ``manifests`` (relative to the rootdir); None means live mode."""
    if cli_value:
        path = Path(cli_value)
        return path if path.is_absolute() else cwd / path
    if expect.manifests:
        path = Path(expect.manifests)
        return path if path.is_absolute() else rootdir / path
    return None


def pinned_resolver(pins: Mapping[str, Sequence[str]], fallback: Resolver) -> Resolver:
    """A ``getaddrinfo``-style resolver answering pinned hosts itself (like curl --resolve)."""
    lowered = {host.lower().rstrip("."): tuple(addresses) for host, addresses in pins.items()}

    def resolve(host: str, port: None) -> Sequence[tuple[Any, Any, Any, Any, Any]]:
        pinned = lowered.get(host.lower().rstrip("."))
        if pinned is None:
            return fallback(host, port)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
            for a in pinned
        ]

    return resolve
