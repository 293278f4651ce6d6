"""Run the benchmarks and print one table: ``python -m benchmarks`` (``make bench``).

* ingest of 376-field files and demo generation (issue 2);
* report queries at statewide scale against plain DuckDB and pandas (issue 3), on a
  1.2 M-student x 2018-19..2025-26 store built once into ``benchmarks/.statewide`` (about
  6 minutes on two cores; kept, git-ignored). Its summary line, ``worst ratio vs duckdb``,
  is also the last line of the whole run;
* the dashboard in a real Chromium on that store: first paint, filter change, 20 concurrent
  sessions (issue 4);
* bulk Student Score Reports of a 5,000-student school, merged PDF and zip (issue 6);
* a Student Score Data File extract, statewide and the largest LEA, to disk (issue 11);
* 20 signed-in sessions at once with a shell writer: the server's memory before and after;
* English learner progress (issue 13): the largest LEA and statewide per school, beside a
  plain DuckDB query.

Figures are medians of one run on a shared machine: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.dashboard import bench_dashboard
from benchmarks.downloads import bench_downloads
from benchmarks.elpi import bench_elpi
from benchmarks.ingest import bench_demo, bench_ingest
from benchmarks.queries import bench_queries
from benchmarks.sessions import bench_sessions
from benchmarks.ssr import bench_ssr

if TYPE_CHECKING:
    from data.results.store import Store

STATEWIDE = Path(__file__).resolve().parent / ".statewide"
BUILT = "built.txt"
"""In the statewide store: the date and ``elpac demo`` summary of its build."""
WORST_RATIO = "worst ratio vs duckdb:"
"""How the query benchmark's summary line starts: the last line of every run (issue 3)."""


def _statewide_store(path: Path) -> str:
    from data.problems import InputError
    from data.results.store import Store
    from data.synth.generator import DemoSpec, build_demo

    store = Store(path)
    try:
        store.check_schema()
        ready = bool(store.year_files())
    except InputError:
        ready = _upgraded(store)
    if not ready:
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        print(f"# building the statewide store in {path} (once)", flush=True)
        summary = build_demo(DemoSpec(students=1_200_000, years="2018-19..2025-26", seed=1),
                             store, echo=lambda _: None)
        # This process ran nothing big before (the other benchmarks run in children): its
        # peak is the build's.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        summary += f", peak {peak:,.0f} MB"
        print("# " + summary, flush=True)
        # The statewide demo's time and peak (issues 2, 14), kept so later runs can say them
        # without building it again (``--statewide-demo`` times a new one).
        (path / BUILT).write_text(f"{date.today().isoformat()}: {summary}\n")
    return str(path)


def _upgraded(store: Store) -> bool:
    """Bring a store of an upgradable older schema up to date; False if it cannot be."""
    from data.problems import InputError
    from data.results.store import UPGRADABLE_FROM, meta_int
    from data.results.upgrade import upgrade

    with store.catalog.read() as con:
        found = meta_int(con, "schema_version")
    if found not in UPGRADABLE_FROM:
        return False
    print(f"# upgrading the statewide store in {store.path} (schema {found})", flush=True)
    try:
        print("# " + upgrade(store).sentence(), flush=True)
    except InputError:
        return False
    return bool(store.year_files())


def _statewide_demo_line(path: Path) -> str | None:
    """How long the kept statewide store took to build, if it was built by this script."""
    built = path / BUILT
    return f"statewide demo, as built {built.read_text().strip()}" if built.exists() else None


def main() -> None:
    """Parse options, run, print."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--only", choices=["ingest", "demo", "queries", "dashboard", "ssr",
                                           "downloads", "sessions", "elpi"],
                        action="append",
                        help="run only these parts (default: all)")
    parser.add_argument("--statewide-demo", action="store_true",
                        help="time the demo at 1.2 M students x 2018-19..2025-26")
    parser.add_argument("--ingest-students", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", type=Path, default=STATEWIDE,
                        help="statewide store for the query benchmark")
    args = parser.parse_args()
    parts = args.only or ["ingest", "demo", "queries", "dashboard", "ssr", "downloads",
                          "sessions", "elpi"]
    started = time.perf_counter()
    print(f"# ELPAC explorer benchmarks ({platform.machine()}, {platform.python_version()})")
    if "ingest" in parts:
        for line in bench_ingest(args.ingest_students, args.repeats):
            print(line, flush=True)
    if "demo" in parts:
        students = 1_200_000 if args.statewide_demo else 100_000
        for line in bench_demo(students, "2018-19..2025-26"):
            print(line, flush=True)
        built = None if args.statewide_demo else _statewide_demo_line(args.store)
        if built:
            print(built, flush=True)
    lines = []
    worst: str | None = None
    if "dashboard" in parts:
        lines += bench_dashboard(_statewide_store(args.store))
    if "queries" in parts:
        query_lines = bench_queries(_statewide_store(args.store))
        lines += query_lines
        worst = next((line for line in reversed(query_lines)
                      if line.startswith(WORST_RATIO)), None)
    if "ssr" in parts:
        lines += bench_ssr(_statewide_store(args.store))
    if "downloads" in parts:
        lines += bench_downloads(_statewide_store(args.store))
    if "sessions" in parts:
        lines += bench_sessions(_statewide_store(args.store))
    if "elpi" in parts:
        lines += bench_elpi(_statewide_store(args.store), args.repeats)
    print(f"# total {time.perf_counter() - started:.0f} s")
    for line in lines:
        print(line, flush=True)
    if worst is not None:
        # Issue 3: ``make bench`` ends with this line; the SSR lines come after the query
        # table, so it is printed again last.
        print(worst, flush=True)


main()
