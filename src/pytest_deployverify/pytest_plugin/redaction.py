"""Keep every known secret out of every channel pytest and its plugins write.

* test and collection reports are scrubbed before any reporter (terminal, JUnit, HTML, xdist)
  sees them: long reprs, skip and xfail reasons, captured output and logs, user properties;
* node ids never carry a secret (a parametrize id made from a secret value);
* log records are scrubbed when created, tracebacks of ``log.exception`` included, so live logs,
  ``--log-file``, caplog and captured logs agree;
* everything written to the terminal passes the redactor last, so a plugin's own summary lines,
  the warnings summary and the header cannot leak either.

Structure is never redacted (issue 12): the redactor is taught the run's structural strings (the
static part of every node id and its pieces: file paths and names, module, class and function
names, the JUnit class name; marker names as written in source; check ids, titles, sections,
severities, components), on every process: from the collected items, from each report before it
is redacted, and, on an xdist controller, from its workers' collections and reports
(``teach_structure``). Their occurrences stay intact in free text (``Redactor.protect`` has the
exact rule), and the structural fields of a report's checklist data and of the JUnit properties
are kept as they are. The parametrize part of a node id (``test_x[<id>]``) is still masked: ids
may be built from secrets.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import Any

import pytest

from pytest_deployverify.checks.declarations import SPEC_ATTRIBUTE, CheckSpec
from pytest_deployverify.profile.secrets import Redactor, split_parameters

# The fields of an item's checklist data (``report.deployverify``) that are structure: declared in
# code, kept as they are (but for a parametrize part) wherever that data is redacted.
STRUCTURAL_KEYS = ("check_id", "title", "severity", "section", "sections", "components", "reads")
# The JUnit properties the plugin adds from those fields (the ``deployverify.`` names are its own).
STRUCTURAL_PROPERTIES = ("deployverify.check_id", "deployverify.section", "deployverify.severity")
# The report attribute carrying the structural strings that hold a secret (see redact_report).
STRUCTURE_ATTRIBUTE = "deployverify_structure"


@functools.lru_cache(maxsize=8192)  # each node id is seen by several reports and hooks
def nodeid_structure(nodeid: str) -> frozenset[str]:
    """The structural strings of a node id, as output shows them: the static node id
    (``dir/test_a.py::TestX::test_y``), its trailing ``::`` parts, the path and its trailing
    segments, the module stem, the dotted module and JUnit class names and the ``TestX.test_y``
    domain of a traceback header. Never the parametrize part."""
    static = split_parameters(nodeid)[0]
    if not static:
        return frozenset()
    parts = static.split("::")
    path, names = parts[0], parts[1:]
    found = {static, *names, *("::".join(parts[i:]) for i in range(1, len(parts)))}
    segments = path.split("/")
    found |= {"/".join(segments[i:]) for i in range(len(segments))}
    module = path[: -len(".py")] if path.endswith(".py") else path
    found.add(module.rsplit("/", 1)[-1])
    dotted = module.replace("/", ".").split(".")
    for i in range(len(dotted)):
        found.add(".".join(dotted[i:]))  # the module, as a JUnit classname shows it
        found.add(".".join([*dotted[i:], *names[:-1]]))
    if names:
        found.add(".".join(names))
    return frozenset(token for token in found if token)


def item_structure(item: pytest.Item) -> set[str]:
    """The structural strings of a collected item: its node id's, its file's path, its markers
    (also as ``pytest.mark.NAME``, the way source lines in a traceback show them), and what its
    ``check`` marker or its declaration says (id, title, section, severity, components)."""
    found = set(nodeid_structure(item.nodeid))
    found.add(str(item.path))
    for mark in item.iter_markers():
        found |= {mark.name, f"mark.{mark.name}", f"pytest.mark.{mark.name}"}
        if mark.name == "check":
            declared = [*mark.args[:1], mark.kwargs.get("title"), mark.kwargs.get("severity")]
            found |= {value for value in declared if isinstance(value, str)}
    spec = getattr(getattr(item, "obj", None), SPEC_ATTRIBUTE, None)
    if isinstance(spec, CheckSpec):  # an item of the shipped checklist (``@item(SPEC)``)
        found |= {spec.id, spec.title, spec.section.value, spec.severity.value, *spec.components}
    return found


def meta_structure(meta: Any) -> set[str]:
    """The structural strings of an item's checklist data."""
    found: set[str] = set()
    if not isinstance(meta, dict):
        return found
    for key in STRUCTURAL_KEYS:
        value = meta.get(key)
        values = value if isinstance(value, list | tuple) else [value]
        found |= {v for v in values if isinstance(v, str)}
    if isinstance(meta.get("check_id"), str):
        found |= nodeid_structure(meta["check_id"])  # a check id that is a node id
    return found


