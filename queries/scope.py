"""Access scope: which organisations, student groups and students a user may see, and PII.

Every query takes a ``Scope`` and applies it before aggregating: records are semi-joined on the
(LEA, school) pairs the scope allows (and kept to the scope's SSIDs when it lists some), and
summary rows on the organisations it fully covers. A scope is a frozen, hashable value, so it
is part of every cache key (STYLE.md, caching).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

NO_SCHOOL = ""
"""School key of records that count under an LEA but no school (NPS students, §3.3 rule 6)."""


class ScopeError(ValueError):
    """A query asks for organisations or students outside the user's scope."""


@dataclass(frozen=True)
class Scope:
    """What one user may see.

    ``statewide`` sees every organisation; otherwise the union of the listed counties, LEAs
    (14-digit CDS codes) and schools. ``groups`` limits the students to those student groups
    (empty: all students). ``pii`` allows student-level rows (names, SSIDs, score status).
    ``suppressed`` forces small-n suppression on every aggregate. ``ssids`` limits the
    students to those SSIDs (a teacher: the students of their groups); ``None`` is no limit,
    an empty tuple is no student at all.

    Examples
    --------
    >>> Scope.lea("19647330000000").allows_lea("19", "19647330000000")
    True
    >>> Scope.lea("19647330000000").allows_county("19")
    False
    """

    statewide: bool = False
    counties: tuple[str, ...] = ()
    leas: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    pii: bool = False
    suppressed: bool = False
    """Aggregates only ever suppressed (an aggregate-only viewer): every report and research
    row hides small groups whatever the caller asks, and their complements too when ``pii``
    is false (``aggregate_only``; no transition matrix then)."""
    ssids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("counties", "leas", "schools", "groups"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))
        if self.ssids is not None:
            object.__setattr__(self, "ssids", tuple(sorted(set(self.ssids))))

    @classmethod
    def state(cls, *, pii: bool = False) -> Scope:
        """Everything (a state-level analyst)."""
        return cls(statewide=True, pii=pii)

    @classmethod
    def lea(cls, *codes: str, pii: bool = False) -> Scope:
        """Whole LEAs (an LEA coordinator)."""
        return cls(leas=codes, pii=pii)

    @classmethod
    def school(cls, *codes: str, pii: bool = False) -> Scope:
        """Single schools (a school coordinator or teacher)."""
        return cls(schools=codes, pii=pii)

    @property
    def aggregate_only(self) -> bool:
        """An aggregate-only account (the viewer role): suppression is complementary too.

        Its scores are checked against every other row it could get (``queries.suppression``);
        accounts that may see students (``pii``) keep primary suppression only.
        """
        return self.suppressed and not self.pii

    @property
    def all_students(self) -> bool:
        """True when no student-group restriction applies."""
        return not self.groups

    @property
    def every_student(self) -> bool:
        """True when every student of the covered organisations counts: no group, no SSIDs.

        Only then may the load-time summaries (counts over whole organisations) answer.
        """
        return not self.groups and self.ssids is None

    def allows_ssid(self, ssid: str) -> bool:
        """Whether the scope's SSID list (if any) holds the student."""
        return self.ssids is None or ssid in self.ssids

    def ssid_filter(self) -> pl.Expr:
        """Records of the scope's students (every record when it lists none)."""
        if self.ssids is None:
            return pl.lit(True)
        return pl.col("ssid").is_in(list(self.ssids))

    def allows_state(self) -> bool:
        """The state row counts every student of the state: only a statewide scope sees it."""
        return self.statewide

    def allows_county(self, county: str) -> bool:
        """Whether the scope covers the whole county."""
        return self.statewide or county in self.counties

    def allows_lea(self, county: str, lea: str) -> bool:
        """Whether the scope covers the whole LEA."""
        return self.allows_county(county) or lea in self.leas

    def allows_school(self, county: str, lea: str, school: str) -> bool:
        """Whether the scope covers the school."""
        return self.allows_lea(county, lea) or school in self.schools

    def visible_orgs(self, orgs: pl.DataFrame) -> pl.DataFrame:
        """The rows of an organisation list (``data.results.orgs``) this scope fully covers."""
        return orgs if self.statewide else orgs.filter(self.covers())

    def covers(self) -> pl.Expr:
        """True for the rows of an organisation list this scope fully covers."""
        if self.statewide:
            return pl.lit(True)
        county_ok = pl.col("county_code").is_in(list(self.counties))
        lea_ok = county_ok | pl.col("lea_code").is_in(list(self.leas))
        school_ok = lea_ok | pl.col("school_code").is_in(list(self.schools))
        level = pl.col("org_level")
        return (((level == "county") & county_ok) | ((level == "lea") & lea_ok)
                | ((level == "school") & school_ok))

    def record_keys(self, orgs: pl.DataFrame) -> pl.DataFrame:
        """The (LEA, school) pairs of records in scope, to semi-join records on.

        ``school_code`` is ``NO_SCHOOL`` for records counted under an LEA but no school; a
        whole-LEA or whole-county scope includes them, a school scope does not.
        """
        leas = orgs.filter(pl.col("org_level") == "lea")
        schools = orgs.filter(pl.col("org_level") == "school")
        lea_pairs = leas.select("county_code", "lea_code", pl.lit(NO_SCHOOL).alias("school_code"))
        pairs = pl.concat([lea_pairs, schools.select("county_code", "lea_code", "school_code")])
        if not self.statewide:
            whole = (pl.col("county_code").is_in(list(self.counties))
                     | pl.col("lea_code").is_in(list(self.leas)))
            pairs = pairs.filter(whole | pl.col("school_code").is_in(list(self.schools)))
        return pairs.select("lea_code", "school_code").unique()
