"""The organisations of a year: state, counties, LEAs and schools, with names and types.

Names come from the records (the TOMS file carries district and school names; county names are
the 58 California counties). ``type_id`` follows the research files' TypeID (ELPAC.md §5.4):
04 state, 03 county, 02 district, 09 direct-funded charter (reported like a district), 01
school.
"""

from __future__ import annotations

import polars as pl

from data.domain import COUNTIES

ORG_SOURCE_COLUMNS = ("county_code", "reporting_lea_code", "reporting_school_code",
                      "tested_lea_code", "tested_district_name", "tested_school_code",
                      "tested_school_name", "tested_charter_indicator",
                      "enrolled_district_code", "enrolled_district_name")
ORG_SCHEMA = {"org_level": pl.String, "county_code": pl.String, "lea_code": pl.String,
              "school_code": pl.String, "name": pl.String, "type_id": pl.String}


def _mode(column: str) -> pl.Expr:
    return pl.col(column).drop_nulls().mode().sort().first()


def build_orgs(records: pl.DataFrame) -> pl.DataFrame:
    """One row per organisation that has records in the year (keys as ``data.results.summary``)."""
    # TypeID 10: a locally funded charter school (ELPAC.md §5.4); other schools are 01.
    school_names = records.group_by(pl.col("tested_school_code").alias("code")).agg(
        _mode("tested_school_name").alias("name"),
        pl.when((pl.col("tested_charter_indicator") == "LF").any()).then(pl.lit("10"))
        .otherwise(pl.lit("01")).alias("type_id"))
    # A direct-funded charter is its own LEA, named after the school (ELPAC.md §5.1).
    district = pl.when(pl.col("tested_charter_indicator") == "DF").then(
        pl.col("tested_school_name")).otherwise(pl.col("tested_district_name"))
    lea_names = pl.concat([
        records.group_by(pl.col("tested_lea_code").alias("code")).agg(
            district.drop_nulls().mode().sort().first().alias("name")),
        # An NPS student's LEA can be a district no one tested in: use its enrolled name.
        records.group_by(pl.col("enrolled_district_code").alias("code")).agg(
            _mode("enrolled_district_name").alias("name")),
    ]).unique(subset="code", keep="first", maintain_order=True)
    pairs = records.select("county_code", "reporting_lea_code", "reporting_school_code").unique()
    leas = (pairs.select("county_code", pl.col("reporting_lea_code").alias("lea_code")).unique()
            .join(lea_names, left_on="lea_code", right_on="code", how="left")
            .with_columns(pl.lit("lea").alias("org_level"), pl.lit("").alias("school_code"),
                          pl.coalesce("name", pl.lit("LEA ") + pl.col("lea_code")),
                          pl.when(pl.col("lea_code").str.slice(7) == "0000000")
                          .then(pl.lit("02")).otherwise(pl.lit("09")).alias("type_id")))
    schools = (pairs.drop_nulls("reporting_school_code")
               .rename({"reporting_lea_code": "lea_code", "reporting_school_code": "school_code"})
               .join(school_names, left_on="school_code", right_on="code", how="left")
               .with_columns(pl.lit("school").alias("org_level"),
                             pl.coalesce("name", pl.lit("School ") + pl.col("school_code")),
                             pl.coalesce("type_id", pl.lit("01"))))
    counties = (pairs.select("county_code").unique()
                .with_columns(pl.lit("county").alias("org_level"), pl.lit("").alias("lea_code"),
                              pl.lit("").alias("school_code"),
                              pl.col("county_code").cast(pl.Int32).replace_strict(
                                  {i + 1: n for i, n in enumerate(COUNTIES)}, default="County",
                                  return_dtype=pl.String).alias("name"),
                              pl.lit("03").alias("type_id")))
    state = pl.DataFrame([{"org_level": "state", "county_code": "00", "lea_code": "",
                           "school_code": "", "name": "California", "type_id": "04"}],
                         schema=ORG_SCHEMA)
    frames = [f.select(list(ORG_SCHEMA)).cast(ORG_SCHEMA) for f in (state, counties, leas,
                                                                    schools)]
    return pl.concat(frames).sort("county_code", "lea_code", "school_code")
