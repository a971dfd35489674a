"""Repository-level pytest configuration.

Being at the repository root, this file puts the root on ``sys.path`` (pytest's default import mode), so
the tests and the checklist can import the ``sandbox`` package (test support and the local demo target,
deliberately not part of the installed plugin).
"""

from __future__ import annotations
