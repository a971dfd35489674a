"""``python -m pytest_deployverify.cli``: the ``deployverify`` command."""

from pytest_deployverify.cli import main

raise SystemExit(main())
