"""Turn one generated year into store-shaped columns plus the text of the other file fields.

Columns named like store columns are written through the same ``to_layout`` the round-trip
export uses; columns prefixed ``x:`` carry fields without a store column (per-domain test
sites and dates, CALPADS copies, race flags, prior-year results).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from data import domain
from data.synth.people import LANGUAGES, NAMES
from data.toms.field_catalogue import DOMAINS
from data.toms.field_rules import NS_FIELDS

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from data.synth.places import Places

_RACE = {"100": "AmericanIndianorAlaskaNative", "200": "Asian",
         "300": "HawaiianOrOtherPacificIslander", "400": "Filipino", "500": "HispanicorLatino",
         "600": "BlackorAfricanAmerican", "700": "White", "800": "TwoorMoreRaces"}


_NAMES = pl.Series(NAMES, dtype=pl.String)

PART_RECORDS = 100_000
"""Records built and written at a time: about 300 MB of rows and text at once."""


def _yes_no(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr).then(pl.lit("Yes")).otherwise(pl.lit("No"))


class YearRecords:
    """One year's drawn records, built into store-shaped rows a county at a time.

    A statewide year's store-shaped rows and their text are several gigabytes: the demo writes
    each county's file (``counties``) from its own rows, built ``PART_RECORDS`` at a time
    (``parts``; Los Angeles alone is a quarter of the state).
    Every random draw is made before this is built, so the rows do not depend on which part is
    built, nor on whether any is; each record keeps its row number in the whole year (its UIN).

    ``f`` holds the year's drawn results and ``p`` the students' columns, one entry per student;
    ``keep`` marks the records in the file; ``history`` maps each earlier spring to its
    ``prior_table``.
    """

    def __init__(self, places: Places, history: Mapping[int, pl.DataFrame], year: str,
                 f: pl.DataFrame, p: Mapping[str, np.ndarray], keep: np.ndarray,
                 created: date) -> None:
        self.places = places
        self.year = year
        self.spring = domain.spring_year(year)
        # Taken now: the generator forgets a spring once no later year can name it.
        self.priors = {k: history[self.spring - k] for k in (1, 2, 3)
                       if self.spring - k in history}
        self.f = f
        self.p = dict(p)
        self.created = created
        self.rows = np.flatnonzero(keep)
        county = _county_of_school(places)
        nt = f.get_column("nt").to_numpy()[self.rows]
        # The county whose file holds the record: its tested district's, which for a
        # non-tester is the enrolled one (as ``store_frame`` reports it).
        tested = f.get_column("school_i").to_numpy()[self.rows]
        enrolled = f.get_column("enrolled_school_i").to_numpy()[self.rows]
        self.county = np.where(nt, county[enrolled], county[tested])

    @property
    def height(self) -> int:
        """How many records the year's file has."""
        return len(self.rows)

    def counties(self) -> list[str]:
        """The two-digit codes of the counties with records, in order."""
        return sorted(set(self.county.tolist()))

    def frame(self, county: str | None = None) -> pl.DataFrame:
        """Store-shaped rows of the year's records, or of one county's, in the year's order."""
        numbers = np.arange(self.height)
        if county is not None:
            numbers = numbers[self.county == county]
        return store_frame(self.places, self.priors, self.year, self.f, self.p,
                           self.rows[numbers], numbers, self.created)

    def parts(self, county: str, size: int | None = None) -> Iterator[pl.DataFrame]:
        """One county's rows ``size`` (``PART_RECORDS``) records at a time, in the year's order."""
        numbers = np.flatnonzero(self.county == county)
        size = size or PART_RECORDS
        for start in range(0, len(numbers), size):
            part = numbers[start:start + size]
            yield store_frame(self.places, self.priors, self.year, self.f, self.p,
                              self.rows[part], part, self.created)


def _county_of_school(places: Places) -> np.ndarray:
    """Each school index's county code (the first two digits of its LEA's CDS code)."""
    schools = places.schools.join(places.leas.select("lea_index", "district_cds"),
                                  on="lea_index", how="left")
    index = schools.get_column("school_index").to_numpy()
    out = np.full(int(index.max()) + 1, "", dtype=object)
    out[index] = schools.get_column("district_cds").str.slice(0, 2).to_numpy()
    return out


