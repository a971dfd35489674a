"""The example plugin under examples/, installed by the tests themselves.

It is installed (a real wheel build and install, entry point included) into a folder of its own
that only the runs under test put on their path, and removed at the end of the session. Installing
it into the shared virtualenv instead would make every other pytest run on the machine load it
meanwhile (entry points are global to an environment).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "deployverify-example-plugin"


def _install_command(target: Path) -> list[str]:
    uv = shutil.which("uv")
    if uv is not None:
        return [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            sys.executable,
            "--target",
            str(target),
            "--no-deps",
            str(EXAMPLE),
        ]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        str(target),
        "--no-deps",
        str(EXAMPLE),
    ]


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder the example plugin is installed into; removed (uninstalled) at the end."""
    target = tmp_path_factory.mktemp("example-plugin-site")
    done = subprocess.run(
        _install_command(target), capture_output=True, text=True, check=False, timeout=300
    )
    if done.returncode != 0:
        pytest.fail(f"installing {EXAMPLE.name} failed:\n{done.stdout}\n{done.stderr}")
    assert (target / "deployverify_example.py").is_file()
    yield target
    shutil.rmtree(target, ignore_errors=True)
