"""``python -m sandbox up|down|status``: start or stop the local environment the checklist runs against.

``up`` starts a supervisor process that owns every server, waits until all are ready, and leaves
``STATE/env.sh`` with the variables ``verify/environments/sandbox.toml`` reads. ``down`` stops the
supervisor by PID, which stops every server it started (also by PID).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

DEFAULT_STATE = Path(".sandbox")
READY = "ready"
FAILED = "failed"
PIDFILE = "supervisor.pid"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down", "status", "serve"))
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="state folder")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for up")
    args = parser.parse_args(argv)
    state: Path = args.state.resolve()
    if args.command == "up":
        return up(state, args.timeout)
    if args.command == "down":
        return down(state)
    if args.command == "status":
        return status(state)
    return serve(state)


def up(state: Path, timeout: float) -> int:
    if _supervisor_pid(state):
        print(f"sandbox: already running (state {state}); run `python -m sandbox down` first")
        return 1
    state.mkdir(parents=True, exist_ok=True)
    for marker in (READY, FAILED):
        (state / marker).unlink(missing_ok=True)
    log = (state / "supervisor.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--state", str(state)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (state / PIDFILE).write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (state / READY).exists():
            print((state / "supervisor.log").read_text(), end="")
            print(f"sandbox: up; variables in {state / 'env.sh'}")
            return 0
        if (state / FAILED).exists() or process.poll() is not None:
            break
        time.sleep(0.2)
    print((state / "supervisor.log").read_text(), end="", file=sys.stderr)
    print("sandbox: failed to start (see above); stopping what was started", file=sys.stderr)
    down(state)
    return 1


def serve(state: Path) -> int:
    from sandbox.stack import Stack

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stack = Stack.start(state, log=lambda line: print(line, flush=True))
    except Exception as exc:
        print(f"sandbox: {type(exc).__name__}: {exc}", flush=True)
        (state / FAILED).write_text(str(exc))
        return 1
    (state / READY).write_text(str(os.getpid()))
    try:
        stop.wait()
    finally:
        stack.stop(log=lambda line: print(line, flush=True))
        (state / READY).unlink(missing_ok=True)
        (state / PIDFILE).unlink(missing_ok=True)
    return 0


def _supervisor_pid(state: Path) -> int | None:
    from sandbox.procs import pid_alive

    try:
        pid = int((state / PIDFILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def down(state: Path) -> int:
    from sandbox.procs import stop_pid

    pid = _supervisor_pid(state)
    if pid is None:
        print("sandbox: not running")
        (state / PIDFILE).unlink(missing_ok=True)
        return 0
    # The supervisor stops its servers on SIGTERM; give it time before SIGKILL.
    stop_pid(pid, timeout=60.0)
    (state / PIDFILE).unlink(missing_ok=True)
    (state / "env.sh").unlink(missing_ok=True)
    print(f"sandbox: stopped (supervisor pid {pid})")
    return 0


def status(state: Path) -> int:
    pid = _supervisor_pid(state)
    print(f"sandbox: {'running, supervisor pid ' + str(pid) if pid else 'not running'}")
    return 0 if pid else 1


if __name__ == "__main__":
    raise SystemExit(main())
