"""The emulator's object store: thread-safe, pre-serialized, with list snapshots for paging.

Objects are normalized on the way in (namespace, uid, resourceVersion, creationTimestamp) and
serialized once; requests never deep-copy. Every write bumps one store-wide resourceVersion, like
etcd's revision. A paginated list keeps the snapshot it started from, so `continue` pages are
consistent; `compact()` forgets snapshots, making old tokens answer 410 Expired as after an etcd
compaction.
"""

from __future__ import annotations

import bisect
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.kube import fixture_yaml
from sandbox.kube.resources import RESOURCES, ResourceType, by_api_kind, resolve

_UID_NAMESPACE = uuid.UUID("6f1c3a52-7f0e-4d8e-9a55-0b5d3f2d9c11")
_MAX_SNAPSHOTS = 256

Key = tuple[str, str]  # (namespace or "", name)


@dataclass(frozen=True)
class StoredObject:
    key: Key
    obj: dict[str, Any]  # never mutated after storing, never handed out
    item_json: bytes  # the list-item form: no kind/apiVersion, as list responses carry it
    resource: ResourceType

    def get_json(self) -> bytes:
        """The single-object form (GET): kind and apiVersion first, then the item fields."""
        head = json.dumps({"kind": self.resource.kind, "apiVersion": self.resource.api_version})
        rest = self.item_json[1:]
        return head[:-1].encode() + (b"," + rest if rest != b"}" else b"}")


@dataclass(frozen=True)
class Snapshot:
    """An immutable view of one resource's objects, sorted by (namespace, name)."""

    resource_version: int
    keys: tuple[Key, ...]
    items: tuple[StoredObject, ...]

    def namespace_range(self, namespace: str | None) -> tuple[int, int]:
        if namespace is None:
            return 0, len(self.keys)
        lo = bisect.bisect_left(self.keys, (namespace, ""))
        hi = bisect.bisect_left(self.keys, (namespace + "\x00", ""))
        return lo, hi

    def position_after(self, key: Key) -> int:
        return bisect.bisect_right(self.keys, key)


