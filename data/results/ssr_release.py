"""SSR release status, aggregated at load: who gets a Student Score Report, and when.

See ELPAC.md §7.
One row per enrolled LEA, enrolled school, grade, test, SSR languages and release date (null:
not released yet) with the number of SSR-eligible students. The SSR goes to the student's
latest enrolled LEA (§7), so this counts students under their enrolled LEA and school, not
the tested ones the score reports use.
"""

from __future__ import annotations

import polars as pl

SSR_SOURCE_COLUMNS = ("record_type", "enrolled_lea_code", "enrolled_school_code",
                      "grade_assessed", "is_ssr_eligible", "ssr_languages", "ssr_available_date",
                      "enrolled_district_name", "enrolled_school_name",
                      "enrolled_charter_indicator")


def build_ssr(records: pl.DataFrame) -> pl.DataFrame:
    """Count SSR-eligible students by enrolled organisation, grade, languages, release date."""
    eligible = records.filter(pl.col("is_ssr_eligible").fill_null(False))
    # Names as CALPADS gives them: an enrolled LEA may have no tested students to name it.
    lea_name = pl.when(pl.col("enrolled_charter_indicator") == "DF").then(
        pl.col("enrolled_school_name")).otherwise(pl.col("enrolled_district_name"))
    lea_names = eligible.group_by(pl.col("enrolled_lea_code").alias("lea_code")).agg(
        lea_name.drop_nulls().mode().sort().first().alias("lea_name"))
    school_names = eligible.group_by(
        pl.col("enrolled_school_code").fill_null("").alias("school_code")).agg(
        pl.col("enrolled_school_name").drop_nulls().mode().sort().first().alias("school_name"))
    counts = (eligible.group_by(
        "record_type", pl.col("enrolled_lea_code").alias("lea_code"),
        pl.col("enrolled_school_code").fill_null("").alias("school_code"),
        pl.col("grade_assessed").alias("grade"),
        pl.col("ssr_languages").fill_null("ENG").alias("languages"),
        pl.col("ssr_available_date").alias("released_on"))
        .agg(pl.len().cast(pl.Int64).alias("n_students"))
        .with_columns(pl.col("lea_code").str.slice(0, 2).alias("county_code"))
        .sort("record_type", "county_code", "lea_code", "school_code", "grade", "languages",
              "released_on"))
    return (counts.join(lea_names, on="lea_code", how="left", maintain_order="left")
            .join(school_names, on="school_code", how="left", maintain_order="left"))
