"""Uploaded Student Score Data Files: check them, report what a load would do, then load them.

The Data loads page is a thin view over this module. Everything that decides something lives
here, where tests call it directly: who may load (``queries.access.require_loads``) and which
LEA's records (``queries.access.lea_veto``), what a file would replace, whether the batch may
load in the chosen mode, and the sentences people read.

Uploaded bytes are written to a private temporary directory (``mkdtemp``: mode 0700) only for
the length of one check or one load, then deleted: the files carry student names and SSIDs.
They are read in a worker process with a memory limit of its own (``queries.load_worker``),
so a file needing gigabytes (a zip bomb) is a refusal, not the end of the dashboard.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from data import domain
from data.problems import InputError, empty_row_problems
from data.results.ingest import FIRST_YEAR, FileOutcome, IngestResult, school_year_of
from queries.access import require_loads
from queries.load_worker import Request, WorkerRefusal, run_ingest
from queries.snapshot import FINAL_AFTER
from queries.spreadsheets import csv_bytes

if TYPE_CHECKING:
    from collections.abc import Callable

    from data.results.store import Store
    from queries.access import User
    from queries.scope import Scope

ACCEPTED_TYPES = ("csv", "txt", "tsv", "xlsx")
"""What ``data.toms.read`` reads: caret, comma or tab text (TOMS names files ``.CSV``), Excel."""

FILE_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(), "status": pl.String(), "school_year": pl.String(), "kind": pl.String(),
    "release": pl.String(), "report_created_date": pl.Date(), "n_read": pl.Int64(),
    "n_valid": pl.Int64(), "n_rejected": pl.Int64(), "message": pl.String(),
}
"""One row per uploaded file (``n_read`` = valid records + rejected rows)."""

LEA_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(), "school_year": pl.String(), "kind": pl.String(),
    "lea_code": pl.String(), "n_records": pl.Int64(), "release": pl.String(),
    "replaces": pl.String(), "n_removed": pl.Int64(),
}
"""One row per uploaded file and LEA: what loading it would replace in the store, and the
students of the replaced file it would remove (``data.results.supersession``)."""

LABELS: dict[str, str] = {
    "file": "File", "status": "Status", "school_year": "School year", "kind": "File kind",
    "release": "Release", "report_created_date": "Report created", "n_read": "Records read",
    "n_valid": "Valid records", "n_rejected": "Rejected rows", "n_would_load": "Would load",
    "message": "Note", "lea_code": "LEA code", "n_records": "Records", "replaces": "Replaces",
    "sheet": "Sheet", "row": "Row", "field": "Field", "value": "Value", "reason": "Reason",
    "n_removed": "Students removed",
}
"""Display label of every column of this module's frames (they keep snake_case names)."""

FILE_COLUMNS = ["status", "school_year", "kind", "release", "report_created_date", "n_read",
                "n_would_load", "n_rejected", "message", "file"]
LEA_COLUMNS = ["lea_code", "school_year", "kind", "n_records", "release", "replaces",
               "n_removed", "file"]
PROBLEM_COLUMNS = ["row", "field", "value", "reason", "file", "sheet"]
"""Display order of the report's tables: the file name last, TOMS file names being long."""

# The ingest's messages name the CLI's options; on the page those choices are "File options".
_FOR_THE_PAGE = [
    (re.compile(r"pass --year, e\.g\. --year \S+"), "choose its school year under File options"),
    (re.compile(r"pass --kind enrolled or --kind tested"), "choose its kind under File options"),
    (re.compile(r"pass --date-order dmy \(or mdy\)"), "choose the date order under File options"),
    (re.compile(r"pass --kind enrolled, or leave --kind out"),
     "choose Enrolled LEA or From the file under File options"),
    (re.compile(r"pass --kind tested, or leave --kind out"),
     "choose Tested LEA or From the file under File options"),
    (re.compile(r"--kind is"), "File options say"),
    (re.compile(r"--year:"), "File options:"),
    (re.compile(r"load it again with --replace"),
     "confirm the removal on this page, then Load"),
]


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the user's computer had it, and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class FileOptions:
    """What the ingest cannot always learn from a file (``None``: from the file)."""

    year: str | None = None
    kind: str | None = None
    date_order: str | None = None


