"""Keep every known secret out of every channel pytest and its plugins write.

* test and collection reports are scrubbed before any reporter (terminal, JUnit, HTML, xdist)
  sees them: long reprs, skip and xfail reasons, captured output and logs, user properties;
* node ids never carry a secret (a parametrize id made from a secret value);
* log records are scrubbed when created, tracebacks of ``log.exception`` included, so live logs,
  ``--log-file``, caplog and captured logs agree;
* everything written to the terminal passes the redactor last, so a plugin's own summary lines,
  the warnings summary and the header cannot leak either.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import pytest

from pytest_deployverify.profile.secrets import Redactor


def redact_report(report: pytest.TestReport | pytest.CollectReport, redactor: Redactor) -> None:
    if not redactor:
        return
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = redactor.redact(longrepr)
    elif isinstance(longrepr, tuple):  # skip: (path, lineno, reason)
        report.longrepr = tuple(redactor.redact(v) if isinstance(v, str) else v for v in longrepr)  # type: ignore[assignment]
    elif longrepr is not None and redactor.contains_secret(str(longrepr)):
        # Walk pytest's repr dataclasses in place so the terminal keeps its layout and colours.
        _redact_tree(longrepr, redactor, set())
        if redactor.contains_secret(str(longrepr)):
            report.longrepr = redactor.redact(str(longrepr))
    if report.sections:
        report.sections = [(title, redactor.redact(body)) for title, body in report.sections]
    data = getattr(report, "deployverify", None)
    if data is not None:
        report.deployverify = redactor.redact_data(data)  # type: ignore[union-attr]
    wasxfail = getattr(report, "wasxfail", None)
    if isinstance(wasxfail, str) and wasxfail:
        report.wasxfail = redactor.redact(wasxfail)  # type: ignore[union-attr]
    if getattr(report, "user_properties", None):
        report.user_properties = [  # type: ignore[union-attr]
            (name, redactor.redact_data(value)) for name, value in report.user_properties
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
    for the channels no report carries (a plugin's summary, warnings, the header)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is None or getattr(writer, "_deployverify_redacted", False):
        return
    raw: Callable[..., None] = writer.write_raw

    def write_raw(msg: str, *, flush: bool = False) -> None:
        raw(redactor.redact(msg) if redactor.contains_secret(msg) else msg, flush=flush)

    writer.write_raw = write_raw
    writer._deployverify_redacted = True


def scrub_node_ids(items: list[pytest.Item], redactor: Redactor) -> None:
    """A node id made from a secret (``test_login[<password>]``) would print in the terminal,
    JUnit, HTML and the cache: give such items a redacted id before anything reports them."""
    for item in items:
        if not redactor.contains_secret(item.nodeid):
            continue
        new_id = redactor.redact(item.nodeid)
        new_name = redactor.redact(item.name)
        if hasattr(item, "_nodeid"):  # pytest 8
            item._nodeid = new_id
        elif hasattr(item, "_id"):  # pytest 9: a structured node id
            from _pytest.nodeid import coerce_node_id

            item._id = coerce_node_id(new_id)
        item.name = new_name
        callspec = getattr(item, "callspec", None)
        if callspec is not None and redactor.contains_secret(callspec.id):
            object.__setattr__(callspec, "_idlist", [redactor.redact(i) for i in callspec._idlist])
