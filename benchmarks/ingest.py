"""Ingest and demo-generation benchmarks.

Each measurement runs in a fresh child process so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import peak_rss_mb


def _child(args: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.ingest", *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_ingest(files_dir: str, store_dir: str) -> None:
    from data.results.ingest import ingest
    from data.results.store import Store

    files = sorted(Path(files_dir).glob("*.CSV"))
    started = time.perf_counter()
    result = ingest(files, store=Store(store_dir))
    elapsed = time.perf_counter() - started
    if not (result.ok and result.loaded):
        raise SystemExit(f"benchmark files did not load: {result.file_problems}")
    records = sum(o.n_records for o in result.outcomes)
    size = sum(f.stat().st_size for f in files)
    print(json.dumps({"seconds": elapsed, "records": records, "bytes": size,
                      "max_rss_mb": peak_rss_mb()}))


def _run_demo(students: int, years: str, store_dir: str) -> None:
    from data.results.store import Store
    from data.synth.generator import DemoSpec, build_demo

    started = time.perf_counter()
    summary = build_demo(DemoSpec(students=students, years=years, seed=1), Store(store_dir),
                         echo=lambda line: print(line, file=sys.stderr))
    elapsed = time.perf_counter() - started
    print(summary, file=sys.stderr)
    print(json.dumps({"seconds": elapsed,
                      "max_rss_mb": peak_rss_mb()}))


def bench_ingest(students: int = 200_000, repeats: int = 3) -> list[str]:
    """Ingest one year of 376-field (2024-25 layout) files, ``repeats`` times into new stores."""
    from data.synth.generator import DemoSpec, generate_files

    lines = []
    with tempfile.TemporaryDirectory(prefix="elpac-bench-") as tmp:
        files = Path(tmp) / "files"
        spec = DemoSpec(students=students, years="2024-25", seed=1)
        for _ in generate_files(spec, files):
            pass
        n_files = len(list(files.glob("*.CSV")))
        big = max(files.glob("*.CSV"), key=lambda p: p.stat().st_size)
        single = Path(tmp) / "single"
        single.mkdir()
        (single / big.name).symlink_to(big)
        # Every county's records in one file: memory must follow the block, not the file.
        combined = Path(tmp) / "combined"
        combined.mkdir()
        _combine(sorted(files.glob("*.CSV")), combined / big.name.replace(
            big.name.split("_")[0], "AllCounties"))
        for label, directory in ((f"{n_files} county files", files), ("largest file", single),
                                 ("all in one file", combined)):
            runs = [_child(["ingest", str(directory), str(Path(tmp) / f"store{i}-{label[:3]}")])
                    for i in range(repeats)]
            sec = statistics.median(r["seconds"] for r in runs)
            rec, size = runs[0]["records"], runs[0]["bytes"]
            rss = max(r["max_rss_mb"] for r in runs)
            lines.append(f"ingest {label:<16} {rec:>9,.0f} records {size / 1e6:>7.1f} MB  "
                         f"median {sec:6.2f} s  {rec / sec:>8,.0f} records/s  "
                         f"{size / 1e6 / sec:6.1f} MB/s  peak {rss:,.0f} MB")
    return lines


def _combine(files: list[Path], target: Path) -> None:
    """One file holding every record of ``files`` (same layout), under the first's header."""
    with target.open("wb") as out:
        for i, path in enumerate(files):
            with path.open("rb") as f:
                header = f.readline()
                if i == 0:
                    out.write(header)
                while chunk := f.read(16 * 2**20):
                    out.write(chunk)


def bench_demo(students: int, years: str) -> list[str]:
    """Generate and load a demo of ``students`` per year over ``years``; its size on disk."""
    from benchmarks.store_size import store_size_lines

    with tempfile.TemporaryDirectory(prefix="elpac-bench-") as tmp:
        r = _child(["demo", str(students), years, str(Path(tmp) / "store")])
        sizes = store_size_lines(Path(tmp) / "store", f"demo {students:,} store")
    return [f"demo {students:,} students x {years}: {r['seconds']:.1f} s, "
            f"peak {r['max_rss_mb']:,.0f} MB", *sizes]


if __name__ == "__main__":
    if sys.argv[1] == "ingest":
        _run_ingest(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "demo":
        _run_demo(int(sys.argv[2]), sys.argv[3], sys.argv[4])