def learn_report(report: pytest.TestReport | pytest.CollectReport, redactor: Redactor) -> None:
    """Teach ``redactor`` the structure a report names: its node id and checklist data."""
    found = set(nodeid_structure(report.nodeid)) if report.nodeid else set()
    found |= meta_structure(getattr(report, "deployverify", None))
    from pytest_deployverify.pytest_plugin.recorder import REPORT_COLLECTION_ATTRIBUTE

    described = getattr(report, REPORT_COLLECTION_ATTRIBUTE, None)
    if isinstance(described, dict):
        for nodeid, meta in described.items():
            found |= nodeid_structure(str(nodeid)) | meta_structure(meta)
    carried = getattr(report, STRUCTURE_ATTRIBUTE, None)
    if isinstance(carried, list):
        found |= {token for token in carried if isinstance(token, str)}
    redactor.protect(found)


def redact_report(report: pytest.TestReport | pytest.CollectReport, redactor: Redactor) -> None:
    if not redactor:
        return
    learn_report(report, redactor)
    holding = redactor.structure_holding_secrets()
    if holding:
        # The structure a secret is part of (a marker name in a source line, a title) rides with
        # the report, so an xdist controller, which collected nothing, keeps it intact too.
        setattr(report, STRUCTURE_ATTRIBUTE, sorted(holding))
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = redactor.redact(longrepr)
    elif isinstance(longrepr, tuple):  # skip: (path, lineno, reason)
        report.longrepr = tuple(redactor.redact(v) if isinstance(v, str) else v for v in longrepr)  # type: ignore[assignment]
    elif longrepr is not None and redactor.contains_secret(str(longrepr)):
        # Walk pytest's repr dataclasses in place so the terminal keeps its layout and colours.
        _redact_tree(longrepr, redactor, set())
        if redactor.exposes_secret(str(longrepr)):
            report.longrepr = redactor.redact(str(longrepr))
    if report.sections:
        report.sections = [(title, redactor.redact(body)) for title, body in report.sections]
    data = getattr(report, "deployverify", None)
    if data is not None:
        report.deployverify = redactor.redact_data(data, keep=STRUCTURAL_KEYS)  # type: ignore[union-attr]
    wasxfail = getattr(report, "wasxfail", None)
    if isinstance(wasxfail, str) and wasxfail:
        report.wasxfail = redactor.redact(wasxfail)  # type: ignore[union-attr]
    if getattr(report, "user_properties", None):
        report.user_properties = [  # type: ignore[union-attr]
            (
                name,
                redactor.redact_name(value)
                if name in STRUCTURAL_PROPERTIES and isinstance(value, str)
                else redactor.redact_data(value),
            )
            for name, value in report.user_properties
        ]


def _redact_tree(node: Any, redactor: Redactor, seen: set[int]) -> Any:
    if isinstance(node, str):
        return redactor.redact(node)
    if id(node) in seen:
        return node
    seen.add(id(node))
    if isinstance(node, list):
        node[:] = [_redact_tree(v, redactor, seen) for v in node]
        return node
    if isinstance(node, tuple):
        return tuple(_redact_tree(v, redactor, seen) for v in node)
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _redact_tree(node[key], redactor, seen)
        return node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            new = _redact_tree(value, redactor, seen)
            if new is not value:
                object.__setattr__(node, f.name, new)
        return node
    return node


