"""The custom report's query builder: widgets -> ``queries.spec.ReportSpec``.

Everything CERS's Custom Aggregate Report query page offers (``ReportSpec``): report type,
test, organisations in the user's scope, years, grades, completeness, breakdown, advanced
filters, named custom subgroups and comparison rows.

The builder is a fragment: changing a choice reruns only the builder (and its row estimate),
never the report below it; *Run report* stores the specification and reruns the page. The
builder's values live in session state under ``report_*`` keys, so a shared link
(``?report=...``), a saved report or the last report run can be loaded into it
(:func:`load_spec`) before its widgets are drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from dashboard import rosters
from queries.errors import ScopeError
from queries.labels import (
    COMPLETENESS_NAMES,
    DIMENSION_NAMES,
    DIMENSION_OF_GROUP,
    GRADE_NAMES,
    GRADES,
    GROUP_CHOICES,
    GROUP_DIMENSIONS,
    MEASURE_NAMES,
    ORG_LEVEL_NAMES,
    REPORT_TYPES,
    TESTS,
)
from queries.report_size import estimate_report_size
from queries.rosters import group_students
from queries.spec import BREAKDOWNS, ReportSpec, Subgroup

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dashboard.context import PageContext
    from queries.scope import Scope
    from queries.snapshot import Snapshot

RUN = "report_run_params"
"""Session key of the last report run: its ``to_params()["report"]`` JSON (not a widget)."""
URL_SEEN = "report_url_seen"
_CTX_SEEN = "report_ctx_seen"
MAX_SUBGROUPS = 6
MEASURES_OF_TYPE: dict[str, tuple[str, ...]] = {
    "yearly": ("overall",), "composite": ("oral", "written"),
    "domain": ("listening", "speaking", "reading", "writing"),
    "longitudinal": ("overall", "oral", "written", "listening", "speaking", "reading",
                     "writing")}
TYPE_OF_MEASURE = {"overall": "yearly", "oral": "composite", "written": "composite",
                   "listening": "domain", "speaking": "domain", "reading": "domain",
                   "writing": "domain"}
_CODE_COLUMN = {"county": "county_code", "lea": "lea_code", "school": "school_code"}
# Option labels as dicts, not lambdas: session state (AppTest keeps widgets' format
# functions there) must pickle (.streamlit/config.toml, enforceSerializableSessionState).
_SHORT_TESTS = {t: name.replace("Summative ", "") for t, name in TESTS.items()}
_BREAKDOWN_NAMES = {"": "No breakdown", **{b: DIMENSION_NAMES[b] for b in BREAKDOWNS}}
_POPULATIONS = {"all": "All students", "cohort": "Cohort"}
LEVEL_NAMES = {**ORG_LEVEL_NAMES, "group": "Rosters"}
"""The builder's organisation levels: CERS's, and the user's rosters (level key ``group``, as
saved reports and shared links spell it)."""


def org_choices(snap: Snapshot, scope: Scope, level: str, *, lea: str | None = None
                ) -> dict[str, str]:
    """Organisations of one level the scope may see (code -> "Name (code)").

    ``lea`` narrows schools to that LEA's (the sidebar's LEA keeps the list short statewide).
    Rosters (level ``group``) are keyed by ``queries.rosters.group_key`` and shown as
    "Name (school name)".
    """
    if level == "group":
        return rosters.roster_choices(snap, scope)
    if level == "state":
        return {"00": "California"} if scope.allows_state() else {}
    orgs = scope.visible_orgs(snap.orgs_of(snap.years)).filter(pl.col("org_level") == level)
    if level == "school" and lea:
        orgs = orgs.filter(pl.col("lea_code") == lea)
    code = _CODE_COLUMN[level]
    return {c: f"{n} ({c})" for c, n in orgs.sort("name").select(code, "name").iter_rows()}


def default_spec(ctx: PageContext) -> ReportSpec:
    """The report the builder starts from: the sidebar's LEA (or California) and year."""
    return ReportSpec(years=(ctx.year,), orgs=(ctx.lea,), org_level=ctx.org_level)  # type: ignore[arg-type]


