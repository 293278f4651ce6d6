"""The declarative layout: every yearly layout, its fields, and `elpac layout`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from data.toms.field_catalogue import FIELDS, field_for
from data.toms.layout import (
    LAYOUT_YEARS,
    all_layouts,
    extra_field_names,
    layout,
    layout_table,
    match_layout,
)
from elpac.cli import app

# Field counts: ELPAC.md §3.1 (343 in 2020-21, 369 in 2022-23, 370 in 2023-24, 376 in 2024-25),
# and the real 2018-19 (99), 2019-20 (293) and 2021-22 (370) files.
COUNTS = {"2018-19": 99, "2019-20": 293, "2020-21": 343, "2021-22": 370, "2022-23": 369,
          "2023-24": 370, "2024-25": 376}


@pytest.mark.parametrize("year", LAYOUT_YEARS)
def test_each_layout_has_its_field_count_and_ends_with_zz(year: str) -> None:
    lay = layout(year)
    assert len(lay.headers) == COUNTS[year]
    assert lay.canonical[-1] == "EndofRecord"
    assert lay.canonical[0] == "RecordType"
    named = [c for c in lay.canonical if c]
    assert len(named) == len(set(named)), "a canonical field appears twice"
    for c in named:
        field_for(c)  # every header maps to a described field


def test_layout_year_fallbacks() -> None:
    assert layout("2019-20").year == "2019-20"  # its own layout (issue 14), not 2020-21's
    assert layout("2025-26").year == "2024-25"
    with pytest.raises(KeyError):
        layout("2017-18")


def test_header_names_change_but_map_to_one_field() -> None:
    names = {lay.year: dict(zip(lay.canonical, lay.headers, strict=True)) for lay in all_layouts()}
    assert names["2018-19"]["SSID"] == "Statewide Student Identifier (SSID)"
    assert names["2021-22"]["EthnicityforTesting"] == "ReportingEthnicity"
    assert names["2024-25"]["EthnicityforTesting"] == "EthnicityforTesting"
    assert names["2020-21"]["SpecialEducationforTesting"] == "IDEAIndicatorforTesting"
    assert names["2023-24"]["SSRAvailableDate"] == "SSRAvailableDate"
    assert "SSRAvailableDate" not in names["2022-23"]


def test_headers_in_another_order_still_match() -> None:
    headers = list(layout("2024-25").headers)
    headers.reverse()
    lay, mapping, unknown = match_layout(headers)
    assert lay.year == "2024-25"
    assert unknown == []
    assert mapping["GradeAssessed"] == "GradeAssessed"


def test_unknown_headers_are_reported() -> None:
    headers = [*layout("2024-25").headers, "SomethingNew2026"]
    _, _, unknown = match_layout(headers)
    assert unknown == ["SomethingNew2026"]


def test_store_columns_are_unique() -> None:
    stores = [f.store for f in FIELDS.values() if f.store]
    assert len(stores) == len(set(stores))
    fallbacks = {f.fallback_for for f in FIELDS.values() if f.fallback_for}
    assert fallbacks <= set(stores)


def test_every_layout_field_is_stored_somewhere() -> None:
    extras = set(extra_field_names())
    for lay in all_layouts():
        for c in lay.canonical:
            if c is None or c == "EndofRecord":
                continue
            assert field_for(c).store or c in extras, c


def test_layout_table_gives_values_and_meanings() -> None:
    rows = layout_table("2024-25")
    assert len(rows) == 376
    by_field = {r["field"]: r for r in rows}
    assert by_field["OverallPL"]["store_column"] == "overall_level"
    assert "NS" in by_field["OverallScaleScore"]["acceptable_values"]
    assert "Yes" in by_field["MigrantStatus"]["acceptable_values"]
    assert all(r["meaning"] for r in rows)


def test_cli_prints_markdown_and_csv(tmp_path: Path) -> None:
    runner = CliRunner()
    md = runner.invoke(app, ["layout", "--year", "2021-22"])
    assert md.exit_code == 0
    assert "| 1 | `RecordType` |" in md.output
    assert "370 fields" in md.output
    out = tmp_path / "layout.csv"
    result = runner.invoke(app, ["layout", "--year", "2018-19", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 99
    assert rows[4]["header"] == "Statewide Student Identifier (SSID)"
    assert rows[4]["field"] == "SSID"


def test_cli_refuses_a_bad_year() -> None:
    result = CliRunner().invoke(app, ["layout", "--year", "2024"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
