"""Start, watch and stop one server process of the sandbox.

Each server runs in its own session (so a terminal's Ctrl-C or pytest's signals do not reach it
directly), logs to a file in its working folder and leaves a pidfile there, so a later command can
stop it by PID. Stopping is SIGTERM (or the server's own "fast shutdown" signal), a bounded wait,
then SIGKILL; it is idempotent and also registered with ``atexit`` as a safety net for aborted runs.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import os
import pwd
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sandbox.ports import LOOPBACK, looks_like_port_clash

T = TypeVar("T")

SERVICE_USER = "deployverify"
INSTALL_HINT = "install it with scripts/install-system-deps.sh (as root)"
LOG_TAIL_LINES = 25
_LOG_TAIL_BYTES = 16_384


class ServerStartError(RuntimeError):
    """A sandbox server did not come up; the message names it, its port and its last log lines."""

    def __init__(self, server: str, port: int | None, reason: str, log_tail: str) -> None:
        self.server = server
        self.port = port
        self.reason = reason
        self.log_tail = log_tail
        where = f"{LOOPBACK}:{port}" if port is not None else "(no port)"
        super().__init__(
            f"{server} on {where} failed to start: {reason}\n"
            f"--- last lines of the {server} log ---\n{log_tail or '(log is empty)'}"
        )

    @property
    def port_clash(self) -> bool:
        """True when the log says the port was taken: starting again on another port may work."""
        return looks_like_port_clash(self.log_tail)


@dataclass(frozen=True)
class SystemUser:
    """An account a server runs as when it refuses to run as root (PostgreSQL)."""

    name: str
    uid: int
    gid: int


def running_as_root() -> bool:
    return os.geteuid() == 0


def ensure_system_user(name: str = SERVICE_USER) -> SystemUser:
    """The unprivileged system user ``name``, created with ``useradd --system`` if missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            # Re-read even after a failure: a parallel worker may have created it meanwhile.
            entry = pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(
                f"could not create system user {name!r} (useradd exit {result.returncode}): "
                f"{result.stderr.strip()}"
            ) from None
    return SystemUser(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


def service_user() -> SystemUser | None:
    """The user to drop to for servers that refuse root; ``None`` when we are not root anyway."""
    return ensure_system_user() if running_as_root() else None


def chown_tree(path: Path, user: SystemUser) -> None:
    """Give ``path`` and everything below it to ``user``."""
    os.chown(path, user.uid, user.gid)
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), user.uid, user.gid, follow_symlinks=False)


def can_traverse(path: Path, user: SystemUser) -> bool:
    """True when ``user`` may reach ``path`` (search permission on every ancestor folder).

    pytest's temporary folders live under a 0700 root-owned ``/tmp/pytest-of-root``, which an
    unprivileged server cannot enter; callers then place that server's data elsewhere.
    """
    groups = {user.gid} | {g.gr_gid for g in grp.getgrall() if user.name in g.gr_mem}
    for folder in [path.resolve(), *path.resolve().parents]:
        try:
            info = folder.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == user.uid:
            allowed = info.st_mode & 0o100
        elif info.st_gid in groups:
            allowed = info.st_mode & 0o010
        else:
            allowed = info.st_mode & 0o001
        if not allowed:
            return False
    return True


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state letter follows the parenthesised command name, which may itself contain spaces.
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop_pid(pid: int, *, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Stop a process we started earlier but no longer hold a handle to (e.g. from a pidfile)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_pidfile(pidfile: Path, *, timeout: float = 10.0) -> bool:
    """Stop the process named in ``pidfile`` and remove the file; False if there was none."""
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    stop_pid(pid, timeout=timeout)
    pidfile.unlink(missing_ok=True)
    return True


def read_log_tail(path: Path, lines: int = LOG_TAIL_LINES, *, start: int = 0) -> str:
    """The last ``lines`` lines of a log file after byte ``start`` ("" when there is none yet)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(start, size - _LOG_TAIL_BYTES))
            data = handle.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


class ManagedProcess:
    """One long-running server process, started in a new session with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        workdir: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        run_as: SystemUser | None = None,
        stop_signal: int = signal.SIGTERM,
        log_name: str | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(arg) for arg in argv]
        self.workdir = workdir
        self.port = port
        self.env = dict(env) if env is not None else None
        self.cwd = cwd or workdir
        self.run_as = run_as
        self.stop_signal = stop_signal
        self.log_path = workdir / (log_name or f"{name}.log")
        self.pidfile = workdir / f"{name}.pid"
        self._popen: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._stopped = False
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> ManagedProcess:
        if self._popen is not None:
            raise RuntimeError(f"{self.name} was already started (pid {self._popen.pid})")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            # Only the lines written from here on belong to this start (a retry appends).
            self._log_offset = log.tell()
            user = self.run_as
            try:
                self._popen = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.cwd,
                    env=self.env,
                    start_new_session=True,
                    user=user.uid if user else None,
                    group=user.gid if user else None,
                    extra_groups=[] if user else None,
                )
            except OSError as exc:
                raise ServerStartError(
                    self.name, self.port, f"cannot run {self.argv[0]}: {exc}", ""
                ) from exc
        self.pidfile.write_text(f"{self.pid}\n")
        atexit.register(self.stop)
        return self

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return read_log_tail(self.log_path, lines, start=self._log_offset)

    def failure(self, reason: str) -> ServerStartError:
        """An error about this process that carries its port and the tail of its log."""
        return ServerStartError(self.name, self.port, reason, self.log_tail())

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``predicate`` until it is true; raise ``ServerStartError`` if the process dies or
        ``timeout`` seconds pass. Exceptions from the predicate count as "not yet"."""
        if self._popen is None:
            raise RuntimeError(f"{self.name} has not been started")
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        delay = 0.02
        while True:
            # Check for an early exit first: a port answered by someone else must not count.
            code = self._popen.poll()
            if code is not None:
                raise self.failure(f"exited with code {code} while waiting until {what}")
            try:
                if predicate():
                    return
            except Exception as exc:
                last_error = exc
            if time.monotonic() >= deadline:
                detail = f" (last error: {last_error!r})" if last_error else ""
                raise self.failure(f"not {what} after {timeout:.0f}s{detail}")
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    @contextlib.contextmanager
    def stopped_on_error(self) -> Iterator[ManagedProcess]:
        """Inside this block any exception stops the process before it propagates."""
        try:
            yield self
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Stop by PID: the stop signal, up to ``timeout`` s, then SIGKILL. Safe to call twice."""
        with self._lock:
            if self._popen is None or self._stopped:
                return
            proc = self._popen
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, self.stop_signal)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._kill_group()
                    proc.wait(5)
            # Leftover children in the session we created (e.g. nginx workers whose master was
            # killed) would keep the ports: the group id is the PID we started, nothing broader.
            self._kill_group()
            self._stopped = True
            self.pidfile.unlink(missing_ok=True)
            atexit.unregister(self.stop)

    def _kill_group(self) -> None:
        if self._popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signal.SIGKILL)

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        pid = self._popen.pid if self._popen else None
        return f"<ManagedProcess {self.name} pid={pid} port={self.port} {state}>"


def start_with_port_retry(start: Callable[[], T], attempts: int = 3) -> T:
    """Call ``start`` again (it picks new ports) when a server lost its port to someone else in
    the moment between our probe and its bind; any other failure is raised at once."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except ServerStartError as exc:
            if attempt == attempts or not exc.port_clash:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
