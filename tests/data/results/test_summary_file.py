"""The compact summary on disk gives back exactly the summary built at load (issue 14).

``data.results.summary_file`` stores each cut in compressed batches with residual-coded sums;
every cell read back, through the index and the batches, must equal ``build_summary``'s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from polars.testing import assert_frame_equal

from data.results.store import Store
from data.results.summary import (
    ALL_GRADES,
    HEADLINE_GROUP,
    INDEX_KEYS,
    KEYS,
    METRIC_COLUMNS,
    RECORD_COLUMNS,
    build_summary,
    lea_slices,
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
def records(tiny_store_path: Path) -> pl.DataFrame:
    year_file = Store(tiny_store_path).year_files()["2024-25"]
    return pl.read_parquet(year_file, columns=list(RECORD_COLUMNS))


@pytest.fixture(scope="module")
def summary(records: pl.DataFrame) -> pl.DataFrame:
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


# -- a year's summary in bounded memory (issue 14) -------------------------------------------

@pytest.mark.parametrize("every_school_grade", [False, True])
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
@pytest.mark.parametrize("slice_rows", [1, 40, 500])
def test_issue14_a_summary_built_lea_slices_at_a_time_is_the_whole_build(
        records, slice_rows, order, every_school_grade):
    if order == "shuffled":
        records = records.sample(fraction=1.0, shuffle=True, seed=14)
    else:
        records = records.sort("reporting_lea_code", "reporting_school_code", "grade_assessed")
    whole = build_summary(records, every_school_grade=every_school_grade,
                          slice_rows=records.height)
    sliced = build_summary(records, every_school_grade=every_school_grade,
                           slice_rows=slice_rows)
    assert_frame_equal(sliced, whole)
    assert whole.height > 0


@pytest.mark.parametrize("slice_rows", [1, 40, 500])
def test_issue14_slices_hold_whole_leas(records, slice_rows):
    slices = list(lea_slices(records, slice_rows))
    assert sum(s.height for s in slices) == records.height
    leas = [set(s.get_column("reporting_lea_code").unique()) for s in slices]
    assert sum(len(x) for x in leas) == len(set().union(*leas))  # no LEA in two slices
    assert (len(slices) > 1) == (records.height > slice_rows)
    for piece, mine in zip(slices, leas, strict=True):
        # Past ``slice_rows`` only by one LEA: the one it ends with.
        assert len(mine) == 1 or piece.height < slice_rows + max(
            records.filter(pl.col("reporting_lea_code") == lea).height for lea in mine)


def test_issue14_an_empty_summary_keeps_its_columns_and_types(records, summary, tmp_path):
    empty = build_summary(records.clear(), slice_rows=40)
    assert empty.height == 0
    assert empty.schema == summary.schema
    assert empty.columns == [*KEYS, *METRIC_COLUMNS]
    write_summary(empty, tmp_path)
    for cut in CUTS:
        opened = SummaryCut(tmp_path / f"{cut}.arrow")
        assert opened.index.height == 0
        assert sum(opened.batch(i).groups.size for i in range(opened.n_batches)) == 0


@pytest.mark.parametrize("batch_rows", [7, 16])
def test_issue14_a_cut_written_a_batch_at_a_time_is_the_one_pass_file(
        summary, tmp_path, monkeypatch, batch_rows):
    """Each column's type is decided over every batch, even a value only the last one has.

    The same bytes too where a batch's buffers are whole multiples of 8 bytes, as with the
    real 8,192 rows: Arrow writes a buffer sliced from a larger one padded to 8 bytes.
    """
    monkeypatch.setattr("data.results.summary_file.BATCH_ROWS", batch_rows)
    wide = summary.with_columns(pl.when(pl.int_range(pl.len()) == pl.len() - 1)
                                .then(pl.lit(3_000_000_000, pl.Int64))
                                .otherwise(pl.col("n_enrolled")).alias("n_enrolled"))
    one_pass, by_batch = tmp_path / "one" / "summary.arrow", tmp_path / "each" / "summary.arrow"
    for path, per in ((one_pass, wide.height), (by_batch, 1)):
        path.parent.mkdir()
        write_cut(wide, path, batches_per_piece=per)
    with pa.memory_map(str(one_pass)) as a, pa.memory_map(str(by_batch)) as b:
        whole, each = pa.ipc.open_file(a), pa.ipc.open_file(b)
        assert each.schema.equals(whole.schema, check_metadata=True)
        assert each.num_record_batches == whole.num_record_batches == -(-wide.height // batch_rows)
        for i in range(whole.num_record_batches):
            assert each.get_batch(i).equals(whole.get_batch(i)), i
        first = each.get_batch(0)
        assert first.column("n_enrolled").type == pa.int64()  # 3 billion: in the last batch
        assert first.column("n_exempt_domain").type == pa.int8()
    if batch_rows % 8 == 0:
        assert one_pass.read_bytes() == by_batch.read_bytes()
    assert_frame_equal(read_back(by_batch), wide)
