"""Where the checklist's objects come from in a run: rendered manifests (pre-deploy) or not, and
the DNS answers the profile pins."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_deployverify.checks.kube.expectations import KubeExpectations
from pytest_deployverify.checks.kube.network import Resolver


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