@dataclass
class Report:
    """What a check found (``loaded`` False) or what a load did (``loaded`` True)."""

    files: pl.DataFrame
    leas: pl.DataFrame
    row_problems: pl.DataFrame
    file_problems: list[str]
    loaded: bool = False
    load_ids: list[int] = field(default_factory=list)
    version: int = 0
    """The store's data version after the check or the load."""

    @property
    def n_valid(self) -> int:
        """Valid records of the files that are new to the store."""
        new = self.files.filter(pl.col("status") == "ready")
        return int(new.get_column("n_valid").sum())

    @property
    def already_loaded(self) -> bool:
        """Nothing loaded because every file was loaded meanwhile: done, not an error.

        Another person or the command line loaded them while this one was being checked.
        """
        statuses = self.files.get_column("status").to_list()
        return (not self.loaded and not self.file_problems and self.row_problems.height == 0
                and bool(statuses) and all(s == "unchanged" for s in statuses))

    def outcome(self) -> str:
        """What a load did, as the sentence the page shows after it."""
        if self.already_loaded:
            said = "; ".join(f"{f} was {m.removesuffix('; nothing to do')}" for f, m in
                             self.files.select("file", "message").iter_rows())
            return f"Nothing new to load: {said}. Every page already shows these records."
        if not self.loaded:
            n_bad = self.row_problems.select("file", "row").n_unique()
            rows = [f"{n_bad:,} row(s) have problems."] if n_bad else []
            return "Nothing was loaded: " + " ".join(self.file_problems + rows or [
                "the files changed while they were loading; check them again."])
        n = int(self.files.filter(pl.col("status").str.starts_with("loaded"))
                .get_column("n_valid").sum())
        ids = ", ".join(map(str, self.load_ids))
        return (f"Loaded {n:,} records as load {ids}; the store is now at data version "
                f"{self.version}. Every page shows the new data.")

    def verdict(self, *, skip_bad_rows: bool) -> tuple[bool, str]:
        """Whether the batch may be loaded in this mode, and the sentence that says so."""
        n_bad = self.row_problems.select("file", "row").n_unique()
        if self.file_problems:
            return False, ("Nothing can be loaded until the file problems listed above are "
                           "fixed: correct or remove those files and upload again.")
        if self.n_valid == 0:
            return False, ("Nothing new to load: every file is already in the store or has no "
                           "valid records.")
        if n_bad and not skip_bad_rows:
            return False, (f"{n_bad:,} row(s) have problems, so nothing would be loaded: one "
                           "bad row refuses every file. Fix them and upload again, or choose "
                           "“Load the good rows, skip the bad ones”.")
        skipped = f"; {n_bad:,} bad row(s) will be skipped" if n_bad else ""
        return True, f"Ready to load {self.n_valid:,} records{skipped}."

    def files_view(self, *, skip_bad_rows: bool) -> pl.DataFrame:
        """``files`` with ``n_would_load``: what the Load button would load from each file."""
        may, _ = self.verdict(skip_bad_rows=skip_bad_rows)
        ready = pl.col("status") == "ready"
        would = pl.when(pl.lit(may) & ready).then(pl.col("n_valid")).otherwise(0)
        # A file that is fine on its own still waits when the batch cannot load.
        status = pl.when(ready & pl.lit(not may)).then(pl.lit("would be refused"))
        return self.files.with_columns(would.cast(pl.Int64).alias("n_would_load"),
                                       status.otherwise(pl.col("status")).alias("status"))

    @property
    def n_removed(self) -> int:
        """Students the loads these files replace list and these files do not."""
        return int(self.leas.get_column("n_removed").sum())

    def removal(self) -> str | None:
        """The sentence asking to confirm a load that removes students (``None``: no removal).

        ``data.results.supersession``: such a load is refused unless confirmed.
        """
        if not self.n_removed:
            return None
        leas = self.leas.filter(pl.col("n_removed") > 0)
        each = ", ".join(f"{n:,} of LEA {lea}" for lea, n in leas.select(
            "lea_code", "n_removed").iter_rows())
        return (f"Loading would remove {self.n_removed:,} student(s) ({each}): the files now "
                "loaded list them and these files do not (see Students removed above). Load "
                "only if they are meant to go: confirm below.")

    def problem_columns(self) -> list[str]:
        """``PROBLEM_COLUMNS`` to show: the sheet only when a workbook had problems."""
        has_sheet = self.row_problems.get_column("sheet").drop_nulls().len() > 0
        return [c for c in PROBLEM_COLUMNS if c != "sheet" or has_sheet]

    def problems_csv(self) -> bytes:
        """Every row problem as CSV, safe to open in a spreadsheet (no cell runs a formula)."""
        return csv_bytes(self.row_problems)


