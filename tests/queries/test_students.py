"""Finding students and reading one student's records: personal data, only inside the scope.

Expected results are recomputed here from the store's Parquet files, with the scope read
independently: a record is in scope if its county, reporting LEA or reporting school is.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data import domain
from data.results.store import Store
from data.toms.layout import layout
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.students import find_students, level_bands, read_student, score_history

COLUMNS = ["ssid", "last_name", "first_name", "record_type", "grade_assessed", "county_code",
           "reporting_lea_code", "reporting_school_code", "is_economically_disadvantaged",
           "gender"]
FOUND_KEY = ["ssid", "record_type", "school_year"]


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


@pytest.fixture(scope="module")
def records(tiny_store_path: Path) -> pl.DataFrame:
    """Every record of every year, read straight from the store's Parquet files."""
    return _read(Store(tiny_store_path))


def _read(store: Store) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(path, columns=COLUMNS)
                      .with_columns(pl.lit(year).alias("school_year"))
                      for year, path in sorted(store.year_files().items())])


@pytest.fixture(scope="module")
def mover(records: pl.DataFrame) -> str:
    """A student who counted under two LEAs over four or more years."""
    moved = (records.group_by("ssid")
             .agg(pl.col("reporting_lea_code").n_unique().alias("leas"),
                  pl.col("school_year").n_unique().alias("years"))
             .filter((pl.col("leas") > 1) & (pl.col("years") >= 4)).sort("ssid"))
    return moved.item(0, "ssid")


def _in_scope(scope: Scope) -> pl.Expr:
    if scope.statewide:
        return pl.lit(True)
    return (pl.col("county_code").is_in(list(scope.counties))
            | pl.col("reporting_lea_code").is_in(list(scope.leas))
            | pl.col("reporting_school_code").is_in(list(scope.schools)).fill_null(False))


def _latest(records: pl.DataFrame) -> set[tuple[str, str, str]]:
    """(SSID, record type, year) of each student's and test's latest record."""
    latest = records.group_by("ssid", "record_type").agg(pl.col("school_year").max())
    return set(latest.select(FOUND_KEY).iter_rows())


def _found(frame: pl.DataFrame) -> set[tuple[str, str, str]]:
    assert frame.select(pl.struct("ssid", "record_type").is_duplicated().any()).item() is False
    return set(frame.select(FOUND_KEY).iter_rows())


# -- personal data needs a PII scope ----------------------------------------------------------

@pytest.mark.parametrize("scope", [Scope.state(), Scope.lea("19619690000000"),
                                   Scope(counties=("19",), groups=("031",))],
                         ids=["state", "lea", "county and group"])
def test_student_data_needs_a_pii_scope(snap: Snapshot, mover: str, scope: Scope) -> None:
    with pytest.raises(ScopeError, match="personal information"):
        find_students(snap, scope=scope, text=mover)
    with pytest.raises(ScopeError, match="personal information"):
        find_students(snap, scope=scope)
    with pytest.raises(ScopeError, match="personal information"):
        read_student(snap, mover, scope=scope)


# -- finding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["{ssid}", "  {ssid} "])
def test_find_by_ssid(snap: Snapshot, records: pl.DataFrame, mover: str, typed: str) -> None:
    found = find_students(snap, scope=Scope.state(pii=True), text=typed.format(ssid=mover))
    assert _found(found) == _latest(records.filter(pl.col("ssid") == mover))
    assert found.columns == ["ssid", "last_name", "first_name", "school_year",
                             "grade_assessed", "record_type", "reporting_lea_code",
                             "reporting_school_code", "tested_school_name", "overall_level",
                             "overall_scale_score", "score_status"]


def test_find_an_ssid_with_leading_zeros_typed_or_not(store_copy: Store,
                                                      records: pl.DataFrame,
                                                      mover: str) -> None:
    # Give the mover an SSID starting with zeros in every year of a private copy.
    zeroed = "000" + mover[3:]
    assert not records.filter(pl.col("ssid") == zeroed).height
    for path in store_copy.year_files().values():
        frame = pl.read_parquet(path)
        frame.with_columns(pl.col("ssid").replace({mover: zeroed})).write_parquet(path)
    snap = Snapshot(store_copy)
    scope = Scope.state(pii=True)
    expected = {(zeroed, rt, y) for _, rt, y in _latest(records.filter(pl.col("ssid") == mover))}
    for typed in (zeroed, zeroed.lstrip("0"), "0" + zeroed.lstrip("0"), f" {zeroed[2:]} "):
        assert _found(find_students(snap, scope=scope, text=typed)) == expected, typed
        history = read_student(snap, typed, scope=scope)
        assert set(history.get_column("ssid")) == {zeroed}, typed
        assert history.height == records.filter(pl.col("ssid") == mover).height


