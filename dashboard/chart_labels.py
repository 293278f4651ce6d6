"""What the report charts say and how a level looks: titles, subtitles, row labels, colours.

Colours are one blue ramp, light (level 1) to dark (the highest level): safe for every kind
of colour blindness and still ordered in greyscale or on a washed-out projector. Levels also
differ by bar pattern (``level_style``). Titles and subtitles say what is shown, where, for
whom and how final the data is (``describe_report``), from the same report frame as the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import polars as pl

from queries.labels import (
    DATA_STATUS_NAMES,
    DIMENSION_NAMES,
    GRADE_NAMES,
    GROUP_NAMES,
    INCOMPLETE_YEARS,
    MEASURE_NAMES,
    SUPPRESSED,
    TESTS,
)
from queries.metrics import SUPPRESSION_THRESHOLD

if TYPE_CHECKING:
    from queries.spec import ReportSpec

BLUES = {3: ("#c6dbef", "#4292c6", "#08306b"),
         4: ("#deebf7", "#9ecae1", "#3182bd", "#08306b")}
"""Level colours, lightest first (ColorBrewer Blues: single hue, ordered lightness)."""
PATTERNS = {3: ("", "/", "x"), 4: ("", "/", ".", "x")}
"""Bar patterns per level: a second cue that needs no colour at all."""
# Black on all but the darkest blue: white on the middle blues is under 4.5:1 (WCAG AA).
TEXT_COLOURS = {3: ("#000000", "#000000", "#ffffff"),
                4: ("#000000", "#000000", "#000000", "#ffffff")}
"""Text colour written over each level's colour, lightest level first."""
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000",
             "#F0E442")
"""Line colours of series (Okabe and Ito's colour-blind-safe set); dashes and markers differ
too, so lines stay apart in greyscale."""


def level_style(levels: int, i: int) -> dict[str, object]:
    """Marker and text settings of level ``i`` (0 first) of ``levels``, for any level chart.

    One place for the palette, so every page draws a level in the same colour and pattern.
    ``fillmode`` overlay draws the pattern over the fill instead of replacing it with white.
    """
    return {
        "marker": {"color": BLUES[levels][i], "line": {"color": "white", "width": 1},
                   # A faint pattern: enough to tell levels apart without colour, not so
                   # strong that it fights the percent written over it.
                   "pattern": {"shape": PATTERNS[levels][i], "fgopacity": 0.45,
                               "fgcolor": TEXT_COLOURS[levels][i], "solidity": 0.1, "size": 9,
                               "fillmode": "overlay"}},
        "textfont": {"color": TEXT_COLOURS[levels][i]},
    }


# -- words around the charts ----------------------------------------------------------------

def org_label(report: pl.DataFrame, spec: ReportSpec) -> str:
    """The chosen organisations' names, e.g. ``Meadow Acres Unified and 2 more``."""
    chosen = report.filter(pl.col("org_level") == spec.org_level)
    names = chosen.get_column("name").unique(maintain_order=True).to_list() if (
        chosen.height) else report.get_column("name").unique(maintain_order=True).to_list()
    if not names:
        return "no organisation"
    return names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"


def grades_text(grades: tuple[str, ...] | list[str]) -> str:
    """Chosen grades in few words: a run of three or more consecutive grades as a range.

    Examples
    --------
    >>> grades_text(["KN", "01", "02", "03", "05", "13"])
    'Kindergarten to Grade 3, Grade 5, All grades'
    """
    order = [g for g in GRADE_NAMES if g != "13"]
    chosen = [g for g in order if g in grades]
    runs: list[list[str]] = []
    for g in chosen:
        if runs and order.index(g) == order.index(runs[-1][-1]) + 1:
            runs[-1].append(g)
        else:
            runs.append([g])
    words = [f"{GRADE_NAMES[r[0]]} to {GRADE_NAMES[r[-1]]}" if len(r) > 2
             else ", ".join(GRADE_NAMES[g] for g in r) for r in runs]
    return ", ".join([*words, *([GRADE_NAMES["13"]] if "13" in grades else [])])


def _years_text(years: tuple[str, ...] | list[str]) -> str:
    ys = sorted(set(years))
    return ys[0] if len(ys) == 1 else f"{ys[0]} to {ys[-1]}" if len(ys) > 2 else " and ".join(ys)


