"""Invariants of the synthetic statewide generator, checked on what it loads into a store.

The store is read back with DuckDB directly (not through the code under test) and each rule is
recomputed here from ELPAC.md: cut tables, weights, score bands, tested/include rules.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from data import domain
from data.results.store import Store
from data.synth.generator import DemoSpec
from data.synth.population import Generator

YEARS_WITH_FILES = ["2018-19", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]


@pytest.fixture(scope="module")
def records(tiny_store_path: Path) -> pl.DataFrame:
    files = [str(p) for p in Store(tiny_store_path).year_files().values()]
    return duckdb.sql(
        "SELECT * FROM read_parquet(?, hive_partitioning = true)", params=[files]).pl()


def test_every_year_but_2019_20_has_records(records: pl.DataFrame) -> None:
    assert sorted(records.get_column("school_year").unique().to_list()) == YEARS_WITH_FILES


def test_one_record_per_student_test_and_year(records: pl.DataFrame) -> None:
    assert records.select(pl.struct("school_year", "record_type", "ssid").is_duplicated().any()
                          ).item() is False


def _expected_level(measure: str, grade: str, score: int) -> int:
    # Straight from the ranges of ELPAC.md §1.3, independent of data.domain's lookup code.
    cuts = domain.summative_cuts(measure, grade)
    return 1 + sum(score >= c for c in cuts)


def test_summative_levels_follow_the_cut_tables(records: pl.DataFrame) -> None:
    summative = records.filter(pl.col("record_type") == "21")
    checked = 0
    for measure, score, level in (("overall", "overall_scale_score", "overall_level"),
                                  ("oral", "oral_scale_score", "oral_level"),
                                  ("written", "written_scale_score", "written_level")):
        rows = summative.filter(pl.col(score).is_not_null()).select("grade_assessed", score,
                                                                     level)
        for grade, s, lvl in rows.iter_rows():
            assert lvl == _expected_level(measure, grade, s), (measure, grade, s, lvl)
            assert domain.LOSS <= s <= domain.summative_range(grade).high
            checked += 1
    assert checked > 5000


def test_overall_is_the_weighted_composites_rounded_half_up(records: pl.DataFrame) -> None:
    rows = records.filter((pl.col("record_type") == "21") & pl.col("oral_scale_score")
                          .is_not_null() & pl.col("written_scale_score").is_not_null()
                          & pl.col("overall_scale_score").is_not_null())
    grade = rows.get_column("grade_assessed").to_numpy()
    oral = rows.get_column("oral_scale_score").to_numpy().astype(float)
    written = rows.get_column("written_scale_score").to_numpy().astype(float)
    w = np.where(grade == "KN", 0.7, 0.5)
    expected = np.floor(w * oral + (1 - w) * written + 0.5 + 1e-9).astype(int)
    assert (rows.get_column("overall_scale_score").to_numpy() == expected).all()
    assert (grade == "KN").sum() > 100  # the K weighting is exercised


def test_alternate_records_are_overall_only_inside_the_band(records: pl.DataFrame) -> None:
    alt = records.filter(pl.col("record_type") == "23")
    share = alt.height / records.height
    assert 0.005 < share < 0.04
    scored = alt.filter(pl.col("overall_scale_score").is_not_null())
    for grade, s, lvl in scored.select("grade_assessed", "overall_scale_score",
                                       "overall_level").iter_rows():
        band = domain.alternate_range(grade)
        assert band.low <= s <= band.high
        assert lvl == 1 + (s >= band.low + 43) + (s >= band.low + 59)
    assert alt.select(pl.col("oral_scale_score").is_null().all()).item()
    assert alt.select(pl.col("listening_level").is_null().all()).item()


def test_special_cases_follow_the_state_rules(records: pl.DataFrame) -> None:
    nt = records.filter(pl.col("condition_code") == "NT")
    partial = records.filter(pl.col("attemptedness") == "P")
    exd = records.filter(pl.col("condition_code") == "EXD")
    assert nt.height > 50
    assert partial.height > 20
    assert exd.height > 5
    assert nt.select((~pl.col("is_tested")).all() & (pl.col("include_indicator") == "N").all()
                     & pl.col("overall_scale_score").is_null().all()).item()
    assert partial.select(pl.col("is_tested").all() & (pl.col("include_indicator") == "T").all()
                          & pl.col("overall_scale_score").is_null().all()
                          & (~pl.col("is_ssr_eligible")).all()).item()
    exempt = exd.select(pl.sum_horizontal(
        pl.col(f"is_{d}_exempt").cast(pl.Int8) for d in ("listening", "speaking", "reading",
                                                         "writing")).alias("n"))
    assert exempt.get_column("n").to_list() == [1] * exd.height
    scored = records.filter(pl.col("include_indicator") == "Y")
    assert scored.select(pl.col("overall_scale_score").is_not_null().all()).item()


def test_students_persist_and_move_up_a_grade(records: pl.DataFrame) -> None:
    order = {g: i for i, g in enumerate(domain.GRADES)}
    a = records.filter(pl.col("school_year") == "2022-23").select("ssid", "grade_assessed")
    b = records.filter(pl.col("school_year") == "2023-24").select("ssid", "grade_assessed")
    both = a.join(b, on="ssid", suffix="_next")
    assert both.height > 0.5 * b.height  # most students were there the year before
    steps = [order[n] - order[p] for p, n in both.select("grade_assessed", "grade_assessed_next")
             .iter_rows()]
    assert set(steps) == {1}


def test_reclassification_mostly_follows_level_4(records: pl.DataFrame) -> None:
    a = records.filter((pl.col("school_year") == "2021-22") & (pl.col("record_type") == "21")
                       & (pl.col("grade_assessed") != "12"))
    later = set(records.filter(pl.col("school_year") == "2022-23").get_column("ssid").to_list())
    stayed = a.with_columns(pl.col("ssid").is_in(list(later)).alias("stayed"))
    rate = dict(stayed.group_by("overall_level").agg(pl.col("stayed").mean()).iter_rows())
    assert rate[4] < rate[1] - 0.2


def test_demographics_are_linked(records: pl.DataFrame) -> None:
    spanish = records.filter(pl.col("ceds_language") == "SPA")
    assert 0.7 < spanish.height / records.height < 0.9
    assert spanish.select((pl.col("ethnicity") == "500").mean()).item() > 0.85
    ssr = records.filter(pl.col("is_ssr_eligible"))
    assert ssr.select(pl.col("ssr_languages").is_not_null().all()).item()
    assert set(spanish.filter(pl.col("is_ssr_eligible")).get_column("ssr_languages")) == {
        "ENG;SPA"}


def test_movers_and_nps_students_exist(records: pl.DataFrame) -> None:
    movers = records.filter(pl.col("is_tested")
                            & (pl.col("enrolled_lea_code") != pl.col("tested_lea_code")))
    assert movers.height > 0
    nps = records.filter(pl.col("tested_is_nps"))
    assert nps.height > 0
    assert nps.select(pl.col("sped_district_code").is_not_null().all()).item()


def test_the_last_year_is_only_partly_released(records: pl.DataFrame) -> None:
    last = records.filter(pl.col("school_year") == "2025-26")
    done = records.filter(pl.col("school_year") == "2024-25")
    # As of June 1: no NT yet (set at window close), K-2 SSRs not released, Alternate unscored.
    assert last.filter(pl.col("condition_code") == "NT").height == 0
    assert done.filter(pl.col("condition_code") == "NT").height > 0
    eligible = last.filter(pl.col("is_ssr_eligible"))
    released = eligible.filter(pl.col("ssr_available_date").is_not_null())
    assert 0.3 < released.height / eligible.height < 0.95
    assert released.filter(pl.col("grade_assessed").is_in(["KN", "01", "02"])).height == 0
    full = done.filter(pl.col("is_ssr_eligible"))
    assert full.select(pl.col("ssr_available_date").is_not_null().all()).item()


def test_statewide_places() -> None:
    gen = Generator(students=1_200_000, seed=3)
    leas = gen.places.leas
    assert 900 <= leas.height <= 1000
    assert 9000 <= gen.places.schools.height <= 12000
    assert leas.get_column("county_code").n_unique() == 58
    assert (leas.get_column("lea_type") == "charter").sum() > 40


LARGEST_SHARE = (0.065, 0.095)
"""The largest LEA's share of a generated year's students: about 8 % (issue 2), give or take
1.5 points (movers between LEAs of a county shift it by up to one point over a few years)."""


@pytest.mark.parametrize("seed", [3, 11])
def test_lea_sizes_are_skewed_in_the_generated_records(seed: int) -> None:
    # Counted on the records of generated years, not on the plan's shares: a student is picked
    # among the LEAs serving their grade, which once gave the 8 % district 10 %.
    spec = DemoSpec(students=120_000, years="2021-22..2023-24", seed=seed)
    gen = Generator(spec.students, spec.seed)
    planned = gen.places.leas.sort("share", descending=True).get_column("district_cds")[0]
    for year in spec.year_list():
        gen.advance(domain.spring_year(year))
        rows = gen.records(year, spec.as_of_date())
        sizes = rows.group_by("tested_district_code").len().sort("len", descending=True)
        share = sizes.get_column("len") / rows.height
        assert sizes.get_column("tested_district_code")[0] == planned, year
        assert LARGEST_SHARE[0] < share[0] < LARGEST_SHARE[1], (year, share[0])
        assert share[1] < share[0] / 1.5  # the largest stands out, as in California
        # Skewed: the top tenth of the LEAs has over three times an even split (0.35 here; at
        # 1,000 LEAs, most students, but a statewide year is too big for a unit test).
        assert share.head(sizes.height // 10).sum() > 0.3, year


@pytest.mark.parametrize(("domain_level", "composite"), [
    ("listening_level", "oral_scale_score"), ("speaking_level", "oral_scale_score"),
    ("reading_level", "written_scale_score"), ("writing_level", "written_scale_score")])
def test_domain_levels_follow_their_composite(records: pl.DataFrame, domain_level: str,
                                              composite: str) -> None:
    # ELPAC.md §1.4: no published domain cuts, so the demo correlates them with the composite.
    rows = records.filter((pl.col("record_type") == "21") & pl.col(domain_level).is_not_null()
                          & pl.col(composite).is_not_null())
    assert rows.height > 2000
    assert rows.select(pl.corr(domain_level, composite, method="spearman")).item() > 0.5
    means = rows.group_by(domain_level).agg(pl.col(composite).mean()).sort(domain_level)
    assert means.get_column(domain_level).to_list() == [1, 2, 3]
    assert means.get_column(composite).is_sorted()


CONSECUTIVE = [("2020-21", "2021-22"), ("2021-22", "2022-23"), ("2022-23", "2023-24"),
               ("2023-24", "2024-25")]


@pytest.mark.parametrize(("year", "next_year"), CONSECUTIVE)
def test_ability_carries_over_with_growth(records: pl.DataFrame, year: str,
                                          next_year: str) -> None:
    scored = records.filter((pl.col("record_type") == "21")
                            & pl.col("overall_scale_score").is_not_null())

    def overall(y: str, name: str) -> pl.DataFrame:
        return scored.filter(pl.col("school_year") == y).select(
            "ssid", pl.col("overall_scale_score").cast(pl.Int32).alias(name))

    both = overall(year, "before").join(overall(next_year, "after"), on="ssid")
    assert both.height > 300
    assert both.select(pl.corr("before", "after")).item() > 0.6
    growth = both.select((pl.col("after") - pl.col("before")).mean()).item()
    assert growth > 10, growth


@pytest.mark.parametrize(("year", "next_year"), CONSECUTIVE)
def test_newcomers_arrive_mostly_in_kindergarten(records: pl.DataFrame, year: str,
                                                 next_year: str) -> None:
    before = records.filter(pl.col("school_year") == year).get_column("ssid").unique()
    after = records.filter(pl.col("school_year") == next_year)
    new = after.filter(~pl.col("ssid").is_in(before.implode()))
    assert new.height > 0.1 * after.height
    grades = new.get_column("grade_assessed").value_counts(sort=True)
    assert grades.row(0)[0] == "KN"
    assert (new.get_column("grade_assessed") == "KN").mean() > 0.4
    # New English learners also arrive in later grades (newcomers to the US).
    assert grades.height > 5


def test_same_seed_same_data(tmp_path: Path) -> None:
    spec = DemoSpec(students=300, years="2023-24..2024-25", seed=11)
    frames = []
    for _ in range(2):
        gen = Generator(spec.students, spec.seed)
        gen.advance(2024)
        frames.append(gen.records("2023-24", spec.as_of_date()))
    assert frames[0].equals(frames[1])
