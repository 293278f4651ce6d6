"""Write a generated year as TOMS writes it: caret-delimited files in the year's layout.

The demo writes one tested-LEA file per county and year: TOMS writes one per LEA in the same
layout, and a county file loads as all of its LEAs. Store-shaped columns are written through
the same ``to_layout`` the round-trip export uses (``data.toms.export``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data import domain
from data.domain import COUNTIES
from data.synth.frame import YearRecords
from data.toms.export import to_layout
from data.toms.layout import layout

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from data.toms.layout import Layout


def toms_file_name(lea_or_group: str, kind: str, spring: int) -> str:
    """A file name as TOMS writes it (the demo puts a county label where TOMS has a CDS code).

    Examples
    --------
    >>> toms_file_name("19647330000000", "Tested", 2025)[:40]
    '19647330000000_Summative_ELPAC_and_Summa'
    """
    return (f"{lea_or_group}_Summative_ELPAC_and_Summative_Alternate_ELPAC_Student_Score_Data_"
            f"File_{kind}StudentScoreData_{spring}_DLMTR.CSV")


RECORD_TYPE_WRITTEN = {"2019-20": "SE"}
"""Layouts whose files write a letter code for every record type, as the real sample of that year
does (2019-20: ``SE``, every record Summative, ELPAC.md §2; the ingest reads it back as 21)."""


def write_toms_files(records: pl.DataFrame | YearRecords, year: str, directory: Path
                     ) -> list[Path]:
    """Write a year's records as caret-delimited tested-LEA files, one per county.

    ``records`` is the year's store-shaped rows, or its drawn records (``YearRecords``), which
    are built a county at a time: a county's rows are dropped once its file is written.
    """
    spring = domain.spring_year(year)
    lay = layout(year)
    paths: list[Path] = []
    if isinstance(records, YearRecords):
        for code in records.counties():
            paths.append(_write_county(records.parts(code), code, lay, spring, directory))
        return paths
    county = records.get_column("tested_district_code").str.slice(0, 2)
    for code in sorted(set(county.to_list())):
        paths.append(_write_county([records.filter(county == code)], code, lay, spring,
                                   directory))
    return paths


def _write_county(parts: Iterable[pl.DataFrame], code: str, lay: Layout, spring: int,
                  directory: Path) -> Path:
    """Write one county's file from its rows, a part after another (the header once)."""
    name = COUNTIES[int(code) - 1].replace(" ", "")
    path = directory / toms_file_name(f"County{code}{name}", "Tested", spring)
    with path.open("wb") as out:
        for i, part in enumerate(parts):
            extras = {c.removeprefix("x:"): pl.col(c) for c in part.columns
                      if c.startswith("x:")}
            text = to_layout(part, lay, extras)
            if lay.year in RECORD_TYPE_WRITTEN:
                header = lay.headers[lay.canonical.index("RecordType")]
                text = text.with_columns(pl.lit(RECORD_TYPE_WRITTEN[lay.year]).alias(header))
            # TOMS files are not quoted; the generator never writes a caret inside a value.
            text.write_csv(out, include_header=i == 0, separator="^", quote_style="never",
                           null_value="")
    return path