def describe_report(report: pl.DataFrame, spec: ReportSpec, *, suppress: bool,
                    view: Literal["levels", "mean"] = "levels") -> tuple[str, list[str]]:
    """A chart's title and subtitle lines: what, where, filters, years, n and data status.

    A saved report's name is its title; otherwise the measure, what is shown and where.
    """
    measure = MEASURE_NAMES[spec.measure]
    shown = "mean scale score" if view == "mean" else "performance levels"
    title = spec.name or f"{measure} {shown}, {org_label(report, spec)}"
    what = [TESTS[spec.test], measure, _years_text(spec.years),
            grades_text(spec.grades) if spec.breakdown != "grade" else "by grade"]
    if spec.breakdown and spec.breakdown != "grade":
        what.append(f"by {DIMENSION_NAMES[spec.breakdown].lower()}")
    if spec.cohort:
        what.append("cohort: students tested there in every year")
    if spec.completeness != "all":
        what.append(f"{spec.completeness} tests only")
    lines = ["; ".join(what)]
    if spec.filters:
        lines.append("Only " + " and ".join(
            " or ".join(GROUP_NAMES[g] for g in ids) for _, ids in spec.filters))
    lines.append(_n_and_status(report))
    if suppress:
        # Rows without students are suppressed too but hide nothing: not counted.
        hidden = int(report.filter(pl.col("n_enrolled") > 0).get_column("is_suppressed").sum())
        lines.append(f"Presentation mode: scores hidden ({SUPPRESSED}) for groups with fewer "
                     f"than {SUPPRESSION_THRESHOLD} students tested with scores"
                     + (f" ({hidden} row{'s' if hidden != 1 else ''})" if hidden else "") + ".")
    return title, lines


def _n_and_status(report: pl.DataFrame) -> str:
    if not report.height:
        return "No rows."
    shown = report.filter(pl.col("n_enrolled") > 0)
    if shown.height == 1:
        head = shown.row(0, named=True)
        n = (f"n = {head['n_scored']:,} tested with scores ({head['name']}, "
             f"{head['row_label'].lower()}, {head['grade_name'].lower()}, "
             f"{head['school_year']})")
    else:
        # Rows overlap (All students and its groups, a school and its LEA) and years count a
        # student once each: no one n describes them all, so each row carries its own.
        n = "n: students tested with scores, given for each row"
    return f"{n}. {data_status_text(report)}."


def data_status_text(report: pl.DataFrame) -> str:
    """What the rows' data status says: partial years, incomplete years (2019-20), or final.

    Examples
    --------
    >>> data_status_text(pl.DataFrame({"school_year": ["2019-20", "2020-21"],
    ...                                "data_status": ["incomplete", "final"]}))
    'Data: incomplete for 2019-20 (testing stopped in March 2020)'
    """
    def years(status: str) -> list[str]:
        return sorted(report.filter(pl.col("data_status") == status)
                      .get_column("school_year").unique().to_list())

    parts = []
    if partial := years("partial"):
        parts.append(f"{DATA_STATUS_NAMES['partial'].lower()} for {', '.join(partial)} "
                     "(may change until the final release)")
    if incomplete := years("incomplete"):
        parts.append(f"incomplete for {', '.join(incomplete)} ("
                     + "; ".join(INCOMPLETE_YEARS[y] for y in incomplete) + ")")
    return "Data: " + ("; ".join(parts) if parts else DATA_STATUS_NAMES["final"].lower())


def org_names(report: pl.DataFrame) -> pl.Series:
    """Each row's organisation name, with its CDS code where two organisations share a name.

    Two schools, or two student groups of different schools ("Period 3"), can have one name;
    a chart would draw them as one bar. A student group's code is its school's.
    """
    keys = ["org_level", "county_code", "lea_code", "school_code"]
    shared = pl.struct(keys).n_unique().over("name") > 1
    code = pl.when(pl.col("org_level") == "group").then(
        pl.format("group, {}", "cds_code")).otherwise(pl.col("cds_code"))
    return report.select(pl.when(shared).then(pl.format("{} ({})", "name", code))
                         .otherwise(pl.col("name")).alias("name")).to_series()


def row_labels(report: pl.DataFrame) -> list[str]:
    """One label per row from the parts that differ between rows (organisation, group...)."""
    if report.height:
        report = report.with_columns(org_names(report))
    parts = [c for c in ("name", "row_label", "grade_name", "school_year")
             if report.get_column(c).n_unique() > 1] or ["name"]
    return [" · ".join(str(v) for v in row) for row in report.select(parts).iter_rows()]
