"""A report specification: what CERS's Custom Aggregate Report query page offers.

Frozen and hashable, so a specification is a cache key and can be saved, shared in a URL
(``to_params``/``from_params``) and reopened.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from data.domain import GRADES, expand_years
from data.student_groups import DIMENSIONS, GROUP_BY_ID

Test = Literal["summative", "alternate"]
Measure = Literal["overall", "oral", "written", "listening", "speaking", "reading", "writing"]
OrgLevel = Literal["state", "county", "lea", "school", "group"]
MEASURES: tuple[str, ...] = ("overall", "oral", "written", "listening", "speaking", "reading",
                             "writing")
BREAKDOWNS: tuple[str, ...] = ("grade", *DIMENSIONS)


@dataclass(frozen=True)
class Subgroup:
    """A named custom subgroup: students in every listed dimension's chosen groups.

    ``filters`` maps a dimension to group IDs; within a dimension any of them (OR), across
    dimensions all (AND). Example: Hispanic, economically disadvantaged girls.
    """

    name: str
    filters: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ReportSpec:
    """One report.

    ``orgs``: the organisations (14-digit CDS codes for LEAs and schools, two digits for
    counties, ``"00"`` for the state; ``school CDS:name`` for student groups,
    ``data.catalog.rosters.group_key``) at ``org_level``; ``expand`` adds "schools of the chosen
    LEAs" or "LEAs of the chosen schools". ``grades``: assessment grades, ``"13"`` for all.
    ``breakdown``: one dimension (or ``"grade"``) to split each organisation's row by.
    ``filters``: restrict every row to students in those groups (same semantics as a
    subgroup). ``subgroups``: extra named rows. ``completeness``: ``"all"`` records, only
    ``"complete"`` tests (attemptedness Y, plus non-testers for enrolment) or only
    ``"partial"`` ones. ``comparison``: add each organisation's LEA, county and state rows.
    """

    years: tuple[str, ...]
    orgs: tuple[str, ...] = ("00",)
    org_level: OrgLevel = "state"
    test: Test = "summative"
    grades: tuple[str, ...] = ("13",)
    measure: Measure = "overall"
    breakdown: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    subgroups: tuple[Subgroup, ...] = ()
    completeness: Literal["all", "complete", "partial"] = "all"
    comparison: bool = False
    expand: Literal["none", "schools_of_leas", "leas_of_schools"] = "none"
    longitudinal: bool = False
    cohort: bool = False
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with this specification, as sentences (empty when it is fine)."""
        out = []
        if not self.years:
            out.append("choose at least one school year")
        for y in self.years:
            try:
                if not isinstance(y, str) or expand_years(y) != [y]:
                    out.append(f"{y!r} is not one school year")
            except ValueError as exc:
                out.append(str(exc))
        for name, value, allowed in (
                ("test", self.test, ("summative", "alternate")),
                ("organisation level", self.org_level,
                 ("state", "county", "lea", "school", "group")),
                ("completeness", self.completeness, ("all", "complete", "partial")),
                ("expand", self.expand, ("none", "schools_of_leas", "leas_of_schools"))):
            if value not in allowed:
                out.append(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if not self.orgs:
            out.append("choose at least one organisation")
        bad_grades = [g for g in self.grades if g not in (*GRADES, "13")]
        if bad_grades or not self.grades:
            out.append(f"grades must be KN, 01-12 or 13 (all), not {bad_grades}")
        if self.measure not in MEASURES:
            out.append(f"unknown measure {self.measure!r}")
        if self.test == "alternate" and self.measure != "overall":
            out.append("the Summative Alternate ELPAC reports an overall score only")
        if self.breakdown is not None and self.breakdown not in BREAKDOWNS:
            out.append(f"unknown breakdown {self.breakdown!r}")
        for name, filters in [("filters", self.filters)] + [
                (f"subgroup {s.name!r}", s.filters) for s in self.subgroups]:
            for dim, ids in filters:
                if dim not in DIMENSIONS:
                    out.append(f"{name}: unknown dimension {dim!r}")
                elif any(GROUP_BY_ID.get(i) is None or GROUP_BY_ID[i].dimension != dim
                         for i in ids):
                    out.append(f"{name}: {ids} are not groups of {dim}")
        if self.cohort and not self.longitudinal:
            out.append("a cohort is a longitudinal report")
        if self.org_level == "state" and self.orgs != ("00",):
            out.append('the state is organisation "00"')
        if self.org_level == "group":
            for key in self.orgs:
                school, _, name = key.partition(":")
                if not (school.isdigit() and len(school) == 14 and name):
                    out.append(f"{key!r} is not a student group (school CDS code:name)")
            if self.expand != "none":
                out.append("student groups have no schools or LEAs to expand to")
            if self.cohort:
                out.append("a student group already follows the same students: choose All "
                           "students, not Cohort")
        return out

    @property
    def uses_records(self) -> bool:
        """Whether the report needs the records (else the load-time summary answers it)."""
        return bool(self.filters or self.subgroups or self.completeness != "all"
                    or self.cohort)

    def to_params(self) -> dict[str, str]:
        """Query parameters that restore this report (a shareable URL)."""
        return {"report": json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)}

    @classmethod
    def from_params(cls, params: dict[str, str]) -> ReportSpec:
        """The report a URL's query parameters describe; ``ValueError`` if they are damaged."""
        try:
            raw = json.loads(params["report"])
            if not isinstance(raw, dict):
                raise TypeError("not an object")
            raw["subgroups"] = tuple(Subgroup(s["name"], _pairs(s["filters"]))
                                     for s in raw.get("subgroups", ()))
            raw["filters"] = _pairs(raw.get("filters", ()))
            for key in ("years", "orgs", "grades"):
                if key in raw:
                    raw[key] = tuple(raw[key])
            return cls(**raw)
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"the report link is damaged ({exc})") from None


def _pairs(items: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((str(d), tuple(ids)) for d, ids in items)  # type: ignore[union-attr]
