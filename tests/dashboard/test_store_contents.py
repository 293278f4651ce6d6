"""AppTest of the Store contents page (dashboard/app_pages/store_contents.py) through the router.

Every number the page shows is checked against a computation made here with Polars straight
from the store's Parquet files and catalog, never through ``queries.store_summary``.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from data.results.store import Store
from data.synth.generator import DemoSpec, build_demo

if TYPE_CHECKING:
    pass

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TEST_NAMES = {"21": "Summative ELPAC", "23": "Summative Alternate ELPAC"}


def run_app(monkeypatch: pytest.MonkeyPatch, store: Path) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("app_pages/store_contents.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stored_records(store: Path) -> pl.DataFrame:
    """Every record of the store's current version, read with Polars from the Parquet files."""
    files = Store(store).year_files()
    assert files, f"no Parquet files in {store}"
    return pl.concat([
        pl.read_parquet(path).with_columns(school_year=pl.lit(year))
        for year, path in files.items()
    ], how="diagonal_relaxed")


def expected_summary(records: pl.DataFrame) -> pl.DataFrame:
    def distinct(column: str) -> pl.Expr:
        # SQL's count(DISTINCT x) ignores nulls; Polars' n_unique counts null as a value.
        return pl.col(column).drop_nulls().n_unique().cast(pl.Int64)

    return (
        records.group_by("school_year", "record_type")
        .agg(
            n_records=pl.len().cast(pl.Int64),
            n_students=distinct("ssid"),
            n_leas=distinct("tested_lea_code"),
            n_schools=distinct("tested_school_code"),
            n_tested=pl.col("is_tested").sum().cast(pl.Int64),
            n_with_scores=(pl.col("include_indicator") == "Y").sum().cast(pl.Int64),
        )
        .sort("school_year", "record_type")
        .with_columns(test=pl.col("record_type").replace_strict(TEST_NAMES))
        .select("school_year", "test", "n_records", "n_students", "n_leas", "n_schools",
                "n_tested", "n_with_scores")
    )


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_metrics_match_the_parquet_files(monkeypatch: pytest.MonkeyPatch,
                                         tiny_store_path: Path) -> None:
    at = run_app(monkeypatch, tiny_store_path)
    records = stored_records(tiny_store_path)

    assert [t.value for t in at.title] == ["Store contents"]
    assert metrics(at) == {
        "Records": f"{records.height:,}",
        "Students": f"{records['ssid'].n_unique():,}",
        "School years": str(records["school_year"].n_unique()),
    }
    # The tiny demo spans 2018-19..2025-26 without 2019-20 (no spring 2020 testing).
    assert metrics(at)["School years"] == "7"
    assert not at.info


def test_summary_table_matches_the_parquet_files(monkeypatch: pytest.MonkeyPatch,
                                                 tiny_store_path: Path) -> None:
    at = run_app(monkeypatch, tiny_store_path)
    shown = pl.from_pandas(at.dataframe[0].value)

    expected = expected_summary(stored_records(tiny_store_path))
    assert_frame_equal(shown, expected)
    # Both tests appear, and the invariants hold on realistic data.
    assert set(shown["test"]) == set(TEST_NAMES.values())
    assert (shown["n_with_scores"] <= shown["n_tested"]).all()
    assert (shown["n_tested"] <= shown["n_records"]).all()


def test_load_history_matches_the_catalog(monkeypatch: pytest.MonkeyPatch,
                                          tiny_store_path: Path) -> None:
    at = run_app(monkeypatch, tiny_store_path)
    shown = pl.from_pandas(at.dataframe[1].value)

    # Read with the standard library's sqlite3: independent of the explorer's catalog code.
    with closing(sqlite3.connect(tiny_store_path / "catalog.sqlite")) as con:
        rows = con.execute("SELECT load_id, lea_code, n_records, superseded_by "
                           "FROM load_leas ORDER BY load_id DESC, lea_code").fetchall()
    catalog = pl.DataFrame(rows, schema=["load_id", "lea_code", "n_records", "superseded_by"],
                           orient="row")
    assert_frame_equal(
        shown.select("load_id", "lea_code", "n_records"),
        catalog.select("load_id", "lea_code", "n_records"),
        check_dtypes=False,  # the catalog stores INTEGER; the page shows Int64
    )
    expected_status = [
        "current" if by is None else f"superseded by load {by}"
        for by in catalog["superseded_by"]
    ]
    assert shown["status"].to_list() == expected_status


def test_every_column_has_a_label(monkeypatch: pytest.MonkeyPatch,
                                  tiny_store_path: Path) -> None:
    at = run_app(monkeypatch, tiny_store_path)
    for table in at.dataframe:
        config = json.loads(table.proto.columns)
        unlabelled = [c for c in table.value.columns if not config.get(c, {}).get("label")]
        assert not unlabelled, f"columns shown with their snake_case names: {unlabelled}"


def test_a_new_load_shows_up_on_the_next_run(monkeypatch: pytest.MonkeyPatch,
                                             store_copy: Store) -> None:
    at = run_app(monkeypatch, store_copy.path)
    before = store_copy.version()
    assert metrics(at)["Records"] == f"{stored_records(store_copy.path).height:,}"

    build_demo(DemoSpec(students=50, years="2025-26", seed=3), store_copy, echo=lambda _: None)
    at.run()

    assert not at.exception
    assert store_copy.version() > before
    assert metrics(at)["Records"] == f"{stored_records(store_copy.path).height:,}"
    assert f"data version {store_copy.version()}." in at.caption[0].value


@pytest.mark.parametrize("state", ["missing", "empty directory", "catalog without loads"])
def test_empty_store_says_what_to_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      state: str) -> None:
    store = tmp_path / "store"
    if state == "empty directory":
        store.mkdir()
    elif state == "catalog without loads":
        with Store(store).catalog.write():
            pass

    at = run_app(monkeypatch, store)

    assert [t.value for t in at.title] == ["Store contents"]
    assert len(at.info) == 1
    message = at.info[0].value
    assert "elpac demo" in message
    assert "elpac ingest" in message
    assert str(store) in message
    assert not at.metric
    assert not at.dataframe
