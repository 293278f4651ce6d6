"""One rule makes every CSV and Excel cell safe to open in a spreadsheet (issue 15, finding 6)."""

from __future__ import annotations

import io

import polars as pl
import pytest

from data.cells import neutralise, neutralised
from queries.spreadsheets import csv_bytes

RISKY = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\uff1d1", "\uff0b1", "\uff0d1",
         "\uff20SUM(A1)"]


@pytest.mark.parametrize("value", RISKY)
def test_every_formula_start_is_neutralised_in_a_cell_and_in_a_file(value: str) -> None:
    assert neutralise(value) == "'" + value
    frame = pl.DataFrame({"name": [value], "n": [-1]})
    assert neutralised(frame).rows() == [("'" + value, -1)]  # a number stays a number
    read = pl.read_csv(io.BytesIO(csv_bytes(frame)), infer_schema=False)
    assert read.get_column("name").to_list() == ["'" + value]


@pytest.mark.parametrize("value", ["Smith", "Núñez", "1150", "", "a=b", " =x"])
def test_ordinary_text_is_left_alone(value: str) -> None:
    assert neutralise(value) == value