def store_frame(places: Places, priors: Mapping[int, pl.DataFrame], year: str,
                f: pl.DataFrame, p: Mapping[str, np.ndarray], rows: np.ndarray,
                numbers: np.ndarray, created: date) -> pl.DataFrame:
    """Store-shaped rows of the records of students ``rows``, numbered ``numbers`` in the year.

    ``f`` holds the year's drawn results and ``p`` the students' columns, one entry per
    student; ``priors`` maps k to the ``prior_table`` of k springs back (the MinusK fields).
    """
    spring = domain.spring_year(year)
    schools = places.schools
    leas = places.leas
    p = {k: np.asarray(v)[rows] for k, v in p.items()}
    lang = np.asarray(p["lang"])
    ceds = np.array([entry[0] for entry in LANGUAGES])[lang]
    numeric = np.array([entry[1] for entry in LANGUAGES])[lang]
    # CALPADS wrote numeric language codes up to 2022-23 and three letters from 2023-24.
    primary = numeric if spring <= 2023 else ceds
    people = pl.DataFrame({
        "ssid_number": p["ssid"], "row_number": numbers,
        "last_name": _NAMES.gather(p["last"]), "first_name": _NAMES.gather(p["first"]),
        "middle_name": _NAMES.gather(p["middle"]),
        "birth_date": p["dob"].astype("datetime64[D]"), "gender": p["gender"],
        "grade_assessed": np.array(domain.GRADES)[p["grade"]],
        "is_tk": p["tk"] & (spring >= 2025), "is_section504": p["s504"],
        "is_special_education": p["iep"], "primary_disability": p["disability"],
        "is_migrant": p["migrant"], "el_entry_date": p["el_entry"].astype("datetime64[D]"),
        "us_school_entry_date": p["us_entry"].astype("datetime64[D]"),
        "primary_language": primary, "ceds_language": ceds, "is_military": p["military"],
        "is_foster": p["foster"], "is_homeless": p["homeless"],
        "is_economically_disadvantaged": p["econ"], "ethnicity": p["eth"],
        "parent_education": p["parent_ed"],
    })
    frame = pl.concat([f[rows], people], how="horizontal")
    school_cols = schools.select(
        pl.col("school_index"), pl.col("lea_index"), pl.col("school_code"),
        pl.col("school_name"), pl.col("is_nps"), pl.col("charter_indicator"),
        pl.col("charter_code"))
    lea_cols = leas.select("lea_index", "district_cds", "lea_name", "district_code")
    for prefix, key in (("tested", "school_i"), ("enrolled", "enrolled_school_i")):
        sc = school_cols.join(lea_cols, on="lea_index").rename(
            {c: f"{prefix}_{c}" for c in school_cols.columns + ["district_cds", "lea_name",
                                                               "district_code"]
             if c != "lea_index"}).drop("lea_index")
        frame = frame.join(sc, left_on=key, right_on=f"{prefix}_school_index", how="left",
                           maintain_order="left")
    tested, nt, partial, alt = (pl.col("is_tested"), pl.col("nt"), pl.col("partial"),
                                pl.col("alt"))
    scored = tested & ~partial
    is_sum = ~alt
    exd = pl.col("exd")

    def when_sum(expr: pl.Expr, ok: pl.Expr) -> pl.Expr:
        return pl.when(ok).then(expr)

    def ns(name: str) -> pl.Expr:
        return (pl.col("ns_fields").cast(pl.Int32) & (1 << NS_FIELDS.index(name))) != 0

    oral_ok = tested & is_sum & ~ns("OralLanguageScaleScore")
    written_ok = tested & is_sum & ~ns("WrittenLanguageScaleScore")
    completed = pl.col("completed").cast(pl.Date)
    # Non-testers are reported under the enrolled school (ELPAC.md §3.3 rule 4).
    site = {c: pl.when(nt).then(pl.col(f"enrolled_{c}")).otherwise(pl.col(f"tested_{c}"))
            for c in ("school_code", "school_name", "district_cds", "lea_name", "is_nps",
                      "charter_indicator", "charter_code", "district_code")}
    ssr_date = pl.col("ssr_date").cast(pl.Date)
    years_in = (pl.lit(date(spring - 1, 9, 1)) - pl.col("el_entry_date")).dt.total_days() / 365
    out = frame.select(
        pl.col("record_type"), (pl.lit(spring * 10_000_000) + pl.col("row_number"))
        .cast(pl.String).alias("uin"), pl.col("ssid"), pl.col("ssid_number"),
        pl.col("ssid").str.slice(4).alias("local_student_id"),
        "last_name", "first_name", "middle_name", "is_tk", "birth_date", "gender",
        pl.col("grade_assessed").alias("calpads_grade"), "grade_assessed",
        pl.col("enrolled_district_cds").alias("enrolled_district_code"),
        pl.col("enrolled_lea_name").alias("enrolled_district_name"),
        pl.col("enrolled_school_code"), pl.col("enrolled_school_name"),
        pl.col("enrolled_charter_code"), pl.col("enrolled_charter_indicator"),
        pl.when(pl.col("is_special_education")).then(pl.col("enrolled_district_code"))
        .alias("sped_district_code"),
        pl.col("enrolled_is_nps"), "is_section504", "is_special_education",
        pl.when(pl.col("primary_disability") != "").then(pl.col("primary_disability"))
        .alias("primary_disability"),
        "is_migrant", "el_entry_date", pl.lit(None, pl.Date).alias("el_exit_date"),
        "us_school_entry_date", "primary_language", "ceds_language", "is_military",
        "is_foster", "is_homeless", "is_economically_disadvantaged", "ethnicity",
        pl.when(pl.col("parent_education") != "").then(pl.col("parent_education"))
        .alias("parent_education"),
        tested.alias("is_tested"),
        pl.when(pl.col("ssr_released") & scored).then(ssr_date).alias("ssr_available_date"),
        site["lea_name"].alias("tested_district_name"),
        site["district_cds"].alias("tested_district_code"),
        site["school_name"].alias("tested_school_name"),
        site["school_code"].alias("tested_school_code"),
        site["charter_indicator"].alias("tested_charter_indicator"),
        site["charter_code"].alias("tested_charter_code"),
        site["is_nps"].alias("tested_is_nps"),
        pl.when(tested).then(completed).alias("final_test_completed_date"),
        pl.when(nt).then(pl.lit("NT")).when(exd).then(pl.lit("EXD"))
        .when(pl.col("alt_code")).then(pl.lit("ALT")).alias("condition_code"),
        pl.when(partial).then(pl.lit("P")).when(tested).then(pl.lit("Y")).alias("attemptedness"),
        pl.when(nt).then(pl.lit("N")).when(partial).then(pl.lit("T")).otherwise(pl.lit("Y"))
        .alias("include_indicator"),
        pl.when(tested).then(scored).alias("is_ssr_eligible"),
        pl.when(tested & is_sum).then(partial).alias("is_force_complete"),
        *[when_sum(pl.col(f"raw{d}"), tested & is_sum & ~ns(f"RawScore{d + 1}"))
          .cast(pl.Int8).alias(f"raw_score_{dom.lower()}") for d, dom in enumerate(DOMAINS)],
        when_sum(pl.col("overall"), scored).cast(pl.Int16).alias("overall_scale_score"),
        when_sum(pl.col("oral"), oral_ok).cast(pl.Int16).alias("oral_scale_score"),
        when_sum(pl.col("written"), written_ok).cast(pl.Int16).alias("written_scale_score"),
        when_sum(pl.col("overall_level"), scored).cast(pl.Int8).alias("overall_level"),
        when_sum(pl.col("oral_level"), oral_ok).cast(pl.Int8).alias("oral_level"),
        when_sum(pl.col("written_level"), written_ok).cast(pl.Int8).alias("written_level"),
        when_sum(pl.col("overall_csem"), scored & alt).cast(pl.Int16).alias("overall_csem"),
        when_sum(pl.col("oral_csem"), oral_ok).cast(pl.Int16).alias("oral_csem"),
        when_sum(pl.col("written_csem"), written_ok).cast(pl.Int16).alias("written_csem"),
        *[when_sum(pl.col(f"dom{d}"), tested & is_sum & ~ns(f"{dom}PL"))
          .cast(pl.Int8).alias(f"{dom.lower()}_level") for d, dom in enumerate(DOMAINS)],
        *[pl.when(tested & is_sum).then(pl.col(f"ex{d}")).alias(f"is_{dom.lower()}_exempt")
          for d, dom in enumerate(DOMAINS)],
        pl.lit(created).alias("report_created_date"),
        pl.when(tested).then(pl.col("score_date").cast(pl.Date)).alias("score_available_date"),
        # LTELorARLTEL is new in 2024-25; codes 1 = LTEL, 2 = AR-LTEL are [unconfirmed].
        pl.when(pl.lit(spring) < 2025).then(None)
        .when((pl.col("grade_i") >= 6) & (years_in >= 6)).then(pl.lit("1"))
        .when((pl.col("grade_i") >= 3) & (years_in >= 4)).then(pl.lit("2"))
        .alias("ltel_status"),
        pl.col("ns_fields"),
        # Text of fields without a store column:
        pl.lit("Yes").alias("x:ELStatus"), pl.lit("EL").alias("x:ELASforTesting"),
        pl.col("birth_date").dt.strftime("%Y-%m-%d").alias("x:DateofBirth"),
        _yes_no(pl.col("is_special_education")).alias("x:CALPADSSpecialEducation"),
        pl.col("primary_disability").alias("x:PrimaryDisabilityType"),
        _yes_no(pl.col("is_migrant")).alias("x:MigrantStatus"),
        pl.col("primary_language").alias("x:CALPADSPrimaryLanguage"),
        _yes_no(pl.col("is_military")).alias("x:CALPADSMilitaryStatus"),
        _yes_no(pl.col("is_foster")).alias("x:CALPADSFosterStatus"),
        _yes_no(pl.col("is_homeless")).alias("x:CALPADSHomelessStatus"),
        _yes_no(pl.col("is_economically_disadvantaged"))
        .alias("x:CALPADSEconomicDisadvantageStatus"),
        pl.col("parent_education").alias("x:ParentEducationLevel"),
        *[_yes_no(pl.col("ethnicity") == code).alias(f"x:{name}")
          for code, name in _RACE.items()],
        pl.lit("US-CA").alias("x:StudentAddressStateCode"),
        *_domain_sites(site, _first_sites(site, spring), tested, is_sum, completed),
        *_modes(tested, is_sum),
        pl.when(tested).then(_yes_no(pl.col("ssid").str.slice(9) == "7"))
        .alias("x:DesignatedSupportIndicator"),
        pl.when(tested).then(pl.lit("No")).alias("x:AccommodationsIndicator"),
        pl.col("grade_i"),
    )
    return _prior_years(priors, out).drop("grade_i", "ssid_number")


