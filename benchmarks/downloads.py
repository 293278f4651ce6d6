"""Large downloads as the dashboard's server builds them: a Student Score Data File extract.

Statewide (every record of a year, both tests) and for the largest LEA, as CSV written to a
file on disk (as the Exports page does before streaming it), each in a fresh child process
whose peak memory is its own. The bulk-SSR file is measured by ``benchmarks.ssr``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import peak_rss_mb


def _child(store: str, lea: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.downloads", store, lea],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run(store: str, lea: str) -> None:
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.ssdf_extract import build_ssdf_extract

    snap = Snapshot(store)
    year = snap.years[-2] if len(snap.years) > 1 else snap.years[-1]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "extract.csv"
        started = time.perf_counter()
        built = build_ssdf_extract(snap, out, scope=Scope.state(pii=True), years=[year],
                                   lea=lea or None)
        seconds = time.perf_counter() - started
        size = out.stat().st_size
    print(json.dumps({"year": year, "records": built.n_rows, "seconds": seconds,
                      "mb": size / 1e6, "max_rss_mb": peak_rss_mb()}))


def bench_downloads(store: str) -> list[str]:
    """The statewide and the largest LEA's extract: time, size, peak memory."""
    import polars as pl

    from queries.snapshot import Snapshot

    snap = Snapshot(store)
    year = snap.years[-2] if len(snap.years) > 1 else snap.years[-1]
    lea = (pl.scan_parquet(snap.year_files[year]).group_by("tested_lea_code").len()
           .sort("len", descending=True).head(1).collect().item(0, 0))
    lines = [f"downloads on {store}: Student Score Data File extract, {year}, CSV to disk"]
    for label, which in (("statewide", ""), (f"largest LEA {lea}", lea)):
        r = _child(store, which)
        lines.append(f"  {label:<30} {r['records']:>10,} records {r['seconds']:>7.1f} s "
                     f"{r['mb']:>8,.0f} MB file   peak {r['max_rss_mb']:>7,.0f} MB")
    return lines


if __name__ == "__main__":
    _run(sys.argv[1], sys.argv[2])