@pytest.mark.parametrize("typed", ["ro", "RO", "Ro", "rO ", "mar", "MARI"])
def test_find_by_name_prefix_in_any_case(snap: Snapshot, records: pl.DataFrame,
                                         typed: str) -> None:
    prefix = typed.strip().lower()
    named = records.filter(pl.col("last_name").str.to_lowercase().str.starts_with(prefix)
                           | pl.col("first_name").str.to_lowercase().str.starts_with(prefix))
    expected = _latest(named)
    assert 0 < len(expected) < 500  # under the default limit
    found = find_students(snap, scope=Scope.state(pii=True), text=typed)
    assert _found(found) == expected
    # Sorted by name, as a list of people.
    names = found.select("last_name", "first_name", "ssid").rows()
    assert names == sorted(names)


def test_a_name_matches_from_its_start_only(snap: Snapshot, records: pl.DataFrame) -> None:
    # "odr" is inside Rodriguez but starts no name.
    inside = records.filter(pl.col("last_name").str.to_lowercase().str.contains("odr"))
    assert inside.height
    assert find_students(snap, scope=Scope.state(pii=True), text="odr").height == 0


def _big_lea(records: pl.DataFrame) -> str:
    return (records.group_by("reporting_lea_code").len()
            .sort("len", "reporting_lea_code", descending=[True, False]).item(0, 0))


def _big_school(records: pl.DataFrame, lea: str) -> str:
    return (records.filter(pl.col("reporting_lea_code") == lea)
            .drop_nulls("reporting_school_code").group_by("reporting_school_code").len()
            .sort("len", "reporting_school_code", descending=[True, False]).item(0, 0))


@pytest.mark.parametrize(("scope_of", "school", "grade", "group", "year"), [
    ("state", True, None, None, None),
    ("state", True, "most common", None, None),
    ("state", False, "KN", "031", None),
    ("lea", False, None, "004", None),
    ("lea", True, None, "111", "2022-23"),
    ("lea", False, "05", None, "2024-25"),
    ("school", False, None, None, None),
    ("school", False, "most common", "003", None),
])
def test_find_by_school_grade_and_group(snap: Snapshot, records: pl.DataFrame,
                                        scope_of: str, school: bool, grade: str | None,
                                        group: str | None, year: str | None) -> None:
    lea = _big_lea(records)
    code = _big_school(records, lea)
    scope = {"state": Scope.state(pii=True), "lea": Scope.lea(lea, pii=True),
             "school": Scope.school(code, pii=True)}[scope_of]
    if grade == "most common":  # at the school
        grade = (records.filter(pl.col("reporting_school_code") == code)
                 .group_by("grade_assessed").len()
                 .sort("len", "grade_assessed", descending=[True, False]).item(0, 0))
    keep = _in_scope(scope)
    if school:
        keep = keep & (pl.col("reporting_school_code") == code)
    if grade:
        keep = keep & (pl.col("grade_assessed") == grade)
    if group:  # written out here: 031/111 economic status, 003/004 gender (ELPAC.md §5.6)
        keep = keep & {"031": pl.col("is_economically_disadvantaged"),
                       "111": ~pl.col("is_economically_disadvantaged"),
                       "003": pl.col("gender") == "M",
                       "004": pl.col("gender") == "F"}[group].fill_null(False)
    if year:
        keep = keep & (pl.col("school_year") == year)
    expected = _latest(records.filter(keep))
    assert 0 < len(expected) < 500
    found = find_students(snap, scope=scope, school=code if school else None, grade=grade,
                          group=group, year=year)
    assert _found(found) == expected


def test_the_limit_keeps_the_first_names_in_order(snap: Snapshot, records: pl.DataFrame
                                                  ) -> None:
    every = find_students(snap, scope=Scope.state(pii=True), limit=100_000)
    assert _found(every) == _latest(records)
    first = find_students(snap, scope=Scope.state(pii=True), limit=25)
    assert first.height == 25
    assert first.rows() == every.head(25).rows()


