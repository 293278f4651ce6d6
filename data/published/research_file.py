"""Reading and checking a CDE public ELPAC research file (ELPAC.md §5.3) and its entities file.

Columns are mapped by header, never by position: the 2018-19 to 2022-23 files say
``RecordType`` and ``CharterNumber`` where later ones say ``TypeID`` and ``Filler``, the 2018
file has no ``TotalTestedWithScores`` (its ``TotalTested`` stands in, §5.3), and column order
is unconfirmed. Every row is checked like any ingest; each problem names its row (the file's
line, the header being row 1), field, value and reason. A file with any problem is refused
whole: ``parse_research_file`` returns the problems and the caller loads nothing.

Cells stay text as the file writes them (so a comparison sees the file's own rounding);
``*`` and blank, CDE's suppressed or empty cells, become null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data.domain import GRADES, alternate_range, school_year_label, spring_year, summative_range
from data.problems import ROW_PROBLEM_SCHEMA, InputError
from data.published.source import decode_strict, read_bytes

TESTS = ("summative", "alternate")
KEY_COLUMNS = ("CountyCode", "DistrictCode", "SchoolCode", "TypeID", "Filler", "TestYear",
               "StudentGroupID", "AssessmentType", "Grade")
NAME_COLUMNS = ("CountyName", "DistrictName", "SchoolName")
"""Names: from the entities file (§5.2), or inline where a newer file carries them."""
TYPE_IDS = {"04": "state", "03": "county", "02": "lea", "09": "lea", "01": "school",
            "10": "school"}
"""TypeID and the level it reports (ELPAC.md §5.4)."""
RESEARCH_GRADES = (*GRADES, "13")
ALIASES = {"RecordType": "TypeID", "CharterNumber": "Filler", "StudentGroupId": "StudentGroupID",
           "TotalStudentsEnrolled": "TotalEnrolled", "TotalStudentsTested": "TotalTested",
           "TotalStudentsTestedWithScores": "TotalTestedWithScores"}
"""Older and newer header names, to the names ``queries.research`` writes (§5.3)."""
_BLOCKS = ("Overall", "OralLang", "WritLang")
_DOMAINS = ("Listening", "Speaking", "Reading", "Writing")
_NULL = ("*", "")


def file_columns(test: str) -> list[str]:
    """The research file's columns for a test, in ``queries.research.research_columns`` order.

    Kept here too because ``data`` never imports ``queries``; a test holds the two equal.

    Examples
    --------
    >>> len(file_columns("summative")), len(file_columns("alternate"))
    (70, 20)
    """
    cols = [*KEY_COLUMNS, "TotalEnrolled", "TotalTested", "TotalTestedWithScores"]
    levels = (1, 2, 3) if test == "alternate" else (1, 2, 3, 4)
    for stem in _BLOCKS if test == "summative" else _BLOCKS[:1]:
        cols += [f"{stem}MeanSclScr", *(f"{stem}PerfLvl{k}Pcnt" for k in levels),
                 *(f"{stem}PerfLvl{k}Count" for k in levels), f"{stem}Total"]
    if test == "summative":
        for stem in _DOMAINS:
            for name in ("Begin", "Moderate", "Developed"):
                cols += [f"{stem}Domain{name}Pcnt", f"{stem}Domain{name}Count"]
            cols.append(f"{stem}DomainTotal")
    return cols


@dataclass(frozen=True)
class ParsedFile:
    """A read research file: its rows (text, null for ``*``/blank) and every problem found."""

    name: str
    school_year: str
    test: str
    rows: pl.DataFrame
    problems: pl.DataFrame


def parse_research_file(path: Path, *, year: str | None = None, test: str | None = None,
                        entities: Path | None = None) -> ParsedFile:
    """Read and check a research file (``.txt`` or ``.zip``) and, optionally, its entities file.

    ``year`` (``2024-25``) defaults to the first row's ``TestYear``; ``test`` to what the
    columns say (the composite blocks are Summative only). Whole-file problems (encoding, a
    missing column, a zip over its bounds) raise ``InputError``; row problems are returned.
    """
    text = decode_strict(read_bytes(path), path.name)
    header, lines = _split(text, path.name)
    found = [ALIASES.get(h, h) for h in header]
    if len(set(found)) != len(found):
        twice = sorted({h for h in found if found.count(h) > 1})
        raise InputError(f"{path.name}: the header names {', '.join(twice)} more than once")
    # The composite, domain and level-4 columns are the Summative ELPAC's only (§5.3).
    summative_only = [c for c in found if c in set(file_columns("summative"))
                      - set(file_columns("alternate"))]
    if test is None:
        test = "summative" if summative_only else "alternate"
    if test not in TESTS:
        raise InputError(f"test must be summative or alternate, not {test!r}")
    if test == "alternate" and summative_only:
        raise InputError(f"{path.name}: not a Summative Alternate ELPAC research file: it has "
                         f"the Summative ELPAC's {summative_only[0]}; import it with --test "
                         "summative")
    optional = {"Filler", "TotalTestedWithScores"}
    missing = [c for c in file_columns(test) if c not in found and c not in optional]
    if missing:
        raise InputError(f"{path.name}: not a {test} ELPAC research file: the header has no "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} "
                         "(columns are matched by name, ELPAC.md §5.3)")
    frame, problems = _frame(lines, header=found, name=path.name)
    if not lines:
        raise InputError(f"{path.name}: the file has a header row but no rows; nothing to "
                         "import")
    if frame.height == 0:  # every row has the wrong number of fields: those are the problems
        return ParsedFile(path.name, year or "", test, frame.drop("_row"), problems)
    if year is None:
        first = frame.get_column("TestYear").head(1).to_list()
        if not (first and first[0] and re.fullmatch(r"\d{4}", first[0])):
            raise InputError(f"{path.name}: give --year: the first row's TestYear does not "
                             "say the year")
        year = school_year_label(int(first[0]))
    spring_year(year)  # a clear ValueError for a year not like 2024-25
    if "Filler" not in frame.columns:
        frame = frame.with_columns(pl.lit("").alias("Filler"))
    if "TotalTestedWithScores" not in frame.columns:  # 2018: TotalTested stands in (§5.3)
        frame = frame.with_columns(pl.col("TotalTested").alias("TotalTestedWithScores"))
    keep = [*file_columns(test), *(c for c in NAME_COLUMNS if c in frame.columns)]
    frame = frame.select("_row", *keep)
    problems = pl.concat([problems, *check_rows(frame, year=year, test=test, name=path.name)])
    if entities is not None:
        names, entity_problems = parse_entities(entities, year=year)
        problems = pl.concat([problems, entity_problems])
        frame = frame.drop(NAME_COLUMNS, strict=False).join(
            names, on=["CountyCode", "DistrictCode", "SchoolCode"], how="left",
            maintain_order="left")
    rows = frame.drop("_row").with_columns(
        pl.when(pl.col(c).is_in(_NULL)).then(None).otherwise(pl.col(c)).alias(c)
        for c in file_columns(test)[9:])
    return ParsedFile(path.name, year, test, rows, problems.sort("row", "field"))


def parse_entities(path: Path, *, year: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The names of an entities file (§5.2) by county, district and school code, and problems."""
    text = decode_strict(read_bytes(path), path.name)
    header, lines = _split(text, path.name)
    found = [ALIASES.get(h, h) for h in header]
    need = ["CountyCode", "DistrictCode", "SchoolCode", "TypeID", "TestYear", *NAME_COLUMNS]
    missing = [c for c in need if c not in found]
    if missing:
        raise InputError(f"{path.name}: not an ELPAC entities file: the header has no "
                         f"{', '.join(missing)} (ELPAC.md §5.2)")
    frame, problems = _frame(lines, header=found, name=path.name)
    checks = [*_code_checks(frame, path.name), _test_year_check(frame, year, path.name)]
    problems = pl.concat([problems, *checks])
    names = frame.unique(["CountyCode", "DistrictCode", "SchoolCode"], keep="first",
                         maintain_order=True)
    return names.select("CountyCode", "DistrictCode", "SchoolCode",
                        *(pl.col(c).str.strip_chars() for c in NAME_COLUMNS)), problems


