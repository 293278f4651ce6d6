"""Finding students and reading one student's records: personal data, only inside the scope.

Expected results are recomputed here from the store's Parquet files, with the scope read
independently: a record is in scope if its county, reporting LEA or reporting school is.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from data.store import Store
from queries.reports import ScopeError
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.students import find_students, read_student

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
                             "reporting_school_code", "tested_school_name", "overall_level"]


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
    nps = records.filter((pl.col("reporting_lea_code") == lea)
                         & pl.col("reporting_school_code").is_null())
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
