"""AppTest of the Students page (dashboard/app_pages/students.py) through the router.

Every value the page shows for a student is checked against the store's Parquet files read
here with Polars (never through ``queries.students``): the list, scale scores and levels, the
score-status codes and dates, the SSR fields and the score history. Scopes come from
``$ELPAC_SCOPE`` (``dashboard.identity``): no personal-information right, one LEA.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.results.store import Store
from documents.i18n import LANGUAGE_NAMES

if TYPE_CHECKING:
    pass

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGE = "app_pages/students.py"
TESTS = {"21": "Summative ELPAC", "23": "Summative Alternate ELPAC"}
SHORT = {"21": "Summative", "23": "Alternate"}
SSR_LANGUAGES = {"ENG": "English", "SPA": "Spanish", "VIE": "Vietnamese", "FIL": "Filipino",
                 "KOR": "Korean", "CHI": "Chinese (Traditional)"}
DOMAINS = ("listening", "speaking", "reading", "writing")


@pytest.fixture(scope="module")
def records(tiny_store_path: Path) -> pl.DataFrame:
    """Every stored record, read with Polars straight from the Parquet files."""
    return pl.concat([pl.read_parquet(path).with_columns(school_year=pl.lit(year))
                      for year, path in sorted(Store(tiny_store_path).year_files().items())],
                     how="diagonal_relaxed")


def run_app(monkeypatch: pytest.MonkeyPatch, store: Path,
            scope: dict[str, Any] | None = None) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    if scope is None:
        monkeypatch.delenv("ELPAC_SCOPE", raising=False)  # the local default: statewide, PII
    else:
        monkeypatch.setenv("ELPAC_SCOPE", json.dumps(scope))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at: AppTest, first_column: str) -> pd.DataFrame:
    """The one dataframe on the page whose first column is ``first_column``."""
    found = [t.value for t in at.dataframe if t.value.columns[0] == first_column]
    assert len(found) == 1, [list(t.value.columns) for t in at.dataframe]
    return found[0]


def items(at: AppTest, first_item: str) -> dict[str, str]:
    """An item/value table (Score status or Reporting tab) as a dict."""
    frames = [t.value for t in at.table if list(t.value.columns) == ["item", "value"]
              and t.value.iloc[0, 0] == first_item]
    assert len(frames) == 1
    return dict(zip(frames[0]["item"], frames[0]["value"], strict=True))


def search(at: AppTest, text: str) -> AppTest:
    at.radio(key="students_mode").set_value("search")
    at.text_input(key="students_text").input(text)
    return rerun(at)


def number(value: object) -> int | None:
    """A shown number (pandas gives NaN for a missing Int16) as an int or None."""
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[arg-type]


def level_number(text: str) -> int | None:
    """``3 – Moderately Developed`` -> 3; "No score" or "—" -> None."""
    head = text.split(" – ", 1)[0]
    return int(head) if head.isdigit() else None


def status_of(row: dict[str, Any]) -> str:
    """A record's score status, written out from its codes (ELPAC.md §4, SSR messages §7)."""
    if row["condition_code"] == "NT":
        return "Eligible but not tested"
    if row["attemptedness"] == "P":
        return "Incomplete test | No score available"
    if row["include_indicator"] == "Y":
        return {"EXD": "Scored, exempt domain"}.get(row["condition_code"], "Scored")
    return "Not tested yet"


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# -- who picks which student ------------------------------------------------------------------

def _one(records: pl.DataFrame, keep: pl.Expr) -> dict[str, Any]:
    """The first record (by SSID, year) matching ``keep``."""
    return records.filter(keep).sort("ssid", "school_year").row(0, named=True)


STATUS = {"exempt domain": "Scored, exempt domain", "not tested": "Eligible but not tested",
          "partial": "Incomplete test | No score available", "alternate": "Scored",
          "scored with a primary-language SSR": "Scored"}