def spec_state(spec: ReportSpec) -> dict[str, Any]:
    """The builder's widget values that describe ``spec`` (session-state key -> value)."""
    state: dict[str, Any] = {
        "report_type": "longitudinal" if spec.longitudinal else TYPE_OF_MEASURE[spec.measure],
        "report_measure": spec.measure, "report_test": spec.test,
        "report_population": "cohort" if spec.cohort else "all",
        "report_org_level": spec.org_level, "report_orgs": list(spec.orgs),
        "report_expand": spec.expand != "none", "report_years": list(spec.years),
        "report_grades": list(spec.grades), "report_completeness": spec.completeness,
        "report_breakdown": spec.breakdown or "", "report_comparison": spec.comparison,
        "report_filters": [g for _, ids in spec.filters for g in ids],
        "report_subgroup_count": len(spec.subgroups),
    }
    for i, sub in enumerate(spec.subgroups):
        state[f"report_subgroup_name_{i}"] = sub.name
        state[f"report_subgroup_groups_{i}"] = [g for _, ids in sub.filters for g in ids]
    return state


def _by_dimension(ids: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    # Within a dimension any chosen group (OR), across dimensions all (AND): ReportSpec's rule.
    return tuple((d, tuple(i for i in ids if DIMENSION_OF_GROUP[i] == d))
                 for d in GROUP_DIMENSIONS if any(DIMENSION_OF_GROUP[i] == d for i in ids))


def state_spec(state: Mapping[str, Any]) -> tuple[ReportSpec | None, list[str]]:
    """The report the builder's values describe, or what is wrong with them (sentences)."""
    kind = state.get("report_type", "yearly")
    level = state.get("report_org_level", "state")
    problems = []
    years = tuple(sorted(state.get("report_years") or ()))
    if kind == "longitudinal" and len(years) < 2:
        problems.append("A longitudinal report needs at least two school years.")
    orgs = ("00",) if level == "state" else tuple(state.get("report_orgs") or ())
    grades = tuple(state.get("report_grades") or ())
    if not grades:
        problems.append("Choose at least one grade (or All grades).")
    subgroups = []
    for i in range(state.get("report_subgroup_count", 0)):
        name = str(state.get(f"report_subgroup_name_{i}") or "").strip()
        ids = list(state.get(f"report_subgroup_groups_{i}") or ())
        if not name:
            problems.append(f"Custom subgroup {i + 1} needs a name.")
        if not ids:
            problems.append(f"Custom subgroup {i + 1} needs at least one group.")
        subgroups.append(Subgroup(name, _by_dimension(ids)))
    if problems:
        return None, problems
    measure = state.get("report_measure", "overall")
    if measure not in MEASURES_OF_TYPE[kind]:
        measure = MEASURES_OF_TYPE[kind][0]
    expand = "none"
    if state.get("report_expand") and level in ("lea", "school"):
        expand = "schools_of_leas" if level == "lea" else "leas_of_schools"
    try:
        spec = ReportSpec(
            years=years, orgs=orgs, org_level=level, test=state.get("report_test", "summative"),
            grades=grades, measure=measure, breakdown=state.get("report_breakdown") or None,
            filters=_by_dimension(list(state.get("report_filters") or ())),
            subgroups=tuple(subgroups), completeness=state.get("report_completeness", "all"),
            comparison=bool(state.get("report_comparison")), expand=expand,
            longitudinal=kind == "longitudinal",
            # A roster follows the same students every year: it has no cohort.
            cohort=kind == "longitudinal" and level != "group"
            and state.get("report_population") == "cohort")
    except ValueError as exc:
        return None, [p[:1].upper() + p[1:] + "." for p in str(exc).split("; ")]
    return spec, []


def load_spec(spec: ReportSpec, *, run: bool) -> None:
    """Put ``spec`` into the builder (before its widgets are drawn); ``run`` it too."""
    state = st.session_state
    for i in range(MAX_SUBGROUPS):
        for key in (f"report_subgroup_name_{i}", f"report_subgroup_groups_{i}"):
            state.pop(key, None)
    state.update(spec_state(spec))
    if run:
        state[RUN] = spec.to_params()["report"]


def last_run() -> ReportSpec | None:
    """The report last run in this session (``None`` before the first)."""
    params = st.session_state.get(RUN)
    return ReportSpec.from_params({"report": params}) if params else None


def prepare(ctx: PageContext) -> str | None:
    """Fill the builder before it is drawn; a sentence for the user if the link is damaged.

    A new ``?report=`` link is loaded and run; a new sidebar LEA or year moves the builder to
    it; a first visit starts from the last report run, else from the sidebar's choices.
    """
    state = st.session_state
    message, loaded = None, False
    url = st.query_params.get("report")
    if url and url != state.get(URL_SEEN):
        state[URL_SEEN] = url
        try:
            load_spec(ReportSpec.from_params({"report": url}), run=True)
            loaded = True
        except ValueError as exc:
            message = (f"This report link cannot be opened: {exc}. Build the report again "
                       "below, or ask whoever shared it for a new link.")
    if "report_type" not in state and not loaded:
        load_spec(last_run() or default_spec(ctx), run=False)
    seen = state.get(_CTX_SEEN)
    if seen is not None and seen != (ctx.lea, ctx.year) and not loaded:
        default = default_spec(ctx)
        state.update({k: v for k, v in spec_state(default).items()
                      if k in ("report_org_level", "report_orgs", "report_years")})
        state["report_expand"] = False
    state[_CTX_SEEN] = (ctx.lea, ctx.year)
    if not url and state.get(RUN):
        # Back on the page without a link: the address bar shows the report again.
        st.query_params["report"] = state[URL_SEEN] = state[RUN]
    return message


def _run(spec: ReportSpec) -> None:
    previous = last_run()
    if previous is not None and previous == spec:  # unchanged: keep its saved name
        spec = previous
    params = spec.to_params()["report"]
    st.session_state[RUN] = params
    # The address bar now holds the report: a link anyone in scope can open.
    st.query_params["report"] = params
    st.session_state[URL_SEEN] = params


def _subgroups(count: int) -> None:
    st.session_state["report_subgroup_count"] = max(0, min(MAX_SUBGROUPS, count))


def _keep_valid(key: str, options: list[str] | tuple[str, ...], *, many: bool) -> None:
    # A value the options no longer offer (another level, type or LEA) would be refused by
    # the widget: drop it before the widget is drawn.
    state = st.session_state
    if many:
        state[key] = [v for v in state.get(key) or () if v in options]
    elif state.get(key) not in options:
        state[key] = options[0]


@st.fragment
def builder(ctx: PageContext) -> None:
    """Draw the builder, its problems and row estimate, and the *Run report* button."""
    state = st.session_state
    with st.container(border=True):
        top = st.columns([5.5, 2, 2, 2])
        top[0].segmented_control("Report type", list(REPORT_TYPES), key="report_type",
                                 format_func=REPORT_TYPES.__getitem__, required=True)
        top[1].selectbox("Test", list(TESTS), key="report_test",
                         format_func=_SHORT_TESTS.__getitem__)
        kind = state["report_type"]
        # The level first: a roster has no cohort (the Students choice below).
        levels = [lv for lv in LEVEL_NAMES if org_choices(ctx.snap, ctx.scope, lv)]
        _keep_valid("report_org_level", levels, many=False)
        level = state["report_org_level"]
        measures = MEASURES_OF_TYPE[kind]
        if len(measures) > 1:
            _keep_valid("report_measure", measures, many=False)
            top[2].selectbox("Measure", measures, key="report_measure",
                             format_func=MEASURE_NAMES.__getitem__)
        if kind == "longitudinal" and level == "group":
            top[3].caption("Rosters follow the same students every year: no cohort to "
                           "choose.")
        elif kind == "longitudinal":
            top[3].segmented_control(
                "Students", ["all", "cohort"], key="report_population", required=True,
                format_func=_POPULATIONS.__getitem__,
                help="Cohort: only students tested in the organisation in every chosen year, "
                     "matched by SSID.")
        where = st.columns([1.3, 4, 1.4])
        where[0].selectbox("Level", levels, key="report_org_level",
                           format_func=LEVEL_NAMES.__getitem__)
        if level != "state":
            lea = ctx.lea_code
            choices = org_choices(ctx.snap, ctx.scope, level, lea=lea)
            _keep_valid("report_orgs", list(choices), many=True)
            where[1].multiselect(
                "Organisations", list(choices), key="report_orgs",
                format_func=choices.__getitem__, placeholder="Choose organisations",
                help="Your rosters (the Rosters page)." if level == "group" else
                     "Only organisations your account covers."
                     + (" Schools of the sidebar's LEA." if level == "school" and lea else ""))
            if level in ("lea", "school"):
                where[2].checkbox("Add their schools" if level == "lea" else "Add their LEAs",
                                  key="report_expand")
        what = st.columns(4)
        years = list(reversed(ctx.snap.years))
        _keep_valid("report_years", years, many=True)
        what[0].multiselect("School years", years, key="report_years")
        what[1].multiselect("Grades", [*GRADES, "13"], key="report_grades",
                            format_func=GRADE_NAMES.__getitem__)
        what[2].selectbox("Completeness", list(COMPLETENESS_NAMES), key="report_completeness",
                          format_func=COMPLETENESS_NAMES.__getitem__)
        what[3].selectbox("Break down by", list(_BREAKDOWN_NAMES), key="report_breakdown",
                          format_func=_BREAKDOWN_NAMES.__getitem__)
        st.checkbox("Add comparison rows (each roster's school, LEA, county and state)"
                    if level == "group" else
                    "Add comparison rows (each organisation's LEA, county and state)",
                    key="report_comparison")
        _groups_editors()
        spec, problems = state_spec(state)
        _estimate(ctx, spec, problems)


def _groups_editors() -> None:
    state = st.session_state
    with st.expander("Advanced filters and custom subgroups",
                     expanded=bool(state.get("report_filters")
                                   or state.get("report_subgroup_count"))):
        st.multiselect("Only students in these groups", list(GROUP_CHOICES),
                       key="report_filters", format_func=GROUP_CHOICES.__getitem__,
                       help="Within a dimension, any of its chosen groups; across dimensions, "
                            "all of them.")
        count = state.get("report_subgroup_count", 0)
        for i in range(count):
            name, groups = st.columns([1, 3])
            name.text_input(f"Subgroup {i + 1} name", key=f"report_subgroup_name_{i}",
                            placeholder="e.g. Hispanic girls")
            groups.multiselect(f"Subgroup {i + 1} groups", list(GROUP_CHOICES),
                               key=f"report_subgroup_groups_{i}",
                               format_func=GROUP_CHOICES.__getitem__)
        buttons = st.container(horizontal=True)
        buttons.button("Add a subgroup", key="report_subgroup_add", on_click=_subgroups,
                   args=(count + 1,), disabled=count >= MAX_SUBGROUPS)
        buttons.button("Remove the last one", key="report_subgroup_remove",
                      on_click=_subgroups, args=(count - 1,), disabled=not count)


def group_members(ctx: PageContext, spec: ReportSpec) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A roster report's students (part of its cache key: a roster can gain students)."""
    if spec.org_level != "group":
        return ()
    members = group_students(ctx.snap.store, ctx.scope, spec.orgs)
    return tuple((key, tuple(ssids)) for key, ssids in sorted(members.items()))


def _estimate(ctx: PageContext, spec: ReportSpec | None, problems: list[str]) -> None:
    if spec is not None:
        try:
            size = estimate_report_size(ctx.snap, spec, scope=ctx.scope)
        except ScopeError:
            problems = ["None of the chosen organisations has results your account may see "
                        "for these years. Choose others."]
        except ValueError as exc:
            problems = [f"{str(exc)[:1].upper()}{str(exc)[1:]}."]
        else:
            st.caption(f"This report will have {size.describe()}.")
    for problem in problems:
        st.warning(problem, icon=":material/edit_note:")
    ready = spec is not None and not problems
    if st.button("Run report", type="primary", key="report_run_button", disabled=not ready,
                 on_click=_run, args=(spec,)):
        # The button reran only this fragment; the report below must follow.
        st.rerun()