def test_find_in_a_year_without_data_finds_nobody(snap: Snapshot) -> None:
    # 2019-20 had no Summative ELPAC (ELPAC.md §6): an empty list, not an error.
    found = find_students(snap, scope=Scope.state(pii=True), year="2019-20")
    assert found.height == 0
    assert "ssid" in found.columns


# -- nobody outside the scope -----------------------------------------------------------------

def test_an_lea_scope_finds_only_that_leas_students(snap: Snapshot, records: pl.DataFrame,
                                                    mover: str) -> None:
    history = records.filter(pl.col("ssid") == mover).sort("school_year")
    first_lea = history.item(0, "reporting_lea_code")
    scope = Scope.lea(first_lea, pii=True)
    found = find_students(snap, scope=scope)
    assert set(found.get_column("reporting_lea_code")) == {first_lea}
    assert _found(found) == _latest(records.filter(pl.col("reporting_lea_code") == first_lea))

    # The mover is found with their last record in this LEA, not their later ones elsewhere.
    theirs = find_students(snap, scope=scope, text=mover)
    assert _found(theirs) == _latest(history.filter(pl.col("reporting_lea_code") == first_lea))
    # Asking for the mover's later LEA by name finds nothing: it is outside the scope.
    later = history.filter(pl.col("reporting_lea_code") != first_lea).item(0,
                                                                          "reporting_lea_code")
    assert find_students(snap, scope=scope, lea=later).height == 0

    # Someone who never counted in the LEA is not found, by SSID or by name.
    outsider = records.filter(~pl.col("ssid").is_in(
        records.filter(pl.col("reporting_lea_code") == first_lea).get_column("ssid")
        .implode())).row(0, named=True)
    assert find_students(snap, scope=scope, text=outsider["ssid"]).height == 0
    by_name = find_students(snap, scope=scope, text=outsider["last_name"])
    assert outsider["ssid"] not in by_name.get_column("ssid").to_list()
    assert read_student(snap, outsider["ssid"], scope=scope).height == 0


def test_a_school_scope_finds_only_that_schools_students(snap: Snapshot,
                                                         records: pl.DataFrame) -> None:
    lea = _big_lea(records)
    code = _big_school(records, lea)
    found = find_students(snap, scope=Scope.school(code, pii=True))
    assert set(found.get_column("reporting_school_code")) == {code}
    # Students counted under the LEA but no school (NPS, ELPAC.md §3.3 rule 6) are not the
    # school's; a whole-LEA scope sees them.
    in_school = records.filter(pl.col("reporting_school_code") == code).get_column("ssid")
    # Not students who were at the school in another year: the search covers every year.
    nps = records.filter((pl.col("reporting_lea_code") == lea)
                         & pl.col("reporting_school_code").is_null()
                         & ~pl.col("ssid").is_in(in_school.to_list()))
    if nps.height:
        ssid = nps.item(0, "ssid")
        assert find_students(snap, scope=Scope.school(code, pii=True), text=ssid).height == 0
        assert find_students(snap, scope=Scope.lea(lea, pii=True), text=ssid).height >= 1


def test_a_county_scope_includes_its_leas_students(snap: Snapshot, records: pl.DataFrame
                                                   ) -> None:
    county = records.item(0, "county_code")
    found = find_students(snap, scope=Scope(counties=(county,), pii=True), limit=100_000)
    assert _found(found) == _latest(records.filter(pl.col("county_code") == county))


# -- one student ------------------------------------------------------------------------------

def test_read_student_returns_every_year_newest_first(snap: Snapshot, records: pl.DataFrame,
                                                      mover: str) -> None:
    history = read_student(snap, mover, scope=Scope.state(pii=True))
    expected = records.filter(pl.col("ssid") == mover).sort("school_year", descending=True)
    assert history.select("school_year", "record_type", "reporting_lea_code").rows() == \
        expected.select("school_year", "record_type", "reporting_lea_code").rows()
    assert set(history.get_column("ssid")) == {mover}
    assert {"last_name", "birth_date", "condition_code", "overall_scale_score",
            "ssr_available_date"} <= set(history.columns)


def test_read_student_in_an_lea_scope_returns_only_that_leas_years(
        snap: Snapshot, records: pl.DataFrame, mover: str) -> None:
    theirs = records.filter(pl.col("ssid") == mover)
    for lea in theirs.get_column("reporting_lea_code").unique().sort():
        history = read_student(snap, mover, scope=Scope.lea(lea, pii=True))
        expected = theirs.filter(pl.col("reporting_lea_code") == lea).sort(
            "school_year", descending=True)
        assert history.get_column("school_year").to_list() == \
            expected.get_column("school_year").to_list()
        assert set(history.get_column("reporting_lea_code")) == {lea}


