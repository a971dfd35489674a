"""The whole checklist against a black-holed gateway versus a healthy one: one timeout, not one per check.

    .venv/bin/python bench/bench_blackhole_gateway.py

Starts the sandbox, runs ``pytest verify --env sandbox`` once as it is and once with the gateway's
URLs pointing at a black hole (a port that accepts TCP connections and never answers, so every
attempt waits out the profile's 5 s timeout), and prints both wall times, the connection attempts
the black hole saw, and how the HTTP items ended. Before the component registry, the TLS, latency
and load probes dialled the host themselves: about 150 s and 300 connection attempts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_network_delay import read_env  # noqa: E402

from tests.clients.blackhole import BlackHole  # noqa: E402


def run(env: dict[str, str], out: Path) -> tuple[float, dict[str, int], int]:
    command = [
        PYTHON, "-m", "pytest", "verify", "--env", "sandbox", "-p", "no:cacheprovider", "-q",
        "--signoff", str(out),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    doc = json.loads(out.read_text())
    http = [c for c in doc["checks"] if c.get("components", [None])[:1] == ["http"]]
    outcomes: dict[str, int] = {}
    for check in http:
        outcomes[check["outcome"]] = outcomes.get(check["outcome"], 0) + 1
    return elapsed, outcomes, len(doc["checks"])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dv-bench-bh-") as tmp, BlackHole() as hole:
        state = Path(tmp) / "sandbox"
        subprocess.run([PYTHON, "-m", "sandbox", "up", "--state", str(state)], cwd=ROOT, check=True)
        try:
            env = {**os.environ, **read_env(state / "env.sh")}
            healthy, outcomes, total = run(env, Path(tmp) / "healthy.json")
            print(f"healthy gateway:     {healthy:6.1f} s  ({total} checks; HTTP items {outcomes})")
            holed = {
                **env,
                "SANDBOX_GATEWAY_URL": f"https://{hole.address}",
                "SANDBOX_GATEWAY_HTTP_URL": f"http://{hole.address}",
            }
            before = hole.accepted
            black, outcomes, total = run(holed, Path(tmp) / "black.json")
            attempts = hole.accepted - before
            print(
                f"black-holed gateway: {black:6.1f} s  ({total} checks; HTTP items {outcomes}); "
                f"{attempts} connection attempt(s) reached the black hole"
            )
            print(f"difference: {black - healthy:+.1f} s (the profile's [http] timeout is 5 s)")
        finally:
            subprocess.run(
                [PYTHON, "-m", "sandbox", "down", "--state", str(state)], cwd=ROOT, check=False
            )


if __name__ == "__main__":
    main()