def _first_sites(site: dict[str, pl.Expr], spring: int) -> dict[str, pl.Expr]:
    """Where Listening and Speaking were taken: the tested site, except in 2019-20.

    A 2019-20 file has no final tested site, only one per domain (``data.toms.tested_blocks``
    derives it from the domain tested last): there a student who moved took Listening and
    Speaking at the enrolled school and Reading and Writing, later, at the tested one, so the
    demo's files exercise that rule.
    """
    if spring != 2020:
        return site
    moved = pl.col("enrolled_school_code") != pl.col("tested_school_code")
    return {c: pl.when(moved).then(pl.col(f"enrolled_{c}")).otherwise(expr)
            for c, expr in site.items()}


def _domain_sites(site: dict[str, pl.Expr], first: dict[str, pl.Expr], tested: pl.Expr,
                  is_sum: pl.Expr, completed: pl.Expr) -> list[pl.Expr]:
    out: list[pl.Expr] = []
    for n in range(1, 5):
        # Domains are taken in the two weeks before the final completion date.
        start = completed - pl.duration(days=(4 - n) * 3)
        on = tested & (is_sum | pl.lit(n == 1))
        here = first if n <= 2 else site
        out += [
            pl.when(on).then(here["lea_name"]).alias(f"x:TestedDistrictName{n}"),
            pl.when(on).then(here["district_cds"]).alias(f"x:TestedDistrictCode{n}"),
            pl.when(on).then(here["school_name"]).alias(f"x:TestedSchoolName{n}"),
            pl.when(on).then(here["school_code"]).alias(f"x:TestedSchoolCode{n}"),
            pl.when(on).then(here["charter_indicator"]).alias(f"x:TestedCharterSchoolIndicator{n}"),
            pl.when(on).then(here["charter_code"]).alias(f"x:TestedCharterCode{n}"),
            pl.when(on).then(pl.when(here["is_nps"]).then(pl.lit("Y")).otherwise(pl.lit("N")))
            .alias(f"x:TestedSchoolNPSFlag{n}"),
            pl.when(on).then(start.dt.strftime("%Y-%m-%d")).alias(f"x:TestStartDate{n}"),
            pl.when(on).then(start.dt.strftime("%Y-%m-%d")).alias(f"x:TestCompletedDate{n}"),
            pl.when(on).then(pl.lit("C")).alias(f"x:OpportunityTestingStatus{n}"),
        ]
    return out


