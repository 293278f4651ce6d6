"""The generator builds a year's rows a county at a time (``data.synth.frame.YearRecords``).

Building by county bounds the statewide demo's memory; it must not change a single record: the
parts are the whole year's rows county by county, and the draws do not depend on what is built.
The prior-year tables are kept only as long as a later year's ``MinusK`` fields can name them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from data import domain
from data.synth import frame
from data.synth.generator import DemoSpec, generate_files
from data.synth.population import Generator
from data.synth.toms_files import write_toms_files
from data.toms.layout import layout

AS_OF = date(2024, 6, 1)


def _drawn_years(gen: Generator, years: list[str], build: str) -> pl.DataFrame:
    """The last year's whole rows, after drawing every year and building each as ``build``."""
    for year in years:
        gen.advance(domain.spring_year(year))
        drawn = gen.draw(year, AS_OF)
        if build == "whole":
            drawn.frame()
        elif build == "counties":
            for code in drawn.counties():
                drawn.frame(code)
    return drawn.frame()


def test_county_parts_are_the_whole_year_county_by_county() -> None:
    gen = Generator(3000, 5)
    for year in ("2021-22", "2022-23"):
        gen.advance(domain.spring_year(year))
        gen.draw(year, AS_OF)
    gen.advance(2024)
    drawn = gen.draw("2023-24", AS_OF)
    whole = drawn.frame()
    county = whole.get_column("tested_district_code").str.slice(0, 2)
    assert drawn.counties() == sorted(set(county.to_list()))
    assert len(drawn.counties()) > 5
    assert whole.height == drawn.height
    # The parts carry the prior-year fields, which must join the same way in a part.
    assert whole.get_column("x:OverallScaleScoreMinus1").is_not_null().sum() > 1000
    for code in drawn.counties():
        part = drawn.frame(code)
        assert part.equals(whole.filter(county == code)), code
        # A file is written from its county's rows a few at a time: the same rows again.
        assert pl.concat(drawn.parts(code, size=97)).equals(part), code
    # UINs number the records of the whole year, not of the part they were built in.
    uin = whole.get_column("uin").cast(pl.Int64) - 2024 * 10_000_000
    assert uin.to_list() == list(range(whole.height))


def test_files_written_by_parts_are_those_of_the_whole_year(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gen = Generator(3000, 6)
    for year in ("2022-23", "2023-24"):
        gen.advance(domain.spring_year(year))
        drawn = gen.draw(year, AS_OF)
    monkeypatch.setattr(frame, "PART_RECORDS", 101)
    (tmp_path / "parts").mkdir()
    (tmp_path / "whole").mkdir()
    by_parts = write_toms_files(drawn, "2023-24", tmp_path / "parts")
    whole = write_toms_files(drawn.frame(), "2023-24", tmp_path / "whole")
    assert [p.name for p in by_parts] == [p.name for p in whole]
    assert max(len(p.read_bytes().splitlines()) for p in whole) > 3 * 101
    for a, b in zip(by_parts, whole, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_the_next_year_is_the_same_however_a_year_is_built() -> None:
    years = ["2021-22", "2022-23", "2023-24"]
    frames = [_drawn_years(Generator(1500, 9), years, build)
              for build in ("whole", "counties", "nothing")]
    assert frames[0].equals(frames[1])
    assert frames[0].equals(frames[2])


def _read_year(paths: list[Path], year: str, fields: list[str]) -> pl.DataFrame:
    lay = layout(year)
    headers = {lay.headers[lay.canonical.index(f)]: f for f in fields}
    return pl.concat([pl.read_csv(p, separator="^", infer_schema=False, quote_char=None,
                                  columns=list(headers)).rename(headers).fill_null("")
                      for p in paths])


@pytest.mark.parametrize("spring_2020", [False, True])
def test_2021_22_minus3_fields_name_2018_19(tmp_path: Path, spring_2020: bool) -> None:
    # With 2019-20 left out, 2018-19 is two files back from 2021-22 yet still its Minus3 year:
    # a generator that kept only the years of the last files it wrote would leave these blank.
    spec = DemoSpec(students=2000, years="2018-19..2021-22", seed=3, spring_2020=spring_2020)
    files = {year: paths for year, paths, *_ in generate_files(spec, tmp_path)}
    assert bool(files["2019-20"]) is spring_2020
    first = _read_year(files["2018-19"], "2018-19", ["SSID", "GradeAssessed",
                                                      "OverallScaleScore"])
    minus = ["GradeAssessedMinus3", "OverallScaleScoreMinus3", "GradeAssessedMinus2",
             "GradeAssessedMinus1"]
    last = _read_year(files["2021-22"], "2021-22", ["SSID", *minus])
    both = last.join(first.with_columns(pl.col("SSID").alias("SSID_2018_19")), on="SSID",
                     how="left")
    named = both.filter(pl.col("GradeAssessedMinus3") != "")
    assert named.height > 100
    # Exactly the students with a 2018-19 record, and that record's grade and score.
    assert named.height == both.get_column("SSID_2018_19").is_not_null().sum()
    assert named.get_column("GradeAssessedMinus3").equals(
        named.get_column("GradeAssessed"), check_names=False)
    # A score the file says NS (a partial test) is blank in a later year's history.
    score = named.get_column("OverallScaleScore").replace("NS", "")
    assert (score != "").sum() > 100
    assert named.get_column("OverallScaleScoreMinus3").equals(score, check_names=False)
    # Minus2 is 2019-20: blank unless its file was written; Minus1 is 2020-21.
    assert (last.get_column("GradeAssessedMinus2") != "").any() is spring_2020
    assert (last.get_column("GradeAssessedMinus1") != "").sum() > 100


def test_only_the_years_a_later_year_can_name_are_kept_in_narrow_types() -> None:
    gen = Generator(800, 4)
    for year in ("2018-19", "2019-20", "2020-21", "2021-22", "2022-23"):
        gen.advance(domain.spring_year(year))
        if year != "2019-20":
            gen.draw(year, AS_OF)
    # 2023-24 names 2020-21..2022-23 (2019-20 wrote no file), later years fewer.
    assert sorted(gen.history) == [2021, 2022, 2023]
    wide = {pl.Int64, pl.Float64, pl.String}
    for table in gen.history.values():
        assert table.get_column("ssid_number").is_unique().all()
        assert not [c for c, t in table.schema.items() if t in wide and c != "ssid_number"]