def release_of(school_year: str, created: date | None) -> str:
    """``final`` for a file created on or after the final release date, else ``partial``.

    The same rule as ``queries.snapshot.FINAL_AFTER`` (ELPAC.md §7: the final release comes in
    August).

    Examples
    --------
    >>> release_of("2024-25", date(2025, 8, 20)), release_of("2024-25", date(2025, 5, 22))
    ('final', 'partial')
    """
    final_from = date(domain.spring_year(school_year), *FINAL_AFTER)
    return "final" if created is not None and created >= final_from else "partial"


def school_years(today: date | None = None) -> list[str]:
    """School years a file may be for, newest first (the File options choice).

    Examples
    --------
    >>> school_years(date(2020, 9, 1))
    ['2020-21', '2019-20', '2018-19']
    """
    last = domain.spring_year(school_year_of(today or date.today()))
    return [domain.school_year_label(y) for y in range(last, domain.spring_year(FIRST_YEAR) - 1,
                                                       -1)]


def for_the_page(message: str, folder: str | None = None) -> str:
    """An ingest message as the page says it: File options instead of CLI flags, no paths.

    Examples
    --------
    >>> for_the_page("cannot tell the school year; pass --year, e.g. --year 2024-25")
    'cannot tell the school year; choose its school year under File options'
    """
    if folder:
        message = message.replace(folder + os.sep, "").replace(folder, "")
    for pattern, text in _FOR_THE_PAGE:
        message = pattern.sub(text, message)
    return message


def check_uploads(uploads: list[Upload], *, store: Store, user: User,
                  options: FileOptions | None = None) -> Report:
    """Check uploaded files without loading anything: the validation report.

    Rows are checked as "load the good rows" would, so the report lists every row problem and
    :meth:`Report.verdict` decides per mode; whole-file problems and another LEA's records
    (``queries.access.lea_veto``) refuse the batch in either mode. ``ScopeError`` if the user
    may not load files at all. A replacement that would remove students is reported
    (:meth:`Report.removal`), not refused: the load asks to confirm it.
    """
    return _run(uploads, store=store, user=user, options=options or FileOptions(),
                dry_run=True, skip_bad_rows=True, replace=True)


def load_uploads(uploads: list[Upload], *, store: Store, user: User,
                 options: FileOptions | None = None, skip_bad_rows: bool = False,
                 loaded_by: str | None = None,
                 progress: Callable[[str], None] | None = None,
                 replace: bool = False) -> Report:
    """Check and load uploaded files in one atomic step (``data.results.ingest``); all or nothing.

    The files are checked again here, under the same rules as :func:`check_uploads`: the
    check the page showed is never trusted, so the store only takes what passes now. A
    replacement that removes students needs ``replace`` (the user confirmed it).
    ``ScopeError`` if the user may not load files at all.
    """
    return _run(uploads, store=store, user=user, options=options or FileOptions(),
                dry_run=False, skip_bad_rows=skip_bad_rows, loaded_by=loaded_by,
                progress=progress, replace=replace)


def _run(uploads: list[Upload], *, store: Store, user: User, options: FileOptions,
         dry_run: bool, skip_bad_rows: bool, loaded_by: str | None = None,
         progress: Callable[[str], None] | None = None, replace: bool = False) -> Report:
    require_loads(user, "Loading Student Score Data Files")
    say = progress or (lambda _: None)
    # Only base names: a browser may send a path, and nothing may leave the private folder.
    names = [Path(u.name).name for u in uploads]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        return _refusal([f"{n}: chosen twice; remove one copy and check again." for n in twice])
    with tempfile.TemporaryDirectory(prefix="elpac-upload-") as folder:
        say(f"Saving {len(uploads)} file(s) to a private temporary folder…")
        paths = []
        for name, upload in zip(names, uploads, strict=True):
            path = Path(folder) / name
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(upload.data)
            paths.append(path)
        say("Checking every value" + ("…" if dry_run else " and writing a new data version…"))
        current = _current_loads(store)  # before the load: what it replaces
        try:  # in a worker process: no file can take the dashboard's memory (issue 15)
            result = run_ingest(Request(
                paths, store.path, user.scope, year=options.year, kind=options.kind,
                date_order=options.date_order, skip_bad_rows=skip_bad_rows, dry_run=dry_run,
                loaded_by=loaded_by, replace=replace))
        except WorkerRefusal as exc:
            return _refusal([str(exc)])
        except (InputError, ValueError) as exc:
            return _refusal([for_the_page(str(exc), folder)])
        except OSError as exc:
            # Loads are atomic (data.results.store): a failed write leaves the store as it was.
            return _refusal([f"The store could not be written ({exc.strerror}); nothing was "
                             "loaded. Ask your dashboard administrator to check its disk."])
        return _report(result, store, current, folder)


