"""Check and load uploaded files in a worker process with a memory limit of its own.

An upload can need far more memory than its size (issue 15: a 5 MB workbook inflating to
2 GiB of sheet XML). Read in the dashboard's own process, one such file ends the dashboard and
every user's session with it. So ``queries.data_loads`` runs the ingest here, in a child
process (``python -m queries.load_worker``) whose address space is capped at what it holds
once started plus :func:`memory_limit_gb` (``resource.setrlimit(RLIMIT_AS)``): a file that
needs more ends the child (a ``MemoryError``, or an aborted allocation in Polars or the Excel
reader), never the dashboard, and :func:`run_ingest` returns a sentence instead.

The request and the result travel as pickles in a private temporary directory (mode 0700) that
only this module writes; loads stay atomic (``data.results.store``), so a child ended mid-load
leaves the store as it was.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.results.ingest import IngestResult
    from queries.scope import Scope

MEMORY_SETTING = "ELPAC_LOAD_MEMORY_GB"
DEFAULT_MEMORY_GB = 4.0
"""A large LEA's file (a few hundred MB of text, about 350,000 records) checks and loads in
about 2 GB; twice that leaves room, and a dashboard host has it to spare for one load."""
_MEMORY_HINTS = ("MemoryError", "memory allocation of", "Cannot allocate memory",
                 "failed to spawn thread", "out of memory", "thread creation failed",
                 "can't start new thread", "Resource temporarily unavailable",
                 "failed to map segment")
"""What a child ended by its memory limit writes (Python, Rust's allocator, thread start:
a thread's stack is address space too, so under the cap jemalloc or Python may fail to start
one, with EAGAIN, before any allocation fails; a shared library loaded under the cap fails to
map its segments)."""
log = logging.getLogger(__name__)


class WorkerRefusal(Exception):
    """The worker could not finish; the message is the sentence the page shows."""


@dataclass(frozen=True)
class Request:
    """What one ingest in the worker needs (``data.results.ingest.ingest``'s arguments)."""

    paths: list[Path]
    store: Path
    scope: Scope
    year: str | None
    kind: str | None
    date_order: str | None
    skip_bad_rows: bool
    dry_run: bool
    loaded_by: str | None
    replace: bool = False


def memory_limit_gb() -> float:
    """The memory a load may use, in GB (``ELPAC_LOAD_MEMORY_GB``, default 4).

    ``ValueError`` if the setting is not a positive number.
    """
    raw = os.environ.get(MEMORY_SETTING)
    if raw is None:
        return DEFAULT_MEMORY_GB
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{MEMORY_SETTING} must be a number of GB greater than 0, such as 4; "
                         f"it is {raw!r}")
    return value


def _too_big(gb: float) -> str:
    return (f"The files need more memory than a load may use ({gb:g} GB); nothing was loaded. "
            "Load fewer or smaller files at a time (one LEA's file, or a workbook split into "
            "tabs saved as separate files), or ask your dashboard administrator to raise "
            f"{MEMORY_SETTING}.")


def run_ingest(request: Request) -> IngestResult:
    """``ingest`` as ``request`` asks, in a worker process under the memory limit.

    Raises what the ingest raises for bad input (``InputError``, ``ValueError``, ``OSError``)
    and ``WorkerRefusal`` when the worker ran out of memory or stopped for another reason.
    """
    gb = memory_limit_gb()
    with tempfile.TemporaryDirectory(prefix="elpac-worker-") as exchange:
        asked, answer = Path(exchange) / "request.pickle", Path(exchange) / "result.pickle"
        asked.write_bytes(pickle.dumps(request))
        # The parent's import path, so the child imports this very code base.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
               # Few malloc arenas: each reserves 64 MB of address space per thread, which
               # would count against the limit without holding anything.
               "MALLOC_ARENA_MAX": "2"}
        child = subprocess.Popen(
            [sys.executable, "-m", "queries.load_worker", exchange, str(gb)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env)
        try:
            _, errors = child.communicate()
        finally:  # the page was left or rerun: the child must not outlive its request
            if child.poll() is None:
                child.kill()
                child.wait()
        stderr = errors.decode(errors="replace")
        if child.returncode == 0 and answer.exists():
            kind, value = pickle.loads(answer.read_bytes())
            if kind == "result":
                return value
            raise value
    if any(hint in stderr for hint in _MEMORY_HINTS) or child.returncode == -9:
        raise WorkerRefusal(_too_big(gb))
    log.error("the load worker stopped (exit code %s): %s", child.returncode, stderr[-4000:])
    raise WorkerRefusal(f"The files could not be checked: the load worker stopped unexpectedly "
                        f"(exit code {child.returncode}); nothing was loaded. Ask your "
                        "dashboard administrator to look at the dashboard's log.")


def _address_space() -> int:
    """Bytes of address space this process holds (VmSize), which ``RLIMIT_AS`` caps."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _portable(exc: Exception) -> Exception:
    """``exc`` as its base class, which pickles.

    Subclasses such as ``ReplacementRefused`` take other arguments than their message, and the
    caller reads only the message.
    """
    from data.problems import InputError

    if isinstance(exc, OSError):
        return OSError(exc.errno, exc.strerror or str(exc))
    return (InputError if isinstance(exc, InputError) else ValueError)(str(exc))


def _work(exchange: Path, gb: float) -> None:
    """The child's side: import everything, cap the address space, ingest, write the result."""
    import polars as pl

    from data.problems import InputError
    from data.results.ingest import ingest
    from data.results.store import Store
    from queries.access import lea_veto

    pl.DataFrame({"warm": [1, 2]}).sum()  # starts Polars' threads before the cap is measured
    request: Request = pickle.loads((exchange / "request.pickle").read_bytes())
    # Opens the catalog (SQLite's shared library, the engine, its migrations) before the cap,
    # so a small limit refuses the file, not the library the ingest needs to read the store.
    Store(request.store).loads()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + int(gb * 1e9)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        result = ingest(request.paths, store=Store(request.store), year=request.year,
                        kind=request.kind, date_order=request.date_order,
                        skip_bad_rows=request.skip_bad_rows, dry_run=request.dry_run,
                        loaded_by=request.loaded_by, replace=request.replace,
                        veto=lea_veto(request.scope))
        answer: tuple[str, object] = ("result", result)
    except (InputError, ValueError, OSError) as exc:
        answer = ("error", _portable(exc))
    (exchange / "result.pickle").write_bytes(pickle.dumps(answer))


if __name__ == "__main__":
    try:
        _work(Path(sys.argv[1]), float(sys.argv[2]))
    except MemoryError:
        sys.stderr.write("MemoryError\n")
        sys.exit(3)
