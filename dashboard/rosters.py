"""Student groups (rosters) in the dashboard: what the pages show of them, and report choices.

The Student groups page's tables, the custom report's group choices, and the sentences a
refusal becomes; the actions (button callbacks) are in ``dashboard.roster_actions``. Groups are
read through ``queries.rosters``, which applies the user's scope (a teacher sees only their own
groups); this module shapes what it returns. Nothing here is logged: group names and SSIDs
are student data.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from dashboard import auditing, cached
from data.catalog.accounts import ROLES, Accounts
from data.catalog.rosters import COLUMNS, Rosters, split_group_key
from data.problems import InputError
from queries.rosters import group_students, visible_groups

if TYPE_CHECKING:
    from dashboard.context import PageContext
    from data.results.store import Store
    from queries.scope import Scope
    from queries.snapshot import Snapshot

GROUP_COLUMNS: dict[str, Any] = {
    "name": st.column_config.TextColumn("Group", pinned=True),
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
TEMPLATE = ",".join(COLUMNS) + "\r\n"
"""The upload's header row: a template to fill in a spreadsheet."""
_FIELDS = {"ssid": "SSID", "school_cds": "School", "user_email": "User", "name": "Name"}


def is_admin(scope: Scope) -> bool:
    """Whether the scope manages groups: uploads, assignments and deletion.

    Whole organisations with student records (a state, LEA or site administrator, a local
    install): ``queries.rosters`` allows these only to scopes that list no SSIDs.
    """
    return scope.pii and scope.ssids is None


def parse_ssids(text: str) -> list[str]:
    r"""SSIDs pasted one a line or separated by commas, semicolons or spaces, each once.

    Examples
    --------
    >>> parse_ssids("1014222837, 1014222861\n 1014222837;12ab")
    ['1014222837', '1014222861', '12ab']
    """
    return list(dict.fromkeys(t for t in re.split(r"[\s,;]+", text) if t))


def sentence(text: str) -> str:
    """A query-layer message as a sentence: capital first, full stop last."""
    text = text.strip()
    text = f"{text[:1].upper()}{text[1:]}"
    return text if text.endswith((".", "!", "?")) else f"{text}."


def refusal(exc: Exception) -> str:
    """Why a group was not made, as Markdown: a sentence, then each bad SSID and its reason.

    ``Rosters.create`` lists every problem as ``field value: reason``, joined by ``; ``.
    """
    text = str(exc)
    lead = "the group was not made: "
    if not text.startswith(lead):
        return sentence(f"the group was not made: {text}" if isinstance(exc, InputError)
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
    return (f"The group was not made: {what}. Nothing was saved; fix these and try again.\n\n"
            + "\n".join(f"- {line}" for line in lines))


def school_names(snap: Snapshot) -> dict[str, str]:
    """Every school's name in the store (the latest year's), by CDS code."""
    schools = snap.orgs_of(snap.years).filter(pl.col("org_level") == "school")
    return dict(schools.select("school_code", "name").iter_rows())


def school_leas(snap: Snapshot) -> dict[str, str]:
    """Every school's LEA (the latest year's), by CDS code."""
    schools = snap.orgs_of(snap.years).filter(pl.col("org_level") == "school")
    return dict(schools.select("school_code", "lea_code").iter_rows())


def listed_groups(store: Store, scope: Scope, names: dict[str, str]) -> pl.DataFrame:
    """The scope's groups (``visible_groups``) with their school's name, by school and name."""
    groups = visible_groups(store, scope)
    return groups.with_columns(
        pl.col("school_code").replace_strict(names, default="(school not in the store)",
                                             return_dtype=pl.String).alias("school_name"),
    ).sort("school_name", "name").select("key", *GROUP_COLUMNS)


def group_label(name: str, school: str, names: dict[str, str]) -> str:
    """``Period 3 (Carver Middle)``: a group as pickers show it."""
    return f"{name} ({names.get(school, school)})"


def group_choices(snap: Snapshot, scope: Scope) -> dict[str, str]:
    """The groups a scope may report on, key -> "name (school name)" (the report's level)."""
    names = school_names(snap)
    groups = listed_groups(snap.store, scope, names)
    return {k: group_label(n, s, names)
            for k, n, s in groups.select("key", "name", "school_code").iter_rows()}


def members(ctx: PageContext, key: str) -> tuple[pl.DataFrame, list[str]]:
    """A group's students as the Students page lists them, and its SSIDs not found in scope.

    Read with ``find_students`` (the user's scope applies) over the records of the group's
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


def area_accounts(store: Store, scope: Scope, leas_of: dict[str, str]
                  ) -> dict[str, str]:
    """Accounts in an administrator's area who see students: e-mail -> "Name (role)".

    Statewide, every such account; else those assigned to an LEA or school the scope covers.
    Aggregate-only viewers are left out: a group lists students they may not see.
    """
    out = {}
    listed = Accounts(store).list()
    for email, name, role, assignments in listed.select(
            "email", "name", "role", "assignments").iter_rows():
        if role == "viewer":
            continue
        pairs = [a.split(" ", 1) for a in assignments.split(", ") if " " in a]
        covered = scope.statewide or any(
            (kind == "lea" and scope.allows_lea(code[:2], code))
            or (kind == "school" and scope.allows_school(code[:2], leas_of.get(code, ""), code))
            or (kind == "county" and scope.allows_county(code))
            for kind, code in pairs)
        if covered:
            out[email] = f"{name} <{email}> ({ROLES.get(role, role)})"
    return out


def upload_history(store: Store, scope: Scope, leas_of: dict[str, str]) -> pl.DataFrame:
    """Group uploads this user may see: all statewide, else their area's accounts' and theirs."""
    history = Rosters(store).uploads()
    if scope.statewide:
        return history
    who = {auditing.who(), *area_accounts(store, scope, leas_of)}
    return history.filter(pl.col("uploaded_by").is_in(sorted(who)))
