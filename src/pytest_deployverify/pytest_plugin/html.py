"""pytest-html 4 integration: the sign-off summary, checklist columns, evidence, a redacted
environment table. Registered by ``plugin.py`` only when pytest-html is installed; every hook is
optional so nothing breaks without it. The HTML itself is built in ``signoff.render_html``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import pytest

from pytest_deployverify.signoff.render_html import evidence_cell, evidence_html, summary_html
from pytest_deployverify.signoff.waivers import active_waiver

if TYPE_CHECKING:
    from pytest_deployverify.pytest_plugin.context import RunContext
    from pytest_deployverify.pytest_plugin.recorder import SignoffRecorder

# Inserted after pytest-html's "Test" column, in this order (CSS class, header, sortable).
COLUMNS = (("dvsection", "Section", True), ("dvseverity", "Severity", True))
EVIDENCE_COLUMN = ("dvevidence", "Evidence", False)
INSERT_AT = 2


class HtmlIntegration:
    def __init__(self, recorder: SignoffRecorder) -> None:
        self.recorder = recorder
        self._metadata_done = False

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        signoff = self.recorder.signoff
        if signoff is not None:
            prefix.append(self.recorder.context.redactor.redact(summary_html(signoff)))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        headers = [*COLUMNS, EVIDENCE_COLUMN]
        for offset, (css, title, sortable) in enumerate(headers):
            attrs = f' class="sortable" data-column-type="{css}"' if sortable else ""
            cells.insert(INSERT_AT + offset, f"<th{attrs}>{title}</th>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        data = getattr(report, "deployverify", None)
        data = data if isinstance(data, dict) else {}
        values = [
            data.get("section") or "other",
            data.get("severity") or ("undeclared" if data else "—"),
            evidence_cell(data.get("evidence") or []),
        ]
        if data and getattr(report, "failed", False):
            values[2] = self._waiver_note(data, report.nodeid) + values[2]
        names = [c[0] for c in COLUMNS] + [EVIDENCE_COLUMN[0]]
        for offset, (css, value) in enumerate(zip(names, values, strict=True)):
            cells.insert(INSERT_AT + offset, f'<td class="col-{css}">{escape(value)}</td>')

    def _waiver_note(self, data: dict[str, Any], nodeid: str) -> str:
        profile = self.recorder.context.profile
        if profile is None:
            return ""
        waiver = active_waiver(
            str(data.get("check_id")), nodeid, profile.waivers, self.recorder.today
        )
        return f"WAIVED ({waiver.ticket}, until {waiver.expires.isoformat()}) " if waiver else ""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Runs before pytest-html's own (trylast) hook, which turns extras into links and blocks.
        data = getattr(report, "deployverify", None)
        if not isinstance(data, dict) or not data.get("evidence"):
            return
        from pytest_html import extras

        evidence = data["evidence"]
        added = [extras.html(evidence_html(evidence))]
        if report.failed:
            # A raw JSON link only where someone will dig in: pytest-html writes each JSON extra
            # as its own asset file, which doubled the run time of 2,000 passing checks.
            added.append(extras.json(evidence, name="Evidence"))
        report.extras = [*getattr(report, "extras", []), *added]  # type: ignore[attr-defined]

    @pytest.hookimpl(optionalhook=True)
    def pytest_metadata(self, metadata: dict[str, Any], config: pytest.Config) -> None:
        describe_environment(metadata, self.recorder.context)

    # pytest-metadata fills its table in a tryfirst pytest_configure, before this plugin is
    # registered (so the pytest_metadata hook above has already run), and merges each xdist
    # worker's table into it when the worker goes down. So the table is fixed again at each of
    # those points, always before pytest-html (trylast) writes the report.

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._fix_metadata(session.config)

    @pytest.hookimpl(optionalhook=True, trylast=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        self._fix_metadata(self.recorder.config)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._fix_metadata(session.config)

    def _fix_metadata(self, config: pytest.Config) -> None:
        try:
            from pytest_metadata.plugin import metadata_key  # type: ignore[import-untyped]
        except ImportError:
            return
        metadata = config.stash.get(metadata_key, None)
        if isinstance(metadata, dict):
            describe_environment(metadata, self.recorder.context)


def describe_environment(metadata: dict[str, Any], context: RunContext) -> None:
    """Add the environment, profile and release version; mask every secret value in the table."""
    profile = context.profile
    metadata["Deployverify environment"] = f"{context.env.value} (from {context.env.source})"
    if context.profile_path is not None:
        metadata["Deployverify profile"] = str(context.profile_path)
    if profile is not None:
        metadata["Expected version"] = profile.version or "(not set)"
        metadata["Protected environment"] = "yes" if profile.protected else "no"
    for key in list(metadata):
        metadata[key] = context.redactor.redact_data(metadata[key])
