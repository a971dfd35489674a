"""Write sign-off files atomically and read them back with errors a person can act on."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class SignoffFileError(Exception):
    """A sign-off file that cannot be read or is not a sign-off; the message names the file."""


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so readers see the old file or the new one, never half of it.

    The temporary file lives in the target's folder, so ``os.replace`` is a rename on one file
    system.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; give the file the mode a plain open() would have.
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SignoffFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SignoffFileError(f"{path}: is a folder, not a sign-off file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SignoffFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SignoffFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "only .json sign-offs can be verified or merged"
        ) from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise SignoffFileError(f"{path}: not a deployverify sign-off (no schema_version)")
    return data
