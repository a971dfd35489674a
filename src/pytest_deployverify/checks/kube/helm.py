"""Helm 3 releases read from their storage Secrets, release checks, and drift from live objects.

Helm stores each revision in a Secret of type ``helm.sh/release.v1`` whose ``data.release`` is,
once the Kubernetes base64 is removed, Helm's own encoding: base64 of gzip of the release JSON
(very old releases: base64 of plain JSON). The ConfigMap storage driver keeps Helm's encoding
without the Kubernetes layer.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pytest_deployverify.checks.findings import Finding
from pytest_deployverify.checks.kube import rules
from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    as_int,
    dig,
    kind,
    labels,
    mapping,
    name,
    namespace,
)
from pytest_deployverify.checks.versions import compare_versions, same_version

RELEASE_SECRET_TYPE = "helm.sh/release.v1"
_GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass(frozen=True)
class HelmRelease:
    """The parts of a Helm release that deployment checks need."""

    name: str
    namespace: str
    version: int
    status: str
    chart_name: str
    chart_version: str
    app_version: str
    manifest: str


def decode_release_payload(payload: str | bytes) -> dict[str, Any]:
    """Helm's encoding (base64, then gzip or plain JSON) -> the release as a dict."""
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("release payload is not base64") from None
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"release payload is corrupt gzip: {exc}") from None
    try:
        release = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"release payload is not JSON: {exc}") from None
    if not isinstance(release, dict):
        raise ValueError("release payload is not a JSON object")
    return release


def decode_release_secret(obj: KubeObject) -> HelmRelease:
    """Decode a release Secret (or ConfigMap-driver record); ``ValueError`` names the object."""
    where = f"{kind(obj) or 'Secret'} {namespace(obj)}/{name(obj)}"
    data = mapping(obj.get("data"))
    encoded = data.get("release")
    if not isinstance(encoded, str):
        raise ValueError(f"{where}: no data.release; is it a Helm release record?")
    payload: str | bytes = encoded
    if kind(obj) != "ConfigMap":  # Secret data carries one more base64 layer than Helm's own
        try:
            payload = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{where}: data.release is not base64") from None
    try:
        release = decode_release_payload(payload)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    metadata = mapping(dig(release, "chart", "metadata"))
    return HelmRelease(
        name=str(release.get("name") or labels(obj).get("name", "")),
        namespace=str(release.get("namespace") or namespace(obj)),
        version=as_int(release.get("version"), as_int(labels(obj).get("version"))),
        status=str(dig(release, "info", "status") or labels(obj).get("status", "unknown")),
        chart_name=str(metadata.get("name") or ""),
        chart_version=str(metadata.get("version") or ""),
        app_version=str(metadata.get("appVersion") or ""),
        manifest=str(release.get("manifest") or ""),
    )


def is_release_record(obj: KubeObject) -> bool:
    """A Helm storage Secret (by type) or ConfigMap (by ``owner: helm`` label)."""
    if kind(obj) == "ConfigMap":
        return labels(obj).get("owner") == "helm"
    return obj.get("type") == RELEASE_SECRET_TYPE


def latest_release(
    records: Iterable[KubeObject], release_name: str | None = None
) -> HelmRelease | None:
    """The highest revision among the release records (optionally of one release name).

    Records are filtered by their ``name`` label first, so other releases' Secrets are never
    decoded.
    """
    best: HelmRelease | None = None
    for obj in records:
        if not is_release_record(obj):
            continue
        label_name = labels(obj).get("name")
        if release_name and label_name and label_name != release_name:
            continue
        release = decode_release_secret(obj)
        if release_name and release.name != release_name:
            continue
        if best is None or release.version > best.version:
            best = release
    return best


def release_findings(
    release: HelmRelease | None,
    *,
    release_name: str = "",
    chart_name: str | None = None,
    chart_version: str | None = None,
    app_version: str | None = None,
) -> list[Finding]:
    """The latest revision is ``deployed`` with the expected chart and app versions."""
    if release is None:
        return [
            rules.HELM_RELEASE_MISSING(
                f"HelmRelease {release_name or '<any>'}",
                "no release Secret (type helm.sh/release.v1) found; install the chart "
                "(helm install) or check the namespace and release name",
            )
        ]
    where = f"HelmRelease {release.namespace}/{release.name} revision {release.version}"
    found: list[Finding] = []
    if release.status != "deployed":
        found.append(
            rules.HELM_RELEASE_STATUS(
                where,
                f"status is {release.status!r}, not 'deployed'; inspect helm history and "
                "finish, retry or roll back the release",
            )
        )
    chart_problems = []
    if chart_name and release.chart_name != chart_name:
        chart_problems.append(f"chart {release.chart_name!r}, expected {chart_name!r}")
    if chart_version and release.chart_version != chart_version:
        chart_problems.append(
            f"chart version {release.chart_version!r}, expected {chart_version!r}"
        )
    if chart_problems:
        found.append(
            rules.HELM_CHART_VERSION(
                where, f"{'; '.join(chart_problems)}; upgrade to the approved chart"
            )
        )
    if app_version and not same_version(app_version, release.app_version):
        found.append(
            rules.HELM_APP_VERSION(
                where,
                f"appVersion {compare_versions(app_version, release.app_version).describe()}; "
                "deploy the chart release carrying the approved application version",
            )
        )
    return found
