"""Benchmark: the first minute of a new user (issue 27), every figure a whole process.

1. ``import gametheory`` against ``import numpy`` and ``import nashpy``: the commands
   run in turn (A B C A B C ...) so that drift of the machine hits all three alike;
   reported are the medians and the ratios of the medians.
2. ``gametheory demo`` (games and the reduced simulation study) on one process and on
   the cores available (``--workers``), medians over the runs.
3. Berlin-Center's TNTP files read by ``read_tntp`` in a fresh process (import included
   and apart), when ``../shared/data`` is beside the project.

Run from the project root: ``python benchmarks/bench_first_minute.py [--runs 5]
[--skip-demo]``. The load average at the start and end is printed: quote the figures
with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BERLIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "networks" / "Berlin-Center"

READ_BERLIN = """
import time
t0 = time.perf_counter()
import gametheory as gt
t1 = time.perf_counter()
from pathlib import Path
d = Path({folder!r})
gt.read_tntp(sorted(d.glob("*_net.tntp"))[0], sorted(d.glob("*_trips.tntp"))[0])
print(t1 - t0, time.perf_counter() - t1)
"""


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def bench_import(runs: int) -> None:
    commands = {
        "gametheory": [sys.executable, "-c", "import gametheory"],
        "numpy": [sys.executable, "-c", "import numpy"],
        "nashpy": [sys.executable, "-c", "import nashpy"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the file cache
        _wall(cmd)
    for _ in range(runs):
        for name, cmd in commands.items():
            times[name].append(_wall(cmd))
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"import, whole process, median of {runs}:")
    for name, m in med.items():
        print(
            f"  import {name:10s} {m * 1e3:7.1f} ms  (min {min(times[name]) * 1e3:.1f}, "
            f"max {max(times[name]) * 1e3:.1f})"
        )
    print(
        f"  ratio gametheory/numpy {med['gametheory'] / med['numpy']:.2f}, "
        f"gametheory/nashpy {med['gametheory'] / med['nashpy']:.2f}"
    )


def bench_demo(runs: int) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    print(f"gametheory demo, whole process, median of {runs}:")
    for workers in sorted({1, cores}):
        with tempfile.TemporaryDirectory() as out:
            cmd = ["gametheory", "demo", "--out", out, "--workers", str(workers)]
            t = [_wall(cmd) for _ in range(runs)]
        print(
            f"  --workers {workers}: median {statistics.median(t):6.1f} s "
            f"(min {min(t):.1f}, max {max(t):.1f})"
        )


def bench_berlin(runs: int) -> None:
    if not BERLIN.is_dir():
        print(f"Berlin-Center: skipped, no shared data at {BERLIN}")
        return
    code = READ_BERLIN.format(folder=str(BERLIN))
    rows = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout.split()
        rows.append((float(out[0]), float(out[1]), time.perf_counter() - start))
    imp, read, whole = (statistics.median(col) for col in zip(*rows))
    print(
        f"Berlin-Center read_tntp in a fresh process, median of {runs}: read {read:.3f} s, "
        f"import gametheory {imp:.3f} s, whole process {whole:.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    print(f"start: {_load()}, {os.cpu_count()} cores")
    bench_import(args.runs)
    bench_berlin(args.runs)
    if not args.skip_demo:
        bench_demo(args.runs)
    print(f"end: {_load()}")


if __name__ == "__main__":
    main()
