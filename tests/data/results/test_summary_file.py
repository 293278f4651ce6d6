"""The compact summary on disk gives back exactly the summary built at load (issue 14).

``data.results.summary_file`` stores each cut in compressed batches with residual-coded sums;
every cell read back, through the index and the batches, must equal ``build_summary``'s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from data.results.store import Store
from data.results.summary import (
    ALL_GRADES,
    HEADLINE_GROUP,
    INDEX_KEYS,
    KEYS,
    METRIC_COLUMNS,
    RECORD_COLUMNS,
    build_summary,
)
from data.results.summary_file import (
    CUTS,
    SummaryCut,
    decode,
    encode,
    write_cut,
    write_summary,
)


def read_back(path: Path) -> pl.DataFrame:
    """Every row of a cut as ``build_summary`` lays it out, from its index and batches."""
    cut = SummaryCut(path)
    batches = [cut.batch(i) for i in range(cut.n_batches)]
    values = np.concatenate([b.values(np.arange(len(b.groups))) for b in batches])
    groups = np.concatenate([b.groups for b in batches])
    grades = np.concatenate([b.grades for b in batches])
    lengths = (cut.index["stop"] - cut.index["start"]).to_numpy()
    owners = cut.index.select(INDEX_KEYS)[np.repeat(np.arange(cut.index.height), lengths)]
    return owners.with_columns(
        pl.Series("group_id", np.array(cut.group_ids, dtype=object)[groups], pl.String),
        pl.Series("grade", np.array(cut.grades, dtype=object)[grades], pl.String),
        *[pl.Series(c, values[:, j]) for j, c in enumerate(METRIC_COLUMNS)],
    ).select(*KEYS, *METRIC_COLUMNS)


@pytest.fixture(scope="module")
def summary(tiny_store_path: Path) -> pl.DataFrame:
    year_file = Store(tiny_store_path).year_files()["2024-25"]
    records = pl.read_parquet(year_file, columns=list(RECORD_COLUMNS))
    return build_summary(records).with_columns(pl.col(METRIC_COLUMNS).cast(pl.Int64))


def test_issue14_every_cut_reads_back_exactly(summary, tmp_path):
    write_summary(summary, tmp_path)
    headline = summary.filter(pl.col("group_id") == HEADLINE_GROUP)
    expected = {"summary": summary, "headline": headline,
                "totals": headline.filter(pl.col("grade") == ALL_GRADES)}
    for cut in CUTS:
        got = read_back(tmp_path / f"{cut}.arrow")
        assert got.equals(expected[cut]), cut
        assert got.height > 0


def test_issue14_the_store_holds_the_cuts(tiny_store_path, summary):
    """What a load wrote (``build_derived``) is what ``build_summary`` gives."""
    folder = Store(tiny_store_path).year_files()["2024-25"].parent
    assert read_back(folder / "summary.arrow").equals(summary)


def test_issue14_rows_across_batches_are_found_by_the_index(summary, tmp_path, monkeypatch):
    """With batches of 7 rows almost every organisation's rows span several."""
    monkeypatch.setattr("data.results.summary_file.BATCH_ROWS", 7)
    write_cut(summary, tmp_path / "summary.arrow")
    cut = SummaryCut(tmp_path / "summary.arrow")
    assert cut.batch_rows == 7
    assert cut.n_batches == -(-summary.height // 7)
    back = read_back(tmp_path / "summary.arrow")
    assert back.equals(summary)
    for row in cut.index.rows(named=True)[::25]:
        key = pl.Series([f"{row['org_level']}|{row['county_code']}|{row['lea_code']}|"
                         f"{row['school_code']}", "no|such|organisation|"])
        found, start, stop = cut.find(row["record_type"], key)
        assert found.tolist() == [0]
        assert (start[0], stop[0]) == (row["start"], row["stop"])
        mine = summary.filter(*[pl.col(c) == row[c] for c in INDEX_KEYS])
        assert back.slice(row["start"], row["stop"] - row["start"]).equals(mine), row


SUMS = arrays(np.int64, st.tuples(st.integers(1, 30), st.just(len(METRIC_COLUMNS))),
              elements=st.integers(0, 3_000_000_000))


@given(SUMS)
def test_issue14_residuals_decode_exactly(values):
    at = {c: i for i, c in enumerate(METRIC_COLUMNS)}
    # Large and lopsided on purpose: sums of squares of 1.5 billion-point sums over few rows.
    for m in ("overall", "oral", "written"):
        values[:, at[f"{m}_sumsq"]] = values[:, at[f"{m}_sum"]] * 1000
    assert np.array_equal(decode(encode(values)), values)


def test_issue14_sums_that_cannot_be_stored_exactly_are_refused(summary, tmp_path):
    bad = summary.with_columns(pl.lit(-1, pl.Int64).alias("oral_sum"))
    with pytest.raises(ValueError, match="cannot be stored exactly"):
        write_cut(bad, tmp_path / "summary.arrow")


def test_issue14_a_file_of_another_layout_is_refused(tmp_path):
    path = tmp_path / "summary.arrow"
    pl.DataFrame({"x": [1]}).write_ipc(path)
    pl.DataFrame({"start": [0]}).write_parquet(tmp_path / "summary_index.parquet")
    with pytest.raises(ValueError, match="not a summary this version can read"):
        SummaryCut(path)
