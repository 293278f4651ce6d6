"""Extracts (queries/extracts.py, district_export.py, ssdf_extract.py) against Polars straight
from the store's Parquet files.

Which records an extract holds is recomputed here from the year's ``part-0.parquet`` with
plain filters on the stored columns (ELPAC.md §3.1 enrolled and tested files, §3.3 which LEA a
record belongs to), never through ``queries``; the written CSV and Excel files are read back
and compared with it.
"""

from __future__ import annotations

import csv
import zipfile
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.problems import InputError
from data.results.store import Store
from data.toms.layout import layout
from queries.district_export import build_district_export, district_columns, read_district_results
from queries.extracts import build_research_file, score_window_start
from queries.research import research_rows
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.ssdf_extract import build_ssdf_extract, read_ssdf_records

if TYPE_CHECKING:
    from pathlib import Path

    from tests.queries.conftest import TomsBuilder

YEAR = "2023-24"
LEA = "19619690000000"
"""The tiny demo's largest LEA in 2023-24, with students moving in and out (checked below)."""
OTHER_LEA = "19701130000000"
STATE_PII = Scope.state(pii=True)
KEY = ["ssid", "record_type"]
LEVELS = {1: "Beginning to Develop", 2: "Somewhat Developed", 3: "Moderately Developed",
          4: "Well Developed"}
"""ELPAC.md §1.2, written out here rather than taken from queries.labels."""