def test_read_student_of_an_unknown_ssid_is_empty(snap: Snapshot) -> None:
    assert read_student(snap, "9999999999", scope=Scope.state(pii=True)).height == 0


# -- what the Students page shows (list columns, group-limited scopes, history, domains) -----

SCORE_COLUMNS = ["ssid", "record_type", "school_year", "grade_assessed", "overall_scale_score",
                 "overall_level", "oral_scale_score", "oral_level", "written_scale_score",
                 "written_level", "condition_code", "attemptedness", "include_indicator"]


@pytest.fixture(scope="module")
def scores(tiny_store_path: Path) -> pl.DataFrame:
    """The score columns of every record, straight from the Parquet files."""
    return pl.concat([pl.read_parquet(path, columns=SCORE_COLUMNS[:2] + SCORE_COLUMNS[3:])
                      .with_columns(pl.lit(year).alias("school_year"))
                      for year, path in sorted(Store(tiny_store_path).year_files().items())])


def _status(row: dict[str, object]) -> str:
    # ELPAC.md §4 and the SSR score-history messages (§7), written out row by row.
    if row["condition_code"] == "NT":
        return "Eligible but not tested"
    if row["attemptedness"] == "P":
        return "Incomplete test | No score available"
    if row["include_indicator"] == "Y":
        return {"EXD": "Scored, exempt domain", "ALT": "Scored, alternate assessment"}.get(
            str(row["condition_code"]), "Scored")
    return "Not tested yet"


def test_found_students_carry_their_latest_score_and_status(snap: Snapshot,
                                                            scores: pl.DataFrame) -> None:
    found = find_students(snap, scope=Scope.state(pii=True), limit=100_000)
    latest = (scores.sort("school_year", descending=True)
              .unique(subset=["ssid", "record_type"], keep="first"))
    expected = {(r["ssid"], r["record_type"]): (r["overall_scale_score"], _status(r))
                for r in latest.iter_rows(named=True)}
    shown = {(r["ssid"], r["record_type"]): (r["overall_scale_score"], r["score_status"])
             for r in found.iter_rows(named=True)}
    assert shown == expected
    # Every status occurs in the tiny demo, so each branch above is exercised.
    assert {s for _, s in shown.values()} >= {"Scored", "Scored, exempt domain",
                                              "Incomplete test | No score available",
                                              "Eligible but not tested"}


def test_a_group_limited_scope_sees_only_that_groups_records(snap: Snapshot,
                                                             tiny_store_path: Path) -> None:
    # Group 142, ELs in US schools 12 months or more (ELPAC.md §5.6): membership changes from
    # year to year, so a student can be in the scope one year and out of it the next.
    frame = pl.concat([pl.read_parquet(p, columns=["ssid", "record_type", "county_code",
                                                   "us_school_months"])
                       .with_columns(pl.lit(y).alias("school_year"))
                       for y, p in sorted(Store(tiny_store_path).year_files().items())])
    county = frame.group_by("county_code").len().sort("len", descending=True).item(0, 0)
    scope = Scope(counties=(county,), groups=("142",), pii=True)
    in_county = frame.filter(pl.col("county_code") == county).with_columns(
        member=(pl.col("us_school_months") >= 12).fill_null(False))
    mine = in_county.filter(pl.col("member"))
    found = find_students(snap, scope=scope, limit=100_000)
    assert _found(found) == _latest(mine)
    # Someone who joined the group: only their years in it come back.
    mixed = (in_county.group_by("ssid").agg(pl.col("member").n_unique().alias("n"))
             .filter(pl.col("n") > 1).sort("ssid"))
    assert mixed.height
    ssid = mixed.item(0, "ssid")
    history = read_student(snap, ssid, scope=scope)
    assert sorted(history.get_column("school_year")) == sorted(
        mine.filter(pl.col("ssid") == ssid).get_column("school_year"))
    assert history.height < in_county.filter(pl.col("ssid") == ssid).height
    # Someone never in the group is never found.
    never = (in_county.group_by("ssid").agg(pl.col("member").any())
             .filter(~pl.col("member")).sort("ssid").item(0, "ssid"))
    assert find_students(snap, scope=scope, text=never).height == 0
    assert read_student(snap, never, scope=scope).height == 0


