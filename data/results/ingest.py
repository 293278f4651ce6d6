"""Load Student Score Data Files into the store: read, check everything, then load atomically.

Strict by default: one bad row in any file and nothing from any file is loaded. Every problem is
reported with its file, row, field, value and reason. What a file replaces follows the rules of
``data.results.supersession``, stated in each outcome's message; a check without loading
applies them too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from data import domain
from data.problems import FileProblem, InputError, empty_row_problems
from data.results import loading
from data.results.file_kind import KindDecision, decide_kind, lea_pairs
from data.results.loading import AlreadyLoaded, LeaLoad, Loaded, PendingLoad
from data.results.supersession import ReplacementRefused, describe
from data.results.write_errors import writing
from data.toms.checked_file import CheckedFile, check_file
from data.toms.normalise import test_dates, with_year

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from data.results.store import Store
    from data.toms.read import SourceFile

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
    removed: dict[str, int] = field(default_factory=dict)
    """Per LEA, the students the load it replaces lists and this file does not."""
    kind_note: str = ""
    """How the content told the kind when the name did not (``data.results.file_kind``)."""


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


def _decide_year(src: SourceFile, rows: pl.LazyFrame | pl.DataFrame, given: str | None) -> str:
    dates = test_dates(rows)
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


def _decide_kind(src: SourceFile, rows: pl.LazyFrame | pl.DataFrame,
                 given: str | None) -> KindDecision:
    return decide_kind(src, lea_pairs(rows), given)


def _pending(checked: CheckedFile, year: str, kind: str) -> PendingLoad:
    src = checked.source
    rows = with_year(checked.rows(), year)
    lea_column = "enrolled_lea_code" if kind == "enrolled" else "tested_lea_code"
    source_lea = pl.lit(src.name_lea) if src.name_lea else pl.col(lea_column)
    rows = rows.with_columns(source_lea.alias("source_lea_code"))
    counts, created = pl.collect_all([
        rows.group_by("source_lea_code").len().sort("source_lea_code"),
        rows.select(pl.col("report_created_date").max())])
    leas = [LeaLoad(str(code), int(n)) for code, n in counts.iter_rows()]
    last = created.item()
    return PendingLoad(src.name, src.sha256, kind, year, src.layout.year,
                       last if isinstance(last, date) else None,
                       checked.problems.select(pl.col("row").n_unique()).item(),
                       leas, rows, checked.n_records, checked.extra_names)


def ingest(paths: list[Path], *, store: Store, year: str | None = None, kind: str | None = None,
           date_order: str | None = None, skip_bad_rows: bool = False, dry_run: bool = False,
           loaded_by: str | None = None, replace: bool = False,
           veto: Callable[[PendingLoad], str | None] | None = None) -> IngestResult:
    """Check ``paths`` and load them into ``store`` in one atomic step.

    With ``skip_bad_rows`` the valid rows of files with row problems are loaded and the others
    reported; files that cannot be read at all are never loaded. With ``dry_run`` nothing is
    written, and what the files would replace is checked by the rules a load applies. A
    replacement that removes students is refused unless ``replace``. ``veto`` sees each
    checked file and may return why it must not be loaded (the dashboard refuses another LEA's
    records); a vetoed file is a file problem, so it stops the batch like any other.
    """
    if year is not None:
        year = domain.school_year_label(domain.spring_year(year))
    outcomes: list[FileOutcome] = []
    file_problems: list[FileProblem] = []
    row_frames: list[pl.DataFrame] = []
    pending: list[PendingLoad] = []
    known = _loaded_hashes(store)
    with _workdir(store) as work:

        def check(i: int, path: Path) -> CheckedFile | InputError:
            part_dir = work / f"file-{i:05d}"
            part_dir.mkdir()
            try:
                with writing(store, "nothing was loaded"):  # the parts fill a disk too
                    return check_file(path, part_dir, date_order=date_order)
            except InputError as exc:
                return exc

        # Two files at a time: a small file's Python bookkeeping overlaps another's blocks
        # (``check_file`` lets at most two blocks of all files be checked at once).
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(check, range(len(paths)), paths))
        for path, checked in zip(paths, results, strict=True):
            try:
                if isinstance(checked, InputError):
                    raise checked
                row_frames.append(checked.problems)
                src = checked.source
                y = _decide_year(src, checked.rows(), year)
                k = _decide_kind(src, checked.rows(), kind)
            except InputError as exc:
                file_problems.append(FileProblem(path.name,
                                                 str(exc).removeprefix(f"{path.name}: ")))
                outcomes.append(FileOutcome(path.name, "refused", str(exc)))
                continue
            outcome = FileOutcome(path.name, "checked", school_year=y, kind=k.kind,
                                  kind_note=k.note,
                                  n_records=checked.n_records,
                                  n_rejected=checked.n_input_rows - checked.n_records,
                                  layout_year=src.layout.year)
            if src.sha256 in known:
                outcome.status = "unchanged"
                outcome.message = f"already loaded as load {known[src.sha256]}; nothing to do"
            elif checked.n_records == 0 and checked.problems.height == 0:
                outcome.status = "refused"
                outcome.message = "the file has a header but no records"
                file_problems.append(FileProblem(path.name, outcome.message))
            else:
                p = _pending(checked, y, k.kind)
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
        return _finish(store, outcomes, file_problems, row_frames, pending,
                       skip_bad_rows=skip_bad_rows, dry_run=dry_run, loaded_by=loaded_by,
                       replace=replace)


def _finish(store: Store, outcomes: list[FileOutcome], file_problems: list[FileProblem],
            row_frames: list[pl.DataFrame], pending: list[PendingLoad], *,
            skip_bad_rows: bool, dry_run: bool, loaded_by: str | None,
            replace: bool) -> IngestResult:
    """Load the checked files, or say why not (while their parts are still on disk)."""
    rows = pl.concat(row_frames) if row_frames else empty_row_problems()
    result = IngestResult(outcomes, file_problems, rows, loaded=False)
    blocked = bool(file_problems) or (rows.height > 0 and not skip_bad_rows)
    if blocked or not pending:
        if blocked:
            _refuse(outcomes, "not loaded: another problem in this batch stopped the load")
        return result
    if not dry_run:
        pending = [p for p in pending if p.n_rows > 0]
        if not pending:
            _refuse(outcomes, "no valid rows to load")
            return result
    try:
        if dry_run:
            with_rows = [p for p in pending if p.n_rows > 0]
            ids, replaced = loading.preview(store, with_rows, replace=replace)
            _describe(outcomes, with_rows, ids, replaced)
            return result
        done = _load(store, pending, outcomes, loaded_by=loaded_by, replace=replace)
    except ReplacementRefused as exc:
        result.file_problems.append(FileProblem(exc.file_name, exc.reason))
        for o in outcomes:
            if o.status == "checked" and o.file == exc.file_name:
                o.status, o.message = "refused", exc.reason
        _refuse(outcomes, "not loaded: another problem in this batch stopped the load")
        return result
    except InputError as exc:
        # Found under the store's lock: another load committed meanwhile, a full disk...
        names = ", ".join(p.file_name for p in pending)
        result.file_problems.append(FileProblem(names, str(exc)))
        _refuse(outcomes, str(exc))
        return result
    if done is None:  # every file was loaded by another process meanwhile
        return result
    _describe(outcomes, pending, done.ids, done.replacements)
    by_name = {p.file_name: load_id for p, load_id in zip(pending, done.ids, strict=True)}
    for o in outcomes:
        if o.file in by_name and o.status == "checked":
            o.status = "loaded"
            o.load_id = by_name[o.file]
    result.loaded = True
    return result


def _load(store: Store, pending: list[PendingLoad], outcomes: list[FileOutcome], *,
          loaded_by: str | None, replace: bool) -> Loaded | None:
    """Load ``pending``, leaving out files another process loaded while this one waited.

    Two people loading the same file at once: the second finds it loaded under the store's
    lock, and says so as if it had been loaded before it started ("unchanged").
    """
    while pending:
        try:
            return loading.load(store, pending, loaded_by=loaded_by, replace=replace)
        except AlreadyLoaded as exc:
            names = {p.file_name: exc.found[p.sha256] for p in pending if p.sha256 in exc.found}
            for o in outcomes:
                if o.file in names and o.status == "checked":
                    o.status = "unchanged"
                    o.message = f"already loaded as load {names[o.file]}; nothing to do"
            pending = [p for p in pending if p.sha256 not in exc.found]
    return None


def _describe(outcomes: list[FileOutcome], pending: list[PendingLoad], ids: list[int],
              replaced: pl.DataFrame) -> None:
    """Say in each file's outcome what it replaces, by which rule, and whom it removes."""
    id_of = {p.file_name: load_id for p, load_id in zip(pending, ids, strict=True)}
    for o in outcomes:
        if o.file not in id_of:
            continue
        mine = replaced.filter(pl.col("by") == id_of[o.file])
        o.removed = dict(mine.select("lea_code", "n_removed").iter_rows())
        o.message = o.message or describe(replaced, id_of[o.file])


