"""The controller-side recorder: every test report in, the sign-off out (files, terminal, exit code).

Registered by ``plugin.py`` on the controller only (never on an xdist worker), when an environment
is selected. Hooks stay thin: the rules live in ``pytest_deployverify.signoff``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_deployverify import __version__
from pytest_deployverify.checks.manual import SHIPPED_MANUAL
from pytest_deployverify.pytest_plugin.context import RunContext
from pytest_deployverify.pytest_plugin.markers import cached_metadata
from pytest_deployverify.pytest_plugin.options import run_signing_key
from pytest_deployverify.pytest_plugin.redaction import STRUCTURAL_KEYS
from pytest_deployverify.pytest_plugin.rollback import rollback_of
from pytest_deployverify.signoff.build import build_signoff
from pytest_deployverify.signoff.collect import (
    CRASH_PHASE,
    PhaseReport,
    ReportCollector,
    one_line_reason,
)
from pytest_deployverify.signoff.model import (
    BROKEN,
    CHECKLIST_OFF,
    SECTION_ORDER,
    Decision,
    Outcome,
    RunInfo,
    Scope,
    Signoff,
)
from pytest_deployverify.signoff.runinfo import git_commit, now_iso, who_ran
from pytest_deployverify.signoff.text import count_line
from pytest_deployverify.signoff.waivers import describe_waiver_entry

STEP_SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
EXIT_MODES = ("strict", "verdict")
MAX_TERMINAL_LINES = 20
# Keys in a worker's ``config.workeroutput`` (set by plugin.py on xdist workers).
WORKER_METADATA_KEY = "deployverify_items"
WORKER_SELECTION_KEY = "deployverify_selection"
# The attribute a worker's first report carries: {nodeid: item metadata} of its collection.
REPORT_COLLECTION_ATTRIBUTE = "deployverify_collection"
# Exit codes of --signoff-exit verdict; pytest's own are 0-5, so these never collide with them.
# The verdict replaces pytest's 0 and 1, and the 2 of a run pytest stopped because a test file
# could not be collected (without --continue-on-collection-errors): that sign-off is a NO-GO, and
# a pipeline reading the verdict must see 11, not an "interrupted" it may retry. pytest's other
# codes (a real interrupt, internal error, usage error, nothing collected) stand.
EXIT_GO = 0
EXIT_CONDITIONAL = 10
EXIT_NO_GO = 11
VERDICT_EXIT = {
    Decision.GO: EXIT_GO,
    Decision.CONDITIONAL: EXIT_CONDITIONAL,
    Decision.NO_GO: EXIT_NO_GO,
}


class SignoffRecorder:
    def __init__(self, config: pytest.Config, context: RunContext) -> None:
        self.config = config
        self.context = context
        self.collector = ReportCollector()
        self.started_at = now_iso()
        self.today = dt.date.today()
        self.signoff: Signoff | None = None
        self.written: list[Path] = []
        self.write_errors: list[str] = []
        self.exit_note: str | None = None
        self.collection_errors: dict[str, None] = {}
        # Why pytest stopped before running anything: its collection failed (set in
        # pytest_runtestloop, where pytest raises Interrupted for it).
        self.collection_stop: str | None = None
        # How many items were collected and deselected, and the sections kept (from this
        # process's collection, or a worker's under xdist).
        self.selection: dict[str, Any] | None = None
        invocation = config.invocation_params.dir
        self.paths = [
            p if p.is_absolute() else invocation / p
            for p in config.getoption("deployverify_signoff", None) or []
        ]
        try:  # at the start: a key that cannot be used is a usage error before anything runs
            self.signing_key = run_signing_key(
                config.getoption("deployverify_signoff_key", None),
                os.environ,
                self.paths,
                invocation,
            )
        except ValueError as exc:
            raise pytest.UsageError(f"deployverify: {exc}") from None
        profile = context.profile
        self._default_severity = (
            profile.default_severity.value if profile and profile.default_severity else None
        )

    # Collection: know every item, so one that never reports still shows up. -------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Without xdist the controller holds the items; under xdist session.items is empty.
        for item in session.items:
            self.collector.describe(item.nodeid, cached_metadata(item, self._default_severity))
        if not hasattr(session.config, "workerinput") and session.items:
            self.selection = self.context.selection

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # Under xdist the controller gets the failed collect reports of its workers here too.
        if report.failed:
            reason = one_line_reason(report.longreprtext) or "collection failed"
            text = f"{report.nodeid or '(rootdir)'}: {reason}"
            self.collection_errors[self.context.redactor.redact(text)] = None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        # pytest's own runtestloop stops the run with Interrupted when collection failed and
        # --continue-on-collection-errors is not given: the same test, so that stop is not
        # mistaken for Ctrl-C.
        failed = int(session.testsfailed)
        if failed and not self.config.getoption("continue_on_collection_errors", False):
            self.collection_stop = (
                f"stopped by {failed} error{'s' if failed != 1 else ''} during collection "
                "(pass --continue-on-collection-errors to run the rest)"
            )
        return (yield)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self.collector.expect(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        # A worker that finished normally may send {nodeid: item metadata} of its collection, so
        # items that never reported (another worker crashed, -x) keep their id and severity.
        output = getattr(node, "workeroutput", None) or {}
        items = output.get(WORKER_METADATA_KEY)
        if isinstance(items, dict):
            for nodeid, meta in items.items():
                if isinstance(meta, dict):
                    self.collector.describe(str(nodeid), meta)
        selection = output.get(WORKER_SELECTION_KEY)
        if isinstance(selection, dict) and self.selection is None:
            self.selection = selection

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        described = getattr(report, REPORT_COLLECTION_ATTRIBUTE, None)
        if isinstance(described, dict):
            for nodeid, meta in described.items():
                if isinstance(meta, dict):
                    self.collector.describe(str(nodeid), meta)
        if report.when in ("setup", "teardown") and report.passed:
            self.collector.add_passed_phase(report.nodeid, float(report.duration or 0.0))
            return
        self.collector.add(phase_report(report, self.context))

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        profile = self.context.profile
        if profile is None:
            return []
        return [
            f"deployverify: WARNING: waiver {w.check!r} ({w.ticket}) EXPIRED on "
            f"{w.expires.isoformat()}: it will NOT be applied"
            for w in profile.waivers
            if not w.active_on(self.today)
        ]

    # The end of the run. --------------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.config.getoption("collectonly", False):
            return
        self.signoff = self.build(int(exitstatus), session)
        self.write_outputs(self.signoff)
        status = int(session.exitstatus)
        if self.write_errors and status == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        elif self.exit_mode() == "verdict" and self._verdict_replaces(status):
            # pytest's other codes (interrupted, internal, usage, nothing collected) stand.
            new = VERDICT_EXIT[self.signoff.verdict.decision]
            if new != status:
                self.exit_note = (
                    f"exit code {new} follows the verdict {self.signoff.verdict.label} "
                    f"(--signoff-exit verdict: 0 GO, {EXIT_CONDITIONAL} CONDITIONAL, "
                    f"{EXIT_NO_GO} NO-GO); pytest's own status was {status}"
                )
            session.exitstatus = new

    def _verdict_replaces(self, status: int) -> bool:
        """Whether --signoff-exit verdict replaces pytest's exit status: its 0 and 1, and the 2
        of a run it stopped for a collection error (see EXIT_GO)."""
        if status in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return True
        return status == pytest.ExitCode.INTERRUPTED and self.collection_stop is not None

    def exit_mode(self) -> str:
        value = self.config.getoption("deployverify_signoff_exit", None)
        if not value:
            ini = self.config.getini("deployverify_signoff_exit")
            value = str(ini) if ini else "strict"
        return value if value in EXIT_MODES else "strict"

    def scope(self, session: pytest.Session | None, items: list[Any]) -> Scope:
        """How much of the checklist this run covered, and whether it stopped early."""
        option = self.config.option
        selection: list[str] = []
        if getattr(option, "markexpr", ""):
            selection.append(f"-m {option.markexpr!r}")
        if getattr(option, "keyword", ""):
            selection.append(f"-k {option.keyword!r}")
        for nodeid in getattr(option, "deselect", None) or []:
            selection.append(f"--deselect {nodeid}")
        choice = self.context.checklist
        if not choice.whole:
            selection.append(
                CHECKLIST_OFF if not choice.enabled else f"--checklist {','.join(choice.sections)}"
            )
        counts = self.selection or {}
        deselected = int(counts.get("deselected", 0))
        collected = int(counts.get("collected", len(items))) or len(items)
        if deselected and not selection:
            selection.append(f"{deselected} items deselected by a plugin (--lf, --sw, ...)")
        sections = [s for s in SECTION_ORDER if any(i.section == s for i in items)]
        stopped = ""
        if session is not None and (session.shouldfail or session.shouldstop):
            stopped = str(session.shouldfail or session.shouldstop)
        not_run = sum(1 for i in items if i.outcome is Outcome.NOT_RUN)
        if not_run:
            stopped += ("; " if stopped else "") + f"{not_run} collected items never ran"
        interrupted = stopped or None
        return Scope(
            whole=not selection and not deselected and choice.whole,
            collected=collected,
            deselected=deselected,
            selection=selection,
            sections=sections,
            interrupted=interrupted,
        )

    def build(self, exit_status: int, session: pytest.Session | None = None) -> Signoff:
        context = self.context
        profile = context.profile
        environ = os.environ
        run_by, run_by_source = who_ran(self.config.getoption("deployverify_run_by", None), environ)
        # Asking git costs a process start: only when a report that shows the commit is written.
        documented = self.paths or environ.get(STEP_SUMMARY_VARIABLE)
        documented = documented or self.config.getoption("htmlpath", None)
        commit, commit_source = (
            git_commit(self.config.rootpath, environ) if documented else (None, None)
        )
        redact = context.redactor.redact
        run = RunInfo(
            environment=context.env.value,
            environment_source=context.env.source,
            profile_path=_shown(self.config, context.profile_path),
            protected=context.protected,
            expected_version=profile.version if profile else None,
            run_by=run_by,
            run_by_source=run_by_source,
            started_at=self.started_at,
            finished_at=now_iso(),
            git_commit=commit,
            git_commit_source=commit_source,
            pytest_args=[redact(a) for a in self.config.invocation_params.args],
            exit_status=exit_status,
            generator=f"pytest-deployverify {__version__}",
        )
        items = self.collector.build()
        if exit_status == pytest.ExitCode.INTERRUPTED and session is not None:
            why = self.collection_stop or "interrupted (Ctrl-C or a signal)"
            session.shouldstop = session.shouldstop or why
        run.scope = self.scope(session, items)
        rollback = rollback_of(self.config)
        run.rollback = dataclasses.replace(rollback[1]) if rollback is not None else None
        configured = [c.name for c in context.components if profile and c.configured_in(profile)]
        return build_signoff(
            items,
            run=run,
            profile=profile,
            today=self.today,
            approvals=self.config.getoption("deployverify_approve", None) or [],
            attestations=self.config.getoption("deployverify_attest", None) or [],
            held_back=set(context.held_back),
            allow_destructive=context.allow_destructive,
            configured=configured,
            collection_errors=list(self.collection_errors),
            # The shipped manual items belong to the whole checklist: a run of part of it ("GO
            # for smoke") does not list them.
            shipped_manual=SHIPPED_MANUAL,
            whole=run.scope.whole,
        )

    def write_outputs(self, signoff: Signoff) -> None:
        """Write every ``--signoff`` file (and the GitHub step summary), then hand the sign-off to
        ``pytest_deployverify_signoff`` implementations. Secrets are redacted from the model
        before any format renders it (escaping could otherwise hide them from the redactor)."""
        from pytest_deployverify.signoff.files import write_atomic
        from pytest_deployverify.signoff.formats import JSON, MARKDOWN, format_for
        from pytest_deployverify.signoff.redaction import redacted

        redactor = self.context.redactor
        clean = redacted(signoff, redactor) if redactor else signoff
        self.signoff = clean
        documents: dict[str, str] = {}
        for path in self.paths:
            chosen = format_for(path)  # validated when the option was parsed
            try:
                text = chosen.render(clean, os.environ)
                write_atomic(path, text)
            except OSError as exc:
                self.write_errors.append(f"could not write the sign-off {path}: {exc}")
            else:
                self.written.append(path)
                documents[str(path)] = text
                if self.signing_key is not None and chosen is JSON:
                    self._attest(path, text, documents)
        summary = os.environ.get(STEP_SUMMARY_VARIABLE)
        if summary:
            markdown = MARKDOWN.render(clean, os.environ)
            try:
                with open(summary, "a", encoding="utf-8") as handle:
                    handle.write(markdown + "\n")
            except OSError as exc:
                self.write_errors.append(f"could not append to {STEP_SUMMARY_VARIABLE}: {exc}")
        try:
            self.config.hook.pytest_deployverify_signoff(
                signoff=clean, documents=documents, config=self.config
            )
        except Exception as exc:  # a publisher's failure must not pass unnoticed
            message = redactor.redact(f"{type(exc).__name__}: {exc}")
            self.write_errors.append(f"a pytest_deployverify_signoff hook failed: {message}")

    def _attest(self, path: Path, text: str, documents: dict[str, str]) -> None:
        """Write ``NAME.intoto.json``: the JSON sign-off signed with ``--signoff-key``."""
        from pytest_deployverify.signoff.attestation import write_envelope

        assert self.signing_key is not None
        try:
            envelope, signed = write_envelope(path, text, self.signing_key, now_iso())
        except (OSError, ValueError) as exc:
            self.write_errors.append(f"could not write the attestation of {path}: {exc}")
        else:
            self.written.append(envelope)
            documents[str(envelope)] = signed

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        signoff = self.signoff
        if signoff is None:
            return
        for line, style in terminal_lines(signoff, self.written, self.write_errors):
            if line.startswith("="):
                decision = signoff.verdict.decision
                colour = {Decision.GO: "green", Decision.CONDITIONAL: "yellow"}.get(decision, "red")
                terminalreporter.write_sep("=", line.strip("= "), bold=True, **{colour: True})
            else:
                terminalreporter.write_line(line, **style)
        if self.exit_note:
            terminalreporter.write_line(f"deployverify: {self.exit_note}")


def terminal_lines(
    signoff: Signoff, written: Sequence[Path], errors: Sequence[str]
) -> list[tuple[str, dict[str, bool]]]:
    """The end-of-run summary as (text, style) lines: short, most important first."""
    red, yellow = {"red": True, "bold": True}, {"yellow": True, "bold": True}
    env = signoff.run.environment or "?"
    rollback = signoff.run.rollback
    what = f", rollback to {rollback.to_version}" if rollback else ""
    lines: list[tuple[str, dict[str, bool]]] = [
        (f"= deployverify sign-off: {signoff.verdict.label} (environment {env}{what}) =", {})
    ]
    attested = sum(1 for m in signoff.manual if m.attested)
    manual = (
        f"; manual items: {attested} of {len(signoff.manual)} attested" if signoff.manual else ""
    )
    lines.append((f"{len(signoff.checks)} checks: {count_line(signoff.counts())}{manual}", {}))
    blocking = signoff.blocking_failures
    for item in blocking[:MAX_TERMINAL_LINES]:
        outcome = item.outcome.value.upper()
        lines.append((f"BLOCKING {outcome} {item.check_id} {item.title}: {item.reason or ''}", red))
    if len(blocking) > MAX_TERMINAL_LINES:
        lines.append((f"... and {len(blocking) - MAX_TERMINAL_LINES} more blocking failures", red))
    advisory = [i for i in signoff.checks if not i.blocking and i.outcome in BROKEN]
    if advisory:
        ids = ", ".join(i.check_id for i in advisory[:5]) + (" ..." if len(advisory) > 5 else "")
        lines.append((f"advisory failures ({len(advisory)}): {ids}", yellow))
    for entry in signoff.expired_waivers:
        lines.append((f"WARNING: {describe_waiver_entry(entry)}", yellow))
    for item in signoff.held_back:
        lines.append((f"held back: {item.check_id} {item.title}: {item.reason or ''}", yellow))
    for pending in signoff.pending_manual:
        lines.append(
            (f"pending manual item: {pending.id} {pending.title} (--attest {pending.id}=NAME)", {})
        )
    if signoff.verdict.decision is not Decision.GO and not blocking:
        lines += [(f"reason: {reason}", {}) for reason in signoff.verdict.reasons[:5]]
    lines += [(f"sign-off written: {path}", {}) for path in written]
    lines += [(f"ERROR: {error}", red) for error in errors]
    return lines


def phase_report(report: pytest.TestReport, context: RunContext) -> PhaseReport:
    """The plain record of one report; a crashed worker's report has no ``deployverify`` data."""
    meta = getattr(report, "deployverify", None)
    message: str | None = None
    if report.failed and isinstance(report.longrepr, str):
        message = report.longrepr
    elif report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = getattr(crash, "message", None)
        message = text if isinstance(text, str) else report.longreprtext
    elif report.skipped and isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        message = str(report.longrepr[2])
    wasxfail = getattr(report, "wasxfail", None)
    redactor = context.redactor
    if redactor:
        message = redactor.redact(message) if message else message
        meta = redactor.redact_data(meta, keep=STRUCTURAL_KEYS) if isinstance(meta, dict) else meta
    return PhaseReport(
        nodeid=report.nodeid,
        when=str(report.when) if report.when else CRASH_PHASE,
        outcome=report.outcome,
        duration=float(getattr(report, "duration", 0.0) or 0.0),
        meta=meta if isinstance(meta, dict) else None,
        message=message,
        wasxfail=str(wasxfail) if wasxfail is not None else None,
    )


def _shown(config: pytest.Config, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return str(path.resolve().relative_to(config.rootpath.resolve()))
    except ValueError:
        return str(path)