def _modes(tested: pl.Expr, is_sum: pl.Expr) -> list[pl.Expr]:
    on = tested & is_sum
    out: list[pl.Expr] = []
    for n in range(1, 5):
        out += [pl.when(on).then(pl.lit("O")).alias(f"x:TestMode{n}"),
                pl.when(on).then(pl.lit("N")).alias(f"x:RemoteTester{n}"),
                pl.when(on).then(pl.lit("N")).alias(f"x:UnlistedResources{n}")]
    return out


_PRIOR = {  # prior-year field stem -> (history column, kind)
    "GradeAssessed": ("grade_i", "grade"), "OverallScaleScore": ("overall", "score"),
    "OverallPL": ("overall_level", "score"), "OralLanguageScaleScore": ("oral", "score"),
    "OralLanguageCSEM": ("oral_csem", "score"), "OralLanguagePL": ("oral_level", "score"),
    "WrittenLanguageScaleScore": ("written", "score"),
    "WrittenLanguageCSEM": ("written_csem", "score"),
    "WrittenLanguagePL": ("written_level", "score"),
    "ListeningPL": ("dom0", "dom"), "SpeakingPL": ("dom1", "dom"), "ReadingPL": ("dom2", "dom"),
    "WritingPL": ("dom3", "dom"), "ListeningRawScore": ("raw0", "dom"),
    "SpeakingRawScore": ("raw1", "dom"), "ReadingRawScore": ("raw2", "dom"),
    "WritingRawScore": ("raw3", "dom"),
}