def _refuse(outcomes: list[FileOutcome], message: str) -> None:
    for o in outcomes:
        if o.status == "checked":
            o.status = "refused"
            o.message = message


def _loaded_hashes(store: Store) -> dict[str, int]:
    """sha256 of every current load, so the same file twice changes nothing."""
    loads = store.loads()
    if loads.height == 0:
        return {}
    current = loads.filter(pl.col("is_current"))
    return dict(zip(current.get_column("sha256").to_list(),
                    current.get_column("load_id").to_list(), strict=True))


@contextlib.contextmanager
def _workdir(store: Store) -> Iterator[Path]:
    """A private directory for checked files' parts, removed afterwards.

    Beside the store when it exists (the parts become its loads: same disk, and a system
    temporary directory may be memory), else the system's. The directory is locked while in
    use; one whose ingest was killed is unlocked, and the next ingest removes it.
    """
    base = store.path / ".checking"
    try:
        if not store.path.is_dir():
            raise FileNotFoundError(store.path)  # a first load: leave no store behind
        base.mkdir(exist_ok=True)
        _remove_abandoned(base)
        directory = tempfile.TemporaryDirectory(prefix="ingest-", dir=base)
    except OSError:
        directory = tempfile.TemporaryDirectory(prefix="elpac-ingest-")
    try:
        with directory as name, (Path(name) / OWNER).open("w") as owner:
            fcntl.flock(owner, fcntl.LOCK_EX)
            # Written once locked: an empty owner file is one being set up, never abandoned.
            owner.write(f"{os.getpid()}\n")
            owner.flush()
            yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            base.rmdir()  # only when no other ingest is using it


OWNER = ".owner"
"""Locked by the ingest using a working directory (``fcntl.flock``: released if it dies),
which then writes its process id into it."""


def _remove_abandoned(base: Path) -> None:
    for directory in base.glob("ingest-*"):
        owner = directory / OWNER
        try:
            # Read-only: opening to append would create the owner file of an ingest that has
            # just made its directory, and this one would then lock it and delete its work.
            with owner.open("rb") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if f.read(1):  # locked once by an ingest, and free now: that ingest died
                    shutil.rmtree(directory, ignore_errors=True)
                    continue
        except BlockingIOError:
            continue  # in use
        except OSError:
            pass
        # No owner file, or an empty one: an ingest setting it up now, or one killed while
        # doing so; an hour tells them apart.
        with contextlib.suppress(OSError):
            if time.time() - directory.stat().st_mtime > 3600:
                shutil.rmtree(directory, ignore_errors=True)
