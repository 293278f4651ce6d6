"""What the At a glance page shows, worked out from query results; one section drawn here.

The section is Reaching parents (:func:`reaching_parents`, which has no widget). Kept apart
from the page so the page reads top to bottom and these pieces can be tested on their own.
Every figure comes from ``queries`` (through ``dashboard.cached`` where cached).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.chart_labels import BLUES
from dashboard.charts import level_bars_html
from dashboard.context import STATE
from queries.labels import GRADES, TESTS, level_names, year_note
from queries.spec import ReportSpec
from queries.ssr_delivery import read_coverage, total_coverage

if TYPE_CHECKING:
    from dashboard.context import PageContext

FIRST_DATED_YEAR = "2023-24"
"""The first school year whose files give each SSR's release date (ELPAC.md, field 61)."""
SSR_BREAKDOWNS = {"lea": "LEA", "school": "School", "grade": "Grade",
                  "language": "Language"}
REACHED = (("Released", "n_released", "SSRs released by today."),
           ("Delivered", "n_delivered", "A delivery recorded (portal, e-mail, mail or in "
            "person) and nothing came back since."),
           ("Bounced or returned", "n_failed", "An e-mail bounced or a letter came back, and "
            "the family has not been reached since."),
           ("Not yet delivered", "n_not_delivered", "Released, with no delivery recorded."))
"""The Reaching parents figures: label, coverage column, what it counts."""
CHART_ROWS = 30
"""At most this many bars: a large LEA has hundreds of schools; the table lists them all."""
SSR_COLUMNS = {
    "name": st.column_config.TextColumn("Organisation"),
    "cds_code": st.column_config.TextColumn("CDS code"),
    "grade_name": st.column_config.TextColumn("Grade"),
    "language": st.column_config.TextColumn("SSR languages"),
    "n_eligible": st.column_config.NumberColumn("Students with an SSR", format="localized"),
    "n_released": st.column_config.NumberColumn("SSRs released", format="localized"),
    "pct_released": st.column_config.ProgressColumn("Percent released", format="%.1f%%",
                                                    min_value=0, max_value=100),
}
def level_display(levels: pl.DataFrame) -> pl.DataFrame:
    """``level_table`` as the page shows it: headers in words, counts and percents as text.

    Shown with ``st.table``, a plain HTML table: the interactive grid's code would hold back
    the page's first paint by most of a second for a two-row table (benchmarks/dashboard.py).
    Formatted in Python, not with a Polars ``map_elements``: a Python function inside Polars'
    thread pool deadlocked twenty sessions drawing the page at once.
    """
    names = levels.columns[2:]
    rows = [[year, f"{n:,}", *("–" if p is None else f"{p:.1f}%" for p in pcts)]
            for year, n, *pcts in levels.iter_rows()]
    return pl.DataFrame(rows, schema=["School year", "Tested with scores", *names],
                        orient="row")


def partial_banner(ctx: PageContext) -> str | None:
    """A sentence when the chosen year's results are still partial or incomplete, else None."""
    if incomplete := year_note(ctx.year):
        return incomplete
    if ctx.lea == STATE:
        final = ctx.snap.year_status.get(ctx.year) == "final"
    else:
        final = ctx.snap.lea_final.get((ctx.year, ctx.lea_code), False)
    if final:
        return None
    as_of = ctx.snap.as_of()
    when = f" as of {as_of:%Y-%m-%d}" if as_of else ""
    return (f"{ctx.year} results are partial{when}: testing and scoring are still going on, "
            "so counts will grow until the final file after the testing window closes.")


def default_as_of(ctx: PageContext) -> date:
    """The date of the newest Student Score Data File in the store (else today)."""
    return ctx.snap.as_of() or date.today()


def ssr_metrics(total: pl.DataFrame, year: str
                ) -> list[tuple[str, str, str | None, str]] | None:
    """The SSR widget's (label, value, "of" note, help); None when no student has an SSR."""
    if total.height == 0 or not total.item(0, "n_eligible"):
        return None
    row = total.row(0, named=True)
    eligible = ("Students with an SSR", f"{row['n_eligible']:,}", None,
                "Students with a complete test get an SSR (SSREligible Y).")
    if not row["has_release_dates"] and year < FIRST_DATED_YEAR:
        # Not "0 %": the files of these years do not say when SSRs were released.
        return [("SSRs released", "not recorded", None,
                 f"Student Score Data Files before {FIRST_DATED_YEAR} carry no SSR release "
                 "date (SSRAvailableDate)."), eligible]
    return [
        ("SSRs released", f"{row['pct_released']:.1f}%", None,
         "Released: the SSR's available date (SSRAvailableDate) is on or before the as-of "
         "date."),
        ("Students with a released SSR", f"{row['n_released']:,}",
         f"of {row['n_eligible']:,} with an SSR", eligible[3]),
        ("Second-language SSRs released", f"{row['n_primary_released']:,}",
         f"of {row['n_primary_eligible']:,} students with one",
         "Students whose primary language is Spanish, Vietnamese, Filipino, Korean or "
         "Chinese also get an SSR in that language."),
    ]


