"""How the Reconcile with CDE page shows its cells: the status highlighted, the words beside."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from queries.reconcile import DIFFERS, STATUSES

if TYPE_CHECKING:
    import polars as pl

    from queries.reconcile import Reconciliation

FORMATS = (("csv", "Download CSV", "text/csv"),
           ("xlsx", "Download Excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
STYLED_ROWS = 5_000
"""Up to this many rows the differing cells are coloured; a longer table is shown plain
(styling every cell of a statewide table would take longer than reading it)."""
_HIGHLIGHT = "background-color: #fde2e1; color: #7a1410"
COLUMNS = {
    "county_code": st.column_config.TextColumn("County"),
    "district_code": st.column_config.TextColumn("District"),
    "school_code": st.column_config.TextColumn("School"),
    "org_level": st.column_config.TextColumn("Level"),
    "org_name": st.column_config.TextColumn("Organisation"),
    "student_group_id": st.column_config.TextColumn("StudentGroupID"),
    "grade": st.column_config.TextColumn("Grade"),
    "column": st.column_config.TextColumn("Research-file column"),
    "ours": st.column_config.TextColumn("Ours"),
    "published": st.column_config.TextColumn("Published"),
    "difference": st.column_config.NumberColumn("Ours − published"),
    "status": st.column_config.TextColumn("Status"),
    "note": st.column_config.TextColumn("Note", width="large"),
}


def caption(result: Reconciliation) -> str:
    """The counts of the other statuses and where the published numbers come from."""
    others = [f"{result.count(s):,} {s}" for s in STATUSES[2:] if result.count(s)]
    return ((", ".join(others).capitalize() + ". ") if others else "") + (
        f"Compared with what was {result.source}. Same means equal once ours is rounded as "
        "the file rounds (percents 2 decimals, means 1, counts exact).")


def show(table: pl.DataFrame) -> None:
    """The cells, the differing ones highlighted (a short table) and a status column."""
    if table.height == 0:
        st.success("Every compared cell is the same as the published file.",
                   icon=":material/check_circle:")
        return
    data = table.to_pandas()
    if table.height <= STYLED_ROWS:
        data = data.style.apply(
            lambda r: [_HIGHLIGHT if r["status"] == DIFFERS else ""] * len(r), axis=1)
    # The status first: the table is wider than a laptop screen.
    order = ["status", *(c for c in table.columns if c != "status")]
    st.dataframe(data, hide_index=True, key="reconcile_table", column_config=COLUMNS,
                 column_order=order, placeholder="—")
    st.caption(f"{table.height:,} {'cell' if table.height == 1 else 'cells'}. Click a column "
               "header to sort.")
