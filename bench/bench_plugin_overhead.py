"""Time 1,000 trivial checklist tests with the plugin active against the same run with -p no:deployverify.

Runs alternate (plugin, baseline, plugin, ...) on the same machine so drift hits both sides alike, and the
ratio of medians is printed. The plugin runs with ``--checklist none`` so both sides run the same 1,000
tests (the goal: at most 1.10x); a third side runs them with the shipped checklist collected as well
(its items are not applicable to the empty profile), to show what collecting it costs.

    python bench/bench_plugin_overhead.py [--tests 1000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECTIONS = ("infra", "security", "monitoring", "smoke")


def make_project(root: Path, count: int) -> None:
    (root / "envs").mkdir()
    (root / "envs" / "bench.toml").write_text('version = "1.0.0"\n')
    markers = "\n".join(f"    {s}: section" for s in (*SECTIONS, "destructive", "check"))
    (root / "pytest.ini").write_text(f"[pytest]\nmarkers =\n{markers}\n")
    per_file = 100
    for f in range(count // per_file):
        lines = ["import pytest", ""]
        for i in range(per_file):
            n = f * per_file + i
            section = SECTIONS[n % 4]
            lines += [
                f"@pytest.mark.{section}",
                f'@pytest.mark.check("CHK-{n:04d}", title="check {n}", severity="high")',
                f"def test_{n}():",
                f'    """Checklist item {n}."""',
                "    assert True",
                "",
            ]
        (root / f"test_bench_{f:02d}.py").write_text("\n".join(lines))


PLUGIN = ["--env", "bench", "--env-dir", "envs", "--checklist", "none"]
SHIPPED = ["--env", "bench", "--env-dir", "envs", "--checklist", "all"]
BASELINE = ["-p", "no:deployverify"]


def run(root: Path, side: list[str]) -> tuple[float, float]:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    args += side
    plugin = side is not BASELINE
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"pytest failed ({'plugin' if plugin else 'baseline'}):\n{done.stdout[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, opts.tests)
        for side in (PLUGIN, BASELINE, SHIPPED):
            run(root, side)  # warm the file system and bytecode caches
        with_plugin, without, shipped = [], [], []
        for _ in range(opts.rounds):
            with_plugin.append(run(root, PLUGIN))
            without.append(run(root, BASELINE))
            shipped.append(run(root, SHIPPED))
    print(f"tests: {opts.tests}, rounds: {opts.rounds}")
    # Wall time is what a user waits for; CPU time of the pytest process is steadier on a busy
    # machine. Both are medians of the alternating runs.
    for label, index in (("wall", 0), ("cpu", 1)):
        a = statistics.median(r[index] for r in with_plugin)
        b = statistics.median(r[index] for r in without)
        c = statistics.median(r[index] for r in shipped)
        for name, runs in (
            ("plugin, --checklist none ", with_plugin),
            ("-p no:deployverify       ", without),
            ("plugin + shipped checklist", shipped),
        ):
            listed = ", ".join(f"{r[index]:.2f}" for r in runs)
            print(
                f"{label}: {name} median {statistics.median(r[index] for r in runs):.3f} s  "
                f"(runs: {listed})"
            )
        print(
            f"{label}: ratio {a / b:.3f}x (goal <= 1.10x); with the shipped checklist "
            f"collected too {c / b:.3f}x"
        )


if __name__ == "__main__":
    main()