def ssr_table(parts: pl.DataFrame, by: str) -> pl.DataFrame:
    """One row per school, grade or language: eligible, released, percent released.

    Schools carry their CDS code: school names repeat across LEAs.
    """
    if by == "lea":
        return parts.sort("name", "lea_code").select(
            "name", pl.col("lea_code").alias("cds_code"), "n_eligible", "n_released",
            "pct_released")
    if by == "school":
        return parts.sort("name", "lea_code", "school_code").select(
            "name", pl.col("school_code").alias("cds_code"), "n_eligible", "n_released",
            "pct_released")
    if by == "grade":
        order = {g: i for i, g in enumerate(GRADES)}
        return parts.sort(pl.col("grade").replace_strict(order)).select(
            "grade_name", "n_eligible", "n_released", "pct_released")
    return parts.sort("n_eligible", descending=True).select(
        "language", "n_eligible", "n_released", "pct_released")


def ssr_breakdowns(ctx: PageContext) -> dict[str, str]:
    """Breakdowns offered: LEAs for the state, schools for an LEA; grade and language."""
    drop = "school" if ctx.lea == STATE else "lea"
    return {k: v for k, v in SSR_BREAKDOWNS.items() if k != drop}


def ssr_chart(table: pl.DataFrame, by: str) -> tuple[go.Figure, str | None]:
    """Percent of SSRs released per row of ``ssr_table`` as bars, and a note if cut short.

    Beyond ``CHART_ROWS`` rows the chart keeps those with the lowest percent released: the
    ones a coordinator follows up.
    """
    note = None
    if table.height > CHART_ROWS:
        table = table.sort("pct_released", nulls_last=True).head(CHART_ROWS)
        note = (f"The chart shows the {CHART_ROWS} with the lowest percent released; the "
                "table lists them all.")
    key = table.columns[0]
    labels = table.get_column(key).to_list()
    if "cds_code" in table.columns:
        labels = [f"{n} ({c})" for n, c in zip(labels, table["cds_code"], strict=True)]
    fig = go.Figure(go.Bar(
        y=labels, x=table.get_column("pct_released").to_list(),
        orientation="h", marker_color=BLUES[4][2],
        text=[f"{p:.0f}%" if p is not None else "" for p in table["pct_released"]],
        # Outside the bar at a fixed size: "auto" shrank the text to the bar (about 6 px).
        textposition="outside", textfont={"size": 14}, cliponaxis=False,
        customdata=table.select("n_released", "n_eligible").rows(),
        hovertemplate="%{y}: %{x:.1f}% (%{customdata[0]:,} of %{customdata[1]:,})"
                      "<extra></extra>"))
    fig.update_layout(title=f"SSRs released by {SSR_BREAKDOWNS[by].lower()}",
                      xaxis={"range": [0, 100], "ticksuffix": "%",
                             "tickvals": [0, 20, 40, 60, 80, 100]},
                      yaxis={"autorange": "reversed", "type": "category"},
                      # Room on the right for the 100% tick and a 100% bar's label.
                      height=max(240, 28 * table.height + 120), margin={"l": 10, "r": 50})
    return fig, note


def compared_years(ctx: PageContext) -> tuple[str, ...]:
    """The chosen year and the school year before it, when the store holds that one.

    An incomplete year before (2019-20, testing stopped in March 2020) is not compared with:
    it is shown only when chosen (``Snapshot.default_years``).
    """
    start = int(ctx.year[:4])
    previous = f"{start - 1}-{str(start)[2:]}"
    return (previous, ctx.year) if previous in ctx.snap.default_years else (ctx.year,)


def overall_spec(ctx: PageContext, test: str, years: tuple[str, ...]) -> ReportSpec:
    """All students, all grades, overall score: the sidebar's organisation, ``years``."""
    return ReportSpec(years=years, orgs=(ctx.lea,), org_level=ctx.org_level,  # type: ignore[arg-type]
                      test=test)