@pytest.fixture(scope="module")
def tiny(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


def parquet(store: Path, year: str = YEAR) -> pl.DataFrame:
    """Every stored record of a year, read with Polars from its Parquet file."""
    return pl.read_parquet(Store(store).year_files()[year])


def keys(frame: pl.DataFrame) -> list[tuple[str, str]]:
    return sorted(frame.select(KEY).iter_rows())


# -- which records: enrolled vs tested -------------------------------------------------------

def test_the_lea_has_students_moving_in_and_out(tiny_store_path: Path) -> None:
    # Otherwise the enrolled/tested tests below could not tell the two apart.
    records = parquet(tiny_store_path)
    moved = records.filter(pl.col("enrolled_lea_code") != pl.col("tested_lea_code"))
    assert moved.filter(pl.col("tested_lea_code") == LEA).height > 0
    assert moved.filter(pl.col("enrolled_lea_code") == LEA).height > 0


@pytest.mark.parametrize("by", ["enrolled", "tested"])
def test_ssdf_is_the_leas_records_on_that_side(tiny: Snapshot, tiny_store_path: Path,
                                               by: str) -> None:
    got = read_ssdf_records(tiny, scope=STATE_PII, years=[YEAR], lea=LEA, by=by)  # type: ignore[arg-type]
    expected = parquet(tiny_store_path).filter(pl.col(f"{by}_lea_code") == LEA)
    assert keys(got) == keys(expected)
    assert set(got["record_type"]) == {"21", "23"}  # both tests, as TOMS's one file


def test_enrolled_and_tested_differ_by_the_movers(tiny: Snapshot, tiny_store_path: Path
                                                  ) -> None:
    enrolled = set(keys(read_ssdf_records(tiny, scope=STATE_PII, years=[YEAR], lea=LEA,
                                          by="enrolled")))
    tested = set(keys(read_ssdf_records(tiny, scope=STATE_PII, years=[YEAR], lea=LEA,
                                        by="tested")))
    records = parquet(tiny_store_path)
    moved_in = records.filter((pl.col("tested_lea_code") == LEA)
                              & (pl.col("enrolled_lea_code") != LEA))
    moved_out = records.filter((pl.col("enrolled_lea_code") == LEA)
                               & (pl.col("tested_lea_code") != LEA))
    assert tested - enrolled == set(keys(moved_in))
    assert enrolled - tested == set(keys(moved_out))
    either = read_ssdf_records(tiny, scope=STATE_PII, years=[YEAR], lea=LEA)
    assert set(keys(either)) == enrolled | tested


def test_all_years_and_no_lea_is_every_record(tiny: Snapshot, tiny_store_path: Path) -> None:
    got = read_ssdf_records(tiny, scope=STATE_PII, years=list(tiny.years))
    total = sum(pl.scan_parquet(p).select(pl.len()).collect().item()
                for p in Store(tiny_store_path).year_files().values())
    assert got.height == total


# -- score-available dates -------------------------------------------------------------------

def test_date_filter_boundaries_are_inclusive(tiny: Snapshot, tiny_store_path: Path) -> None:
    records = parquet(tiny_store_path).filter(pl.col("tested_lea_code") == LEA)
    day = records["score_available_date"].drop_nulls().mode().sort().item(0)
    on_day = records.filter(pl.col("score_available_date") == day)
    unscored = records.filter(pl.col("score_available_date").is_null())
    assert on_day.height > 1
    assert unscored.height > 0

    def extract(start: date | None, end: date | None, *, scored_only: bool) -> pl.DataFrame:
        return read_ssdf_records(tiny, scope=STATE_PII, years=[YEAR], lea=LEA, by="tested",
                                 score_from=start, score_to=end, scored_only=scored_only)

    assert keys(extract(day, day, scored_only=True)) == keys(on_day)
    assert keys(extract(day, day, scored_only=False)) == keys(pl.concat([on_day, unscored]))
    assert extract(day + timedelta(1), day + timedelta(1), scored_only=True).height == (
        records.filter(pl.col("score_available_date") == day + timedelta(1)).height)
    # Start only / end only, each inclusive.
    assert keys(extract(day, None, scored_only=True)) == keys(
        records.filter(pl.col("score_available_date") >= day))
    assert keys(extract(None, day, scored_only=True)) == keys(
        records.filter(pl.col("score_available_date") <= day))


def test_default_start_is_february_first(tiny: Snapshot, tiny_store_path: Path) -> None:
    assert score_window_start(YEAR) == date(2024, 2, 1)
    got = read_ssdf_records(tiny, scope=STATE_PII, years=[YEAR], lea=LEA, by="tested",
                            score_from=score_window_start(YEAR))
    records = parquet(tiny_store_path).filter(pl.col("tested_lea_code") == LEA)
    expected = records.filter((pl.col("score_available_date") >= date(2024, 2, 1))
                              | pl.col("score_available_date").is_null())
    assert keys(got) == keys(expected)


def test_start_after_end_says_what_to_do(tiny: Snapshot) -> None:
    with pytest.raises(ValueError, match="Choose an end date on or after the start date"):
        read_ssdf_records(tiny, scope=STATE_PII, years=[YEAR], score_from=date(2024, 5, 2),
                          score_to=date(2024, 5, 1))


def test_unknown_year_says_which_years_exist(tiny: Snapshot) -> None:
    with pytest.raises(ValueError, match="no results for 2019-20"):
        read_ssdf_records(tiny, scope=STATE_PII, years=["2019-20"])


# -- written files ---------------------------------------------------------------------------

def test_ssdf_csv_is_the_years_layout_with_the_records(tiny: Snapshot, tiny_store_path: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "ssdf.csv"
    result = build_ssdf_extract(tiny, out, scope=STATE_PII, years=[YEAR], lea=LEA, by="tested")
    back = pl.read_csv(out, infer_schema=False)
    expected = parquet(tiny_store_path).filter(pl.col("tested_lea_code") == LEA)
    assert result.n_rows == back.height == expected.height
    assert back.columns == list(layout(YEAR).headers)
    assert sorted(zip(back["SSID"], back["RecordType"], strict=True)) == keys(expected)
    # Scores as stored, matched by student.
    by_ssid = dict(expected.filter(pl.col("record_type") == "21")
                   .select("ssid", "overall_scale_score").iter_rows())
    shown = back.filter(pl.col("RecordType") == "21")
    # "NS" (no score) is written where the file said NS; the store has no score there.
    assert {s: int(v) if v and v != "NS" else None
            for s, v in shown.select("SSID", "OverallScaleScore").iter_rows()} == by_ssid


def test_excel_splits_into_sheets_that_concatenate_to_the_csv(tiny: Snapshot, tmp_path: Path
                                                              ) -> None:
    csv_out, xlsx_out = tmp_path / "x.csv", tmp_path / "x.xlsx"
    options = {"scope": STATE_PII, "years": [YEAR], "lea": LEA, "by": "enrolled"}
    n = build_ssdf_extract(tiny, csv_out, fmt="csv", **options).n_rows  # type: ignore[arg-type]
    result = build_ssdf_extract(tiny, xlsx_out, fmt="xlsx", max_rows=40,
                                **options)  # type: ignore[arg-type]
    assert n > 80  # at least three sheets of 40
    expected_sheets = -(-n // 40)
    assert result.sheets == tuple(f"Records {i}" for i in range(1, expected_sheets + 1))
    sheets = pl.read_excel(xlsx_out, sheet_id=0, infer_schema_length=None)
    assert [s.height for s in sheets.values()] == [40] * (expected_sheets - 1) + [
        n - 40 * (expected_sheets - 1)]
    # Dates are Excel dates and scores numbers (issue 12: every value was text): back to the
    # CSV's text to compare.
    first = next(iter(sheets.values()))
    assert first.schema["DateofBirth"] in (pl.Date, pl.Datetime("ms"), pl.Datetime("us"))
    assert first.schema["OralLanguageScaleScore"].is_numeric() or "NS" in first.get_column(
        "OralLanguageScaleScore").to_list()
    from_excel = pl.concat([_as_text(s) for s in sheets.values()], how="diagonal")
    from_csv = pl.read_csv(csv_out, infer_schema=False)
    # A blank is an empty cell in Excel and "" in the CSV: the same to a spreadsheet.
    assert_frame_equal(from_excel.select(from_csv.columns).fill_null(""),
                       from_csv.fill_null(""))
    # Each tab's header is frozen and filtered; the CSV starts with a byte-order mark.
    with zipfile.ZipFile(xlsx_out) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert 'state="frozen"' in sheet
    assert "<autoFilter" in sheet
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        *[pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t.is_temporal()],
        *[pl.col(c).cast(pl.Int64).cast(pl.String) for c, t in frame.schema.items()
          if t.is_numeric()]).cast(pl.String)


def test_excel_with_data_only_leaves_out_empty_columns(tiny: Snapshot, tmp_path: Path) -> None:
    options = {"scope": STATE_PII, "years": [YEAR], "lea": LEA, "by": "enrolled"}
    every, some = tmp_path / "all.xlsx", tmp_path / "some.xlsx"
    build_ssdf_extract(tiny, every, fmt="xlsx", **options)  # type: ignore[arg-type]
    build_ssdf_extract(tiny, some, fmt="xlsx", with_data_only=True,
                       **options)  # type: ignore[arg-type]
    full = pl.read_excel(every, infer_schema_length=0)
    kept = pl.read_excel(some, infer_schema_length=0)
    empty = [c for c in full.columns if full.get_column(c).null_count() == full.height]
    assert empty  # the demo leaves many layout fields blank
    assert kept.columns == [c for c in full.columns if c not in empty]
    assert_frame_equal(kept, full.select(kept.columns))


def test_district_export_vs_parquet(tiny: Snapshot, tiny_store_path: Path) -> None:
    got = read_district_results(tiny, scope=STATE_PII, year=YEAR, lea=LEA)
    expected = parquet(tiny_store_path).filter((pl.col("reporting_lea_code") == LEA)
                                               & (pl.col("record_type") == "21"))
    assert got.height == expected.height
    assert sorted(got["SSID"]) == sorted(expected["ssid"])
    assert got.columns == list(district_columns("summative"))
    joined = got.join(expected, left_on="SSID", right_on="ssid")
    assert (joined["Overall Scale Score"].cast(pl.Int64).eq_missing(
        joined["overall_scale_score"].cast(pl.Int64))).all()
    assert joined["Overall Performance Level"].to_list() == [
        LEVELS.get(v) for v in joined["overall_level"].to_list()]
    assert (joined["Last Name"] == joined["last_name"]).all()
    assert set(got["Test"]) == {"Summative ELPAC"}
    assert set(got["District Code"]) == {LEA}


def test_district_export_of_one_school_and_of_the_alternate(tiny: Snapshot,
                                                            tiny_store_path: Path) -> None:
    records = parquet(tiny_store_path).filter(pl.col("reporting_lea_code") == LEA)
    school = records["reporting_school_code"].drop_nulls().mode().sort().item(0)
    got = read_district_results(tiny, scope=STATE_PII, year=YEAR, lea=LEA, school=school)
    expected = records.filter((pl.col("reporting_school_code") == school)
                              & (pl.col("record_type") == "21"))
    assert sorted(got["SSID"]) == sorted(expected["ssid"])

    alternate = read_district_results(tiny, scope=STATE_PII, year=YEAR, lea=LEA,
                                      test="alternate")
    assert sorted(alternate["SSID"]) == sorted(
        records.filter(pl.col("record_type") == "23")["ssid"])
    assert "Oral Language Scale Score" not in alternate.columns
    assert set(alternate["Overall Performance Level"].drop_nulls()) <= {
        "Novice English Learner", "Intermediate English Learner", "Fluent English Proficient"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_district_file_has_a_row_per_student(tiny: Snapshot, tiny_store_path: Path,
                                             tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"d.{fmt}"
    result = build_district_export(tiny, out, scope=STATE_PII, year=YEAR, lea=LEA, fmt=fmt)
    back = (pl.read_csv(out, infer_schema=False) if fmt == "csv"
            else pl.read_excel(out, infer_schema_length=0))
    expected = parquet(tiny_store_path).filter((pl.col("reporting_lea_code") == LEA)
                                               & (pl.col("record_type") == "21"))
    assert result.n_rows == back.height == expected.height
    assert back.columns[:4] == ["School Year", "Test", "District Code", "District Name"]


def test_research_file_build_writes_the_rows(tiny: Snapshot, tmp_path: Path) -> None:
    out = tmp_path / "r.txt"
    result = build_research_file(tiny, out, scope=Scope.lea(LEA), year=YEAR, lea=LEA,
                                 suppress=True)
    rows = research_rows(tiny, year=YEAR, scope=Scope.lea(LEA), lea=LEA, suppress=True)
    back = pl.read_csv(out, separator="^", infer_schema=False)
    assert result.n_rows == back.height == rows.height > 0
    assert set(back["DistrictCode"]) == {LEA[2:7]}


# -- neutralisation --------------------------------------------------------------------------

FORMULAS = {"StudentLastName": '=HYPERLINK("http://x")', "StudentFirstName": "-Ann",
            "StudentMiddleName": "@SUM(A1)", "LocalUse": "+1"}


@pytest.fixture(scope="module")
def formulas(toms: TomsBuilder) -> Snapshot:
    return toms([FORMULAS, {"StudentLastName": "Plain"}])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_ssdf_cells_starting_like_formulas_are_neutralised(formulas: Snapshot, tmp_path: Path,
                                                           fmt: str) -> None:
    out = tmp_path / f"f.{fmt}"
    build_ssdf_extract(formulas, out, scope=STATE_PII, years=["2024-25"], fmt=fmt)
    back = (pl.read_csv(out, infer_schema=False) if fmt == "csv"
            else pl.read_excel(out, infer_schema_length=0))
    row = back.filter(pl.col("StudentLastName") != "Plain").row(0, named=True)
    assert {h: row[h] for h in FORMULAS} == {h: "'" + v for h, v in FORMULAS.items()}
    assert back.filter(pl.col("StudentLastName") == "Plain").height == 1


def test_toms_text_keeps_the_values_as_loaded(formulas: Snapshot, tmp_path: Path) -> None:
    out = tmp_path / "f.txt"
    build_ssdf_extract(formulas, out, scope=STATE_PII, years=["2024-25"], fmt="toms")
    back = pl.read_csv(out, separator="^", quote_char=None, infer_schema=False)
    row = back.filter(pl.col("StudentLastName") != "Plain").row(0, named=True)
    assert {h: row[h] for h in FORMULAS} == FORMULAS


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_district_cells_are_neutralised_and_numbers_stay_numbers(
        formulas: Snapshot, tmp_path: Path, fmt: str) -> None:
    lea = formulas.orgs_of(["2024-25"]).filter(pl.col("org_level") == "lea")["lea_code"][0]
    out = tmp_path / f"d.{fmt}"
    build_district_export(formulas, out, scope=STATE_PII, year="2024-25", lea=lea, fmt=fmt)
    if fmt == "csv":
        with out.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = pl.read_excel(out).to_dicts()
    row = next(r for r in rows if r["Last Name"] != "Plain")
    assert (row["Last Name"], row["First Name"], row["Middle Name"]) == (
        "'" + FORMULAS["StudentLastName"], "'-Ann", "'@SUM(A1)")
    if fmt == "xlsx":
        # Scale scores are Excel numbers an analyst can average, not text.
        assert isinstance(row["Overall Scale Score"], int | float)


# -- scope -----------------------------------------------------------------------------------

@pytest.mark.parametrize("by", ["enrolled", "tested", None])
def test_an_lea_scope_never_gets_another_leas_rows(tiny: Snapshot, by: str | None) -> None:
    scope = Scope.lea(LEA, pii=True)
    got = read_ssdf_records(tiny, scope=scope, years=list(tiny.years), by=by)  # type: ignore[arg-type]
    assert got.height > 0
    sides = ["enrolled", "tested"] if by is None else [by]
    mine = pl.any_horizontal([pl.col(f"{s}_lea_code") == LEA for s in sides])
    assert got.filter(~mine).height == 0
    with pytest.raises(ScopeError, match=f"LEA {OTHER_LEA} is not in your access"):
        read_ssdf_records(tiny, scope=scope, years=[YEAR], lea=OTHER_LEA, by=by)  # type: ignore[arg-type]


def test_an_lea_scope_cannot_export_another_lea(tiny: Snapshot, tmp_path: Path) -> None:
    scope = Scope.lea(LEA, pii=True)
    with pytest.raises(ScopeError, match="not in your access"):
        read_district_results(tiny, scope=scope, year=YEAR, lea=OTHER_LEA)
    with pytest.raises(ScopeError, match="not in your access"):
        build_research_file(tiny, tmp_path / "r.txt", scope=scope, year=YEAR, lea=OTHER_LEA,
                            suppress=True)
    with pytest.raises(ScopeError, match="all of California"):
        build_research_file(tiny, tmp_path / "r.txt", scope=scope, year=YEAR, suppress=True)
    assert not (tmp_path / "r.txt").exists()


def test_a_school_scope_gets_its_school_only(tiny: Snapshot, tiny_store_path: Path) -> None:
    records = parquet(tiny_store_path).filter(pl.col("reporting_lea_code") == LEA)
    school = records["reporting_school_code"].drop_nulls().mode().sort().item(0)
    scope = Scope.school(school, pii=True)
    with pytest.raises(ScopeError, match="not in your access"):
        read_district_results(tiny, scope=scope, year=YEAR, lea=LEA)
    got = read_district_results(tiny, scope=scope, year=YEAR, lea=LEA, school=school)
    assert set(got["School Code"]) == {school}
    ssdf = read_ssdf_records(tiny, scope=scope, years=[YEAR], by="tested")
    assert set(ssdf["tested_school_code"]) == {school}


def test_a_group_scope_gets_its_students_only(tiny: Snapshot) -> None:
    scope = Scope(leas=(LEA,), groups=("004",), pii=True)  # 004: female (ELPAC.md §5.6)
    got = read_district_results(tiny, scope=scope, year=YEAR, lea=LEA)
    assert got.height > 0
    assert set(got["Gender"]) == {"Female"}
    assert set(read_ssdf_records(tiny, scope=scope, years=[YEAR])["gender"]) == {"F"}


def test_student_level_extracts_need_pii(tiny: Snapshot, tmp_path: Path) -> None:
    for scope in (Scope.state(), Scope.lea(LEA)):
        with pytest.raises(ScopeError, match="may see student records"):
            read_district_results(tiny, scope=scope, year=YEAR, lea=LEA)
        with pytest.raises(ScopeError, match="may see student records"):
            build_ssdf_extract(tiny, tmp_path / "s.csv", scope=scope, years=[YEAR], lea=LEA)
    assert not (tmp_path / "s.csv").exists()
    # The research file is aggregate and suppressed: no personal information needed.
    assert build_research_file(tiny, tmp_path / "r.txt", scope=Scope.lea(LEA), year=YEAR,
                               lea=LEA, suppress=True).n_rows > 0


@pytest.mark.parametrize(("fmt", "years", "lea", "by"), [
    ("csv", ["2024-25"], None, None),
    ("toms", ["2023-24", "2024-25"], None, "tested"),
    ("csv", ["2022-23", "2024-25"], None, "enrolled"),
])
def test_a_streamed_extract_is_byte_for_byte_the_whole_one(
        tiny: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str,
        years: list[str], lea: str | None, by: str | None) -> None:
    # Written a batch of schools at a time (issue 11: a statewide extract never sits in
    # memory whole); with batches of a few records, many batches, the same file.
    import queries.ssdf_extract as extracts
    from data.toms.export import records_text, write_table

    scope = Scope.state(pii=True)
    records = extracts.read_ssdf_records(tiny, scope=scope, years=years, lea=lea, by=by)
    whole = tmp_path / f"whole.{fmt}"
    write_table(records_text(records, tiny.store.extra_names(),
                             year=years[0] if len(years) == 1 else None), whole, fmt=fmt)
    monkeypatch.setattr(extracts, "BATCH_RECORDS", 7)
    streamed = tmp_path / f"streamed.{fmt}"
    built = extracts.build_ssdf_extract(tiny, streamed, scope=scope, years=years, lea=lea,
                                        by=by, fmt=fmt)
    assert built.n_rows == records.height > 100
    assert len(extracts._batches(tiny, extracts._ssdf_filter(
        tiny, scope=scope, years=years, lea=lea, by=by, score_from=None, score_to=None,
        scored_only=False)[0], by or "enrolled", years)) > 20
    assert streamed.read_bytes() == whole.read_bytes()


def test_excel_beyond_its_limit_says_choose_csv(tiny: Snapshot, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import queries.ssdf_extract as extracts

    monkeypatch.setattr(extracts, "XLSX_MAX_RECORDS", 10)
    with pytest.raises(InputError, match="too many for Excel here .* choose CSV"):
        extracts.build_ssdf_extract(tiny, tmp_path / "x.xlsx", scope=Scope.state(pii=True),
                                    years=["2024-25"], fmt="xlsx")
    assert not (tmp_path / "x.xlsx").exists()