"""The list's score status of each case's record (ELPAC.md §4, §7)."""
CASES = {
    "exempt domain": pl.col("condition_code") == "EXD",
    "not tested": pl.col("condition_code") == "NT",
    "partial": pl.col("attemptedness") == "P",
    "alternate": (pl.col("record_type") == "23") & (pl.col("include_indicator") == "Y"),
    "scored with a primary-language SSR": (pl.col("include_indicator") == "Y")
    & (pl.col("ssr_languages") == "ENG;SPA") & pl.col("ssr_available_date").is_not_null(),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_student_looked_up_by_ssid_shows_the_stored_values(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path, records: pl.DataFrame,
        case: str) -> None:
    expected = _one(records, CASES[case])
    ssid, year, record_type = expected["ssid"], expected["school_year"], expected["record_type"]
    theirs = records.filter(pl.col("ssid") == ssid)
    at = search(run_app(monkeypatch, tiny_store_path), ssid)

    # The list: one row per test, the latest year of each, with its score.
    listed = table(at, "name")
    latest = theirs.sort("school_year").group_by("record_type").last().sort("record_type")
    assert sorted(zip(listed["ssid"], listed["school_year"], listed["test_short_name"],
                      [number(v) for v in listed["overall_scale_score"]], strict=True)) == sorted(
        (ssid, r["school_year"], SHORT[r["record_type"]], r["overall_scale_score"])
        for r in latest.iter_rows(named=True))
    assert set(listed["name"]) == {f"{expected['last_name']}, {expected['first_name']}"}
    assert sorted(zip(listed["test_short_name"], listed["score_status"], strict=True)) == sorted(
        (SHORT[r["record_type"]], status_of(r)) for r in latest.iter_rows(named=True))

    # One student found: the profile opens; choose the case's record.
    assert at.selectbox(key="students_pick").value == ssid
    label = next(o for o in at.selectbox(key="students_record").options
                 if o.startswith(f"{year} · {TESTS[record_type]}"))
    at.selectbox(key="students_record").select(label)
    at = rerun(at)
    assert at.header[0].value == " ".join(
        n for n in (expected["first_name"], expected["middle_name"], expected["last_name"]) if n)
    assert f"SSID {ssid}" in at.caption[1].value or any(
        f"SSID {ssid}" in c.value for c in at.caption)

    # Scale scores and levels.
    scores = table(at, "measure")
    measures = ["overall"] if record_type == "23" else ["overall", "oral", "written"]
    assert scores["measure"].tolist() == [
        {"overall": "Overall", "oral": "Oral Language", "written": "Written Language"}[m]
        for m in measures]
    assert [number(v) for v in scores["scale_score"]] == [
        expected[f"{m}_scale_score"] for m in measures]
    assert [level_number(v) for v in scores["level"]] == [expected[f"{m}_level"]
                                                          for m in measures]
    assert [number(v) for v in scores["csem"]] == [expected[f"{m}_csem"] for m in measures]

    # Score status: dates and codes as the file gives them.
    status = items(at, "Test")
    assert status["Test"] == TESTS[record_type]
    assert status["School year"] == year
    assert status["Score status"] == STATUS[case] == status_of(expected)
    assert status["Tested status"] == ("Tested" if expected["is_tested"] else "Not tested")
    assert status["Score available in TOMS"] == (iso(expected["score_available_date"])
                                                 or "Not available yet")
    assert status["Test completed"] == (iso(expected["final_test_completed_date"]) or "—")
    code = expected["condition_code"]
    assert status["Condition code"].startswith(f"{code} – " if code else "None: tested")
    attempted = expected["attemptedness"]
    assert status["Attemptedness"].startswith(f"{attempted} – " if attempted else "Not tested")
    assert status["Include indicator"].startswith(f"{expected['include_indicator']} – ")
    exempt = [d.title() for d in DOMAINS if expected[f"is_{d}_exempt"]]
    assert status["Domain exemptions"] == (", ".join(exempt) or "None")
    if case == "exempt domain":
        assert "Exempt Domain" in status["Condition code"]
        assert exempt

    # Domains (Summative only): exemption, raw score and level of each.
    if record_type == "21":
        domains = table(at, "domain")
        assert domains["domain"].tolist() == [d.title() for d in DOMAINS]
        assert [bool(v) if v is not None and not pd.isna(v) else None
                for v in domains["is_exempt"]] == [expected[f"is_{d}_exempt"] for d in DOMAINS]
        assert [number(v) for v in domains["raw_score"]] == [
            expected[f"raw_score_{d}"] for d in DOMAINS]
        assert [level_number(v) for v in domains["level"]] == [
            expected[f"{d}_level"] for d in DOMAINS]
    else:
        assert not [t for t in at.dataframe if t.value.columns[0] == "domain"]

    # Reporting: SSR languages and release date.
    reporting = items(at, "Student Score Report")
    languages = [SSR_LANGUAGES[c] for c in (expected["ssr_languages"] or "").split(";") if c]
    assert reporting["SSR languages"] == (" and ".join(languages) or "—")
    if expected["ssr_available_date"]:
        assert reporting["SSR available"] == iso(expected["ssr_available_date"])
    assert reporting["Student Score Report"].startswith(
        "Created" if expected["is_ssr_eligible"] else "None")
    # The SSRs themselves: a PDF and a web page per language, when the record has one.
    downloads = [b.proto.label for b in at.get("download_button")]
    if expected["is_ssr_eligible"] and expected["overall_scale_score"] is not None:
        offered = [SSR_LANGUAGES[c] for c in (expected["ssr_languages"] or "ENG").split(";")]
        assert [d for d in downloads if d.endswith(": PDF")] == [
            f"{LANGUAGE_NAMES[code]}: PDF" for code in (expected["ssr_languages"] or
                                                        "ENG").split(";")]
        assert len(offered) == len([d for d in downloads if d.endswith(": web page")])
    else:
        assert not [d for d in downloads if d.endswith(": PDF")]
        assert any("No Student Score Report for this record" in c.value for c in at.caption)

    # Score history: every stored year of every test, with its scores.
    history = table(at, "school_year")
    want = theirs.sort("school_year", "record_type")
    assert history["school_year"].tolist() == want["school_year"].to_list()
    assert history["test_name"].tolist() == [TESTS[t] for t in want["record_type"]]
    for measure in ("overall", "oral", "written"):
        assert [number(v) for v in history[f"{measure}_scale_score"]] == \
            want[f"{measure}_scale_score"].to_list()
        assert [None if v is None or pd.isna(v) else level_number(v)
                for v in history[f"{measure}_level_name"]] == want[f"{measure}_level"].to_list()

    # The chart plots the same scores as the table.
    charts = at.get("plotly_chart")
    scored = want.filter(pl.col("overall_scale_score").is_not_null())
    assert len(charts) == scored.get_column("record_type").n_unique()
    for chart in charts:
        spec = json.loads(chart.proto.spec)
        line = next(t for t in spec["data"] if t.get("name") == "Overall scale score")
        plotted = {(x, y) for x, y in zip(line["x"], line["y"], strict=True) if y is not None}
        assert plotted <= set(scored.select("school_year", "overall_scale_score").iter_rows())
    assert sum(len([y for y in next(t for t in json.loads(c.proto.spec)["data"]
                                    if t.get("name") == "Overall scale score")["y"]
                    if y is not None]) for c in charts) == scored.height


def test_a_list_by_school_and_grade_matches_the_parquet_files(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path, records: pl.DataFrame) -> None:
    year = "2024-25"
    this_year = records.filter(pl.col("school_year") == year)
    lea, school = (this_year.drop_nulls("reporting_school_code")
                   .group_by("reporting_lea_code", "reporting_school_code").len()
                   .sort("len", "reporting_school_code", descending=[True, False]).row(0)[:2])
    grade = (this_year.filter(pl.col("reporting_school_code") == school)
             .group_by("grade_assessed").len()
             .sort("len", "grade_assessed", descending=[True, False]).item(0, 0))
    at = run_app(monkeypatch, tiny_store_path)
    at.selectbox(key="ctx_year").select(year)
    at.selectbox(key="ctx_lea").select(lea)
    at.radio(key="students_mode").set_value("list")
    at = rerun(at)
    at.selectbox(key="students_school").select(school)
    at.selectbox(key="students_grade").select(grade)
    at = rerun(at)

    listed = table(at, "name")
    want = this_year.filter((pl.col("reporting_school_code") == school)
                            & (pl.col("grade_assessed") == grade)).sort(
        "last_name", "first_name", "ssid", "record_type")
    assert want.height > 1
    assert sorted(zip(listed["ssid"], listed["test_short_name"],
                      [number(v) for v in listed["overall_scale_score"]],
                      [level_number(v) if isinstance(v, str) else None
                       for v in listed["overall_level_name"]], strict=True)) == sorted(
        zip(want["ssid"], [SHORT[t] for t in want["record_type"]],
            want["overall_scale_score"], want["overall_level"], strict=True))
    assert set(listed["school_year"]) == {year}
    assert set(listed["grade_name"]) == {f"Grade {int(grade)}" if grade != "KN"
                                         else "Kindergarten"}
    # Sorted by name, as TOMS lists students.
    assert listed["name"].tolist() == [f"{r['last_name']}, {r['first_name']}"
                                       for r in want.unique("ssid", keep="first",
                                                            maintain_order=True)
                                       .iter_rows(named=True)]

    # Nobody is opened until one is picked; picking one opens their profile.
    assert not at.header
    pick = want.row(0, named=True)
    at.selectbox(key="students_pick").select(pick["ssid"])
    at = rerun(at)
    assert at.header[0].value.endswith(pick["last_name"])
    scores = table(at, "measure")
    assert number(scores["scale_score"].iloc[0]) == pick["overall_scale_score"]


def test_a_school_chosen_before_another_lea_is_forgotten(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path, records: pl.DataFrame) -> None:
    # Two LEAs with a school of the same name (common: "Franklin Elementary"), so a choice
    # kept by its label would silently become the other LEA's school.
    year = records["school_year"].max()
    this_year = records.filter(pl.col("school_year") == year)
    schools = (this_year.drop_nulls("reporting_school_code")
               .select("reporting_lea_code", "reporting_school_code", "tested_school_name")
               .unique())
    shared = (schools.group_by("tested_school_name")
              .agg(pl.col("reporting_lea_code").unique().sort())
              .filter(pl.col("reporting_lea_code").list.len() > 1)
              .sort("tested_school_name").row(0, named=True))
    first, second = shared["reporting_lea_code"][:2]
    code = schools.filter((pl.col("reporting_lea_code") == first)
                          & (pl.col("tested_school_name") == shared["tested_school_name"])
                          ).item(0, "reporting_school_code")
    at = run_app(monkeypatch, tiny_store_path)
    at.selectbox(key="ctx_lea").select(first)
    at.radio(key="students_mode").set_value("list")
    at = rerun(at)
    at.selectbox(key="students_school").select(code)
    at = rerun(at)
    assert set(table(at, "name")["tested_school_name"]) == {shared["tested_school_name"]}
    at.selectbox(key="ctx_lea").select(second)
    at = rerun(at)

    assert at.selectbox(key="students_school").value is None
    listed = table(at, "name")
    want = this_year.filter(pl.col("reporting_lea_code") == second)
    assert sorted(zip(listed["ssid"], listed["test_short_name"], strict=True)) == sorted(
        zip(want["ssid"], [SHORT[t] for t in want["record_type"]], strict=True))


def test_a_list_by_student_group_matches_the_parquet_files(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path, records: pl.DataFrame) -> None:
    year = "2023-24"
    lea = (records.filter(pl.col("school_year") == year).group_by("reporting_lea_code").len()
           .sort("len", descending=True).item(0, 0))
    at = run_app(monkeypatch, tiny_store_path)
    at.selectbox(key="ctx_year").select(year)
    at.selectbox(key="ctx_lea").select(lea)
    at.radio(key="students_mode").set_value("list")
    at = rerun(at)
    at.selectbox(key="students_group").select("128")  # Reported disabilities (ELPAC.md §5.6)
    at = rerun(at)
    listed = table(at, "name")
    want = records.filter((pl.col("school_year") == year)
                          & (pl.col("reporting_lea_code") == lea)
                          & pl.col("is_special_education").fill_null(False))
    assert want.height
    assert sorted(zip(listed["ssid"], listed["test_short_name"], strict=True)) == sorted(
        zip(want["ssid"], [SHORT[t] for t in want["record_type"]], strict=True))


def test_a_long_list_shows_the_first_500_and_says_so(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path, records: pl.DataFrame) -> None:
    at = run_app(monkeypatch, tiny_store_path)  # California, newest year
    at.radio(key="students_mode").set_value("list")
    at = rerun(at)
    newest = records.filter(pl.col("school_year") == records["school_year"].max())
    assert newest.height > 500
    listed = table(at, "name")
    assert len(listed) == 500
    first = newest.sort("last_name", "first_name", "ssid").head(500)
    assert listed["ssid"].tolist()[:50] == first["ssid"].to_list()[:50]
    assert any("The first 500 students" in c.value for c in at.caption)


def test_a_name_search_lists_students_and_opens_none_until_one_is_picked(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path, records: pl.DataFrame) -> None:
    at = search(run_app(monkeypatch, tiny_store_path), "ro")
    listed = table(at, "name")
    named = records.filter(pl.col("last_name").str.to_lowercase().str.starts_with("ro")
                           | pl.col("first_name").str.to_lowercase().str.starts_with("ro"))
    assert set(listed["ssid"]) == set(named["ssid"])
    assert len(set(listed["ssid"])) > 1
    assert at.selectbox(key="students_pick").value is None
    assert not at.header
    assert not at.get("plotly_chart")


# -- access -----------------------------------------------------------------------------------

def test_without_the_personal_information_right_no_student_data_is_shown(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path) -> None:
    # The Students page is not in an aggregate-only account's menu at all.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        run_app(monkeypatch, tiny_store_path, {"statewide": True, "pii": False})


def test_an_ssid_outside_the_lea_scope_is_not_found(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path, records: pl.DataFrame) -> None:
    lea = records.group_by("reporting_lea_code").len().sort("len", descending=True).item(0, 0)
    theirs = records.filter(pl.col("reporting_lea_code") == lea).get_column("ssid").unique()
    outsider = records.filter(~pl.col("ssid").is_in(theirs.implode())).sort("ssid").row(
        0, named=True)
    at = run_app(monkeypatch, tiny_store_path, {"leas": [lea], "pii": True})
    assert at.selectbox(key="ctx_lea").options == [lea] or at.selectbox(
        key="ctx_lea").value == lea

    # By SSID and by the full last name: nobody.
    for text in (outsider["ssid"], outsider["last_name"]):
        at = search(at, text)
        found = [t for t in at.dataframe if t.value.columns[0] == "name"]
        if text == outsider["ssid"]:
            assert not found
            assert len(at.info) == 1
            assert at.info[0].value.startswith("No student found")
        else:
            assert not found or outsider["ssid"] not in set(found[0].value["ssid"])
        assert not at.header

    # Someone of the LEA is found, with only the LEA's years.
    insider = records.filter(pl.col("reporting_lea_code") == lea).sort("ssid").item(0, "ssid")
    at = search(at, insider)
    history = table(at, "school_year")
    assert history["school_year"].tolist() == records.filter(
        (pl.col("ssid") == insider) & (pl.col("reporting_lea_code") == lea)).sort(
        "school_year", "record_type")["school_year"].to_list()


def test_the_ssid_stays_out_of_the_url(monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path,
                                       records: pl.DataFrame) -> None:
    ssid = records.sort("ssid").item(0, "ssid")
    at = search(run_app(monkeypatch, tiny_store_path), ssid)
    assert at.header  # the profile is open
    assert ssid not in json.dumps(dict(at.query_params))
    assert not any("students" in k for k in at.query_params)
