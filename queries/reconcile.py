"""Our aggregates beside CDE's published research file, cell by cell (issue 12, item 3).

Ours are ``queries.research.research_rows`` (unsuppressed, the scope's organisations), the
published ones the current imported file (``queries.published``). Rows are matched on the
organisation (level and county, district, school codes), student group and grade; every
count, percent and mean cell gets a status:

* ``same``: equal once ours is rounded as the file rounds the cell (percents 2 decimals,
  means 1, counts exact; a cell the file writes with fewer decimals is compared at those);
* ``differs``: both have a value and they are not equal (or only one has a value);
* ``suppressed by CDE``: the file shows ``*`` (or blank) where we have a number (groups under
  11, ELPAC.md §5.1): not a difference;
* ``suppressed for your account``: an aggregate-only account sees ``*`` in our small cells;
* ``only in our store`` / ``only in the published file``: the row is on one side only.

``note`` gives a reason only where one can be known from the data (TK from 2024-25, our data
being partial, CDE's suppression); other differences (late score corrections, students who
moved after the state's file was made) cannot be told apart here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import polars as pl

from data.domain import spring_year
from queries.labels import SUPPRESSED
from queries.published import LEVEL_COLUMN, SOURCE_COLUMN, published_rows
from queries.research import STATUS_COLUMN, research_columns, research_rows
from queries.scope import ScopeError
from queries.spreadsheets import csv_bytes, spreadsheet_safe

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot

STATUSES = ("same", "differs", "suppressed by CDE", "suppressed for your account",
            "only in our store", "only in the published file")
SAME = "same"
DIFFERS = "differs"
CELL_SCHEMA = {
    "county_code": pl.String, "district_code": pl.String, "school_code": pl.String,
    "org_level": pl.String, "org_name": pl.String, "student_group_id": pl.String,
    "grade": pl.String, "column": pl.String, "ours": pl.String, "published": pl.String,
    "difference": pl.Float64, "status": pl.String, "note": pl.String}
"""One row per compared cell: the keys, the research-file column, both values as the file
writes them, ours minus published, the status and a note."""
_ORG = ["org_level", "CountyCode", "DistrictCode", "SchoolCode"]
_KEYS = [*_ORG, "StudentGroupID", "Grade"]
_LEVELS = {"04": "state", "03": "county", "02": "lea", "09": "lea", "01": "school",
           "10": "school"}
_LEVEL_ORDER = {"state": 0, "county": 1, "lea": 2, "school": 3}
_EMPTY = ("", SUPPRESSED)
TK_NOTE = ("from 2024-25 the state's kindergarten leaves out transitional-kindergarten "
           "students (ELPAC.md §5.5)")
PARTIAL_NOTE = "our data for this organisation is partial: not every file of the year is loaded"
SUPPRESSED_NOTE = "CDE shows * for groups under 11 students tested (ELPAC.md §5.1)"
MISSING_ORG_NOTE = "our store has no records of this organisation for the year"


@dataclass(frozen=True)
class Reconciliation:
    """The compared rows of one year and test, and where the published numbers came from.

    ``wide`` has one row per row key (on either side, in file order) with, for each value
    column ``c``, ours (``o:c``), the published value (``p:c``) and the status's index in
    ``STATUSES`` (``s:c``); ``table`` turns the cells asked for into one row per cell
    (``CELL_SCHEMA``). Wide until then: a statewide file has a million rows of 61 cells.
    """

    year: str
    test: str
    source: str
    wide: pl.DataFrame
    columns: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        """Row keys compared (organisation x student group x grade, on either side)."""
        return self.wide.height

    @property
    def n_cells(self) -> int:
        """Cells compared."""
        return self.wide.height * len(self.columns)

    @cached_property
    def counts(self) -> dict[str, int]:
        """How many cells have each status."""
        if not self.columns or self.wide.height == 0:
            return dict.fromkeys(STATUSES, 0)
        sums = self.wide.select(
            pl.sum_horizontal(pl.col(f"s:{c}").eq(k).sum() for c in self.columns).alias(s)
            for k, s in enumerate(STATUSES))
        return {s: int(sums.item(0, s)) for s in STATUSES}

    def count(self, status: str) -> int:
        """Cells with a status."""
        return self.counts[status]

    @property
    def n_differ(self) -> int:
        """Cells whose values differ (status ``differs``)."""
        return self.count(DIFFERS)

    def summary(self) -> str:
        """One line: rows compared, cells compared, cells that differ, then the others."""
        others = [f"{self.count(s):,} {s}" for s in STATUSES[2:] if self.count(s)]
        return (f"rows compared: {self.n_rows:,}, cells compared: {self.n_cells:,}, "
                f"cells that differ: {self.n_differ:,}"
                + (f" ({', '.join(others)})" if others else "")
                + f"; {self.year} {self.test} against {self.source}")

    def table(self, *, all_cells: bool = False) -> pl.DataFrame:
        """The cells to show or export: those not ``same`` (every cell with ``all_cells``)."""
        return _cells(self.wide, self.columns, year=self.year, all_cells=all_cells)

    @cached_property
    def cells(self) -> pl.DataFrame:
        """Every compared cell, one row each (``CELL_SCHEMA``)."""
        return self.table(all_cells=True)


def reconcile(snap: Snapshot, *, year: str, test: str = "summative", scope: Scope,
              lea: str | None = None) -> Reconciliation:
    """Our research rows and the published ones for the organisations of a scope, cell by cell.

    A statewide scope compares every organisation unless ``lea`` narrows it to an LEA and its
    schools; another scope compares one of its LEAs (its only one by default). An account
    limited to some students (a teacher's rosters) cannot: its numbers are not the
    organisation's. Raises ``ScopeError`` or ``ValueError`` with a sentence.
    """
    if scope.ssids is not None:
        raise ScopeError("reconciling compares whole organisations; your account sees only "
                         "some students")
    if lea is None and not scope.statewide and len(scope.leas) == 1 and not scope.counties:
        lea = scope.leas[0]
    published = published_rows(snap, year, test)
    source = published.get_column(SOURCE_COLUMN).head(1).to_list()
    ours = research_rows(snap, year=year, test=test, scope=scope, lea=lea, suppress=False)
    if lea is not None:
        published = _of_lea(published, lea)
    if not scope.all_students:
        published = published.filter(pl.col("StudentGroupID").is_in(list(scope.groups)))
    columns = tuple(research_columns(test)[9:])
    wide = _compare(ours, published, columns)
    wide = wide.join(_names(snap, year), on=_ORG, how="left", maintain_order="left")
    wide = _ordered(wide.with_columns(pl.coalesce("org_name", "published_name")
                                      .alias("org_name")))
    return Reconciliation(year, test, source[0] if source else "published by CDE", wide,
                          columns)


def _of_lea(published: pl.DataFrame, lea: str) -> pl.DataFrame:
    """An LEA's own row and its schools' rows of a published file.

    A direct-funded charter is an LEA whose code has a school part (ELPAC.md §5.4): it is its
    own only school, and a district's schools leave it out.
    """
    cds = pl.col("CountyCode") + pl.col("DistrictCode") + pl.col("SchoolCode")
    level = pl.col(LEVEL_COLUMN)
    if lea[7:] != "0000000":
        return published.filter(cds == lea)
    charters = published.filter((level == "lea") & (pl.col("SchoolCode") != "0000000"))
    charter_codes = (charters.get_column("CountyCode") + charters.get_column("DistrictCode")
                     + charters.get_column("SchoolCode")).unique().to_list()
    return published.filter(((level == "lea") & (cds == lea))
                            | ((level == "school")
                               & ((pl.col("CountyCode") + pl.col("DistrictCode")) == lea[:7])
                               & ~cds.is_in(charter_codes)))


def _side(rows: pl.DataFrame, columns: tuple[str, ...], prefix: str,
          extra: list[pl.Expr]) -> pl.DataFrame:
    return rows.with_columns(pl.col("TypeID").replace_strict(_LEVELS, default=None)
                             .alias("org_level")).select(
        *_KEYS, *extra, *(pl.col(c).alias(f"{prefix}:{c}") for c in columns),
        pl.lit(value=True).alias(f"_in_{prefix}"))


def _status(column: str) -> pl.Expr:
    """The index in ``STATUSES`` of each row's cell of ``column``."""
    o, p = pl.col(f"o:{column}"), pl.col(f"p:{column}")
    in_ours, in_pub = pl.col("_in_o"), pl.col("_in_p")
    ours_empty, pub_empty = o.is_null() | o.is_in(_EMPTY), p.is_null() | (p == "")
    # Round ours to the decimals the file wrote the cell with (half up, as research rows are).
    decimals = pl.when(p.str.contains(r"\.")).then(
        p.str.split(".").list.last().str.len_chars()).otherwise(0)
    scale = pl.lit(10.0).pow(decimals)
    rounded = (o.cast(pl.Float64, strict=False) * scale + 0.5 + 1e-9).floor() / scale
    equal = (rounded - p.cast(pl.Float64, strict=False)).abs() < 1e-9
    code = {s: pl.lit(k, pl.UInt8) for k, s in enumerate(STATUSES)}
    return (pl.when(~in_pub).then(code["only in our store"])
            .when(~in_ours).then(code["only in the published file"])
            .when(o == SUPPRESSED).then(pl.when(pub_empty).then(code[SAME])
                                        .otherwise(code["suppressed for your account"]))
            .when(pub_empty).then(pl.when(ours_empty).then(code[SAME])
                                  .otherwise(code["suppressed by CDE"]))
            .when(ours_empty).then(code[DIFFERS])
            .when(equal).then(code[SAME]).otherwise(code[DIFFERS])).alias(f"s:{column}")


def _compare(ours: pl.DataFrame, published: pl.DataFrame,
             columns: tuple[str, ...]) -> pl.DataFrame:
    """One row per row key on either side: both sides' cells and each cell's status."""
    name = pl.when(pl.col("TypeID").replace_strict(_LEVELS, default=None) == "school").then(
        pl.col("SchoolName")).otherwise(pl.col("DistrictName")).alias("published_name")
    left = _side(ours, columns, "o", [pl.col(STATUS_COLUMN)])
    right = _side(published, columns, "p", [name])
    wide = left.join(right, on=_KEYS, how="full", coalesce=True).with_columns(
        pl.col("_in_o").fill_null(value=False), pl.col("_in_p").fill_null(value=False))
    # Whether our store has the organisation at all (for "only in the published file").
    present = left.select(_ORG).unique().with_columns(pl.lit(value=True).alias("_org_in_ours"))
    wide = wide.join(present, on=_ORG, how="left").with_columns(
        pl.col("_org_in_ours").fill_null(value=False))
    return wide.with_columns(_status(c) for c in columns)


def _cells(wide: pl.DataFrame, columns: tuple[str, ...], *, year: str,
           all_cells: bool) -> pl.DataFrame:
    """One row per cell of ``wide`` (those not ``same`` unless ``all_cells``), in file order."""
    if not all_cells and columns:
        wide = wide.filter(pl.any_horizontal(pl.col(f"s:{c}") != 0 for c in columns))
    wide = wide.with_row_index("_i")
    keys = [pl.col("CountyCode").alias("county_code"),
            pl.col("DistrictCode").alias("district_code"),
            pl.col("SchoolCode").alias("school_code"), "org_level", "org_name",
            pl.col("StudentGroupID").alias("student_group_id"), pl.col("Grade").alias("grade")]
    parts = [wide.select("_i", pl.lit(k, pl.UInt16).alias("_k"), *keys,
                         pl.lit(c).alias("column"), pl.col(f"o:{c}").alias("ours"),
                         pl.col(f"p:{c}").alias("published"), pl.col(f"s:{c}").alias("_s"),
                         STATUS_COLUMN, "_org_in_ours")
             for k, c in enumerate(columns)]
    if not parts:
        return pl.DataFrame(schema=CELL_SCHEMA)
    cells = pl.concat(parts)
    if not all_cells:
        cells = cells.filter(pl.col("_s") != 0)
    status = pl.col("_s").replace_strict(dict(enumerate(STATUSES)), return_dtype=pl.String)
    kn_tk = spring_year(year) >= 2025  # ELPAC.md §5.5: KN excludes TK from 2024-25
    note = (pl.when(pl.col("status") == "suppressed by CDE").then(pl.lit(SUPPRESSED_NOTE))
            .when(pl.col("status") == "only in the published file").then(
                pl.when(pl.col("_org_in_ours")).then(pl.lit("")).otherwise(
                    pl.lit(MISSING_ORG_NOTE)))
            .when(pl.col("status") == SAME).then(pl.lit(""))
            .when((pl.col("grade") == "KN") & pl.lit(kn_tk)).then(pl.lit(TK_NOTE))
            .when(pl.col(STATUS_COLUMN) == "partial").then(pl.lit(PARTIAL_NOTE))
            .otherwise(pl.lit("")))
    return (cells.sort("_i", "_k")
            .with_columns(status.alias("status"),
                          (pl.col("ours").cast(pl.Float64, strict=False)
                           - pl.col("published").cast(pl.Float64, strict=False))
                          .alias("difference"))
            .with_columns(note.alias("note"))
            .select(list(CELL_SCHEMA)).cast(CELL_SCHEMA))  # type: ignore[arg-type]


def _names(snap: Snapshot, year: str) -> pl.DataFrame:
    orgs = snap.orgs_of([year])
    code = pl.when(pl.col("org_level") == "school").then(pl.col("school_code")).when(
        pl.col("org_level") == "lea").then(pl.col("lea_code")).otherwise(
        pl.col("county_code") + pl.lit("0" * 12))
    return orgs.select("org_level", code.alias("_cds"), pl.col("name").alias("org_name")
                       ).select("org_level", pl.col("_cds").str.slice(0, 2).alias("CountyCode"),
                                pl.col("_cds").str.slice(2, 5).alias("DistrictCode"),
                                pl.col("_cds").str.slice(7, 7).alias("SchoolCode"),
                                "org_name").unique(["org_level", "CountyCode", "DistrictCode",
                                                    "SchoolCode"], keep="first")


def _ordered(wide: pl.DataFrame) -> pl.DataFrame:
    grades = {g: i for i, g in enumerate(["KN", *(f"{k:02d}" for k in range(1, 14))])}
    return wide.sort(pl.col("org_level").replace_strict(_LEVEL_ORDER, default=9),
                     "CountyCode", "DistrictCode", "SchoolCode", "StudentGroupID",
                     pl.col("Grade").replace_strict(grades, default=99))


XLSX_MAX_CELLS = 200_000
"""Compared cells an Excel file holds at most (one row each). Every cell of a statewide file is
61 million rows, past Excel's 1,048,576 (xlsxwriter leaves the rest out without a word), and
even 760,000 take minutes and gigabytes to write: beyond this, CSV."""


def xlsx_refusal(n_cells: int) -> str | None:
    """Why these cells cannot go in an Excel file, or None when they can."""
    if n_cells <= XLSX_MAX_CELLS:
        return None
    return (f"{n_cells:,} cells are more than an Excel file here holds ({XLSX_MAX_CELLS:,}): "
            "choose CSV, the differences only, or one LEA")


def reconcile_file(result: Reconciliation, fmt: str, *, all_cells: bool = False) -> bytes:
    """The cells to export as a CSV (``queries.spreadsheets.csv_bytes``) or an Excel file.

    The Excel file has the cells, then an ``About`` sheet with the summary line. Raises
    ``ValueError`` for Excel beyond ``XLSX_MAX_CELLS`` cells.
    """
    table = result.table(all_cells=all_cells)
    if fmt == "csv":
        return csv_bytes(table)
    if fmt != "xlsx":
        raise ValueError(f"format must be csv or xlsx, not {fmt!r}")
    refusal = xlsx_refusal(table.height)
    if refusal:
        raise ValueError(refusal)
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    header = workbook.add_format({"bold": True})
    differs = workbook.add_format({"bg_color": "#FDE2E1"})
    sheet = workbook.add_worksheet("Reconcile")
    safe = spreadsheet_safe(table)
    sheet.write_row(0, 0, safe.columns, header)
    sheet.freeze_panes(1, 0)
    status_at = safe.columns.index("status")
    for r, row in enumerate(safe.iter_rows(), start=1):
        fmt_row = differs if row[status_at] == DIFFERS else None
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value, fmt_row)
    sheet.autofilter(0, 0, max(safe.height, 1), len(safe.columns) - 1)
    about = workbook.add_worksheet("About")
    about.write(0, 0, result.summary())
    workbook.close()
    return buffer.getvalue()
