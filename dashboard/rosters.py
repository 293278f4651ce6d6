"""Rosters in the dashboard: what the pages show of them, and the Custom report's choices.

The Rosters page's tables, the custom report's roster choices, and the sentences a refusal
becomes; the page's modes are drawn by ``dashboard.roster_views`` and the actions (button
callbacks) are in ``dashboard.roster_actions``. Rosters are read through ``queries.rosters``,
which applies the user's scope (a teacher sees only their own rosters); this module shapes
what it returns. Nothing here is logged: roster names and SSIDs are student data.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from dashboard import cached
from queries.errors import InputError, as_sentence
from queries.rosters import group_students, split_group_key, visible_groups

if TYPE_CHECKING:
    from dashboard.context import PageContext
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.store import Store

ROSTER_COLUMNS: dict[str, Any] = {
    "name": st.column_config.TextColumn("Roster", pinned=True),
    "school_name": "School", "school_code": "School CDS code",
    "n_students": st.column_config.NumberColumn("Students", format="localized"),
    "users": "Assigned to", "created_by": "Made by",
}
PROBLEM_COLUMNS: dict[str, Any] = {
    "row": st.column_config.NumberColumn("Row", format="%d"), "field": "Column",
    "value": "Value", "reason": "Problem",
}
UPLOAD_COLUMNS: dict[str, Any] = {
    "uploaded_at": st.column_config.DatetimeColumn("Uploaded", format="YYYY-MM-DD HH:mm"),
    "uploaded_by": "By", "file_name": "File",
    "n_rows": st.column_config.NumberColumn("Rows", format="localized"),
    "n_problems": st.column_config.NumberColumn("Problems", format="localized"),
    "loaded": st.column_config.CheckboxColumn("Loaded"),
}
_FIELDS = {"ssid": "SSID", "school_cds": "School", "user_email": "User", "name": "Name"}


def parse_ssids(text: str) -> list[str]:
    r"""SSIDs pasted one a line or separated by commas, semicolons or spaces, each once.

    Examples
    --------
    >>> parse_ssids("1014222837, 1014222861\n 1014222837;12ab")
    ['1014222837', '1014222861', '12ab']
    """
    return list(dict.fromkeys(t for t in re.split(r"[\s,;]+", text) if t))


def refusal(exc: Exception) -> str:
    """Why a roster was not made, as Markdown: a sentence, then each bad SSID and its reason.

    ``queries.rosters.create_group`` lists every problem as ``field value: reason``, joined
    by ``; ``, after "the group was not made: " (the catalog's words).
    """
    text = str(exc)
    lead = "the group was not made: "
    if not text.startswith(lead):
        return as_sentence(f"the roster was not made: {text}" if isinstance(exc, InputError)
                           else text)
    lines = []
    for item in text[len(lead):].split("; "):
        found = re.fullmatch(r"(\w+) (.*?): (.+)", item)
        if found is None:
            lines.append(item)
            continue
        field, value, reason = found.groups()
        lines.append(f"{_FIELDS.get(field, field)} `{value}`: {reason}")
    count = sum(line.startswith("SSID ") for line in lines)
    what = (f"{count} of the SSIDs cannot be in it" if count else "some entries are wrong")
    return (f"The roster was not made: {what}. Nothing was saved; fix these and try again.\n\n"
            + "\n".join(f"- {line}" for line in lines))


def school_names(snap: Snapshot) -> dict[str, str]:
    """Every school's name in the store (the latest year's), by CDS code."""
    schools = snap.orgs_of(snap.years).filter(pl.col("org_level") == "school")
    return dict(schools.select("school_code", "name").iter_rows())


def school_leas(snap: Snapshot) -> dict[str, str]:
    """Every school's LEA (the latest year's), by CDS code."""
    schools = snap.orgs_of(snap.years).filter(pl.col("org_level") == "school")
    return dict(schools.select("school_code", "lea_code").iter_rows())


def listed_rosters(store: Store, scope: Scope, names: dict[str, str]) -> pl.DataFrame:
    """The scope's rosters (``visible_groups``) with their school's name, by school and name."""
    rosters = visible_groups(store, scope)
    return rosters.with_columns(
        pl.col("school_code").replace_strict(names, default="(school not in the store)",
                                             return_dtype=pl.String).alias("school_name"),
    ).sort("school_name", "name").select("key", *ROSTER_COLUMNS)


def roster_label(name: str, school: str, names: dict[str, str]) -> str:
    """``Period 3 (Carver Middle)``: a roster as pickers show it."""
    return f"{name} ({names.get(school, school)})"


def roster_choices(snap: Snapshot, scope: Scope) -> dict[str, str]:
    """The rosters a scope may report on, key -> "name (school name)" (the report's level)."""
    names = school_names(snap)
    rosters = listed_rosters(snap.store, scope, names)
    return {k: roster_label(n, s, names)
            for k, n, s in rosters.select("key", "name", "school_code").iter_rows()}


def members(ctx: PageContext, key: str) -> tuple[pl.DataFrame, list[str]]:
    """A roster's students as the Students page lists them, and its SSIDs not found in scope.

    Read with ``find_students`` (the user's scope applies) over the records of the roster's
    school, each student's latest; a student who left the school or the store is "not found".
    """
    ssids = group_students(cached.store(), ctx.scope, [key])[key]
    _, school = split_group_key(key)
    lea = school_leas(ctx.snap).get(school)
    if lea is None:
        return pl.DataFrame(), ssids
    found = cached.students(ctx.path, ctx.version, ctx.scope, lea=lea, school=school,
                            limit=1_000_000)
    found = found.filter(pl.col("ssid").is_in(ssids))
    return found, sorted(set(ssids) - set(found.get_column("ssid")))
