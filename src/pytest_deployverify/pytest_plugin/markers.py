"""Checklist markers: the four sections, ``destructive``, and ``check`` (stable id, title, severity)."""

from __future__ import annotations

import difflib
import inspect
from typing import Any, TypedDict

import pytest

from pytest_deployverify.checks.declarations import SPEC_ATTRIBUTE, Catalog, CheckSpec
from pytest_deployverify.checks.findings import Severity
from pytest_deployverify.profile.model import SECTIONS
from pytest_deployverify.pytest_plugin.context import get_context

CHECK_MARKER = "check"
DESTRUCTIVE_MARKER = "destructive"

MARKER_HELP = {
    "infra": "checklist section: infrastructure (cluster, workloads, config, capacity)",
    "security": "checklist section: security (auth, tenant isolation, TLS, RBAC, secrets)",
    "monitoring": "checklist section: monitoring (metrics, alerts, dashboards, traces, logs)",
    "smoke": "checklist section: smoke tests of the running service",
    DESTRUCTIVE_MARKER: "changes state on the target; held back on protected environments "
    "unless --allow-destructive is given",
    CHECK_MARKER: "check(id, *, title=None, severity=None): checklist metadata; severity is one of "
    + ", ".join(s.value for s in Severity),
}


class ItemMeta(TypedDict):
    """Plain, serializable checklist metadata of one test item (crosses pytest-xdist unchanged)."""

    check_id: str
    title: str
    severity: str | None
    section: str | None
    sections: list[str]
    destructive: bool
    error: str | None
    # From the check's declaration (``CheckSpec``), when it has one: what it needs.
    components: list[str]
    reads: list[str]
    declared: bool


# The metadata computed once per item at collection, reused by every later hook.
ITEM_META = pytest.StashKey[ItemMeta]()


def cached_metadata(item: pytest.Item, default_severity: str | None = None) -> ItemMeta:
    meta = item.stash.get(ITEM_META, None)
    if meta is None:
        context = get_context(item.config)
        catalog = context.catalog if context is not None else None
        meta = item.stash[ITEM_META] = item_metadata(item, default_severity, catalog)
    return meta


ITEM_SPEC = pytest.StashKey["CheckSpec | None"]()


def cached_spec(item: pytest.Item) -> CheckSpec | None:
    """The item's declaration, looked up once (from ``@item(SPEC)`` or the catalog)."""
    if ITEM_SPEC not in item.stash:
        meta = cached_metadata(item)
        context = get_context(item.config)
        catalog = context.catalog if context is not None else None
        base = meta["check_id"].split("[", 1)[0] if meta["declared"] else None
        item.stash[ITEM_SPEC] = declared_spec(item, base, catalog) if base else None
    return item.stash[ITEM_SPEC]


def declared_spec(
    item: pytest.Item, check_id: str | None, catalog: Catalog | None
) -> CheckSpec | None:
    """The declaration behind an item: the one ``@item(SPEC)`` attached, else the catalog's."""
    spec = getattr(getattr(item, "obj", None), SPEC_ATTRIBUTE, None)
    if isinstance(spec, CheckSpec) and (check_id is None or spec.id == check_id):
        return spec
    if check_id is not None and catalog is not None:
        return catalog.get(check_id)
    return None


def _check_signature(
    id: str,
    *,
    title: str | None = None,
    severity: str | None = None,
) -> dict[str, Any]:
    return {"id": id, "title": title, "severity": severity}


_PARAMS = list(inspect.signature(_check_signature).parameters)


def parse_check_marker(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Validate ``@pytest.mark.check(...)`` arguments; ValueError names the mistake and the fix."""
    for key in kwargs:
        if key not in _PARAMS:
            close = difflib.get_close_matches(key, _PARAMS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(_PARAMS)}"
            raise ValueError(f"unexpected keyword {key!r}{hint}")
    try:
        values = _check_signature(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(
            f"{exc}; write @pytest.mark.check('ID', title=..., severity=...)"
        ) from None
    if not isinstance(values["id"], str) or not values["id"].strip():
        raise ValueError("the check id must be a non-empty string")
    if values["title"] is not None and not isinstance(values["title"], str):
        raise ValueError("title must be a string")
    if values["severity"] is not None:
        if not isinstance(values["severity"], str):
            raise ValueError("severity must be a string")
        values["severity"] = Severity.parse(values["severity"]).value
    return values


def item_metadata(
    item: pytest.Item, default_severity: str | None = None, catalog: Catalog | None = None
) -> ItemMeta:
    """The checklist metadata of a test item. Marker mistakes are returned in ``error``, not raised,
    so one bad marker fails one check instead of the whole run.

    A marker that names a declared check (``CheckSpec``) takes its title, severity and section
    from the declaration; keywords written on the marker still win (a team's own variant)."""
    error = None
    check: dict[str, Any] = {"id": None, "title": None, "severity": None}
    # One walk over the node chain; the closest marker of each name wins, as in get_closest_marker.
    closest: dict[str, pytest.Mark] = {}
    for mark in item.iter_markers():
        closest.setdefault(mark.name, mark)
    marker = closest.get(CHECK_MARKER)
    if marker is not None:
        try:
            check = parse_check_marker(marker.args, dict(marker.kwargs))
        except ValueError as exc:
            error = f"@pytest.mark.check on {item.nodeid}: {exc}"
    spec = declared_spec(item, check["id"], catalog)
    sections = [s for s in SECTIONS if s in closest]
    if spec is not None:  # the declared section is the item's own; markers may add others
        sections = [spec.section.value, *(s for s in sections if s != spec.section.value)]
    title = check["title"] or (spec.title if spec else None) or _doc_title(item) or item.name
    base_id = check["id"] or item.nodeid
    callspec = getattr(item, "callspec", None)
    check_id = f"{base_id}[{callspec.id}]" if check["id"] and callspec is not None else base_id
    severity = check["severity"] or (spec.severity.value if spec else None) or default_severity
    return ItemMeta(
        check_id=check_id,
        title=title,
        severity=severity,
        section=sections[0] if sections else None,
        sections=sections,
        destructive=DESTRUCTIVE_MARKER in closest or bool(spec and spec.destructive),
        error=error,
        components=list(spec.components) if spec else [],
        reads=list(spec.reads) if spec else [],
        declared=spec is not None,
    )


def _doc_title(item: pytest.Item) -> str | None:
    doc = inspect.getdoc(getattr(item, "obj", None)) if hasattr(item, "obj") else None
    if not doc:
        return None
    first = doc.strip().splitlines()[0].strip()
    return first or None


def apply_declared_markers(item: pytest.Item) -> None:
    """``@item(SPEC)`` recorded a declaration on the test function; give the item the markers it
    implies (its section, ``check(id)``, ``destructive``), so -m and the reports see them."""
    spec = getattr(getattr(item, "obj", None), SPEC_ATTRIBUTE, None)
    if not isinstance(spec, CheckSpec):
        return
    names = {mark.name for mark in item.iter_markers()}
    if CHECK_MARKER not in names:
        item.add_marker(getattr(pytest.mark, CHECK_MARKER)(spec.id))
    if spec.section.value not in names:
        item.add_marker(getattr(pytest.mark, spec.section.value))
    if spec.destructive and DESTRUCTIVE_MARKER not in names:
        item.add_marker(pytest.mark.destructive)
