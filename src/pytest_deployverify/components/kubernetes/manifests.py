"""Pre-deploy mode: load rendered manifests (``helm template`` output, ``k8s/*.yaml``) as objects.

Multi-document YAML with ``---`` separators, comments, empty documents and ``List`` kinds is
accepted; every error names the file and the document number (1-based, counting every ``---``
section, empty ones included), so a broken template is found at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pytest_deployverify.checks.kube.objects import (
    CLUSTER_SCOPED_KINDS,
    KubeObject,
    kind,
    name,
    namespace,
)

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# libyaml when PyYAML was built with it: a 1,000-object chart parses in a fraction of the time.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Key = tuple[str, str, str]


class ManifestError(ValueError):
    """A manifest that cannot be loaded: names the file, the document and the problem."""

    def __init__(self, source: str, document: int, problem: str) -> None:
        super().__init__(f"{source}: document {document}: {problem}")
        self.source = source
        self.document = document
        self.problem = problem


@dataclass(frozen=True)
class Manifests:
    """Loaded objects, indexed by ``(kind, namespace, name)``; ``origin`` says where each was."""

    objects: tuple[dict[str, Any], ...]
    origin: Mapping[tuple[str, str, str], str] = field(default_factory=dict)
    # (file, 1-based line) of each object's document (or List item), for reports that point
    # at it (SARIF).
    locations: Mapping[tuple[str, str, str], tuple[str, int]] = field(default_factory=dict)

    def get(
        self, obj_kind: str, obj_name: str, obj_namespace: str | None = None
    ) -> KubeObject | None:
        for obj in self.objects:
            same_ns = obj_namespace is None or namespace(obj) == obj_namespace
            if kind(obj) == obj_kind and name(obj) == obj_name and same_ns:
                return obj
        return None

    def of_kind(self, *kinds: str) -> list[KubeObject]:
        return [obj for obj in self.objects if kind(obj) in kinds]

    def workloads(self) -> list[KubeObject]:
        return self.of_kind(*WORKLOAD_KINDS)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)


def parse_documents(
    text: str, source: str = "<string>", *, default_namespace: str = "default"
) -> list[dict[str, Any]]:
    """Objects from one multi-document YAML text; ``List`` kinds are expanded into their items."""
    return [obj for _, _, obj in _parse(text, source, default_namespace)]


def _parse(text: str, source: str, default_namespace: str) -> list[tuple[int, int, dict[str, Any]]]:
    """(document number, line, object) for every object of ``text``."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    index = 0
    inside = False  # an error inside a document names it; between documents, the next one
    loader = _LOADER(text)
    try:
        while loader.check_node():
            index += 1
            inside = True
            node = loader.get_node()
            doc = loader.construct_document(node) if node is not None else None
            lines = _item_lines(node)
            objects = _objects_of(doc, source, index, default_namespace)
            for position, obj in enumerate(objects):
                line = lines[position] if position < len(lines) else _line(node)
                found.append((index, line, obj))
            inside = False
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        document = index if inside else index + 1
        raise ManifestError(source, document, f"invalid YAML{where}: {problem}") from None
    finally:
        loader.dispose()
    return found


def _line(node: Any) -> int:
    mark = getattr(node, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 1


def _item_lines(node: Any) -> list[int]:
    """The line of each item of a ``kind: List`` document, else the document's own line."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "items" and isinstance(value, yaml.SequenceNode):
                return [_line(item) for item in value.value]
    return [_line(node)]


def load_text(text: str, source: str, *, default_namespace: str = "default") -> Manifests:
    """One multi-document text (``helm template`` on stdin) as ``Manifests``."""
    return _collect([(source, text)], default_namespace)


def _collect(texts: Iterable[tuple[str, str]], default_namespace: str) -> Manifests:
    objects: list[dict[str, Any]] = []
    origin: dict[Key, str] = {}
    locations: dict[Key, tuple[str, int]] = {}
    for source, text in texts:
        for index, line, obj in _parse(text, source, default_namespace):
            key = (kind(obj), namespace(obj), name(obj))
            if key in origin:
                raise ManifestError(
                    source,
                    index,
                    f"{key[0]} {key[1]}/{key[2]} is defined twice (first in {origin[key]})",
                )
            origin[key] = f"{source} document {index}"
            locations[key] = (source, line)
            objects.append(obj)
    return Manifests(objects=tuple(objects), origin=origin, locations=locations)


def load_manifests(
    paths: str | Path | Iterable[str | Path], *, default_namespace: str = "default"
) -> Manifests:
    """Load one file, every ``*.yaml``/``*.yml``/``*.json`` under a folder, or several of those.

    Namespaced objects without ``metadata.namespace`` get ``default_namespace`` (what
    ``kubectl apply -n`` / ``helm install -n`` would do). Duplicates are an error.
    """
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            files += sorted(
                p for p in item.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
        elif item.is_file():
            files.append(item)
        else:
            raise ManifestError(str(item), 0, "no such file or folder")

    def texts() -> Iterator[tuple[str, str]]:
        for path in files:
            try:
                yield str(path), path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ManifestError(str(path), 0, f"cannot read: {exc}") from None

    return _collect(texts(), default_namespace)


def _objects_of(
    doc: object, source: str, index: int, default_namespace: str
) -> list[dict[str, Any]]:
    if doc is None:
        return []  # an empty document, e.g. a template rendered to nothing
    if not isinstance(doc, dict):
        raise ManifestError(source, index, f"expected a mapping, got {type(doc).__name__}")
    doc_kind = doc.get("kind")
    if not isinstance(doc_kind, str) or not doc_kind:
        raise ManifestError(
            source, index, "no kind (is this a rendered manifest? run helm template first)"
        )
    if doc_kind == "List" or (doc_kind.endswith("List") and "items" in doc):
        found: list[dict[str, Any]] = []
        for item_no, item in enumerate(doc.get("items") or [], start=1):
            try:
                found += _objects_of(item, source, index, default_namespace)
            except ManifestError as exc:
                raise ManifestError(source, index, f"item {item_no}: {exc.problem}") from None
        return found
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise ManifestError(source, index, f"{doc_kind} has no metadata.name")
    if doc_kind not in CLUSTER_SCOPED_KINDS and not metadata.get("namespace"):
        metadata["namespace"] = default_namespace
    return [doc]
