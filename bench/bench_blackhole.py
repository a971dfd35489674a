"""Wall time of N checks against a black-holed Redis: the registry's cached failure versus building
a client per check (what a fixture without the registry would do).

The black hole accepts TCP connections and never answers, so every uncached check waits out the
full timeout. Expected: cached ≈ one timeout; uncached ≈ N timeouts.

    python bench/bench_blackhole.py [--checks 20] [--timeout 2.0]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_deployverify.components.catalog import builtin_components, profile_from_dict
from pytest_deployverify.components.redis import build_redis
from pytest_deployverify.components.registry import ComponentRegistry, ComponentUnavailable
from tests.clients.blackhole import BlackHole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()

    with BlackHole() as hole:
        profile = profile_from_dict(
            {
                "name": "bench",
                "redis": {"url": f"redis://127.0.0.1:{hole.port}/0", "timeout": args.timeout},
            }
        )
        assert profile.redis is not None
        section = profile.redis
        print(
            f"{args.checks} checks, black-holed Redis at {hole.address}, timeout {args.timeout} s"
        )

        registry = ComponentRegistry(profile, builtin_components())
        started = time.perf_counter()
        messages = set()
        for _ in range(args.checks):
            try:
                registry.get("redis")
            except ComponentUnavailable as exc:
                messages.add(str(exc))
        cached = time.perf_counter() - started
        attempts_cached = hole.accepted
        registry.close()
        print(
            f"  cached (registry)   {cached:7.2f} s  {attempts_cached:>3} connection attempts  "
            f"{len(messages)} distinct message(s)"
        )

        started = time.perf_counter()
        for _ in range(args.checks):
            with contextlib.suppress(ComponentUnavailable):
                build_redis(section)
        uncached = time.perf_counter() - started
        print(
            f"  uncached (per check) {uncached:6.2f} s  {hole.accepted - attempts_cached:>3} "
            "connection attempts"
        )
        print(f"  ratio uncached / cached {uncached / cached:.1f}x")


if __name__ == "__main__":
    main()
