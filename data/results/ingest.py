"""Load Student Score Data Files into the store: read, check everything, then load atomically.

Strict by default: one bad row in any file and nothing from any file is loaded. Every problem is
reported with its file, row, field, value and reason.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from data import domain
from data.problems import FileProblem, InputError, empty_row_problems
from data.results import loading
from data.results.loading import LeaLoad, PendingLoad
from data.toms.normalise import Normalised, normalise, test_dates, with_year
from data.toms.read import SourceFile, read_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from data.results.store import Store

FIRST_YEAR = "2018-19"
"""Earlier results used other thresholds and are not comparable (ELPAC.md §1.1)."""


@dataclass
class FileOutcome:
    """What happened to one input file."""

    file: str
    status: str  # "loaded", "unchanged", "refused", "checked"
    message: str = ""
    school_year: str | None = None
    kind: str | None = None
    n_records: int = 0
    n_rejected: int = 0
    leas: list[str] = field(default_factory=list)
    load_id: int | None = None
    layout_year: str | None = None
    lea_records: dict[str, int] = field(default_factory=dict)
    """Records per LEA the file would be loaded under (supersession is per LEA)."""
    report_created_date: date | None = None


@dataclass
class IngestResult:
    """Everything an ``ingest`` call found and did."""

    outcomes: list[FileOutcome]
    file_problems: list[FileProblem]
    row_problems: pl.DataFrame
    loaded: bool

    @property
    def ok(self) -> bool:
        """True when nothing was refused."""
        return not self.file_problems and self.row_problems.height == 0


def school_year_of(d: date) -> str:
    """The school year (July-June) a date falls in.

    Examples
    --------
    >>> school_year_of(date(2025, 3, 4))
    '2024-25'
    >>> school_year_of(date(2024, 8, 20))
    '2024-25'
    """
    return domain.school_year_label(d.year + 1 if d.month >= 7 else d.year)


def _decide_year(src: SourceFile, norm: Normalised, given: str | None) -> str:
    dates = test_dates(norm.frame)
    springs = (dates.dt.year() + (dates.dt.month() >= 7).cast(pl.Int32)).value_counts()
    counts = {domain.school_year_label(int(y)): int(n) for y, n in springs.iter_rows()}
    from_dates = sorted(counts)
    if len(from_dates) > 1:
        detail = ", ".join(f"{y}: {n}" for y, n in sorted(counts.items()))
        raise InputError(f"{src.name}: test dates fall in more than one school year ({detail}); "
                         "a Student Score Data File holds one year")
    candidates = {
        "file name": src.name_year,
        "test dates": from_dates[0] if from_dates else None,
        "--year": given,
    }
    found = {k: v for k, v in candidates.items() if v}
    if len(set(found.values())) > 1:
        detail = "; ".join(f"{k}: {v}" for k, v in found.items())
        raise InputError(f"{src.name}: the school year is contradictory ({detail})")
    if found:
        year = next(iter(found.values()))
    elif src.layout.year != "2024-25":
        # Layouts up to 2023-24 were each used for exactly one year.
        year = src.layout.year
    else:
        raise InputError(f"{src.name}: cannot tell the school year (no test dates and no year "
                         "in the file name); pass --year, e.g. --year 2024-25")
    if year < FIRST_YEAR:
        raise InputError(f"{src.name}: {year} results used other thresholds and cannot be "
                         f"compared with {FIRST_YEAR} onwards (ELPAC.md §1.1); not loaded")
    return year


def _decide_kind(src: SourceFile, frame: pl.DataFrame, given: str | None) -> str:
    if src.name_kind and given and src.name_kind != given:
        raise InputError(f"{src.name}: the file name says {src.name_kind} but --kind is {given}")
    if src.name_kind or given:
        return src.name_kind or given  # type: ignore[return-value]
    n_enrolled = frame.get_column("enrolled_lea_code").drop_nulls().n_unique()
    n_tested = frame.get_column("tested_lea_code").drop_nulls().n_unique()
    if n_tested == 1 and n_enrolled > 1:
        return "tested"
    if n_enrolled == 1 and n_tested > 1:
        return "enrolled"
    raise InputError(f"{src.name}: cannot tell an enrolled-LEA file from a tested-LEA file (the "
                     "TOMS file name says which); pass --kind enrolled or --kind tested")


def _pending(src: SourceFile, norm: Normalised, year: str, kind: str) -> PendingLoad:
    frame = with_year(norm.frame, year)
    lea_column = "enrolled_lea_code" if kind == "enrolled" else "tested_lea_code"
    source_lea = pl.lit(src.name_lea) if src.name_lea else pl.col(lea_column)
    frame = frame.with_columns(source_lea.alias("source_lea_code"))
    counts = frame.group_by("source_lea_code").len().sort("source_lea_code")
    leas = [LeaLoad(str(code), int(n)) for code, n in counts.iter_rows()]
    created = frame.get_column("report_created_date").max()
    return PendingLoad(src.name, src.sha256, kind, year, src.layout.year,
                       created if isinstance(created, date) else None,
                       norm.problems.select(pl.col("row").n_unique()).item(),
                       leas, frame, norm.extra_names)


def ingest(paths: list[Path], *, store: Store, year: str | None = None, kind: str | None = None,
           date_order: str | None = None, skip_bad_rows: bool = False, dry_run: bool = False,
           loaded_by: str | None = None,
           veto: Callable[[PendingLoad], str | None] | None = None) -> IngestResult:
    """Check ``paths`` and load them into ``store`` in one atomic step.

    With ``skip_bad_rows`` the valid rows of files with row problems are loaded and the others
    reported; files that cannot be read at all are never loaded. With ``dry_run`` nothing is
    written. ``veto`` sees each checked file and may return why it must not be loaded (the
    dashboard refuses another LEA's records); a vetoed file is a file problem, so it stops the
    batch like any other.
    """
    if year is not None:
        year = domain.school_year_label(domain.spring_year(year))
    outcomes: list[FileOutcome] = []
    file_problems: list[FileProblem] = []
    row_frames: list[pl.DataFrame] = []
    pending: list[PendingLoad] = []
    known = _loaded_hashes(store)

    def check(path: Path) -> tuple[SourceFile, Normalised] | InputError:
        # Only the checked rows leave this function: the raw text columns (376 of them) are
        # freed as soon as each file is done, so memory follows one file, not the batch.
        try:
            raw = read_file(path)
            return raw.source, normalise(raw, date_order=date_order)
        except InputError as exc:
            return exc

    # Two files at a time: one file's Python bookkeeping overlaps the other's Polars work
    # (Polars releases the GIL). Results keep the order of ``paths``.
    with ThreadPoolExecutor(max_workers=2) as pool:
        checked = list(pool.map(check, paths))
    for path, outcome_of_check in zip(paths, checked, strict=True):
        try:
            if isinstance(outcome_of_check, InputError):
                raise outcome_of_check
            src, norm = outcome_of_check
            row_frames.append(norm.problems)
            y = _decide_year(src, norm, year)
            k = _decide_kind(src, norm.frame, kind)
        except InputError as exc:
            file_problems.append(FileProblem(path.name, str(exc).removeprefix(f"{path.name}: ")))
            outcomes.append(FileOutcome(path.name, "refused", str(exc)))
            continue
        outcome = FileOutcome(path.name, "checked", school_year=y, kind=k,
                              n_records=norm.frame.height,
                              n_rejected=norm.n_input_rows - norm.frame.height,
                              layout_year=src.layout.year)
        if src.sha256 in known:
            outcome.status = "unchanged"
            outcome.message = f"already loaded as load {known[src.sha256]}; nothing to do"
        elif norm.frame.height == 0 and norm.problems.height == 0:
            outcome.status = "refused"
            outcome.message = "the file has a header but no records"
            file_problems.append(FileProblem(path.name, outcome.message))
        else:
            p = _pending(src, norm, y, k)
            outcome.leas = [lea.lea_code for lea in p.leas]
            outcome.lea_records = {lea.lea_code: lea.n_records for lea in p.leas}
            outcome.report_created_date = p.report_created_date
            refusal = veto(p) if veto else None
            if refusal:
                outcome.status = "refused"
                outcome.message = refusal
                file_problems.append(FileProblem(path.name, refusal))
            else:
                pending.append(p)
        outcomes.append(outcome)
    rows = pl.concat(row_frames) if row_frames else empty_row_problems()
    result = IngestResult(outcomes, file_problems, rows, loaded=False)
    blocked = bool(file_problems) or (rows.height > 0 and not skip_bad_rows)
    if blocked or dry_run or not pending:
        if blocked:
            for o in outcomes:
                if o.status == "checked":
                    o.status = "refused"
                    o.message = "not loaded: another problem in this batch stopped the load"
        return result
    pending = [p for p in pending if p.frame.height > 0]
    if not pending:
        for o in outcomes:
            if o.status == "checked":
                o.status = "refused"
                o.message = "no valid rows to load"
        return result
    try:
        ids = loading.apply(store, pending, loaded_by=loaded_by)
    except InputError as exc:
        # Found under the store's lock: an older file than the one loaded, for instance.
        result.file_problems.append(FileProblem("(load)", str(exc)))
        for o in outcomes:
            if o.status == "checked":
                o.status = "refused"
                o.message = str(exc)
        return result
    by_name = {p.file_name: load_id for p, load_id in zip(pending, ids, strict=True)}
    for o in outcomes:
        if o.file in by_name and o.status == "checked":
            o.status = "loaded"
            o.load_id = by_name[o.file]
    result.loaded = True
    return result


def _loaded_hashes(store: Store) -> dict[str, int]:
    """sha256 of every current load, so the same file twice changes nothing."""
    loads = store.loads()
    if loads.height == 0:
        return {}
    current = loads.filter(pl.col("is_current"))
    return dict(zip(current.get_column("sha256").to_list(),
                    current.get_column("load_id").to_list(), strict=True))