def test_score_history_matches_the_parquet_files(snap: Snapshot, scores: pl.DataFrame,
                                                 mover: str) -> None:
    history = score_history(read_student(snap, mover, scope=Scope.state(pii=True)))
    expected = scores.filter(pl.col("ssid") == mover).sort("school_year", "record_type")
    shown_columns = SCORE_COLUMNS[1:-3]  # no SSID, no codes: the history shows their status
    assert_frame_equal(history.select(shown_columns), expected.select(shown_columns))
    assert history.get_column("score_status").to_list() == [
        _status(r) for r in expected.iter_rows(named=True)]
    # Each year's band: the score sits inside it and its level is the level the file gives.
    for row in history.filter(pl.col("overall_scale_score").is_not_null()).iter_rows(named=True):
        cuts = [row["level_2_from"], row["level_3_from"], row["level_4_from"]]
        assert row["min_scale_score"] <= row["overall_scale_score"] <= row["max_scale_score"]
        assert row["overall_level"] == 1 + sum(
            row["overall_scale_score"] >= c for c in cuts if c is not None)


def test_level_bands_start_each_level_at_its_first_score() -> None:
    for row in level_bands().iter_rows(named=True):
        grade, summative = row["grade_assessed"], row["record_type"] == "21"
        cuts = [row["level_2_from"], row["level_3_from"]] + (
            [row["level_4_from"]] if summative else [])
        for level, first in enumerate(cuts, start=2):
            if summative:
                assert domain.summative_level("overall", grade, first) == level
                assert domain.summative_level("overall", grade, first - 1) == level - 1
            else:
                assert domain.alternate_level(grade, first) == level
                assert domain.alternate_level(grade, first - 1) == level - 1
        assert row["level_4_from"] is None or summative


def test_read_student_unpacks_each_domains_testing_fields(snap: Snapshot,
                                                          tiny_files: dict[str, list[Path]]
                                                          ) -> None:
    # Read the TOMS text files themselves (not the store) for one year's tested students.
    year = "2024-25"
    raw = pl.concat([pl.read_csv(p, separator="^", infer_schema=False)
                     for p in tiny_files[year]], how="diagonal")
    lay = layout(year)
    header = {c: h for h, c in zip(lay.headers, lay.canonical, strict=True) if c}
    exempt = raw.filter(pl.col(header["ConditionCode"]) == "EXD")
    partial = raw.filter(pl.col(header["Attemptedness"]) == "P")
    untested = raw.filter(pl.col(header["TestedStatus"]) == "N")
    checked = 0
    for rows in (exempt, partial, untested):
        for ssid in rows.get_column(header["SSID"]).head(3):
            theirs = raw.filter(pl.col(header["SSID"]) == ssid)
            history = read_student(snap, ssid, scope=Scope.state(pii=True)).filter(
                pl.col("school_year") == year)
            assert history.height == theirs.height == 1
            for n, d in enumerate(("listening", "speaking", "reading", "writing"), start=1):
                given = {"testing_status": theirs.item(0, header[f"OpportunityTestingStatus{n}"]),
                         "completed_date": theirs.item(0, header[f"TestCompletedDate{n}"]),
                         "test_mode": theirs.item(0, header[f"TestMode{n}"])}
                shown = history.row(0, named=True)
                assert shown[f"{d}_testing_status"] == given["testing_status"]
                assert shown[f"{d}_test_mode"] == given["test_mode"]
                date_shown = shown[f"{d}_completed_date"]
                assert (None if date_shown is None else date_shown.isoformat()) == \
                    given["completed_date"]
                assert shown[f"is_{d}_exempt"] == (theirs.item(0, header[f"DomainEx{n}"]) == "Y"
                                                   if theirs.item(0, header[f"DomainEx{n}"])
                                                   else None)
            checked += 1
    assert checked == 9


def test_read_student_of_2018_19_has_no_domain_testing_fields(snap: Snapshot,
                                                              scores: pl.DataFrame) -> None:
    # The 2018-19 layout has no per-domain testing fields: the columns are there, empty.
    ssid = scores.filter(pl.col("school_year") == "2018-19").item(0, "ssid")
    history = read_student(snap, ssid, scope=Scope.state(pii=True)).filter(
        pl.col("school_year") == "2018-19")
    assert history.height >= 1
    assert history.select(pl.col("listening_testing_status", "writing_completed_date")
                          .is_null().all()).row(0) == (True, True)
