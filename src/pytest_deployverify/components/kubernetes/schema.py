"""Schema validation of rendered manifests against the Kubernetes OpenAPI schemas, offline.

The schemas are the ones the ``kubernetes-validate`` package ships (strict variants: an unknown
field such as ``replica`` is an error), read from the installed package, never downloaded. One
validator per (version, apiVersion, kind), built once per process and shared by threads. The
OpenAPI v2 schemas carry no enums, so the few fields whose description lists their values ("One of
Always, Never, IfNotPresent.") are checked against that list too: ``imagePullPolicy: always``
fails like the API server would reject it.

Messages never contain a value of a Secret (nor of a secret-looking field): only the path and
what was expected.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from pytest_deployverify.checks.kube.objects import CLUSTER_SCOPED_KINDS, kind, name, namespace
from pytest_deployverify.checks.kube.sensitive import why_secret
from pytest_deployverify.checks.kube.snapshots import SchemaProblem, SchemaReport

_LOCK = threading.Lock()
_ONE_OF = re.compile(r"\bOne of ((?:[A-Z][A-Za-z]+, )+[A-Z][A-Za-z]+)\.")
_VERSION_DIR = re.compile(r"^v(\d+\.\d+)\.\d+-local-strict$")


class SchemaUnavailable(Exception):
    """kubernetes-validate is missing, or does not know the version asked for."""


def _package_root() -> Any:
    import importlib.resources

    try:
        return importlib.resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
    except ModuleNotFoundError as exc:
        raise SchemaUnavailable(
            "validating manifests needs the kubernetes-validate package: pip install "
            "'pytest-deployverify[kubernetes]'"
        ) from exc


@lru_cache(maxsize=1)
def available_versions() -> tuple[str, ...]:
    """Kubernetes versions (``1.32``) the installed schemas cover, oldest first."""
    found = []
    for entry in _package_root().iterdir():
        match = _VERSION_DIR.match(entry.name)
        if match:
            found.append(match.group(1))
    return tuple(sorted(set(found), key=lambda v: tuple(int(p) for p in v.split("."))))


def resolve_version(wanted: str | None) -> str:
    """``wanted`` (``1.32``, ``v1.32.4``) as a version the schemas cover; default the newest."""
    versions = available_versions()
    if not versions:
        raise SchemaUnavailable("the installed kubernetes-validate ships no schemas")
    if not wanted:
        return versions[-1]
    match = re.match(r"v?(\d+)\.(\d+)", wanted.strip())
    if not match:
        raise SchemaUnavailable(f"schema_version {wanted!r}: write it as 1.32")
    version = f"{match.group(1)}.{match.group(2)}"
    if version not in versions:
        raise SchemaUnavailable(
            f"schema_version {version}: the installed kubernetes-validate covers "
            f"{versions[0]} to {versions[-1]}"
        )
    return version


def _directory(version: str) -> Any:
    root = _package_root()
    for entry in root.iterdir():
        match = _VERSION_DIR.match(entry.name)
        if match and match.group(1) == version:
            return entry
    raise SchemaUnavailable(f"no schemas for Kubernetes {version}")


@lru_cache(maxsize=4)
def _definitions(version: str) -> dict[str, Any]:
    with _LOCK:
        loaded: dict[str, Any] = json.loads(
            _directory(version).joinpath("_definitions.json").read_text(encoding="utf-8")
        )
    return loaded


def _enum_overlay(definitions: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the definitions where string properties that list their values in their
    description ("One of A, B, C.") get that list as an enum."""
    overlay = dict(definitions)
    defs = dict(overlay.get("$defs") or {})
    for def_name, body in defs.items():
        properties = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(properties, dict):
            continue
        changed: dict[str, Any] = {}
        for prop, schema in properties.items():
            match = _ONE_OF.search(str(schema.get("description") or ""))
            if match and "string" in (schema.get("type") or []):
                changed[prop] = {**schema, "enum": [*match.group(1).split(", "), None]}
        if changed:
            defs[def_name] = {**body, "properties": {**properties, **changed}}
    overlay["$defs"] = defs
    return overlay


@lru_cache(maxsize=4)
def _registry(version: str) -> Any:
    from referencing import Registry, Resource

    return Resource.from_contents(_enum_overlay(_definitions(version))) @ Registry()


