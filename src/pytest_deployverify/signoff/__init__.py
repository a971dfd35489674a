"""The sign-off report: collect the run's results, decide GO/CONDITIONAL/NO-GO, render, seal.

Plain modules without pytest hooks; ``signoff_plugin.py`` and ``html.py`` connect them to a run,
``cli.py`` to the ``deployverify`` command.
"""

from __future__ import annotations

from pytest_deployverify.signoff.model import CheckItem, Decision, Outcome, Signoff, Verdict

__all__ = ["CheckItem", "Decision", "Outcome", "Signoff", "Verdict"]