class ObjectStore:
    """All objects the emulator serves, keyed by resource type and (namespace, name)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._objects: dict[ResourceType, dict[Key, StoredObject]] = {r: {} for r in RESOURCES}
        self._sorted: dict[ResourceType, Snapshot] = {}
        self._history: OrderedDict[tuple[ResourceType, int], Snapshot] = OrderedDict()
        self._revision = 0

    # ---- writing ------------------------------------------------------------------------------

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace one object; returns the stored form (a copy)."""
        with self._lock:
            stored = self._put_locked(obj)
        return json.loads(stored.get_json())  # type: ignore[no-any-return]

    def put_many(self, objs: Iterable[dict[str, Any]]) -> int:
        """Create or replace many objects in one lock hold (fast for thousands of pods)."""
        count = 0
        with self._lock:
            for obj in objs:
                self._put_locked(obj)
                count += 1
        return count

    def delete(self, kind: str, namespace: str | None, name: str) -> bool:
        """Remove one object; `kind` may be a kind, plural or short name. True if it existed."""
        resource = resolve(kind)
        key = (namespace or "", name) if resource.namespaced else ("", name)
        with self._lock:
            if self._objects[resource].pop(key, None) is None:
                return False
            self._revision += 1
            self._sorted.pop(resource, None)
            return True

    def clear(self) -> None:
        with self._lock:
            for objects in self._objects.values():
                objects.clear()
            self._sorted.clear()
            self._revision += 1

    def replace_all(self, objs: Iterable[dict[str, Any]]) -> int:
        """Drop every object and store `objs` instead."""
        with self._lock:
            self.clear()
            return self.put_many(objs)

    def load_yaml(self, path: str | Path) -> int:
        """Store every object of a (multi-document) YAML file; returns how many."""
        return self.put_many(fixture_yaml.load_file(Path(path)))

    def load_dir(self, directory: str | Path) -> int:
        """Store the objects of every *.yaml / *.yml file in a folder, in name order."""
        return sum(self.load_yaml(p) for p in fixture_yaml.fixture_files(Path(directory)))

    def compact(self) -> None:
        """Forget list snapshots: outstanding continue tokens now get 410 Expired."""
        with self._lock:
            self._history.clear()
            self._revision += 1

    # ---- reading ------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._revision

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A copy of one object (safe to edit and `put` back), or None."""
        stored = self.lookup(resolve(kind), namespace, name)
        return None if stored is None else json.loads(stored.get_json())

    def objects(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of every object of a kind, optionally in one namespace, in list order."""
        resource = resolve(kind)
        snap = self.snapshot(resource)
        lo, hi = snap.namespace_range(namespace if resource.namespaced else None)
        return [json.loads(s.get_json()) for s in snap.items[lo:hi]]

    def export(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every stored object as plain manifests (``kind`` and ``apiVersion`` set, fixture tags
        already resolved), optionally only one namespace's and the cluster-scoped ones: the
        fixtures are manifests too, for scanners that judge them before they are served."""
        found: list[dict[str, Any]] = []
        for resource in RESOURCES:
            if resource.verbs and "list" not in resource.verbs:
                continue  # review kinds: created by requests, never stored
            for obj in self.objects(resource.kind, namespace if resource.namespaced else None):
                found.append({"apiVersion": resource.api_version, "kind": resource.kind, **obj})
        return found

    def lookup(
        self, resource: ResourceType, namespace: str | None, name: str
    ) -> StoredObject | None:
        key = (namespace or "", name) if resource.namespaced else ("", name)
        with self._lock:
            return self._objects[resource].get(key)

    def snapshot(self, resource: ResourceType) -> Snapshot:
        """The current sorted view of a resource (cached until the next write to it)."""
        with self._lock:
            snap = self._sorted.get(resource)
            if snap is None:
                objects = self._objects[resource]
                keys = tuple(sorted(objects))
                snap = Snapshot(self._revision, keys, tuple(objects[k] for k in keys))
                self._sorted[resource] = snap
            # A cached view is still exact at the current revision if nothing touched it.
            return Snapshot(self._revision, snap.keys, snap.items)

    def remember(self, resource: ResourceType, snap: Snapshot) -> None:
        """Keep a snapshot that a continue token points at (bounded, oldest dropped first)."""
        with self._lock:
            self._history[(resource, snap.resource_version)] = snap
            self._history.move_to_end((resource, snap.resource_version))
            while len(self._history) > _MAX_SNAPSHOTS:
                self._history.popitem(last=False)

    def recall(self, resource: ResourceType, resource_version: int) -> Snapshot | None:
        """The snapshot a continue token refers to, or None once it is gone (expired)."""
        with self._lock:
            snap = self._history.get((resource, resource_version))
            if snap is None and resource_version == self._revision:
                return self.snapshot(resource)
            return snap

    # ---- internals ----------------------------------------------------------------------------

    def _put_locked(self, obj: dict[str, Any]) -> StoredObject:
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            raise ValueError(f"object without apiVersion/kind: {obj!r:.120}")
        resource = by_api_kind(api_version, kind)
        self._revision += 1
        item_json = _normalized_json(resource, obj, self._revision)
        # Parsed back from the bytes: a private deep copy that always agrees with what is served.
        item: dict[str, Any] = json.loads(item_json)
        meta = item["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        stored = StoredObject(
            key=key,
            obj={"kind": kind, "apiVersion": api_version, **item},
            item_json=item_json,
            resource=resource,
        )
        self._objects[resource][key] = stored
        self._sorted.pop(resource, None)
        return stored


def _normalized_json(resource: ResourceType, obj: dict[str, Any], revision: int) -> bytes:
    """The list-item JSON: no kind/apiVersion, metadata first and completed as a server would."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        raise ValueError(f"{resource.kind} without metadata.name: {obj!r:.120}")
    meta = dict(meta)  # shallow: only top-level metadata keys are changed here
    if resource.namespaced:
        meta.setdefault("namespace", "default")
    else:
        meta.pop("namespace", None)
    ns = meta.get("namespace", "")
    meta.setdefault(
        "uid", str(uuid.uuid5(_UID_NAMESPACE, f"{resource.group_resource}/{ns}/{meta['name']}"))
    )
    meta["resourceVersion"] = str(revision)
    meta.setdefault("creationTimestamp", fixture_yaml.rfc3339(datetime.now(UTC)))
    item = {"metadata": meta}
    item.update((k, v) for k, v in obj.items() if k not in ("metadata", "kind", "apiVersion"))
    return json.dumps(item, separators=(",", ":")).encode()
