"""The whole checklist against the sandbox, directly and with every component 50 ms away.

    .venv/bin/python bench/bench_network_delay.py [--rounds 2] [--delay 0.025]

Starts the sandbox once, puts a delaying TCP proxy (bench/delay_proxy.py, 25 ms each way, so a
round trip costs 50 ms more) in front of every endpoint the sandbox profile names (Kubernetes API,
Redis, PostgreSQL, Prometheus, Alertmanager, the gateway, Grafana/Jaeger/Loki, the 19 downstream
services), then runs ``pytest --env sandbox`` alternately direct and through the proxies, and
prints the wall times and their ratio. Goal (issue 10): at most 1.15x, i.e. the checklist waits on
the network for no more than about 2 s at 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.removeprefix("export ").strip()
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = shlex.split(value)[0] if value else ""
    return values


def endpoints(env: dict[str, str]) -> dict[str, tuple[str, int]]:
    """Every ``VAR`` whose value is a URL or DSN on loopback, with its host and port."""
    found = {}
    for key, value in env.items():
        if "://" not in value:
            continue
        parts = urlsplit(value)
        if parts.hostname in ("127.0.0.1", "localhost") and parts.port:
            found[key] = ("127.0.0.1", parts.port)
    return found


def kube_server(kubeconfig: Path) -> tuple[str, int] | None:
    match = re.search(r"server:\s*https://127\.0\.0\.1:(\d+)", kubeconfig.read_text())
    return ("127.0.0.1", int(match.group(1))) if match else None


def start_proxies(
    targets: set[tuple[str, int]], delay: float
) -> tuple[subprocess.Popen[str], dict[int, int]]:
    args = [PYTHON, str(ROOT / "bench" / "delay_proxy.py"), "--delay", str(delay)]
    args += [f"{h}:{p}" for h, p in sorted(targets)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    mapping: dict[int, int] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "ready":
            break
        upstream, _, local = line.partition(" -> ")
        mapping[int(upstream.rpartition(":")[2])] = int(local)
    return proc, mapping


def proxied_env(env: dict[str, str], mapping: dict[int, int], workdir: Path) -> dict[str, str]:
    out = dict(env)
    for key, value in env.items():
        if "://" in value:
            parts = urlsplit(value)
            if parts.port in mapping:
                out[key] = value.replace(f":{parts.port}", f":{mapping[parts.port]}", 1)
    kubeconfig = Path(env["SANDBOX_KUBECONFIG"])
    text = kubeconfig.read_text()
    for upstream, local in mapping.items():
        text = text.replace(f"127.0.0.1:{upstream}", f"127.0.0.1:{local}")
    copy = workdir / "kubeconfig-proxied"
    copy.write_text(text)
    out["SANDBOX_KUBECONFIG"] = str(copy)
    return out


def attest_shipped_manual() -> list[str]:
    """``--attest`` for each shipped manual item the sandbox profile keeps, as
    ``scripts/verify-sandbox.sh`` does: the benches judge the automated checks."""
    import tomllib

    from pytest_deployverify.checks.manual import SHIPPED_MANUAL

    profile = tomllib.loads((ROOT / "verify" / "environments" / "sandbox.toml").read_text())
    dropped = profile.get("shipped_manual", {}).get("drop", {})
    return [f"--attest={item.id}=bench" for item in SHIPPED_MANUAL if item.id not in dropped]


# Probes that measure the link by design: their round trips one after another are set by the
# profile (requests / concurrency, the burst's size), so their share is reported apart.
TIMED_PROBES = ("SMOKE-GW-LATENCY", "SMOKE-GW-LOAD", "SEC-GW-RATE-BURST")


def run_checklist(env: dict[str, str], reports: Path) -> tuple[float, float, str]:
    command = [
        PYTHON,
        "-m",
        "pytest",
        "--env",
        "sandbox",
        "--env-dir",
        str(ROOT / "verify" / "environments"),
        "-p",
        "no:cacheprovider",
        "-q",
        "--checklist",
        "all",
        "--signoff",
        str(reports / "s.json"),
        "--rootdir",
        str(ROOT),
        *attest_shipped_manual(),
        str(ROOT / "verify"),
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, cwd=ROOT, check=False
    )
    elapsed = time.perf_counter() - started
    tail = [line for line in done.stdout.splitlines() if "sign-off:" in line or " passed" in line]
    try:
        checks = json.loads((reports / "s.json").read_text())["checks"]
    except (OSError, ValueError, KeyError):
        checks = []
    broken = [c["check_id"] for c in checks if c.get("outcome") in ("failed", "error")]
    timed = sum(c.get("duration") or 0.0 for c in checks if c["check_id"] in TIMED_PROBES)
    summary = " | ".join(tail[-2:]) + (f" | broken: {', '.join(broken)}" if broken else "")
    return elapsed, timed, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.025, help="seconds added per direction")
    parser.add_argument(
        "--pause",
        type=float,
        default=61.0,
        help="seconds between runs: the gateway's anonymous rate limit (a 60 s window) must "
        "recover, or later runs meet 429s",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dv-bench-net-") as tmp:
        work = Path(tmp)
        state = work / "sandbox"
        subprocess.run([PYTHON, "-m", "sandbox", "up", "--state", str(state)], cwd=ROOT, check=True)
        proxy = None
        try:
            env = read_env(state / "env.sh")
            targets = set(endpoints(env).values())
            server = kube_server(Path(env["SANDBOX_KUBECONFIG"]))
            if server:
                targets.add(server)
            proxy, mapping = start_proxies(targets, args.delay)
            delayed = proxied_env(env, mapping, work)
            print(f"{len(mapping)} endpoints behind a {args.delay * 1000:.0f} ms/direction proxy")
            direct_times, delayed_times, timed_extra = [], [], []
            run_checklist(env, work)  # warm-up: imports, caches, the gateway's first requests
            for round_no in range(1, args.rounds + 1):
                time.sleep(args.pause)
                t_direct, timed_direct, summary_direct = run_checklist(env, work)
                time.sleep(args.pause)
                t_delayed, timed_delayed, summary_delayed = run_checklist(delayed, work)
                direct_times.append(t_direct)
                delayed_times.append(t_delayed)
                timed_extra.append(timed_delayed - timed_direct)
                print(f"round {round_no}: direct {t_direct:6.2f} s  ({summary_direct})")
                print(f"         delayed {t_delayed:6.2f} s  ({summary_delayed})")
                print(
                    f"         timed probes ({', '.join(TIMED_PROBES)}): "
                    f"{timed_direct:.2f} s direct, {timed_delayed:.2f} s delayed"
                )
            direct, delayed_median = (
                statistics.median(direct_times),
                statistics.median(delayed_times),
            )
            print(
                f"median: direct {direct:.2f} s, at {2 * args.delay * 1000:.0f} ms RTT "
                f"{delayed_median:.2f} s: ratio {delayed_median / direct:.2f}x "
                f"(+{delayed_median - direct:.2f} s waiting on the network, of which "
                f"+{statistics.median(timed_extra):.2f} s in the timed probes)"
            )
        finally:
            if proxy is not None:
                proxy.terminate()
                proxy.wait(10)
            subprocess.run(
                [PYTHON, "-m", "sandbox", "down", "--state", str(state)], cwd=ROOT, check=False
            )


if __name__ == "__main__":
    main()