def _refusal(sentences: list[str]) -> Report:
    return Report(pl.DataFrame(schema=FILE_SCHEMA), pl.DataFrame(schema=LEA_SCHEMA),
                  empty_row_problems(), sentences)


def _status(o: FileOutcome) -> str:
    if o.status == "checked":  # new to the store and not refused
        return "ready" if o.n_records else "no valid rows"
    return f"loaded as load {o.load_id}" if o.status == "loaded" else o.status


def _report(result: IngestResult, store: Store,
            current: dict[tuple[str, str, str], dict[str, object]], folder: str) -> Report:
    files, leas = [], []
    problems = [for_the_page(f"{p.file}: {p.message}", folder) for p in result.file_problems]
    for o in result.outcomes:
        checked = o.school_year is not None
        release = release_of(o.school_year, o.report_created_date) if o.school_year else None
        said = (o.kind_note, o.message.removeprefix(f"{o.file}: "))  # how its kind was told
        files.append({
            "file": o.file, "status": _status(o), "school_year": o.school_year,
            "kind": o.kind, "release": release if o.lea_records else None,
            "report_created_date": o.report_created_date,
            "n_read": o.n_records + o.n_rejected if checked else None,
            "n_valid": o.n_records if checked else None,
            "n_rejected": o.n_rejected if checked else None,
            "message": for_the_page("; ".join(m for m in said if m), folder)})
        # A file the rules refuse is a file problem already (data.results.supersession).
        for lea, n in o.lea_records.items():
            leas.append({"file": o.file, "school_year": o.school_year, "kind": o.kind,
                         "lea_code": lea, "n_records": n, "release": release,
                         "replaces": _replaces(current.get((o.kind, o.school_year, lea)),
                                               o.report_created_date),
                         "n_removed": o.removed.get(lea, 0)})
    return Report(pl.DataFrame(files, schema=FILE_SCHEMA), pl.DataFrame(leas, schema=LEA_SCHEMA),
                  result.row_problems, problems, loaded=result.loaded,
                  load_ids=[o.load_id for o in result.outcomes if o.load_id is not None],
                  version=store.version())


def _current_loads(store: Store) -> dict[tuple[str, str, str], dict[str, object]]:
    """The current load of each (kind, school year, LEA): what a new file would replace."""
    loads = store.loads()
    if loads.is_empty():
        return {}
    return {(r["kind"], r["school_year"], r["lea_code"]): r
            for r in loads.filter(pl.col("is_current")).iter_rows(named=True)}


def _replaces(old: dict[str, object] | None, created: date | None) -> str:
    """What a new file replaces (``data.results.supersession`` decides whether it may)."""
    if old is None:
        return "nothing: the first file for this LEA, school year and kind"
    old_created = old["report_created_date"] if isinstance(old["report_created_date"],
                                                           date) else None
    release = release_of(str(old["school_year"]), old_created)
    shown = f"load {old['load_id']} ({release}, created {old_created or 'unknown'}, " \
            f"{old['n_records']:,} records)"
    if old_created and created and created < old_created:
        return f"nothing: older than {shown}"
    if old_created and created is None:
        return f"nothing: no created date, unlike {shown}"
    return shown


def with_release(history: pl.DataFrame) -> pl.DataFrame:
    """The load history with each file's ``release`` (partial or final) after its status.

    Examples
    --------
    >>> history = pl.DataFrame({"school_year": ["2024-25"], "status": ["current"],
    ...                         "report_created_date": [date(2025, 8, 20)]})
    >>> with_release(history).get_column("release").to_list()
    ['final']
    """
    final_from = pl.date(pl.col("school_year").str.slice(0, 4).cast(pl.Int32) + 1, *FINAL_AFTER)
    release = (pl.when(pl.col("report_created_date") >= final_from).then(pl.lit("final"))
               .otherwise(pl.lit("partial")).alias("release"))
    columns = history.columns
    at = columns.index("status") + 1
    return history.with_columns(release).select(*columns[:at], "release", *columns[at:])


def visible_history(history: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    """The load history rows of the LEAs a scope covers (all of them for a statewide scope)."""
    if scope.statewide:
        return history
    allowed = [c for c in history.get_column("lea_code").unique().to_list()
               if scope.allows_lea(c[:2], c)]
    return history.filter(pl.col("lea_code").is_in(allowed))