def _split(text: str, name: str) -> tuple[list[str], list[str]]:
    lines = text.split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    while lines and lines[-1] == "":
        lines.pop()
    if not lines or "^" not in lines[0]:
        raise InputError(f"{name}: the first line is not a caret-delimited (^) header row; "
                         "use the research file's caret-delimited download (ELPAC.md §5.1)")
    return [h.strip() for h in lines[0].split("^")], lines[1:]


def _frame(lines: list[str], *, header: list[str], name: str) -> tuple[pl.DataFrame,
                                                                         pl.DataFrame]:
    """Rows as text columns (``_row``: the file line) and the rows with a wrong field count."""
    width = len(header)
    good: list[list[str]] = []
    rows: list[int] = []
    bad: list[dict[str, object]] = []
    for number, line in enumerate(lines, start=2):
        cells = line.split("^")
        if len(cells) != width:
            bad.append({"file": name, "sheet": None, "row": number, "field": "(row)",
                        "value": line[:60],
                        "reason": f"has {len(cells)} fields; the header has {width}"})
            continue
        good.append(cells)
        rows.append(number)
    frame = pl.DataFrame(good, schema=dict.fromkeys(header, pl.String), orient="row")
    frame = frame.with_columns(pl.col(pl.String).str.strip_chars(" "))
    frame = frame.with_columns(pl.Series("_row", rows, dtype=pl.Int64))
    controls = [_problems(frame, c, pl.col(c).str.contains(r"[\x00-\x1f\x7f]"), name,
                          "holds a control character") for c in header]
    return frame, pl.concat([pl.DataFrame(bad, schema=ROW_PROBLEM_SCHEMA), *controls])


