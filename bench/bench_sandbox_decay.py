"""The sandbox stays GO for as long as it runs: the whole checklist at start and after a while.

    .venv/bin/python bench/bench_sandbox_decay.py [--at 0 30 60]

Starts the sandbox once and runs ``pytest verify --env sandbox`` (the shipped checklist and the
team's own checks) at each given minute after start-up, printing the verdict and what failed.
Before, the sandbox decayed: GO up to about 9 minutes, NO-GO at 12.5 (its backfilled history ran
out), more gates failing by 16 and 30 minutes. It takes as long as the last minute given.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
sys.path.insert(0, str(ROOT / "bench"))

from bench_network_delay import attest_shipped_manual, read_env  # noqa: E402


def run_checklist(env: dict[str, str], out: Path) -> dict[str, object]:
    command = [
        PYTHON, "-m", "pytest", "verify", "--env", "sandbox", "-p", "no:cacheprovider", "-q",
        "--signoff", str(out), *attest_shipped_manual(),
    ]  # fmt: skip
    subprocess.run(command, env={**env}, cwd=ROOT, capture_output=True, text=True, check=False)
    document: dict[str, object] = json.loads(out.read_text())
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--at", type=float, nargs="+", default=[0, 30, 60], metavar="MINUTES")
    args = parser.parse_args()
    import os
    import signal

    # A background run is stopped with SIGTERM: unwind, so the sandbox is stopped by its PIDs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))

    with tempfile.TemporaryDirectory(prefix="dv-bench-decay-") as tmp:
        state = Path(tmp) / "sandbox"
        subprocess.run([PYTHON, "-m", "sandbox", "up", "--state", str(state)], cwd=ROOT, check=True)
        started = time.monotonic()
        try:
            env = {**os.environ, **read_env(state / "env.sh")}
            for minute in sorted(args.at):
                wait = started + minute * 60 - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                elapsed = (time.monotonic() - started) / 60
                doc = run_checklist(env, Path(tmp) / f"signoff-{minute:g}.json")
                verdict = doc["verdict"]
                assert isinstance(verdict, dict)
                checks = doc["checks"]
                assert isinstance(checks, list)
                broken = [c["check_id"] for c in checks if c["outcome"] in ("failed", "error")]
                counts = doc["counts"]
                assert isinstance(counts, dict)
                print(
                    f"{elapsed:6.1f} min after start: {verdict['label']}; "
                    f"{counts['by_outcome']}; broken: {broken or 'none'}",
                    flush=True,
                )
                for check in checks:
                    if check["outcome"] in ("failed", "error"):
                        print(f"         {check['check_id']}: {check['reason'][:300]}", flush=True)
        finally:
            subprocess.run(
                [PYTHON, "-m", "sandbox", "down", "--state", str(state)], cwd=ROOT, check=False
            )


if __name__ == "__main__":
    main()
