"""The plugin object ``deployverify checklist`` hands an in-process ``pytest --collect-only``:
it records each collected item's checklist metadata (imports pytest: only for that command)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_deployverify.pytest_plugin.context import get_context
from pytest_deployverify.pytest_plugin.markers import cached_metadata
from pytest_deployverify.signoff.checklist import render_checklist
from pytest_deployverify.signoff.collect import one_line_reason


class ChecklistCollector:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.markdown: str | None = None
        self.environment: str | None = None
        self.profile_path: str | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        context = get_context(session.config)
        profile = context.profile if context else None
        default = profile.default_severity.value if profile and profile.default_severity else None
        for item in session.items:
            meta: dict[str, Any] = dict(cached_metadata(item, default))
            meta["nodeid"] = item.nodeid
            self.items.append(meta)
        if context is not None and context.profile_path is not None:
            try:
                self.profile_path = str(
                    context.profile_path.resolve().relative_to(session.config.rootpath)
                )
            except ValueError:
                self.profile_path = str(context.profile_path)
        self.environment = profile.name if profile else None
        self.markdown = render_checklist(
            self.items,
            profile,
            profile_path=self.profile_path,
            held_back=list(context.held_back) if context else [],
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            reason = one_line_reason(report.longreprtext) or "collection failed"
            self.errors.append(f"{report.nodeid or '(rootdir)'}: {reason}")

    def document(self) -> dict[str, Any]:
        keep = ("nodeid", "check_id", "title", "section", "severity", "destructive", "components")
        return {
            "source": "collected",
            "environment": self.environment,
            "profile": self.profile_path,
            "count": len(self.items),
            "checks": [{k: item.get(k) for k in keep} for item in self.items],
        }
