"""The checklist as Markdown without running it: what ``deployverify checklist`` prints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_deployverify.checks.manual import SHIPPED_MANUAL
from pytest_deployverify.profile.model import DEFAULT_ROLES, Profile
from pytest_deployverify.signoff.model import SECTION_ORDER, SECTION_TITLES, is_blocking, section_of
from pytest_deployverify.signoff.render_markdown import BLANK_DATE, BLANK_NAME
from pytest_deployverify.signoff.text import code, md


def render_checklist(
    items: Sequence[Mapping[str, Any]],
    profile: Profile | None,
    *,
    profile_path: str | None = None,
    held_back: Sequence[str] = (),
    source: str = "collected, not run",
) -> str:
    """``items`` are ``item_metadata`` dicts with a ``nodeid`` key added."""
    title = (
        f"Deployment Verification Checklist: {md(profile.name)}"
        if profile
        else ("Deployment Verification Checklist")
    )
    blocking = sum(1 for item in items if is_blocking(item.get("severity")))
    lines = [f"# {title}", ""]
    facts = [f"{len(items)} automated checks ({blocking} blocking)", source]
    if profile is not None:
        facts.append(
            f"expected version {code(profile.version) if profile.version else '(not set)'}"
        )
        if profile.protected:
            facts.append("protected environment")
    if profile_path:
        facts.append(f"profile {code(profile_path)}")
    lines += ["_" + "; ".join(facts) + "_", ""]
    grouped: dict[str, list[Mapping[str, Any]]] = {name: [] for name in SECTION_ORDER}
    for item in items:
        grouped[section_of(item.get("section"))].append(item)
    number = 0
    for name, members in grouped.items():
        if not members:
            continue
        number += 1
        lines += [f"## {number}. {SECTION_TITLES[name]}", ""]
        for item in members:
            severity = item.get("severity") or "undeclared"
            line = f"- [ ] **{md(item['title'])}** · {code(item['check_id'])} · {md(severity)}"
            if item.get("destructive"):
                line += " · destructive"
                if item.get("nodeid") in held_back:
                    line += " (held back on this protected environment)"
            if item.get("error"):
                line += f" · marker error: {md(item['error'])}"
            if item.get("keys"):
                line += " · needs " + ", ".join(code(k) for k in item["keys"])
            lines.append(line)
        lines.append("")
    manual = profile.manual_items(SHIPPED_MANUAL) if profile is not None else list(SHIPPED_MANUAL)
    if manual:
        lines += ["## Manual checks (attested by a person)", ""]
        for entry in manual:
            where = entry.section.value if entry.section else "infra"
            section = SECTION_TITLES.get(where, where)
            line = f"- [ ] **{md(entry.title or entry.id)}** · {code(entry.id)} · {md(section)}"
            if entry.attested_by:
                when = f" on {entry.attested_at.isoformat()}" if entry.attested_at else ""
                line += f" · attested in the profile by {md(entry.attested_by)}{when}"
            else:
                line += f" · attested by {BLANK_NAME} Date: {BLANK_DATE}"
            lines.append(line)
        lines.append("")
    roles = list(profile.roles) if profile else list(DEFAULT_ROLES)
    lines += ["## Sign-Off", ""]
    lines += [f"- [ ] {md(role)}: {BLANK_NAME} Date: {BLANK_DATE}" for role in roles]
    return "\n".join(lines).rstrip() + "\n"
