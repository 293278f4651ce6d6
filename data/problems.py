"""Problems found in input: whole-file problems and row problems, reported without tracebacks."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ROW_PROBLEM_SCHEMA = {
    "file": pl.String,
    "sheet": pl.String,
    "row": pl.Int64,
    "field": pl.String,
    "value": pl.String,
    "reason": pl.String,
}
"""One rejected value per row: ``row`` is the line (or sheet row) a spreadsheet would show,
the header being row 1."""


class InputError(Exception):
    """Input that cannot be loaded, with a message that says what to do. Never a bug."""


@dataclass(frozen=True)
class FileProblem:
    """A problem with a whole file (unreadable, unknown layout, year not known...)."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def empty_row_problems() -> pl.DataFrame:
    """An empty frame with the row-problem schema."""
    return pl.DataFrame(schema=ROW_PROBLEM_SCHEMA)


def format_row_problem(row: dict[str, object]) -> str:
    """One line a person can act on: where, which field, what value, why."""
    where = f"{row['file']}"
    if row.get("sheet"):
        where += f" [{row['sheet']}]"
    value = row.get("value")
    shown = "(blank)" if value is None or value == "" else repr(value)
    return f"{where} row {row['row']}: {row['field']} = {shown}: {row['reason']}"