def install_log_redaction(redactor: Redactor) -> Any:
    """Redact log records at creation, so live logging, caplog, captured logs and ``--log-file``
    all see the masked text, the traceback of ``log.exception`` included.

    Returns the factory that was in place, to be restored at unconfigure."""
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's problem to report, not ours
            return record
        if redactor.contains_secret(message):
            record.msg, record.args = redactor.redact(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            # Handlers format exc_info lazily and keep the text in exc_text: fill it now.
            record.exc_text = redactor.redact(formatter.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redactor.redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
    return previous


def install_terminal_redaction(config: pytest.Config, redactor: Redactor) -> None:
    """Pass everything the terminal reporter writes through the redactor, last line of defence
    for the channels no report carries (a plugin's summary, warnings, the header). The redactor
    is first taught the run's structure (``teach_structure``), so the terminal shows it intact."""
    teach_structure(config, redactor)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is None or getattr(writer, "_deployverify_redacted", False):
        return
    raw: Callable[..., None] = writer.write_raw

    def write_raw(msg: str, *, flush: bool = False) -> None:
        raw(redactor.redact(msg) if redactor.contains_secret(msg) else msg, flush=flush)

    writer.write_raw = write_raw
    writer._deployverify_redacted = True


STRUCTURE_PLUGIN = "deployverify-structure"


def teach_structure(config: pytest.Config, redactor: Redactor) -> None:
    """Teach ``redactor`` the run's structure: the rootdir, and (through a small plugin) every
    node id and report this process sees; on an xdist controller, which collects nothing, that is
    its workers' collections and reports."""
    redactor.protect([str(config.rootpath)])
    if not config.pluginmanager.has_plugin(STRUCTURE_PLUGIN):
        listener = _StructureListener(redactor, config.pluginmanager.has_plugin("dsession"))
        config.pluginmanager.register(listener, STRUCTURE_PLUGIN)


class _StructureListener:
    def __init__(self, redactor: Redactor, controller: bool) -> None:
        self.redactor = redactor
        # An xdist controller collects nothing and gets its reports from the workers: it learns
        # from them here. Elsewhere scrub_node_ids and redact_report have already learned all.
        self.controller = controller

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        found: set[str] = set()
        for nodeid in ids:
            found |= nodeid_structure(nodeid)
        self.redactor.protect(found)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        if self.controller:
            self.redactor.protect([*nodeid_structure(nodeid), location[0], location[2]])

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.controller:
            learn_report(report, self.redactor)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if self.controller:
            learn_report(report, self.redactor)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.redactor.structure_holding_secrets():
            terminalreporter.write_line(
                "deployverify: WARNING: a secret of this profile is, or is part of, a name of "
                "the test suite (a file, test, marker, check id, title or section): it is masked "
                "in messages but shows in those names; use a stronger secret",
                yellow=True,
            )


def scrub_node_ids(items: list[pytest.Item], redactor: Redactor) -> None:
    """A node id made from a secret (``test_login[<password>]``) would print in the terminal,
    JUnit, HTML and the cache: give such items a redacted id before anything reports them.

    Only the parametrize part is masked; the static part (path, class, function) is structure,
    taught to the redactor here, and stays as it is."""
    found: set[str] = set()
    for item in items:
        found |= item_structure(item)
    redactor.protect(found)
    for item in items:
        if not redactor.contains_secret(item.nodeid):
            continue
        new_id = redactor.redact_name(item.nodeid)
        new_name = redactor.redact_name(item.name)
        if new_id == item.nodeid and new_name == item.name:
            continue
        if hasattr(item, "_nodeid"):  # pytest 8
            item._nodeid = new_id
        elif hasattr(item, "_id"):  # pytest 9: a structured node id
            from _pytest.nodeid import coerce_node_id

            item._id = coerce_node_id(new_id)
        item.name = new_name
        callspec = getattr(item, "callspec", None)
        if callspec is not None and redactor.contains_secret(callspec.id):
            masked = [redactor.redact(i, protected=False) for i in callspec._idlist]
            object.__setattr__(callspec, "_idlist", masked)
