"""Resolve a container's environment the way the kubelet builds it, without revealing secrets.

``envFrom`` sources apply first, in order (a later source overrides an earlier one); ``env``
entries apply last and override them. Values from ConfigMaps are resolved through the objects
given; values from Secrets are only decoded on request and are never put in a message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_deployverify.checks.kube.objects import (
    KubeObject,
    containers,
    kind,
    mapping,
    name,
    namespace,
    pod_spec,
    same_namespace,
    sequence,
)


@dataclass(frozen=True)
class EnvVar:
    """Where one variable's value comes from, and the value when it is not secret.

    ``origin`` is one of ``value``, ``configMapKeyRef``, ``secretKeyRef``, ``envFrom configMap``,
    ``envFrom secret``, ``fieldRef``, ``resourceFieldRef``. ``value`` is ``None`` for Secret
    sources (use ``secret_value``), for downward-API sources, and for unresolvable references.
    """

    name: str
    origin: str
    source: str = ""
    key: str = ""
    value: str | None = None

    @property
    def from_secret(self) -> bool:
        return self.origin in {"secretKeyRef", "envFrom secret"}

    @property
    def from_configmap(self) -> bool:
        return self.origin in {"configMapKeyRef", "envFrom configMap"}

    def describe(self) -> str:
        """``configMapKeyRef gateway-config/CORS_ORIGIN``: where the value is taken from."""
        if self.origin == "value":
            return "a literal value"
        where = f"{self.source}/{self.key}" if self.key else self.source
        return f"{self.origin} {where}".strip()


@dataclass(frozen=True)
class ContainerEnv:
    """One container's resolved environment; ``missing_sources`` are envFrom objects not found."""

    container: str
    variables: Mapping[str, EnvVar]
    missing_sources: tuple[str, ...]


def find_object(
    objects: Iterable[KubeObject], obj_kind: str, obj_name: str, near: KubeObject
) -> KubeObject | None:
    """The ConfigMap/Secret called ``obj_name`` in ``near``'s namespace, if given."""
    for obj in objects:
        if kind(obj) in {obj_kind, ""} and name(obj) == obj_name and same_namespace(obj, near):
            return obj
    return None


def data_keys(obj: KubeObject) -> set[str]:
    """Keys a ConfigMap (``data``, ``binaryData``) or Secret (``data``, ``stringData``) holds."""
    keys = set(mapping(obj.get("data"))) | set(mapping(obj.get("binaryData")))
    return {str(k) for k in keys | set(mapping(obj.get("stringData")))}


def configmap_entries(configmap: KubeObject) -> dict[str, str | None]:
    """A ConfigMap's keys with their text values: ``data`` as is, ``binaryData`` decoded when it
    is UTF-8 text (None otherwise)."""
    entries: dict[str, str | None] = {}
    for key, raw in mapping(configmap.get("binaryData")).items():
        try:
            entries[str(key)] = base64.b64decode(str(raw), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            entries[str(key)] = None
    for key, value in mapping(configmap.get("data")).items():
        entries[str(key)] = None if value is None else str(value)
    return entries


def secret_value(secret: KubeObject, key: str) -> str | bytes | None:
    """The decoded value of a Secret key (``stringData`` wins, as on write); ``None`` if absent.

    Text when it is UTF-8, bytes otherwise. ``ValueError`` (naming the key, never the value)
    when ``data`` is not valid base64.
    """
    string_data = mapping(secret.get("stringData"))
    if key in string_data:
        return str(string_data[key])
    encoded = mapping(secret.get("data")).get(key)
    if encoded is None:
        return None
    try:
        raw = base64.b64decode(str(encoded), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            f"Secret {namespace(secret)}/{name(secret)} key {key!r} is not valid base64"
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def container_env(
    workload: KubeObject,
    container: Mapping[str, Any],
    *,
    configmaps: Iterable[KubeObject] = (),
    secrets: Iterable[KubeObject] = (),
) -> ContainerEnv:
    """The variables one container of ``workload`` gets, with their origins."""
    cms, secs = list(configmaps), list(secrets)
    variables: dict[str, EnvVar] = {}
    missing: list[str] = []
    for source in sequence(container.get("envFrom")):
        source = mapping(source)
        prefix = str(source.get("prefix") or "")
        for ref_key, obj_kind, objects in (
            ("configMapRef", "ConfigMap", cms),
            ("secretRef", "Secret", secs),
        ):
            ref = mapping(source.get(ref_key))
            if not ref:
                continue
            ref_name = str(ref.get("name") or "")
            obj = find_object(objects, obj_kind, ref_name, workload)
            if obj is None:
                missing.append(f"{obj_kind} {ref_name}")
                continue
            origin = "envFrom configMap" if obj_kind == "ConfigMap" else "envFrom secret"
            data = mapping(obj.get("data"))
            for key in sorted(data_keys(obj)):
                value = str(data[key]) if obj_kind == "ConfigMap" and key in data else None
                variables[prefix + key] = EnvVar(prefix + key, origin, ref_name, key, value)
    for entry in sequence(container.get("env")):
        entry = mapping(entry)
        var_name = str(entry.get("name") or "")
        if var_name:
            variables[var_name] = _env_entry(var_name, entry, cms, workload)
    return ContainerEnv(
        container=str(container.get("name") or "<unnamed>"),
        variables=variables,
        missing_sources=tuple(missing),
    )


def _env_entry(
    var_name: str, entry: Mapping[str, Any], cms: list[KubeObject], workload: KubeObject
) -> EnvVar:
    value_from = mapping(entry.get("valueFrom"))
    if not value_from:
        return EnvVar(var_name, "value", value=str(entry.get("value", "")))
    cm_ref = mapping(value_from.get("configMapKeyRef"))
    if cm_ref:
        source, key = str(cm_ref.get("name") or ""), str(cm_ref.get("key") or "")
        obj = find_object(cms, "ConfigMap", source, workload)
        value = mapping(obj.get("data")).get(key) if obj is not None else None
        return EnvVar(
            var_name, "configMapKeyRef", source, key, None if value is None else str(value)
        )
    sec_ref = mapping(value_from.get("secretKeyRef"))
    if sec_ref:
        return EnvVar(
            var_name, "secretKeyRef", str(sec_ref.get("name") or ""), str(sec_ref.get("key") or "")
        )
    for origin in ("fieldRef", "resourceFieldRef"):
        if origin in value_from:
            return EnvVar(var_name, origin)
    return EnvVar(var_name, "unknown")


def main_container(workload: KubeObject, wanted: str | None = None) -> Mapping[str, Any] | None:
    """The named regular container, or the first one (the application, by convention)."""
    for container in containers(pod_spec(workload), init=False):
        if wanted is None or container.get("name") == wanted:
            return container
    return None
