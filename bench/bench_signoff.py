"""Cost of the sign-off outputs: 2,000 trivial checks run with and without
``--signoff x.md --signoff x.json --html r.html`` (same environment profile both ways).

Runs alternate (outputs, plain, outputs, ...) on one machine so drift hits both sides alike; the
ratio of medians is printed, plus the size of what was written.

    python bench/bench_signoff.py [--tests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECTIONS = ("infra", "security", "monitoring", "smoke")
SEVERITIES = ("critical", "high", "medium", "low")
OUTPUTS = ("--signoff", "x.md", "--signoff", "x.json", "--html", "r.html")


def make_project(root: Path, count: int) -> None:
    (root / "environments").mkdir()
    (root / "environments" / "bench.toml").write_text(
        'version = "1.0.0"\n\n[[manual]]\nid = "oncall"\ntitle = "On-call"\n'
        'attested_by = "bench"\nattested_at = 2026-01-01\n',
        encoding="utf-8",
    )
    per_file = 200
    for f in range(count // per_file):
        lines = ["import pytest", ""]
        for i in range(per_file):
            n = f * per_file + i
            lines += [
                f"@pytest.mark.{SECTIONS[n % 4]}",
                f'@pytest.mark.check("BENCH-{n:04d}", title="check {n}", '
                f'severity="{SEVERITIES[n % 4]}")',
                f"def test_{n}(evidence):",
                f'    evidence.record("value", {n}, expected={n}, source="bench")',
                "",
            ]
        (root / f"test_bench_{f:02d}.py").write_text("\n".join(lines), encoding="utf-8")


def run(root: Path, outputs: bool) -> float:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    args += ["--env", "bench", "--env-dir", "environments"]
    args += list(OUTPUTS) if outputs else []
    start = time.perf_counter()
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        label = "with outputs" if outputs else "plain"
        sys.exit(f"pytest failed ({label}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000, help="multiple of 200")
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, opts.tests)
        run(root, True), run(root, False)  # warm the file system and bytecode caches
        with_outputs, plain = [], []
        for _ in range(opts.rounds):
            with_outputs.append(run(root, True))
            plain.append(run(root, False))
        sizes = {name: (root / name).stat().st_size for name in ("x.md", "x.json", "r.html")}
    a, b = statistics.median(with_outputs), statistics.median(plain)
    print(f"tests: {opts.tests}, rounds: {opts.rounds}")
    print(f"with outputs: median {a:.3f} s  (runs: {', '.join(f'{x:.2f}' for x in with_outputs)})")
    print(f"plain       : median {b:.3f} s  (runs: {', '.join(f'{x:.2f}' for x in plain)})")
    print(f"ratio: {a / b:.3f}x")
    print("written: " + ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in sizes.items()))


if __name__ == "__main__":
    main()