def prior_table(f: pl.DataFrame, ssid: np.ndarray, keep: np.ndarray) -> pl.DataFrame:
    """A year's records as later years' prior-year fields see them, in narrow types.

    Built once a year and kept up to three years: one row per student (``ssid`` as a number, to
    join on), each field's value already blanked where the SSR history leaves it out, codes as
    enums and scores as small integers, turned into text only for the rows being written.
    """
    rows = f.with_columns(pl.Series("ssid_number", ssid)).filter(pl.Series(keep))
    scored = ~pl.col("nt") & ~pl.col("partial")
    is_sum = pl.col("record_type") == "21"
    cols = [pl.col("ssid_number"),
            pl.when(~pl.col("nt")).then(pl.when(scored).then(pl.lit("Y"))
                                        .otherwise(pl.lit("N")))
            .cast(pl.Enum(["Y", "N"])).alias("SSREligible"),
            pl.when(pl.col("partial")).then(pl.lit("P")).when(~pl.col("nt"))
            .then(pl.lit("Y")).cast(pl.Enum(["P", "Y"])).alias("Attemptedness"),
            pl.when(pl.col("nt")).then(pl.lit("NT")).when(pl.col("exd"))
            .then(pl.lit("EXD")).cast(pl.Enum(["NT", "EXD"])).alias("ConditionCode")]
    for stem, (src, kind) in _PRIOR.items():
        if kind == "grade":
            value = pl.col(src).replace_strict(dict(enumerate(domain.GRADES)),
                                               return_dtype=pl.Enum(domain.GRADES))
        else:
            ok = scored & ((is_sum | pl.lit(stem in ("OverallScaleScore", "OverallPL")))
                           if kind == "score" else is_sum)
            # Truncated to whole numbers as the text always was; a strict cast refuses
            # anything the small type cannot hold.
            narrow = pl.Int16 if stem.endswith(("ScaleScore", "CSEM")) else pl.Int8
            value = pl.when(ok).then(pl.col(src).cast(pl.Int64).cast(narrow, strict=True))
        cols.append(value.alias(stem))
    return rows.select(cols).unique(subset="ssid_number", keep="first", maintain_order=True)


def _prior_years(priors: Mapping[int, pl.DataFrame], out: pl.DataFrame) -> pl.DataFrame:
    """Fill the prior-year fields (SSR score history) from the students' own earlier records."""
    for k, table in sorted(priors.items()):
        fields = [c for c in table.columns if c != "ssid_number"]
        out = out.join(table.rename({c: f"x:{c}Minus{k}" for c in fields}), on="ssid_number",
                       how="left", maintain_order="left").with_columns(
            pl.col(f"x:{c}Minus{k}").cast(pl.String) for c in fields)
    return out
