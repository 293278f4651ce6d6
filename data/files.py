"""Writing into a store directory: one writer at a time, and writes that survive a crash.

Both the results (``data.results``) and the catalog (``data.catalog``) live in the store
directory, and DuckDB lets one process at a time write a database file. So every writer, in
any process, takes the directory's lock (a ``flock`` on ``.lock``) for as long as it writes.
The lock is re-entrant within a thread: a load holds it from the first Parquet file to the
catalog commit, and the commit's own catalog write takes it again without waiting for itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator

LOCK_FILE = ".lock"

_held = threading.local()
"""Per thread: store directory -> (open lock file, depth)."""


@contextlib.contextmanager
def writer_lock(directory: Path) -> Iterator[None]:
    """Hold the store directory's writer lock (waits for other writers; re-entrant)."""
    key = str(Path(directory).resolve())
    held: dict[str, tuple[TextIO, int]] = _held.__dict__.setdefault("locks", {})
    if key in held:
        handle, depth = held[key]
        held[key] = (handle, depth + 1)
        try:
            yield
        finally:
            held[key] = (handle, held[key][1] - 1)
        return
    handle = _acquire(Path(directory))
    held[key] = (handle, 1)
    try:
        yield
    finally:
        del held[key]
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def lock_file(directory: Path) -> Path:
    """The file whose ``flock`` is the writer lock."""
    return Path(directory) / LOCK_FILE


def _acquire(directory: Path) -> TextIO:
    lock = lock_file(directory)
    while True:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            handle = lock.open("a")
        except FileNotFoundError:  # the directory went between the two steps
            continue
        fcntl.flock(handle, fcntl.LOCK_EX)
        # A failed first load removes the lock file it made (``data.results.store``); a lock
        # taken on that removed file guards nothing, so lock the file now in its place.
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(handle.fileno()).st_ino == lock.stat().st_ino:
                return handle
        handle.close()


def fsync(path: Path) -> None:
    """Flush a written file to disk, so a crash after this cannot leave it half written."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
