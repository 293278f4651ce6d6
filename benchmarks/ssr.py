"""Bulk Student Score Reports: a 5,000-student school as one merged PDF and as a zip of PDFs.

The largest school (by SSR-eligible students of the newest final year) of the statewide store
is taken; when it has fewer than 5,000 SSRs, its reports are repeated under new SSIDs up to
5,000 (the work per report is the same). Each output is made in a fresh child process, so its
peak memory is its own (the Python process: Chromium's processes are not counted).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks import peak_rss_mb


def _child(args: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.ssr", *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run(store: str, output: str, students: int) -> None:
    import polars as pl

    from documents.ssr import bulk_pdf, bulk_zip
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.ssr_documents import list_ssr_contents

    snap = Snapshot(store)
    year = snap.years[-2] if len(snap.years) > 1 else snap.years[-1]
    records = pl.scan_parquet(snap.year_files[year]).filter(
        pl.col("is_ssr_eligible").fill_null(False) & (pl.col("record_type") == "21")
        & pl.col("enrolled_school_code").is_not_null()
    ).group_by("enrolled_school_code").len().sort("len", descending=True).head(1).collect()
    school = records.item(0, 0)
    started = time.perf_counter()
    contents = list_ssr_contents(snap, scope=Scope.state(pii=True), year=year, school=school)
    listed = time.perf_counter() - started
    real = len(contents)
    items = [(replace(c, ssid=f"{9_000_000_000 + i:010d}") if i >= real else c, "ENG")
             for i, c in enumerate(contents[i % real] for i in range(students))]
    ticks: list[float] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "ssrs"
        with target.open("wb") as out:  # written to disk as it is made, as the pages do
            if output == "merged":
                bulk_pdf(items, out, progress=lambda d, t: ticks.append(time.perf_counter()))
            else:
                bulk_zip(items, out, progress=lambda d, t: ticks.append(time.perf_counter()))
        size = target.stat().st_size
    seconds = time.perf_counter() - started
    print(json.dumps({
        "school_ssrs": real, "reports": len(items), "list_seconds": listed,
        "seconds": seconds, "first_progress_seconds": ticks[0] - started if ticks else 0,
        "progress_updates": len(ticks), "mb": size / 1e6,
        "max_rss_mb": peak_rss_mb(),
    }))


def bench_ssr(store: str, students: int = 5_000) -> list[str]:
    """Lines of the benchmark table: merged PDF and zip of PDFs of ``students`` SSRs."""
    lines = []
    for output in ("merged", "zip"):
        got = _child([store, output, str(students)])
        lines.append(
            f"ssr bulk {output:<6} {got['reports']:,.0f} SSRs (school has "
            f"{got['school_ssrs']:,.0f}): {got['seconds']:.0f} s "
            f"({got['seconds'] / got['reports'] * 1000:.0f} ms per SSR), first progress after "
            f"{got['first_progress_seconds']:.1f} s, {got['progress_updates']:.0f} updates, "
            f"{got['mb']:.0f} MB file, peak memory {got['max_rss_mb']:.0f} MB (Python; "
            f"Chromium's own not counted); listing {got['list_seconds']:.1f} s")
    return lines


if __name__ == "__main__":
    _run(sys.argv[1], sys.argv[2], int(sys.argv[3]))
