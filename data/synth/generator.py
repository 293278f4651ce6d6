"""Seeded synthetic statewide demo: real-format TOMS files, loaded through the real ingest.

One generator feeds ``make run``, the tests, the browser tests and the benchmarks (STYLE.md
rule 5): ``DemoSpec`` says what to generate, ``generate_files`` writes each school year's TOMS
files (``data.synth.toms_files``) from the students of ``data.synth.population`` in the
places of ``data.synth.places``, and ``build_demo`` loads them into a store.

Spring 2020 testing was suspended (ELPAC.md §1.1): by default 2019-20 advances the students but
writes no file; ``DemoSpec(spring_2020=True)`` (``elpac demo --spring-2020``) writes its file in
the 2019-20 layout, holding the students tested before testing stopped in March 2020.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from data import domain
from data.synth.population import Generator
from data.synth.toms_files import write_toms_files

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from data.results.store import Store

@dataclass(frozen=True)
class DemoSpec:
    """What to generate."""

    students: int = 20_000
    years: str = "2021-22..2025-26"
    seed: int = 2024
    as_of: date | None = None
    """The date the data is as of; default June 1 of the last year (that year partial)."""
    spring_2020: bool = False
    """Write 2019-20's file (the students tested before testing stopped in March 2020). Off by
    default: the demo, and every number the tests take from it, leaves 2019-20 out."""

    def year_list(self) -> list[str]:
        """The school years, oldest first."""
        years = domain.expand_years(self.years)
        if not years:
            raise ValueError("--years names no school year")
        if years[0] < "2018-19":
            raise ValueError("the demo starts at 2018-19: earlier results used other thresholds")
        return years

    def as_of_date(self) -> date:
        """``as_of``, or June 1 of the last year's spring: grades 3-12 released, K-2 not yet."""
        return self.as_of or date(domain.spring_year(self.year_list()[-1]), 6, 1)


def generate_files(spec: DemoSpec, directory: Path, *, gen: Generator | None = None
                   ) -> Iterator[tuple[str, list[Path], int, float, float]]:
    """Write each year's TOMS files into ``directory`` as soon as the year is generated.

    Yields (school year, files, number of records, generate seconds, write seconds); 2019-20
    yields no files (spring 2020 testing was suspended) unless ``spec.spring_2020``. The year's
    rows are built and written a county at a time and not kept: a statewide year is over a
    million records. "Generate" is the year's draws, "write" building its rows and files.
    """
    gen = gen or Generator(spec.students, spec.seed)
    as_of = spec.as_of_date()
    directory.mkdir(parents=True, exist_ok=True)
    for year in spec.year_list():
        spring = domain.spring_year(year)
        t0 = time.perf_counter()
        gen.advance(spring)
        if spring == 2020 and not spec.spring_2020:
            yield year, [], 0, time.perf_counter() - t0, 0.0
            continue
        records = gen.draw(year, as_of)
        t1 = time.perf_counter()
        paths = write_toms_files(records, year, directory)
        n_records = records.height
        del records
        yield year, paths, n_records, t1 - t0, time.perf_counter() - t1


def build_demo(spec: DemoSpec, store: Store, *, keep_files: Path | None = None,
               echo: Callable[[str], None] = print) -> str:
    """Generate ``spec``, write TOMS files, load them with the real ingest; return a summary."""
    from data.results.ingest import ingest

    years = spec.year_list()
    as_of = spec.as_of_date()
    if date(domain.spring_year(years[-1]) - 1, 7, 1) > as_of:
        raise ValueError(f"--as-of {as_of} is before the last year {years[-1]} started")
    started = time.perf_counter()
    gen = Generator(spec.students, spec.seed)
    workdir = keep_files or Path(tempfile.mkdtemp(prefix="elpac-demo-"))
    total = 0
    timings = {"generate": 0.0, "write": 0.0, "ingest": 0.0}
    try:
        for year, paths, n_records, t_gen, t_write in generate_files(spec, workdir, gen=gen):
            timings["generate"] += t_gen
            timings["write"] += t_write
            if not paths:
                echo(f"{year}: spring 2020 testing was suspended; no file")
                continue
            t0 = time.perf_counter()
            result = ingest(paths, store=store)
            t_load = time.perf_counter() - t0
            if not result.ok:
                raise RuntimeError(f"the demo's own {year} files did not load: "
                                   f"{result.file_problems[:3]} "
                                   f"{result.row_problems.head(5).rows()}")
            if keep_files is None:
                for path in paths:
                    path.unlink()
            timings["ingest"] += t_load
            total += n_records
            echo(f"{year}: {n_records:,} records in {len(paths)} files (generate "
                 f"{t_gen:.1f} s, write {t_write:.1f} s, load {t_load:.1f} s)")
    finally:
        if keep_files is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return (f"demo: {total:,} records, {len(years)} school years, {gen.places.leas.height:,} "
            f"LEAs, {gen.places.schools.height:,} schools, as of {as_of}, in "
            f"{time.perf_counter() - started:.1f} s (generate {timings['generate']:.1f} s, "
            f"write files {timings['write']:.1f} s, load {timings['ingest']:.1f} s) into "
            f"{store.path}")