def _problems(frame: pl.DataFrame, field: str, bad: pl.Expr, name: str,
              reason: str | pl.Expr) -> pl.DataFrame:
    hit = frame.filter(bad.fill_null(value=False))
    return hit.select(pl.lit(name).alias("file"), pl.lit(None, pl.String).alias("sheet"),
                      pl.col("_row").alias("row"), pl.lit(field).alias("field"),
                      pl.col(field).alias("value"),
                      (reason if isinstance(reason, pl.Expr) else pl.lit(reason))
                      .alias("reason"))


def _digits(frame: pl.DataFrame, field: str, n: int, name: str) -> pl.DataFrame:
    return _problems(frame, field, ~pl.col(field).str.contains(rf"^\d{{{n}}}$"), name,
                     f"must be {n} digits (zeros kept)")


def _code_checks(frame: pl.DataFrame, name: str) -> list[pl.DataFrame]:
    county, district, school = (pl.col(c) for c in ("CountyCode", "DistrictCode", "SchoolCode"))
    zero_d, zero_s = district == "00000", school == "0000000"
    pattern = {  # ELPAC.md §5.4: the codes each TypeID has
        "04": ((county == "00") & zero_d & zero_s, "county 00, district 00000, school 0000000"),
        "03": ((county != "00") & zero_d & zero_s, "a county, district 00000, school 0000000"),
        "02": (~zero_d & zero_s, "a district code and school 0000000"),
        "09": (~zero_d, "a district code"),
        "01": (~zero_d & ~zero_s, "a district and a school code"),
        "10": (~zero_d & ~zero_s, "a district and a school code"),
    }
    type_id = pl.col("TypeID")
    out = [_digits(frame, "CountyCode", 2, name), _digits(frame, "DistrictCode", 5, name),
           _digits(frame, "SchoolCode", 7, name),
           _problems(frame, "TypeID", ~type_id.is_in(list(TYPE_IDS)), name,
                     "must be one of 04, 03, 02, 09, 01, 10 (ELPAC.md §5.4)")]
    for code, (ok, says) in pattern.items():
        out.append(_problems(frame, "TypeID", (type_id == code) & ~ok, name,
                             f"TypeID {code} ({TYPE_IDS[code]}) needs {says}"))
    return out


def _test_year_check(frame: pl.DataFrame, year: str, name: str) -> pl.DataFrame:
    spring = str(spring_year(year))
    return _problems(frame, "TestYear", pl.col("TestYear") != spring, name,
                     f"must be {spring} for {year}")


