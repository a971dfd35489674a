"""Builders for the DNS tests: zones, Ingress objects, a stand-in for the cluster's Ingress read,
profiles and a component registry, and a resolver address that never answers."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pytest_deployverify import Component, Profile, SectionSpec
from pytest_deployverify.components.dns import component as dns_component
from pytest_deployverify.components.registry import ComponentRegistry

LB_IP = "192.0.2.10"
LB_IP6 = "2001:db8::10"
STALE_IP = "198.51.100.7"


def ingress(
    name: str,
    hosts: Sequence[str],
    *,
    ips: Sequence[str] = (),
    hostnames: Sequence[str] = (),
    namespace: str = "web",
) -> dict[str, Any]:
    """A raw Ingress as the API returns it (the fields the DNS component reads)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "rules": [
                {"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix"}]}} for h in hosts
            ]
        },
        "status": {
            "loadBalancer": {
                "ingress": [{"ip": ip} for ip in ips] + [{"hostname": h} for h in hostnames]
            }
        },
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class StubKubeConfig:
    """The ``[kubernetes]`` table of the stand-in: only what a profile needs to configure it."""

    namespace: str = "web"


def kube_stub(ingresses: Sequence[Mapping[str, Any]] | None) -> Component:
    """A ``kubernetes`` component whose ``ingresses`` read returns ``ingresses`` (the shape of the
    real read: the raw Ingress dicts of the namespace); None leaves the read out."""
    reads = {} if ingresses is None else {"ingresses": lambda ctx: list(ingresses)}
    return Component(
        name="kubernetes",
        title="Kubernetes (stand-in)",
        sections=(SectionSpec("kubernetes", StubKubeConfig, "stand-in"),),
        reads=reads,
    )


def make_profile(dns: Mapping[str, Any] | None, *, kube: Component | None = None) -> Profile:
    data: dict[str, Any] = {"name": "dnstest"}
    if dns is not None:
        data["dns"] = dict(dns)
    sections = list(dns_component.sections)
    if kube is not None:
        data["kubernetes"] = {"namespace": "web"}
        sections += kube.sections
    return Profile.from_dict(data, sections)


@contextlib.contextmanager
def registry(
    dns: Mapping[str, Any],
    ingresses: Sequence[Mapping[str, Any]] | None = None,
    *,
    kube: Component | None = None,
) -> Iterator[ComponentRegistry]:
    """A registry over the DNS component (and, with ``ingresses``, a cluster reporting them)."""
    if kube is None and ingresses is not None:
        kube = kube_stub(ingresses)
    components = [dns_component] + ([kube] if kube is not None else [])
    reg = ComponentRegistry(make_profile(dns, kube=kube), components)
    try:
        yield reg
    finally:
        reg.close()


@contextlib.contextmanager
def silent_resolver() -> Iterator[str]:
    """``127.0.0.1:PORT`` of a UDP socket that receives queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"