def _schema_file(api_version: str, obj_kind: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1; apps/v1 -> apps-v1; v1 -> v1
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{obj_kind.lower()}-{group_version}.json"


@lru_cache(maxsize=512)
def _validator(version: str, api_version: str, obj_kind: str) -> Any:
    """The validator of one kind (None: no schema for it, e.g. a custom resource)."""
    import jsonschema  # type: ignore[import-untyped]

    directory = _directory(version)
    path = directory.joinpath(_schema_file(api_version, obj_kind))
    with _LOCK:
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
    registry = _registry(version)
    from referencing import Resource

    registry = Resource.from_contents(schema) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@lru_cache(maxsize=8)
def _known_kinds(version: str) -> frozenset[str]:
    """Kinds (lower case) some apiVersion of ``version`` serves."""
    return frozenset(
        entry.name.split("-", 1)[0]
        for entry in _directory(version).iterdir()
        if entry.name.endswith(".json") and not entry.name.startswith("_")
    )


def _path(error: Any) -> str:
    parts: list[str] = []
    for part in error.absolute_path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts)


def _message(error: Any, secret: bool) -> str:
    """What is wrong, without the offending value when it may be a secret."""
    validator = error.validator
    field = str(error.absolute_path[-1]) if error.absolute_path else ""
    hide = secret or (field and why_secret(field) is not None)
    if validator == "additionalProperties":
        extra = re.findall(r"'([^']+)' (?:was|were) unexpected", error.message)
        unexpected = extra or re.findall(r"'([^']+)'", error.message.split("(")[-1])
        names = ", ".join(repr(u) for u in unexpected) or "a field"
        known = sorted((error.schema.get("properties") or {}).keys())
        close = _closest(unexpected[0], known) if unexpected else None
        hint = f" (did you mean {close!r}?)" if close else ""
        return f"unknown field {names}{hint}"
    if validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value if v is not None)
        shown = "a value" if hide else repr(error.instance)
        return f"{shown} is not one of {allowed}"
    if validator == "type":
        expected = error.validator_value
        if isinstance(expected, list):
            expected = " or ".join(str(t) for t in expected if t != "null")
        got = type(error.instance).__name__.replace("str", "string").replace("dict", "object")
        got = got.replace("list", "array").replace("int", "integer").replace("bool", "boolean")
        return f"expected {expected}, got {got}"
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"required field {', '.join(repr(m) for m in missing) or ''} is missing".replace(
            "  ", " "
        )
    if hide:
        return f"value does not satisfy {validator}"
    text = str(error.message)
    return text if len(text) <= 200 else text[:197] + "..."


def _closest(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _errors(validator: Any, obj: Mapping[str, Any]) -> Iterator[Any]:
    """Every leaf error (a oneOf/anyOf error is replaced by its most specific cause)."""
    for error in validator.iter_errors(obj):
        if error.context:
            from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

            yield best_match(error.context)
        else:
            yield error


def validate_objects(
    objects: Iterable[Mapping[str, Any]], version: str | None = None
) -> SchemaReport:
    """Validate every object; a kind the version does not serve at that apiVersion is a problem
    of its own, a kind no schema knows (custom resources) is listed as not validated."""
    resolved = resolve_version(version)
    known = _known_kinds(resolved)
    problems: list[SchemaProblem] = []
    not_validated: dict[str, int] = {}
    validated = 0
    for obj in objects:
        obj_kind = kind(obj)
        api_version = str(obj.get("apiVersion") or "")
        key = (obj_kind, "" if obj_kind in CLUSTER_SCOPED_KINDS else namespace(obj), name(obj))
        if not api_version:
            problems.append(SchemaProblem(key, "apiVersion", "apiVersion is missing"))
            continue
        validator = _validator(resolved, api_version, obj_kind)
        if validator is None:
            if obj_kind.lower() in known:
                problems.append(
                    SchemaProblem(
                        key,
                        "apiVersion",
                        f"apiVersion {api_version} does not serve {obj_kind} in Kubernetes "
                        f"{resolved}",
                        unknown_api=True,
                    )
                )
            else:
                label = f"{obj_kind} ({api_version})"
                not_validated[label] = not_validated.get(label, 0) + 1
            continue
        validated += 1
        secret = obj_kind == "Secret"
        seen: set[tuple[str, str]] = set()
        for error in _errors(validator, obj):
            entry = (_path(error), _message(error, secret))
            if entry not in seen:
                seen.add(entry)
                problems.append(SchemaProblem(key, *entry))
    return SchemaReport(
        version=resolved,
        validated=validated,
        problems=tuple(problems),
        not_validated=dict(sorted(not_validated.items())),
    )
