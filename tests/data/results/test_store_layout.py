"""Each year's records are laid out as ``data/results/loading.py`` writes them: one Parquet
file per school year (partitioned as ``school_year=YYYY-YY``), sorted by the store's sort key,
in row groups of ``ROW_GROUP_SIZE`` rows (issue 2: unsorted data made
single-LEA queries 5-6x slower).

The demo is built with ``ROW_GROUP_SIZE`` set to 2,048 so a small store has several groups
(DuckDB, which writes the year's file, cuts row groups at multiples of its 2,048-row vectors).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

import data.results.loading
from data.results.store import SORT_KEY, Store
from data.synth.generator import DemoSpec, build_demo

YEARS = ["2023-24", "2024-25"]
GROUP = 2048


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    built = Store(tmp_path_factory.mktemp("layout") / "store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data.results.loading, "ROW_GROUP_SIZE", GROUP)
        build_demo(DemoSpec(students=2500, years="..".join(YEARS), seed=5), built,
                   echo=lambda _: None)
    return built


def test_the_default_row_group_is_about_128k_rows() -> None:
    assert data.results.loading.ROW_GROUP_SIZE == 128 * 1024


def test_one_file_per_school_year_partition(store: Store) -> None:
    files = store.year_files()
    assert sorted(files) == YEARS
    loads = store.loads().filter(pl.col("is_current"))
    for year, path in files.items():
        assert path == store.version_path() / f"school_year={year}" / "part-0.parquet"
        # The year lives in the directory name (hive partitioning), not in the file.
        assert "school_year" not in pq.read_schema(path).names
        rows = duckdb.sql("SELECT school_year, count(*) FROM read_parquet(?, "
                          "hive_partitioning = true) GROUP BY ALL",
                          params=[str(path)]).fetchall()
        expected = loads.filter(pl.col("school_year") == year).get_column("n_records").sum()
        assert rows == [(year, expected)]


@pytest.mark.parametrize("year", YEARS)
def test_records_are_sorted_by_the_sort_key(store: Store, year: str) -> None:
    keys = pl.read_parquet(store.year_files()[year], columns=list(SORT_KEY))
    assert keys.get_column("reporting_lea_code").n_unique() > 5  # a sort with something to do
    assert keys.equals(keys.sort(list(SORT_KEY)))
    # The key is unique per record (a student has one record per test and year).
    assert not keys.select(pl.struct(list(SORT_KEY)).is_duplicated().any()).item()


@pytest.mark.parametrize("year", YEARS)
def test_row_groups_have_row_group_size_rows(store: Store, year: str) -> None:
    path: Path = store.year_files()[year]
    meta = pq.ParquetFile(path).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert len(sizes) >= 2
    assert sizes[:-1] == [GROUP] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= GROUP
    assert sum(sizes) == meta.num_rows
