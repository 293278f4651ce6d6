"""Rules every page keeps: no ``None`` in a table, one date format (issue 12, item 6).

Streamlit writes a missing value as the text "None" unless the table says otherwise, and a
date input shows ``YYYY/MM/DD`` by default; pages had both, beside dates written "June 1,
2026". These checks read the dashboard's source, so a new table or date input that forgets
is caught before a user sees it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
SOURCES = sorted(DASHBOARD.rglob("*.py"))


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == name):
                found.append((path, node))
    return found


def _keyword(call: ast.Call, name: str) -> object:
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def test_every_table_says_what_a_missing_value_shows() -> None:
    tables = _calls("dataframe")
    assert len(tables) > 20
    missing = [f"{p.name}:{c.lineno}" for p, c in tables if _keyword(c, "placeholder") != "—"]
    assert not missing, f"st.dataframe without placeholder='—': {missing}"


def test_every_date_input_and_date_column_is_iso() -> None:
    inputs = _calls("date_input") + _calls("DateColumn") + _calls("DatetimeColumn")
    assert len(inputs) > 5
    wrong = [f"{p.name}:{c.lineno}" for p, c in inputs
             if not str(_keyword(c, "format") or "").startswith("YYYY-MM-DD")]
    assert not wrong, f"dates not shown as YYYY-MM-DD: {wrong}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_month_names_in_dates(path: Path) -> None:
    # %B / %b write "June 1, 2026"; every page writes 2026-06-01.
    text = path.read_text(encoding="utf-8")
    assert "%B" not in text
    assert "%b " not in text


def test_headings_go_down_one_level_at_a_time_and_are_not_links() -> None:
    # A page's title is h1 and its sections h2 (st.header): an st.subheader (h3) under an h1
    # skips a level for screen readers; each heading's "link" anchor came first in the tab
    # order, so headings carry none.
    assert not _calls("subheader")
    titles = [(p, c) for p, c in _calls("title") if isinstance(c.func.value, ast.Name)
              and c.func.value.id == "st"]  # st.title, not str.title
    headings = titles + _calls("header")
    assert len(headings) > 15
    linked = [f"{p.name}:{c.lineno}" for p, c in headings if _keyword(c, "anchor") is not False]
    assert not linked, f"headings with a link anchor: {linked}"