def year_rows(report: pl.DataFrame, years: tuple[str, ...]
              ) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    """The report's row for the chosen (last) year and for the year before, if present."""
    by_year = {r["school_year"]: r for r in report.iter_rows(named=True)}
    before = by_year.get(years[0]) if len(years) > 1 else None
    return by_year.get(years[-1]), before


def left_out_note(n: int) -> str:
    """Why these totals are fewer than the District/School export's rows: TK students."""
    records, verb = ("records", "are") if n != 1 else ("record", "is")
    return (f"{n:,} transitional kindergarten student {records} in the files {verb} not "
            "counted here: from 2024-25 the state's kindergarten results leave TK students "
            "out, as the CDE's public results do. The District/School export lists them "
            "(Transitional Kindergarten: Yes).")


def tested_metrics(now: dict[str, object], before: dict[str, object] | None
                   ) -> list[tuple[str, str, str | None, str]]:
    """(label, value, change against the year before, help) for enrolled, tested, scored."""
    out = []
    for label, column, note in (
            ("Students enrolled", "n_enrolled",
             "Students with a record for this test in the Student Score Data Files, tested "
             "or not; from 2024-25, transitional kindergarten students are not counted, as "
             "in the state's results."),
            ("Students tested", "n_tested", "Students administered the test (TestedStatus Y)."),
            ("Tested with scores", "n_scored",
             "Students with valid scores (IncludeIndicator Y): the level percentages' base.")):
        value = int(now[column] or 0)  # type: ignore[call-overload]
        delta = None
        if before is not None:
            change = value - int(before[column] or 0)  # type: ignore[call-overload]
            delta = f"{change:+,} on {before['school_year']}"
        out.append((label, f"{value:,}", delta, note))
    return out


def level_table(report: pl.DataFrame, test: str) -> pl.DataFrame:
    """Per school year: students with scores and the percent at each overall level."""
    names = level_names(test, "overall")
    return report.sort("school_year").select(
        "school_year", "n_scored",
        *(pl.col(f"overall_l{i}_pct").alias(name) for i, name in enumerate(names, 1)))


def level_chart(levels: pl.DataFrame, test: str) -> str:
    """CERS-style 100% stacked bars, one per school year, as HTML (``charts.level_bars_html``).

    Plain HTML, not Plotly, on the home page: it paints with the page's figures instead of a
    second later (README, Benchmarks). Every number is in ``level_table`` below it.
    """
    names = level_names(test, "overall")
    rows = [(str(row[0]), list(row[2:])) for row in levels.iter_rows()]
    return level_bars_html(rows, names, f"{TESTS[test]}: overall performance levels")


def reaching_parents(ctx: PageContext, test: str) -> None:
    """SSRs delivered, bounced or returned (``queries.ssr_delivery``), with a link to act.

    Student-level tracking: only for scopes with student records and no demographic limit.
    Years before 2023-24 carry no release date: nothing is "released", so nothing to follow
    up. Per LEA or school only: statewide it would read every student's record on each visit.
    """
    if not (ctx.scope.pii and ctx.scope.all_students and ctx.lea_code is not None
            and ctx.year >= FIRST_DATED_YEAR):
        return
    st.header("Reaching parents", anchor=False)
    # As of today, not the page's date: deliveries are recorded after the newest file.
    st.caption("As of today: SSRs released, and what the LEA recorded of getting them home.")
    # One query, by school; the LEA's figures are its sum.
    by_school = read_coverage(ctx.snap, scope=ctx.scope, year=ctx.year, test=test,
                              by="school", lea=ctx.lea_code,
                              school=ctx.lea if ctx.org_level == "school" else None)
    reached = total_coverage(by_school).row(0, named=True)
    for column, (label, key, note) in zip(st.columns(4), REACHED, strict=True):
        column.metric(label, f"{reached[key]:,}", help=note)
    if by_school.height > 1:
        with st.expander(f"By school ({by_school.height})"):
            # A static table: an interactive grid drawn this early slows the page's first
            # paint (README, benchmarks).
            st.table(by_school.sort("name").select(
                pl.col("name").alias("School"), pl.col("school_code").alias("CDS code"),
                *[pl.col(key).alias(label) for label, key, _ in REACHED],
                pl.col("pct_delivered").round(1).alias("Delivered (%)")), hide_index=True)
    st.page_link("app_pages/ssr_delivery.py", label="Record deliveries, see who is waiting",
                 icon=":material/outgoing_mail:")