def check_rows(frame: pl.DataFrame, *, year: str, test: str, name: str) -> list[pl.DataFrame]:
    """Every row problem of research rows (text columns and ``_row``), one frame per rule."""
    out = [*_code_checks(frame, name), _test_year_check(frame, year, name),
           _digits(frame, "StudentGroupID", 3, name),
           _problems(frame, "Grade", ~pl.col("Grade").is_in(RESEARCH_GRADES), name,
                     "must be KN, 01 to 12, or 13 (all grades)"),
           _problems(frame, "AssessmentType", ~pl.col("AssessmentType").str.contains(r"^\d?$"),
                     name, "must be one digit"),
           _problems(frame, "Filler", ~pl.col("Filler").str.contains(r"^[0-9A-Za-z]{0,4}$"),
                     name, "must be blank or a charter number of up to 4 characters")]
    columns = file_columns(test)[9:]
    for c in columns:
        value = pl.col(c)
        if c.endswith(("Count", "Total")) or c.startswith("Total"):
            bad = ~value.is_in(_NULL) & ~value.str.contains(r"^\d+$")
            out.append(_problems(frame, c, bad, name,
                                 "must be a whole number of 0 or more, or * (suppressed)"))
        elif c.endswith("Pcnt"):
            number = value.cast(pl.Float64, strict=False)
            bad = ~value.is_in(_NULL) & (~value.str.contains(r"^\d+(\.\d+)?$") | (number > 100))
            out.append(_problems(frame, c, bad, name,
                                 "must be a percent from 0 to 100, or * (suppressed)"))
        else:  # a mean scale score, in the test's range for the grade
            out.append(_mean_problems(frame, c, test, name))
    for stem, levels in _level_groups(test):
        total = pl.col(stem).cast(pl.Int64, strict=False)
        for c in levels:
            over = pl.col(c).cast(pl.Int64, strict=False) > total
            out.append(_problems(frame, c, over, name,
                                 pl.lit(f"is more than {stem} (") + pl.col(stem) + pl.lit(")")))
    dup = pl.struct("CountyCode", "DistrictCode", "SchoolCode", "TypeID", "StudentGroupID",
                    "Grade").is_duplicated()
    out.append(_problems(frame, "Grade", dup, name, "the same organisation, TypeID, student "
                         "group and grade are on another row too"))
    return out


def _level_groups(test: str) -> list[tuple[str, list[str]]]:
    levels = (1, 2, 3) if test == "alternate" else (1, 2, 3, 4)
    out = [(f"{stem}Total", [f"{stem}PerfLvl{k}Count" for k in levels])
           for stem in (_BLOCKS if test == "summative" else _BLOCKS[:1])]
    if test == "summative":
        out += [(f"{d}DomainTotal", [f"{d}Domain{n}Count" for n in ("Begin", "Moderate",
                                                                    "Developed")])
                for d in _DOMAINS]
    return out


def _mean_problems(frame: pl.DataFrame, column: str, test: str, name: str) -> pl.DataFrame:
    scale = summative_range if test == "summative" else alternate_range
    ranges = {g: scale(g) for g in GRADES}
    # Grade 13 (all grades) averages over every grade: anywhere in the test's whole range.
    ranges_13 = (min(r.low for r in ranges.values()), max(r.high for r in ranges.values()))
    low = pl.col("Grade").replace_strict({**{g: r.low for g, r in ranges.items()},
                                          "13": ranges_13[0]}, default=None,
                                         return_dtype=pl.Float64)
    high = pl.col("Grade").replace_strict({**{g: r.high for g, r in ranges.items()},
                                           "13": ranges_13[1]}, default=None,
                                          return_dtype=pl.Float64)
    value = pl.col(column)
    number = value.cast(pl.Float64, strict=False)
    bad = ~value.is_in(_NULL) & (~value.str.contains(r"^\d+(\.\d+)?$")
                                 | (number < low) | (number > high))
    reason = (pl.lit(f"must be a mean {test} scale score for grade ") + pl.col("Grade")
              + pl.lit(" (") + low.cast(pl.Int64).cast(pl.String) + pl.lit(" to ")
              + high.cast(pl.Int64).cast(pl.String) + pl.lit("), or * (suppressed)"))
    return _problems(frame, column, bad, name, reason.fill_null(
        pl.lit(f"must be a mean {test} scale score, or * (suppressed)")))


def file_version(name: str) -> str:
    """The version a CDE file name carries (``sa_elpac2024_all_csv_v1.zip`` -> ``v1``), or "".

    Examples
    --------
    >>> file_version("sa_elpac2024_all_csv_v1.zip"), file_version("mine.txt")
    ('v1', '')
    """
    match = re.search(r"_(v\d+)(?:\.[A-Za-z]+)*$", Path(name).name)
    return match.group(1) if match else ""
