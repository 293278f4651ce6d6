"""Run the benchmarks and print one table: ``python -m benchmarks [--statewide]``.

Default sizes keep ``make bench`` to a few minutes; ``--statewide`` generates the 1.2 M
students x 2018-19..2025-26 demo (several minutes on two cores).
"""

from __future__ import annotations

import argparse
import platform
import time

from benchmarks.ingest import bench_demo, bench_ingest


def main() -> None:
    """Parse options, run, print."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--statewide", action="store_true",
                        help="demo at 1.2 M students x 2018-19..2025-26")
    parser.add_argument("--ingest-students", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"# ELPAC explorer benchmarks ({platform.machine()}, {platform.python_version()})")
    for line in bench_ingest(args.ingest_students, args.repeats):
        print(line, flush=True)
    if args.statewide:
        lines = bench_demo(1_200_000, "2018-19..2025-26")
    else:
        lines = bench_demo(100_000, "2018-19..2025-26")
    for line in lines:
        print(line, flush=True)
    print(f"# total {time.perf_counter() - started:.0f} s")


main()
