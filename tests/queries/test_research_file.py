"""The CDE research-file export against a computation done here from the year's records.

The expected file is rebuilt in this module straight from the year's Parquet records: which
organisations (ELPAC.md §3.3, §5.4), which students are in each research student group (from
the record columns, §5.6; nothing from ``data.student_groups``), the counts, means and percents
(§4), suppression (§5.1), codes and TypeIDs (§5.3-5.5). Then every cell is compared.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from data.results.store import Store
from data.student_groups import GROUPS
from elpac.cli import app
from queries.research import research_rows, write_research_file
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot

YEAR = "2024-25"
GRADE_ORDER = ("KN", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
               "13")
RECORD_TYPE = {"summative": "21", "alternate": "23"}

# -- the layout, from ELPAC.md §5.3 -----------------------------------------------------------

KEY_HEADERS = ["CountyCode", "DistrictCode", "SchoolCode", "TypeID", "Filler", "TestYear",
               "StudentGroupID", "AssessmentType", "Grade"]
COUNT_HEADERS = ["TotalEnrolled", "TotalTested", "TotalTestedWithScores"]
SCALE_BLOCKS = (("Overall", "overall"), ("OralLang", "oral"), ("WritLang", "written"))
DOMAIN_BLOCKS = (("Listening", "listening"), ("Speaking", "speaking"), ("Reading", "reading"),
                 ("Writing", "writing"))
DOMAIN_STEMS = (("Begin", 1), ("Moderate", 2), ("Developed", 3))


def scale_headers(stem: str, levels: int) -> list[str]:
    return ([f"{stem}MeanSclScr"] + [f"{stem}PerfLvl{k}Pcnt" for k in range(1, levels + 1)]
            + [f"{stem}PerfLvl{k}Count" for k in range(1, levels + 1)] + [f"{stem}Total"])


# The domain totals close each domain block (ELPAC.md §5.3: Begin, Moderate, Developed, Total).
SUMMATIVE_HEADERS = (KEY_HEADERS + COUNT_HEADERS
                     + [h for stem, _ in SCALE_BLOCKS for h in scale_headers(stem, 4)]
                     + [h for stem, _ in DOMAIN_BLOCKS
                        for h in [*(x for name, _ in DOMAIN_STEMS
                                    for x in (f"{stem}Domain{name}Pcnt",
                                              f"{stem}Domain{name}Count")),
                                  f"{stem}DomainTotal"]])
ALTERNATE_HEADERS = KEY_HEADERS + COUNT_HEADERS + scale_headers("Overall", 3)


def test_headers_follow_elpac_md_5_3(tiny_store_path: Path) -> None:
    snap = Snapshot(tiny_store_path)
    assert len(SUMMATIVE_HEADERS) == 70  # "9 keys + 3 counts + 3 x (1 + 8 + 1) + 4 x 7"
    for test, headers in (("summative", SUMMATIVE_HEADERS), ("alternate", ALTERNATE_HEADERS)):
        rows = research_rows(snap, year=YEAR, test=test, scope=Scope.state(), suppress=True)
        # The explorer's data status follows the layout (write_research_file leaves it out).
        assert rows.columns == [*headers, "data_status"], test


# -- student groups, from the record columns (ELPAC.md §5.6) -----------------------------------

def _flag(column: str, value: bool) -> pl.Expr:
    return pl.col(column) == value


_ETHNICITY = {"074": "600", "075": "100", "076": "200", "077": "400", "078": "500",
              "079": "300", "080": "700", "144": "800"}
# 200-207 (disadvantaged) and 220-227 (not): Black, American Indian, Asian, Filipino,
# Hispanic, Pacific Islander, White, Two or more.
_ETH_ECON_ORDER = ("600", "100", "200", "400", "500", "300", "700", "800")
_PARENT = {"094": "10", "093": "11", "092": "12", "091": "13", "090": "14", "121": "15"}


def membership(records: pl.DataFrame, school_year: str) -> dict[str, pl.Series]:
    """Research StudentGroupID -> which records belong (True) to it."""
    start = int(school_year[:4])
    years: list[int | None] = []
    months: list[int | None] = []
    for el_entry, us_entry, tested_on in records.select(
            "el_entry_date", "us_school_entry_date", "final_test_completed_date").iter_rows():
        # Whole years in program at July 1 of the school year; whole months in US schools up
        # to the test (February 1 for non-testers). [unconfirmed] readings of UND-ALT.
        years.append(None if el_entry is None else
                     max(0, int((date(start, 7, 1) - el_entry).days // 365.25)))
        on = tested_on or date(start + 1, 2, 1)
        if us_entry is None:
            months.append(None)
        else:
            m = (on.year - us_entry.year) * 12 + on.month - us_entry.month
            months.append(max(0, m - (on.day < us_entry.day)))
    frame = records.with_columns(pl.Series("yip", years, pl.Int64),
                                 pl.Series("months", months, pl.Int64))
    econ = pl.col("is_economically_disadvantaged")
    exprs: dict[str, pl.Expr] = {
        "001": pl.lit(True), "160": pl.lit(True),
        "003": pl.col("gender") == "M", "004": pl.col("gender") == "F",
        **{gid: pl.col("ethnicity") == code for gid, code in _ETHNICITY.items()},
        "031": econ, "111": ~econ,
        "128": _flag("is_special_education", True), "099": _flag("is_special_education", False),
        "028": _flag("is_migrant", True), "029": _flag("is_migrant", False),
        "052": _flag("is_homeless", True), "053": _flag("is_homeless", False),
        "240": _flag("is_foster", True), "241": _flag("is_foster", False),
        "050": _flag("is_military", True), "051": _flag("is_military", False),
        **{f"{200 + i}": (pl.col("ethnicity") == code) & econ
           for i, code in enumerate(_ETH_ECON_ORDER)},
        **{f"{220 + i}": (pl.col("ethnicity") == code) & ~econ
           for i, code in enumerate(_ETH_ECON_ORDER)},
        **{gid: pl.col("parent_education") == code for gid, code in _PARENT.items()},
        "120": pl.col("months") < 12, "142": pl.col("months") >= 12,
        "248": pl.col("yip") == 0, "242": pl.col("yip") == 1, "243": pl.col("yip") == 2,
        "244": pl.col("yip") == 3, "245": pl.col("yip") == 4, "246": pl.col("yip") == 5,
        "247": pl.col("yip") >= 6,
        "250": pl.col("ltel_status") == "1", "251": pl.col("ltel_status") == "2",
    }
    return {gid: frame.select(e.fill_null(False)).to_series() for gid, e in exprs.items()}


def test_every_numeric_group_is_computed_here(tiny_store_path: Path) -> None:
    records = pl.read_parquet(Store(tiny_store_path).year_files()[YEAR])
    assert set(membership(records.head(3), YEAR)) == {g.id for g in GROUPS if g.id.isdigit()}


# -- the expected file -------------------------------------------------------------------------

Key = tuple[str, str, str, str, str, str]  # county, district, school, TypeID, group, grade


def _sums(test: str) -> list[pl.Expr]:
    """Per cell: counts, and per measure the number with a score, its sum and level counts."""
    scored = pl.col("include_indicator") == "Y"
    out = [pl.len().alias("TotalEnrolled"),
           pl.col("is_tested").fill_null(False).sum().alias("TotalTested"),
           scored.sum().alias("TotalTestedWithScores")]
    blocks = SCALE_BLOCKS if test == "summative" else SCALE_BLOCKS[:1]
    levels = 4 if test == "summative" else 3
    for stem, m in blocks:
        score = pl.when(scored).then(pl.col(f"{m}_scale_score").cast(pl.Int64))
        level = pl.when(scored & score.is_not_null()).then(pl.col(f"{m}_level"))
        out += [score.count().alias(f"{stem}Total"), score.sum().alias(f"{stem}:sum"),
                *[(level == k).sum().alias(f"{stem}PerfLvl{k}Count")
                  for k in range(1, levels + 1)]]
    if test == "summative":
        for stem, d in DOMAIN_BLOCKS:
            level = pl.when(scored).then(pl.col(f"{d}_level"))
            out += [level.count().alias(f"{stem}DomainTotal"),
                    *[(level == k).sum().alias(f"{stem}Domain{name}Count")
                      for name, k in DOMAIN_STEMS]]
    return out


def _cells(row: dict[str, object], test: str) -> dict[str, object]:
    """Exact published values of one cell from its sums (no rounding)."""
    def share(count: object, n: object) -> Fraction | None:
        return Fraction(100 * int(count), int(n)) if n else None  # type: ignore[call-overload]

    out: dict[str, object] = {h: row[h] for h in COUNT_HEADERS}
    blocks = SCALE_BLOCKS if test == "summative" else SCALE_BLOCKS[:1]
    levels = 4 if test == "summative" else 3
    for stem, _ in blocks:
        n = row[f"{stem}Total"]
        out[f"{stem}MeanSclScr"] = Fraction(int(row[f"{stem}:sum"]), int(n)) if n else None  # type: ignore[call-overload]
        for k in range(1, levels + 1):
            out[f"{stem}PerfLvl{k}Pcnt"] = share(row[f"{stem}PerfLvl{k}Count"], n)
            out[f"{stem}PerfLvl{k}Count"] = row[f"{stem}PerfLvl{k}Count"]
        out[f"{stem}Total"] = n
    if test == "summative":
        for stem, _ in DOMAIN_BLOCKS:
            n = row[f"{stem}DomainTotal"]
            for name, _k in DOMAIN_STEMS:
                out[f"{stem}Domain{name}Pcnt"] = share(row[f"{stem}Domain{name}Count"], n)
                out[f"{stem}Domain{name}Count"] = row[f"{stem}Domain{name}Count"]
            out[f"{stem}DomainTotal"] = n
    return out


def expected_file(records: pl.DataFrame, *, year: str, test: str
                  ) -> dict[Key, dict[str, object]]:
    """Every research-file row of ``records`` (one year), keyed; values exact.

    Transitional-kindergarten students are left out from 2024-25 (ELPAC.md §1.1, §5.5:
    kindergarten results exclude TK; the export leaves them out of every row).
    """
    # ELPAC.md §5.4: a locally funded charter school's rows are TypeID 10 (01 for the others);
    # the school's type comes from any of the year's records, of either test.
    charters = set(records.filter(pl.col("tested_charter_indicator") == "LF")
                   .get_column("tested_school_code").to_list())
    records = records.filter(pl.col("record_type") == RECORD_TYPE[test])
    if year >= "2024-25":
        records = records.filter(~pl.col("is_tk").fill_null(False))
    nps = pl.col("tested_is_nps").fill_null(False)
    # ELPAC.md §3.3 rule 6: NPS students count under their special-education district (if
    # set) and in no school.
    lea = (pl.when(nps & pl.col("sped_district_code").is_not_null())
           .then(pl.col("sped_district_code") + "0000000").otherwise(pl.col("tested_lea_code")))
    records = records.with_columns(
        lea.alias("lea"), pl.when(~nps).then(pl.col("tested_school_code")).alias("school"))
    assert records.get_column("lea").to_list() == records.get_column(
        "reporting_lea_code").to_list()
    groups = membership(records, year)
    # One row per record and research group it belongs to.
    long = pl.concat([records.filter(member).with_columns(pl.lit(gid).alias("gid"))
                      for gid, member in groups.items()])
    long = long.with_columns(
        pl.lit("00").alias("state"), pl.col("lea").str.slice(0, 2).alias("county"))
    levels = {"04": ["state"], "03": ["county"], "lea": ["lea"], "01": ["school"]}
    sums = _sums(test)
    out: dict[Key, dict[str, object]] = {}
    for type_id, by in levels.items():
        frame = long.drop_nulls(by)
        per_grade = frame.group_by([*by, "gid", "grade_assessed"]).agg(sums)
        all_grades = frame.group_by([*by, "gid"]).agg(sums).with_columns(
            pl.lit("13").alias("grade_assessed"))
        for row in pl.concat([per_grade, all_grades], how="diagonal").iter_rows(named=True):
            code = row[by[0]]
            if type_id == "04":
                org = ("00", "00000", "0000000", "04")
            elif type_id == "03":
                org = (code, "00000", "0000000", "03")
            elif type_id == "lea":
                org = (code[:2], code[2:7], code[7:], "02" if code[7:] == "0000000" else "09")
            else:
                org = (code[:2], code[2:7], code[7:], "10" if code in charters else "01")
            out[(*org, row["gid"], row["grade_assessed"])] = _cells(row, test)
    return out


def _is_score_cell(header: str) -> bool:
    return header not in KEY_HEADERS and header not in COUNT_HEADERS


def _decimals(header: str) -> int | None:
    if header.endswith("MeanSclScr"):
        return 1
    if header.endswith("Pcnt"):
        return 2
    return None


def compare(got: pl.DataFrame, expected: dict[Key, dict[str, object]], *, suppress: bool,
            year: str) -> int:
    """Compare every cell; return the number of cells checked."""
    keys = ["CountyCode", "DistrictCode", "SchoolCode", "TypeID", "StudentGroupID", "Grade"]
    rows = {tuple(r[k] for k in keys): r for r in got.iter_rows(named=True)}
    assert len(rows) == got.height, "a key appears twice"
    missing = sorted(set(expected) - set(rows))[:5]
    extra = sorted(set(rows) - set(expected))[:5]
    assert not missing, f"rows missing from the export: {missing}"
    assert not extra, f"rows the records do not support (empty groups?): {extra}"
    checked = 0
    for key, cells in expected.items():
        row = rows[key]
        assert row["TestYear"] == str(int(year[:4]) + 1)
        # ELPAC.md §5: fewer than 11 students tested with scores, none included.
        hidden = suppress and int(cells["TotalTestedWithScores"]) < 11  # type: ignore[arg-type]
        for header, value in cells.items():
            text = row[header]
            where = (key, header, text, value)
            checked += 1
            if hidden and _is_score_cell(header):
                assert text == "*", where
            elif value is None:
                assert text == "", where
            elif (decimals := _decimals(header)) is not None:
                # Format exact; value within half a unit of the last decimal place.
                assert re.fullmatch(rf"\d+\.\d{{{decimals}}}", text), where
                error = abs(Fraction(text) - value)  # type: ignore[operator]
                assert error <= Fraction(1, 2 * 10**decimals), where
            else:
                assert text == str(value), where
    return checked


@pytest.fixture(scope="module")
def tiny(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


@pytest.fixture(scope="module")
def year_records(tiny_store_path: Path) -> pl.DataFrame:
    return pl.read_parquet(Store(tiny_store_path).year_files()[YEAR])


@pytest.mark.parametrize("test", ["summative", "alternate"])
@pytest.mark.parametrize("suppress", [True, False])
def test_every_cell_matches_the_records(tiny: Snapshot, year_records: pl.DataFrame, test: str,
                                        suppress: bool) -> None:
    got = research_rows(tiny, year=YEAR, test=test, scope=Scope.state(), suppress=suppress)
    expected = expected_file(year_records, year=YEAR, test=test)
    checked = compare(got, expected, suppress=suppress, year=YEAR)
    assert checked > (100_000 if test == "summative" else 1_000)
    type_ids = set(got.get_column("TypeID"))
    assert {"04", "03", "02", "01"} <= type_ids
    if test == "summative":  # the tiny store has locally funded charters (data.synth.places)
        assert "10" in type_ids
    if suppress:
        assert (got.get_column("OverallMeanSclScr") == "*").any()
        assert (got.get_column("OverallMeanSclScr") != "*").any()


def test_kindergarten_rows_leave_out_tk(tiny: Snapshot, year_records: pl.DataFrame) -> None:
    # ELPAC.md §5.5: "Kindergarten excludes TK from 2024-25" (UND-IA).
    kindergarten = year_records.filter((pl.col("record_type") == "21")
                                       & (pl.col("grade_assessed") == "KN"))
    assert kindergarten.get_column("is_tk").any()
    got = research_rows(tiny, year=YEAR, scope=Scope.state(), suppress=True).filter(
        (pl.col("TypeID") == "04") & (pl.col("StudentGroupID") == "001")
        & (pl.col("Grade") == "KN"))
    assert got.get_column("TotalEnrolled").to_list() == [
        str(kindergarten.filter(~pl.col("is_tk")).height)]


def test_one_lea_is_its_rows_of_the_full_file(tiny: Snapshot) -> None:
    full = research_rows(tiny, year=YEAR, scope=Scope.state(), suppress=True)
    lea = full.filter(pl.col("TypeID") == "02").row(0, named=True)
    code = lea["CountyCode"] + lea["DistrictCode"] + lea["SchoolCode"]
    mine = (pl.col("CountyCode") == lea["CountyCode"]) & (
        pl.col("DistrictCode") == lea["DistrictCode"]) & pl.col("TypeID").is_in(["02", "01", "10"])
    for scope in (Scope.state(), Scope.lea(code)):
        one = research_rows(tiny, year=YEAR, scope=scope, lea=code, suppress=True)
        assert one.height > 0
        assert one.rows() == full.filter(mine).rows()


def test_a_school_is_its_rows_of_the_full_file(tiny: Snapshot, tiny_store_path: Path,
                                               tmp_path: Path) -> None:
    # Issue 12, item 7: a site administrator's research file was refused (it needed an LEA);
    # now it holds their school's rows, the same as the full file's, and nothing else.
    full = research_rows(tiny, year=YEAR, scope=Scope.state(), suppress=True)
    school = full.filter(pl.col("TypeID") == "01").row(0, named=True)
    code = school["CountyCode"] + school["DistrictCode"] + school["SchoolCode"]
    mine = (pl.col("SchoolCode") == school["SchoolCode"]) & (
        pl.col("DistrictCode") == school["DistrictCode"])
    one = research_rows(tiny, year=YEAR, scope=Scope.school(code), school=code, suppress=True)
    assert one.height > 0
    assert one.rows() == full.filter(mine).rows()
    with pytest.raises(ScopeError):
        research_rows(tiny, year=YEAR, scope=Scope.school(code), lea=code[:7] + "0000000",
                      suppress=True)
    other = full.filter((pl.col("TypeID") == "01") & ~mine).row(0, named=True)
    with pytest.raises(ScopeError):
        research_rows(tiny, year=YEAR, scope=Scope.school(code), suppress=True,
                      school=other["CountyCode"] + other["DistrictCode"] + other["SchoolCode"])
    out = tmp_path / "school.txt"
    result = CliRunner().invoke(app, ["export", "research-file", "-o", str(out), "--year", YEAR,
                                      "--school", code, "--store", str(tiny_store_path)])
    assert result.exit_code == 0, result.output
    assert len(out.read_bytes().decode("utf-8").split("\r\n")) == one.height + 2


def test_rows_are_in_file_order(tiny: Snapshot) -> None:
    got = research_rows(tiny, year=YEAR, scope=Scope.state(), suppress=True)
    rank = {"04": 0, "03": 1, "02": 2, "09": 2, "01": 3, "10": 3}
    keys = [(rank[t], c, d, s, g, GRADE_ORDER.index(gr)) for c, d, s, t, g, gr in got.select(
        "CountyCode", "DistrictCode", "SchoolCode", "TypeID", "StudentGroupID", "Grade"
    ).iter_rows()]
    assert keys == sorted(keys)


# -- a hand-built year: TypeID 09, NPS, movers, suppression, rounding ---------------------------

D = "01611920000000"          # a district
D1 = "01611920111111"         # its school
D_NPS = "01611920199999"      # a nonpublic school in it
CHARTER = "01611920133333"    # a direct-funded charter school: its own LEA (TypeID 09)
E = "19647330000000"          # another district, the NPS student's district of accountability
E1 = "19647330144444"


def _student(ssid: int, lea: str, school: str, score: int, **fields: object
             ) -> dict[str, object]:
    return {"SSID": ssid, "FinalTestedDistrictCode": lea, "FinalTestedSchoolCode": school,
            "GradeAssessed": "05", "OralLanguageScaleScore": score,
            "WrittenLanguageScaleScore": score, **fields}


@pytest.fixture(scope="module")
def hand_built(toms) -> Snapshot:
    records = [_student(4000000000 + i, D, D1, 1530) for i in range(31)]
    records.append(_student(4000000031, D, D1, 1442))
    records += [_student(4000000100 + i, D, CHARTER, 1520 + i,
                         FinalTestedCharterSchoolIndicator="DF", FinalTestedCharterCode="1234")
                for i in range(3)]
    records.append(_student(4000000200, D, D_NPS, 1500, FinalTestedSchoolNPSFlag="Y",
                            SPEDAcctDist=E[:7], SpecialEducationforTesting="Yes"))
    records.append(_student(4000000300, E, E1, 1600, CALPADSDistrictCode=D,
                            CALPADSSchoolCode=D1))
    return toms(records)


def test_hand_built_rows_and_type_ids(hand_built: Snapshot) -> None:
    got = research_rows(hand_built, year=YEAR, scope=Scope.state(), suppress=True).filter(
        (pl.col("StudentGroupID") == "001") & (pl.col("Grade") == "13"))
    # State: 31 x 1530 + 1442 + 1520 + 1521 + 1522 + 1500 + 1600 = 56535 over 37 students;
    # county 01: 53435 over 35. The NPS student (1500) is in E's rows, in no school; the
    # mover (1600) in E and E1 where he tested; the charter is an LEA (09) and a school (01).
    assert got.select("CountyCode", "DistrictCode", "SchoolCode", "TypeID", "TotalEnrolled",
                      "TotalTestedWithScores", "OverallTotal").rows() == [
        ("00", "00000", "0000000", "04", "37", "37", "37"),
        ("01", "00000", "0000000", "03", "35", "35", "35"),
        ("19", "00000", "0000000", "03", "2", "2", "*"),
        ("01", "61192", "0000000", "02", "32", "32", "32"),
        ("01", "61192", "0133333", "09", "3", "3", "*"),
        ("19", "64733", "0000000", "02", "2", "2", "*"),
        ("01", "61192", "0111111", "01", "32", "32", "32"),
        ("01", "61192", "0133333", "01", "3", "3", "*"),
        ("19", "64733", "0144444", "01", "1", "1", "*")]
    # D and D1 (mean 1527.25) are left to test_rounding_is_half_up.
    assert got.get_column("OverallMeanSclScr").to_list()[:3] == ["1528.0", "1526.7", "*"]


def test_rounding_is_half_up(hand_built: Snapshot) -> None:
    # School D1: 31 students at 1530 (level 3) and one at 1442 (level 1): the mean is exactly
    # 1527.25 and level 1 holds exactly 3.125 %. Published figures round half up, as the
    # overall scale score itself does (ELPAC.md §1.1), so 1527.3 and 3.13.
    got = research_rows(hand_built, year=YEAR, scope=Scope.state(), suppress=True).filter(
        (pl.col("StudentGroupID") == "001") & (pl.col("Grade") == "13")
        & (pl.col("TypeID") == "01") & (pl.col("SchoolCode") == "0111111"))
    exact_mean = Fraction(31 * 1530 + 1442, 32)
    assert exact_mean == Fraction(152725, 100)
    assert got.select("OverallMeanSclScr", "OverallPerfLvl1Pcnt", "OverallPerfLvl1Count",
                      "OverallPerfLvl3Pcnt").row(0) == (
        str(Decimal("1527.25").quantize(Decimal("0.1"), ROUND_HALF_UP)),
        str(Decimal("3.125").quantize(Decimal("0.01"), ROUND_HALF_UP)), "1",
        str(Decimal("96.875").quantize(Decimal("0.01"), ROUND_HALF_UP)))


def test_hand_built_every_cell(hand_built: Snapshot) -> None:
    records = pl.read_parquet(hand_built.year_files[YEAR])
    for suppress in (True, False):
        got = research_rows(hand_built, year=YEAR, scope=Scope.state(), suppress=suppress)
        compare(got, expected_file(records, year=YEAR, test="summative"), suppress=suppress,
                year=YEAR)


def test_no_student_tested_with_scores_is_suppressed_and_status_per_row(toms) -> None:
    # ELPAC.md §5: a group with no student tested with scores (two non-testers) has fewer
    # than 11: "*" in every score cell, its counts kept. Data status per row: school and LEA
    # rows take their LEA's file (P early, so partial; F final), counties all their LEAs,
    # the state every file.
    p_lea, p_school = "33670330000000", "33670330100001"
    f_lea, f_school = "34673140000000", "34673140100001"
    non_testers = [{"SSID": ssid, "FinalTestedDistrictCode": p_lea, "GradeAssessed": "05",
                    "FinalTestedSchoolCode": p_school, "TestedStatus": "N"}
                   for ssid in (4100000001, 4100000002)]
    early = toms.write(non_testers, created="2025-06-01", tag="Early")
    late = toms.write([_student(4100000003, f_lea, f_school, 1530)], created="2025-09-15",
                      tag="Late")
    snap = toms.load([early, late])
    all_students = (pl.col("StudentGroupID") == "001") & (pl.col("Grade") == "13")
    keys = ["CountyCode", "DistrictCode", "SchoolCode", "TypeID"]
    got = research_rows(snap, year=YEAR, scope=Scope.state(), suppress=True).filter(
        all_students)
    assert got.select(*keys, "TotalEnrolled", "TotalTested", "TotalTestedWithScores",
                      "data_status").rows() == [
        ("00", "00000", "0000000", "04", "3", "1", "1", "partial"),
        ("33", "00000", "0000000", "03", "2", "0", "0", "partial"),
        ("34", "00000", "0000000", "03", "1", "1", "1", "final"),
        ("33", "67033", "0000000", "02", "2", "0", "0", "partial"),
        ("34", "67314", "0000000", "02", "1", "1", "1", "final"),
        ("33", "67033", "0100001", "01", "2", "0", "0", "partial"),
        ("34", "67314", "0100001", "01", "1", "1", "1", "final")]
    score_headers = [h for h in SUMMATIVE_HEADERS if _is_score_cell(h)]
    none_scored = got.filter(pl.col("CountyCode") == "33")
    assert none_scored.height == 3
    assert {c for h in score_headers for c in none_scored.get_column(h)} == {"*"}
    # Unsuppressed: zero counts and no mean or percent (blank), as before.
    shown = research_rows(snap, year=YEAR, scope=Scope.state(), suppress=False).filter(
        all_students & (pl.col("TypeID") == "01") & (pl.col("CountyCode") == "33"))
    assert shown.select("OverallMeanSclScr", "OverallPerfLvl1Pcnt", "OverallPerfLvl1Count",
                        "OverallTotal", "ListeningDomainTotal").row(0) == ("", "", "0", "0",
                                                                           "0")


# -- the command --------------------------------------------------------------------------------

def test_cli_writes_the_same_rows(tiny_store_path: Path, tiny: Snapshot, tmp_path: Path) -> None:
    out = tmp_path / "research.txt"
    result = CliRunner().invoke(app, ["export", "research-file", "-o", str(out), "--year", YEAR,
                                      "--store", str(tiny_store_path)])
    assert result.exit_code == 0, result.output
    rows = research_rows(tiny, year=YEAR, scope=Scope.state(), suppress=True).drop(
        "data_status")
    assert f"wrote {rows.height:,} rows" in result.stdout
    raw = out.read_bytes().decode("utf-8")
    assert raw.endswith("\r\n")
    lines = raw.split("\r\n")[:-1]
    assert lines[0].split("^") == rows.columns
    assert [line.split("^") for line in lines[1:]] == [list(r) for r in rows.iter_rows()]
    # The same as writing the rows directly.
    direct = tmp_path / "direct.txt"
    write_research_file(rows, direct)
    assert direct.read_bytes() == out.read_bytes()


def test_cli_alternate_and_unsuppressed(tiny_store_path: Path, tiny: Snapshot,
                                        tmp_path: Path) -> None:
    out = tmp_path / "alt.txt"
    result = CliRunner().invoke(app, ["export", "research-file", "-o", str(out), "--year", YEAR,
                                      "--test", "alternate", "--no-suppress",
                                      "--store", str(tiny_store_path)])
    assert result.exit_code == 0, result.output
    rows = research_rows(tiny, year=YEAR, test="alternate", scope=Scope.state(),
                         suppress=False).drop("data_status")
    lines = out.read_bytes().decode("utf-8").split("\r\n")[:-1]
    assert [line.split("^") for line in lines[1:]] == [list(r) for r in rows.iter_rows()]
    assert "*" not in {c for line in lines[1:] for c in line.split("^")}


def test_cli_refuses_an_unknown_lea(tiny_store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "none.txt"
    result = CliRunner().invoke(app, ["export", "research-file", "-o", str(out), "--year", YEAR,
                                      "--lea", "99999990000000",
                                      "--store", str(tiny_store_path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ")
    assert "99999990000000" in result.stderr
    assert not out.exists()
