"""Student Score Report status against the records (ELPAC.md §7).

Denominator: students with an SSR (``SSREligible`` Y). Released as of a date when the SSR's
available date is on or before it. Students count under their *enrolled* LEA and school, where
the SSR goes. Every eligible student gets an English SSR, plus one in the primary language
when it is Spanish, Vietnamese, Filipino, Korean or Chinese.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.results.store import Store
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.ssr import read_ssr_status

STATE = Scope.state()
RECORD_TYPE = {"summative": "21", "alternate": "23"}
# ELPAC.md §7: the second SSR language, by CEDS code (Chinese covers Mandarin and Cantonese,
# Filipino covers Tagalog).
SECOND_LANGUAGE = {"SPA": "SPA", "VIE": "VIE", "FIL": "FIL", "TGL": "FIL", "KOR": "KOR",
                   "CHI": "CHI", "ZHO": "CHI", "CMN": "CHI", "YUE": "CHI"}
LANGUAGE_NAMES = {"ENG": "English only", "ENG;SPA": "English and Spanish",
                  "ENG;VIE": "English and Vietnamese", "ENG;FIL": "English and Filipino",
                  "ENG;KOR": "English and Korean", "ENG;CHI": "English and Chinese (Traditional)"}
STATUS = {"n_eligible": pl.Int64, "n_released": pl.Int64, "n_primary_eligible": pl.Int64,
          "n_primary_released": pl.Int64, "n_english_released": pl.Int64,
          "pct_released": pl.Float64, "has_release_dates": pl.Boolean}


# -- independent computation from the records ---------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


def eligible(store_path: Path, year: str, test: str) -> pl.DataFrame:
    """SSR-eligible records of a year and test, with their enrolled organisation."""
    records = pl.read_parquet(Store(store_path).year_files()[year])
    return records.filter(pl.col("is_ssr_eligible").fill_null(False)
                          & (pl.col("record_type") == RECORD_TYPE[test])).select(
        pl.col("enrolled_lea_code").alias("lea_code"),
        pl.col("enrolled_lea_code").str.slice(0, 2).alias("county_code"),
        pl.col("enrolled_school_code").fill_null("").alias("school_code"),
        pl.col("grade_assessed").alias("grade"),
        pl.col("ssr_languages").fill_null("ENG").alias("languages"),
        "ceds_language", "ssr_available_date")


def expected_status(rows: pl.DataFrame, as_of: date, by: list[str]) -> pl.DataFrame:
    """Status counts per ``by`` key (all rows when empty), computed in plain Python."""
    cells: dict[tuple[str, ...], list[int]] = {}
    dated: dict[tuple[str, ...], bool] = {}
    for r in rows.iter_rows(named=True):
        key = tuple(r[k] for k in by)
        released = r["ssr_available_date"] is not None and r["ssr_available_date"] <= as_of
        primary = r["languages"] != "ENG"
        c = cells.setdefault(key, [0, 0, 0, 0])
        c[0] += 1
        c[1] += released
        c[2] += primary
        c[3] += primary and released
        dated[key] = dated.get(key, False) or r["ssr_available_date"] is not None
    out = [{**dict(zip(by, key, strict=True)), "n_eligible": c[0], "n_released": c[1],
            "n_primary_eligible": c[2], "n_primary_released": c[3],
            "n_english_released": c[1], "pct_released": c[1] / c[0] * 100,
            "has_release_dates": dated[key]} for key, c in sorted(cells.items())]
    if not by and not out:
        out = [{"n_eligible": 0, "n_released": 0, "n_primary_eligible": 0,
                "n_primary_released": 0, "n_english_released": 0, "pct_released": None,
                "has_release_dates": False}]
    return pl.DataFrame(out, schema={**dict.fromkeys(by, pl.String), **STATUS})


BREAKDOWNS = {None: [], "lea": ["county_code", "lea_code"],
              "school": ["county_code", "lea_code", "school_code"], "grade": ["grade"],
              "language": ["languages"]}


@pytest.mark.parametrize("as_of", [date(2025, 5, 21), date(2025, 5, 22), date(2025, 6, 6),
                                   date(2025, 9, 15)])
@pytest.mark.parametrize("by", list(BREAKDOWNS))
def test_status_matches_the_records(tiny: Snapshot, tiny_store_path: Path, as_of: date,
                                    by: str | None) -> None:
    rows = eligible(tiny_store_path, "2024-25", "summative")
    got = read_ssr_status(tiny, year="2024-25", as_of=as_of, scope=STATE, by=by)  # type: ignore[arg-type]
    expected = expected_status(rows, as_of, BREAKDOWNS[by])
    assert_frame_equal(got.select(expected.columns), expected)
    assert got.get_column("school_year").unique().to_list() == ["2024-25"]
    assert got.get_column("as_of").unique().to_list() == [as_of]


def test_stored_languages_follow_the_ssr_rule(tiny_store_path: Path) -> None:
    rows = eligible(tiny_store_path, "2024-25", "summative")
    ours = [("ENG;" + SECOND_LANGUAGE[c]) if c in SECOND_LANGUAGE else "ENG"
            for c in rows.get_column("ceds_language").to_list()]
    assert rows.get_column("languages").to_list() == ours
    assert len(set(ours)) >= 4


def test_language_names(tiny: Snapshot) -> None:
    got = read_ssr_status(tiny, year="2024-25", as_of=date(2025, 9, 15), scope=STATE,
                          by="language")
    for languages, name in got.select("languages", "language").iter_rows():
        assert LANGUAGE_NAMES[languages] == name


def test_status_in_an_lea_scope(tiny: Snapshot, tiny_store_path: Path) -> None:
    rows = eligible(tiny_store_path, "2024-25", "summative")
    lea = rows.group_by("lea_code").len().sort("len", "lea_code").get_column("lea_code")[-1]
    as_of = date(2025, 6, 1)
    got = read_ssr_status(tiny, year="2024-25", as_of=as_of, scope=Scope.lea(lea), by="school")
    expected = expected_status(rows.filter(pl.col("lea_code") == lea), as_of,
                               BREAKDOWNS["school"])
    assert_frame_equal(got.select(expected.columns), expected)


def test_a_year_before_release_dates(tiny: Snapshot, tiny_store_path: Path) -> None:
    # 2022-23 files have no SSRAvailableDate (new in 2023-24): eligible, none released.
    rows = eligible(tiny_store_path, "2022-23", "summative")
    assert rows.height > 0
    assert rows.get_column("ssr_available_date").null_count() == rows.height
    got = read_ssr_status(tiny, year="2022-23", as_of=date(2023, 9, 15), scope=STATE)
    expected = expected_status(rows, date(2023, 9, 15), [])
    assert_frame_equal(got.select(expected.columns), expected)
    assert got.select("n_released", "has_release_dates").row(0) == (0, False)
    by_lea = read_ssr_status(tiny, year="2022-23", as_of=date(2023, 9, 15), scope=STATE,
                             by="lea")
    assert not by_lea.get_column("has_release_dates").any()


def test_unknown_year_is_refused(tiny: Snapshot) -> None:
    with pytest.raises(ValueError, match="no results for 2016-17"):
        read_ssr_status(tiny, year="2016-17", as_of=date(2017, 6, 1), scope=STATE)


# -- a hand-built year with known release dates ------------------------------------------------

A, A1 = "01611920000000", "01611920111111"
B, B1 = "01612000000000", "01612000144444"
G, G1 = "01612340000000", "01612340155555"   # enrolled LEA of a mover; nobody tests there


def _ssr(ssid: int, language: str, released: str, *, grade: str = "05",
         **fields: object) -> dict[str, object]:
    return {"SSID": ssid, "FinalTestedDistrictCode": A, "FinalTestedSchoolCode": A1,
            "GradeAssessed": grade, "CEDSLanguageCode": language, "SSRAvailableDate": released,
            **fields}


@pytest.fixture(scope="module")
def hand_built(toms) -> Snapshot:
    return toms([
        _ssr(5000000001, "SPA", "2025-05-22"),
        _ssr(5000000002, "VIE", "2025-05-23"),
        _ssr(5000000003, "KOR", "2025-06-06", grade="02"),
        _ssr(5000000004, "CMN", ""),                       # not released yet
        _ssr(5000000005, "ARA", "2025-05-22"),             # English only
        _ssr(5000000006, "TGL", "2025-05-30"),
        # Moved after testing: tested in A1, enrolled in B1; the SSR goes to B (§3.3 rule 6).
        _ssr(5000000007, "SPA", "2025-05-22", CALPADSDistrictCode=B, CALPADSSchoolCode=B1),
        _ssr(5000000008, "SPA", "", TestedStatus="N"),     # not tested: no SSR
        _ssr(5000000009, "SPA", "", Attemptedness="P"),    # partial: no SSR
        _ssr(5000000010, "SPA", "2025-08-05", RecordType="23"),
        _ssr(5000000011, "ENG", "2025-05-22", FinalTestedDistrictCode=B,
             FinalTestedSchoolCode=B1),
        _ssr(5000000012, "SPA", "2025-06-02", CALPADSDistrictCode=G, CALPADSSchoolCode=G1,
             CALPADSDistrictName="Gamma Elementary", CALPADSSchoolName="Gamma School"),
    ])


MAY_31 = date(2025, 5, 31)


def test_hand_built_total(hand_built: Snapshot) -> None:
    got = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=STATE)
    expected = pl.DataFrame([(9, 6, 7, 4, 6, 6 / 9 * 100, True)], schema=STATUS, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)


def test_hand_built_by_enrolled_lea(hand_built: Snapshot) -> None:
    got = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=STATE, by="lea")
    expected = pl.DataFrame(
        [("01", A, 6, 4, 5, 3, 4, 4 / 6 * 100, True),
         ("01", B, 2, 2, 1, 1, 2, 100.0, True),
         ("01", G, 1, 0, 1, 0, 0, 0.0, True)],
        schema={"county_code": pl.String, "lea_code": pl.String, **STATUS}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)


def test_hand_built_lea_names_include_enrolled_only_leas(hand_built: Snapshot) -> None:
    # G has SSRs (a student enrolled there tested elsewhere) but no tested students: its
    # name is still in the file (CALPADSDistrictName) and belongs on its row.
    got = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=STATE, by="lea")
    assert got.select("lea_code", "name").rows() == [
        (A, "District 61192"), (B, "District 61200"), (G, "Gamma Elementary")]


def test_hand_built_by_school_grade_and_language(hand_built: Snapshot) -> None:
    schools = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=STATE,
                              by="school")
    assert schools.select("school_code", "n_eligible", "n_released").rows() == [
        (A1, 6, 4), (B1, 2, 2), (G1, 1, 0)]
    grades = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=STATE,
                             by="grade")
    assert grades.select("grade", "grade_name", "n_eligible", "n_released").rows() == [
        ("02", "Grade 2", 1, 0), ("05", "Grade 5", 8, 6)]
    languages = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=STATE,
                                by="language")
    expected = pl.DataFrame(
        [("ENG", "English only", 2, 2, 0, 0),
         ("ENG;CHI", "English and Chinese (Traditional)", 1, 0, 1, 0),
         ("ENG;FIL", "English and Filipino", 1, 1, 1, 1),
         ("ENG;KOR", "English and Korean", 1, 0, 1, 0),
         ("ENG;SPA", "English and Spanish", 3, 2, 3, 2),
         ("ENG;VIE", "English and Vietnamese", 1, 1, 1, 1)],
        schema={"languages": pl.String, "language": pl.String, "n_eligible": pl.Int64,
                "n_released": pl.Int64, "n_primary_eligible": pl.Int64,
                "n_primary_released": pl.Int64}, orient="row")
    assert_frame_equal(languages.select(expected.columns), expected)


def test_hand_built_scope_is_the_enrolled_lea(hand_built: Snapshot) -> None:
    got = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=Scope.lea(B))
    assert got.select("n_eligible", "n_released").row(0) == (2, 2)
    got = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=Scope.lea(A))
    assert got.select("n_eligible", "n_released").row(0) == (6, 4)


def test_hand_built_alternate(hand_built: Snapshot) -> None:
    before = read_ssr_status(hand_built, year="2024-25", as_of=date(2025, 8, 4), scope=STATE,
                             test="alternate")
    after = read_ssr_status(hand_built, year="2024-25", as_of=date(2025, 8, 5), scope=STATE,
                            test="alternate")
    assert before.select("n_eligible", "n_released").row(0) == (1, 0)
    assert after.select("n_eligible", "n_released", "n_primary_released").row(0) == (1, 1, 1)


def test_data_status_per_row(toms) -> None:
    # Issue 3: each row says whether its counts are final, as report rows do. A's file is
    # early (partial), B's late (final); G has no file of its own (its student tested in A),
    # so it takes the year's status: partial. A total is final only when all its LEAs are.
    early = toms.write([_ssr(5100000001, "SPA", "2025-05-22"),
                        _ssr(5100000002, "SPA", "2025-05-22", grade="03",
                             CALPADSDistrictCode=G, CALPADSSchoolCode=G1)],
                       created="2025-06-01", tag="Early")
    late = toms.write([_ssr(5100000003, "ENG", "2025-05-22", grade="03",
                            FinalTestedDistrictCode=B, FinalTestedSchoolCode=B1)],
                      created="2025-09-15", tag="Late")
    snap = toms.load([early, late])

    def status(scope: Scope = STATE, by: str | None = None) -> list[tuple[object, ...]]:
        got = read_ssr_status(snap, year="2024-25", as_of=MAY_31, scope=scope, by=by)  # type: ignore[arg-type]
        keys = {"lea": ["lea_code"], "school": ["school_code"], "grade": ["grade"]}
        return got.select(*keys.get(by or "", []), "n_eligible", "data_status").rows()

    assert status() == [(3, "partial")]
    assert status(by="lea") == [(A, 1, "partial"), (B, 1, "final"), (G, 1, "partial")]
    assert status(by="school") == [(A1, 1, "partial"), (B1, 1, "final"), (G1, 1, "partial")]
    assert status(by="grade") == [("03", 2, "partial"), ("05", 1, "partial")]
    assert status(Scope.lea(B)) == [(1, "final")]
    assert status(Scope.lea(B), by="grade") == [("03", 1, "final")]
    # Nothing in scope: the year's status.
    assert status(Scope.school("99999999999999")) == [(0, "partial")]


def test_data_status_final_year(hand_built: Snapshot) -> None:
    # One file, created September 15: final (snapshot.FINAL_AFTER), every row and the total.
    assert read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=STATE, by="lea"
                           ).get_column("data_status").to_list() == ["final"] * 3
    assert read_ssr_status(hand_built, year="2024-25", as_of=MAY_31,
                           scope=STATE).get_column("data_status").to_list() == ["final"]


def test_a_teachers_ssrs_count_under_the_enrolled_school(hand_built: Snapshot) -> None:
    # Student 07 tested in A1 but is enrolled in B1, where the SSR goes (ELPAC.md §7). B1
    # counts it (and student 11, tested there), and so does a teacher of B1 who has it.
    got = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=Scope.school(B1))
    assert got.select("n_eligible", "n_released").row(0) == (2, 2)
    teacher_of_b1 = Scope(schools=(B1,), ssids=("5000000007",))
    got = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=teacher_of_b1)
    assert got.select("n_eligible", "n_released").row(0) == (1, 1)
    # A teacher of A1 with both: only student 01, enrolled there.
    teacher_of_a1 = Scope(schools=(A1,), ssids=("5000000007", "5000000001"))
    got = read_ssr_status(hand_built, year="2024-25", as_of=MAY_31, scope=teacher_of_a1)
    assert got.select("n_eligible", "n_released").row(0) == (1, 1)
