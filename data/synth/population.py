"""The demo's English learners, year after year, and each year's test results.

What it models (ELPAC.md §8 checklist):

* students who persist across years: a grade up each year, ability carried over with growth,
  reclassification (mostly from level 4) and attrition, newcomers mostly in kindergarten,
  enrolled where ``data.synth.enrolment`` places them;
* composites on the real scale, overall = weighted composites rounded half up (K 70/30), levels
  from the real cut tables, domain levels correlated with their composite;
* about 1.5 % Summative Alternate ELPAC takers, NT, partial (P) and exempt-domain (EXD) records,
  students who moved after testing (enrolled LEA differs from tested LEA);
* dates: the Feb-May window, score and SSR release dates, and the year in progress only partly
  released as of ``as_of`` (no NT before the window closes, no SSR before its release date).

One ``numpy`` generator seeded once draws everything in a fixed order, so the same seed gives
the same records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from data import domain
from data.synth.enrolment import GRADE_SHARE, Enrolment
from data.synth.frame import YearRecords, prior_table
from data.synth.people import LANGUAGES, draw_ethnicity, draw_languages, draw_names
from data.synth.places import Places, build_places
from data.toms.field_rules import NS_FIELDS

_DISABILITIES = np.array(["SLD", "SLI", "AUT", "OHI", "ID", "EMN", "MD", "HI", "OI", "VI"])
_DISABILITY_P = np.array([0.38, 0.25, 0.12, 0.09, 0.07, 0.03, 0.02, 0.02, 0.01, 0.01])
# Raw-score maximum per domain (Listening, Speaking, Reading, Writing): plausible, invented.
_RAW_MAX = np.array([22, 29, 26, 16])

SPRING_2020_STOPPED = "2020-03-13"
"""The last day the demo's 2019-20 students test: most schools closed after that Friday, and
state testing was suspended that month (ELPAC.md §1.1; the exact day is the demo's choice)."""

_SPANISH = next(i for i, lang in enumerate(LANGUAGES) if lang[0] == "SPA")


def _sept_first(years: np.ndarray) -> np.ndarray:
    """September 1 of each year, as datetime64[D]."""
    return (np.asarray(years) - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 243


@dataclass
class Population:
    """The English learners enrolled in one year: one array entry per student."""

    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cols["ssid"]) if self.cols else 0

    def take(self, keep: np.ndarray) -> Population:
        """Students where ``keep`` is True."""
        return Population({k: v[keep] for k, v in self.cols.items()})

    def extend(self, other: Population) -> Population:
        """Both populations, this one first."""
        if not self.cols:
            return other
        return Population({k: np.concatenate([v, other.cols[k]]) for k, v in self.cols.items()})


class Generator:
    """Builds one year's store-shaped records after another, persisting students.

    ``students`` is about how many English learners each year has; ``seed`` seeds every draw.
    """

    def __init__(self, students: int, seed: int) -> None:
        self.students = students
        self.rng = np.random.default_rng(seed)
        self.places: Places = build_places(self.rng, students)
        self.pop = Population()
        self.next_ssid = 1_000_000_000 + int(self.rng.integers(0, 50_000_000))
        # Each spring's results, for later years' prior-year (MinusK) fields.
        self.history: dict[int, pl.DataFrame] = {}
        self.enrolment = Enrolment(self.places, self.rng)

    # -- students --------------------------------------------------------------------------
    def _newcomers(self, n: int, spring: int, first_year: bool) -> Population:
        rng = self.rng
        if first_year:
            grades = rng.choice(13, size=n, p=GRADE_SHARE)
        else:
            # New ELs: kindergarteners mostly, then newcomers to the US in every grade.
            p = np.r_[0.55, np.full(12, 0.45 / 12)]
            grades = rng.choice(13, size=n, p=p)
        lang = draw_languages(rng, n)
        female = rng.random(n) < 0.47
        gender = np.where(female, "F", np.where(rng.random(n) < 0.004, "X", "M"))
        last, first, middle = draw_names(rng, lang, female)
        ssid = np.arange(self.next_ssid, self.next_ssid + n)
        self.next_ssid += n + int(rng.integers(1, 1000))
        fall = spring - 1
        birth_year = fall - 5 - grades
        dob = (_sept_first(birth_year) + 1 + rng.integers(0, 365, n).astype("timedelta64[D]"))
        years_in_us = np.where(first_year, rng.integers(0, grades + 1), 0)
        years_in_us = np.where((~first_year) & (grades > 0) & (rng.random(n) < 0.6),
                               0, np.minimum(years_in_us, grades))
        entry_year = fall - years_in_us
        el_entry = (_sept_first(entry_year) - 17 + rng.integers(0, 40, n).astype("timedelta64[D]"))
        us_entry = el_entry - rng.integers(0, 10, n).astype("timedelta64[D]")
        iep = rng.random(n) < 0.16
        disability = np.where(iep, rng.choice(_DISABILITIES, n, p=_DISABILITY_P), "")
        alt = iep & np.isin(disability, ["ID", "AUT", "MD"]) & (rng.random(n) < 0.45)
        hispanic = lang == _SPANISH
        theta = rng.normal(np.where(years_in_us == 0, -0.9, -0.1 * years_in_us + 0.3), 0.9)
        leas = self.enrolment.pick_lea(grades)
        cols = {
            "ssid": ssid, "last": last, "first": first, "middle": middle,
            "gender": gender, "dob": dob, "lang": lang, "eth": draw_ethnicity(rng, lang),
            "econ": rng.random(n) < np.where(hispanic, 0.9, 0.7), "iep": iep,
            "disability": disability, "s504": (~iep) & (rng.random(n) < 0.012),
            "migrant": rng.random(n) < np.where(hispanic, 0.05, 0.005),
            "homeless": rng.random(n) < 0.04, "foster": rng.random(n) < 0.005,
            "military": rng.random(n) < 0.004,
            "parent_ed": rng.choice(["14", "13", "12", "11", "10", "15", ""], n,
                                    p=[0.38, 0.27, 0.12, 0.07, 0.03, 0.08, 0.05]),
            "el_entry": el_entry, "us_entry": us_entry, "theta": theta, "alt": alt,
            "theta_alt": rng.normal(0, 1, n), "grade": grades, "lea": leas,
            "school": self.enrolment.pick_school(grades, leas),
            "last_level": np.zeros(n, dtype=np.int8),
            "tk": (grades == 0) & (rng.random(n) < 0.12),
        }
        return Population(cols)

    def advance(self, spring: int) -> None:
        """Move the population to the school year ending in ``spring``."""
        rng = self.rng
        target = int(self.students * (1 + 0.01 * rng.normal()))
        if len(self.pop) == 0:
            self.pop = self._newcomers(target, spring, first_year=True)
            return
        p = self.pop.cols
        grade = p["grade"] + 1
        level = p["last_level"]
        # Reclassification (RFEP) mostly follows a level-4 result; some students leave the state.
        rfep = rng.random(len(grade)) < np.select([level == 4, level == 3], [0.55, 0.12], 0.01)
        stay = (grade <= 12) & ~rfep & (rng.random(len(grade)) > 0.04)
        self.pop = self.pop.take(stay)
        p = self.pop.cols
        p["grade"] = grade[stay]
        p["tk"] = np.zeros(len(p["grade"]), dtype=bool)
        p["theta"] = 0.85 * p["theta"] + 0.2 + rng.normal(0, 0.45, len(p["theta"]))
        p["theta_alt"] = 0.9 * p["theta_alt"] + 0.1 + rng.normal(0, 0.4, len(p["theta"]))
        g = p["grade"]
        lea = p["lea"]
        enrol = self.enrolment
        # Change LEA when the LEA has no school for the new grade, or 5 % of the time.
        move_lea = ~enrol.lea_serves(lea, g) | (rng.random(len(g)) < 0.05)
        lea = lea.copy()
        lea[move_lea] = enrol.pick_lea(g[move_lea], enrol.lea_county[lea[move_lea]])
        p["lea"] = lea
        school = p["school"].copy()
        move = move_lea | ~enrol.school_serves(school, g)
        move |= rng.random(len(g)) < 0.04
        school[move] = enrol.pick_school(g[move], lea[move])
        p["school"] = school
        self.pop = self.pop.extend(self._newcomers(max(0, target - len(self.pop)), spring, False))

    # -- one year's records ----------------------------------------------------------------
    def records(self, year: str, as_of: date) -> pl.DataFrame:
        """Store-shaped rows (plus extra text columns) of every record in ``year``'s file."""
        return self.draw(year, as_of).frame()

    def draw(self, year: str, as_of: date) -> YearRecords:
        """Draw ``year``'s results; its rows are built from the result, whole or by county."""
        rng = self.rng
        spring = domain.spring_year(year)
        p = self.pop.cols
        n = len(self.pop)
        g = p["grade"]
        alt = p["alt"]
        final_date = date(spring, 9, 15)
        created = min(as_of, final_date)
        u = rng.random(n)
        nt = u < 0.03
        partial = (~nt) & (~alt) & (u < 0.045)
        # The 2018-19 file has no domain-exemption fields: exemptions start with 2020-21.
        exd = (~nt) & (~partial) & (~alt) & p["iep"] & (rng.random(n) < 0.05) & (spring >= 2021)
        alt_code = (~nt) & (~partial) & (~alt) & (spring <= 2021) & (rng.random(n) < 0.003)
        tested = ~nt

        # Scores: composites on the real scale around each grade's level-3 cut.
        cut = {m: np.array([domain.summative_cuts(m, gc) for gc in domain.GRADES])[g]
               for m in ("overall", "oral", "written")}
        hoss = np.array([domain.summative_range(gc).high for gc in domain.GRADES])[g]
        theta = p["theta"]
        oral = cut["oral"][:, 1] + 4 + 48 * (theta + 0.25 + rng.normal(0, 0.45, n))
        written = cut["written"][:, 1] + 4 + 55 * (theta - 0.05 + rng.normal(0, 0.5, n))
        oral = np.clip(np.rint(oral), domain.LOSS, hoss).astype(np.int64)
        written = np.clip(np.rint(written), domain.LOSS, hoss).astype(np.int64)
        oral[alt_code] = domain.LOSS
        written[alt_code] = domain.LOSS
        w = np.where(g == 0, 7, 5)
        overall = (w * oral + (10 - w) * written + 5) // 10
        levels = {m: 1 + (s[:, None] >= cut[m]).sum(axis=1)
                  for m, s in (("overall", overall), ("oral", oral), ("written", written))}
        # Domain levels 1-3 from the composite plus noise against the composite's cuts.
        dom_level = np.empty((n, 4), dtype=np.int64)
        raw = np.empty((n, 4), dtype=np.int64)
        for d, (comp, m) in enumerate(((oral, "oral"), (oral, "oral"), (written, "written"),
                                       (written, "written"))):
            s = comp + rng.normal(0, 22, n)
            dom_level[:, d] = 1 + (s >= cut[m][:, 0]) + (s >= (cut[m][:, 1] + cut[m][:, 2]) / 2)
            frac = 1 / (1 + np.exp(-(s - cut[m][:, 1]) / 45))
            raw[:, d] = np.clip(np.rint(_RAW_MAX[d] * frac + rng.normal(0, 1.2, n)), 0,
                                _RAW_MAX[d])
        dom_level[alt_code] = 1
        raw[alt_code] = 0
        oral_csem = np.rint(np.where(oral <= domain.LOSS + 20, 60, 14) + rng.gamma(2, 2, n))
        written_csem = np.rint(np.where(written <= domain.LOSS + 20, 70, 13) + rng.gamma(2, 2, n))

        # Exempt domain (EXD): one domain of one composite; partial (P): one composite only.
        ex_dom = rng.integers(0, 4, n)
        exempt = np.zeros((n, 4), dtype=bool)
        exempt[np.flatnonzero(exd), ex_dom[exd]] = True
        p_oral_only = rng.random(n) < 0.5
        ns = np.zeros((n, len(NS_FIELDS)), dtype=bool)
        col = {name: i for i, name in enumerate(NS_FIELDS)}
        dom_ns = exempt.copy()
        dom_ns[partial & p_oral_only, 2:] = True
        dom_ns[partial & ~p_oral_only, :2] = True
        oral_ns = partial & ~p_oral_only
        written_ns = partial & p_oral_only
        for d, pl_name in enumerate(("ListeningPL", "SpeakingPL", "ReadingPL", "WritingPL")):
            ns[:, col[pl_name]] = dom_ns[:, d] & ~alt
            ns[:, col[f"RawScore{d + 1}"]] = dom_ns[:, d] & ~alt
        ns[:, col["OverallScaleScore"]] = partial
        ns[:, col["OverallPL"]] = partial
        ns[:, col["OralLanguageScaleScore"]] = oral_ns
        ns[:, col["OralLanguagePL"]] = oral_ns
        ns[:, col["WrittenLanguageScaleScore"]] = written_ns
        ns[:, col["WrittenLanguagePL"]] = written_ns
        ns[nt] = False
        ns_bits = (ns * (1 << np.arange(len(NS_FIELDS)))).sum(axis=1).astype(np.int16)

        # Alternate: overall only, inside the grade span's hundred band (ELPAC.md §2).
        alt_low = np.array([domain.alternate_range(gc).low for gc in domain.GRADES])[g]
        alt_score = np.clip(np.rint(alt_low + 43 + 12 * p["theta_alt"]), alt_low, alt_low + 98)
        alt_level = 1 + (alt_score >= alt_low + 43).astype(int) + (alt_score >= alt_low + 59)

        # Dates: the Feb-May window; scores 1-3 weeks later (K-2 later: paper Writing).
        window = np.datetime64(f"{spring}-02-01")
        completed = window + np.floor(rng.beta(1.6, 2.6, n) * 119).astype("timedelta64[D]")
        delay = np.where(g <= 2, rng.integers(30, 60, n), rng.integers(7, 22, n))
        # Alternate scores come in summer, all before the final file (mid-September).
        delay = np.where(alt, rng.integers(60, 95, n), delay)
        score_date = completed + delay.astype("timedelta64[D]")
        first_release = np.where(alt, np.datetime64(f"{spring}-08-05"),
                                 np.where(g <= 2, np.datetime64(f"{spring}-06-06"),
                                          np.datetime64(f"{spring}-05-22")))
        ssr_date = np.maximum(first_release, score_date + np.timedelta64(1, "D"))
        created64 = np.datetime64(created)
        in_file = np.where(nt, created >= date(spring, 6, 15), score_date <= created64)
        if spring == 2020:
            # Testing stopped in March 2020 (ELPAC.md §1.1): the file holds the students who
            # tested before then, and no non-tester (the window never closed as usual) nor
            # Alternate record (that test was first given in 2021-22, §2).
            in_file &= (completed <= np.datetime64(SPRING_2020_STOPPED)) & ~nt & ~alt
        ssr_released = ssr_date <= created64

        enrol = self.enrolment
        school = p["school"].copy()
        nps_pick = p["iep"] & (rng.random(n) < 0.02)
        for i in np.flatnonzero(nps_pick):
            school[i] = enrol.nps_of_lea.get(int(p["lea"][i]), school[i])
        moved = rng.random(n) < 0.03
        enrolled_school = school.copy()
        enrolled_school[moved] = enrol.pick_school(g[moved], enrol.pick_lea(
            g[moved], enrol.lea_county[p["lea"][moved]]))

        scored = tested & ~partial
        f = pl.DataFrame({
            "record_type": np.where(alt, "23", "21"),
            "ssid": pl.Series(p["ssid"]).cast(pl.String).str.zfill(10),
            "grade_i": g,
            "is_tested": tested, "nt": nt, "partial": partial, "alt": alt, "exd": exd,
            "alt_code": alt_code, "in_file": in_file, "ssr_released": ssr_released,
            "school_i": school, "enrolled_school_i": enrolled_school,
            "overall": np.where(alt, alt_score, overall), "oral": oral, "written": written,
            "overall_level": np.where(alt, alt_level, levels["overall"]),
            "oral_level": levels["oral"], "written_level": levels["written"],
            "oral_csem": oral_csem, "written_csem": written_csem,
            "overall_csem": np.rint(3 + rng.gamma(1.5, 1.5, n)),
            **{f"dom{d}": dom_level[:, d] for d in range(4)},
            **{f"raw{d}": raw[:, d] for d in range(4)},
            **{f"ex{d}": exempt[:, d] for d in range(4)},
            "ns_fields": ns_bits, "completed": completed, "score_date": score_date,
            "ssr_date": ssr_date,
        })
        keep = f.get_column("in_file").to_numpy()
        drawn = YearRecords(self.places, self.history, year, f, p, keep, created)
        self._remember(spring, f, p["ssid"], keep)
        p["last_level"] = np.where(keep & scored, np.where(alt, 0, levels["overall"]), 0)
        return drawn

    def _remember(self, spring: int, f: pl.DataFrame, ssid: np.ndarray, keep: np.ndarray
                  ) -> None:
        """Keep this year's results for later years' prior-year (MinusK) fields.

        The fields name the springs one, two and three before a year's (``store_frame``):
        later years can name this spring and the two before it, whether or not a year between
        wrote a file (with 2019-20 left out, 2021-22's ``Minus3`` fields are 2018-19's).
        """
        self.history[spring] = prior_table(f, ssid, keep)
        for old in [s for s in self.history if s < spring - 2]:
            del self.history[old]
