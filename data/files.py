"""Writing into a store directory: one writer at a time, and writes that survive a crash.

Both the results (``data.results``) and the catalog (``data.catalog``) live in the store
directory, and DuckDB lets one process at a time write a database file. So every writer, in
any process, takes the directory's lock (a ``flock`` on ``.lock``) for as long as it writes.
The lock is re-entrant within a thread: a load holds it from the first Parquet file to the
catalog commit, and the commit's own catalog write takes it again without waiting for itself.

Readers never wait for that lock. Instead each pins the data version it reads (``pin``, a
shared ``flock`` on the version's directory), and the writer deletes an old version only when
no one pins it (``remove_unpinned``).

What a store writes is its owner's only: student names and SSIDs, password hashes, session
hashes. ``private_files`` makes every file this process creates from then on readable and
writable by its owner only (directories 0700, files 0600), whatever library creates it
(Polars, DuckDB, SQLite with its ``-wal`` and ``-shm``, the downloads).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator

LOCK_FILE = ".lock"
PRIVATE = 0o077
"""The umask bits that keep the group and everyone else out."""

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
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = os.fdopen(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a")
        except FileNotFoundError:  # the directory went between the two steps
            continue
        fcntl.flock(handle, fcntl.LOCK_EX)
        # A failed first load removes the lock file it made (``data.results.store``); a lock
        # taken on that removed file guards nothing, so lock the file now in its place.
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(handle.fileno()).st_ino == lock.stat().st_ino:
                return handle
        handle.close()


def private_files() -> None:
    """From now on, create files 0600 and directories 0700 in this process (a umask).

    Called by every ``Store`` and ``Catalog``: a process that opens a store is a process that
    handles student records, so everything it writes (its exports too) is its owner's only. A
    umask never widens here: bits already masked stay masked. Process-wide on purpose: a
    library's own files (SQLite's ``-wal``, Polars' Parquet) get no mode argument from us.
    """
    current = os.umask(PRIVATE)
    if current | PRIVATE != PRIVATE:
        os.umask(current | PRIVATE)


def fsync(path: Path) -> None:
    """Flush a written file to disk, so a crash after this cannot leave it half written."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


# -- readers' pins: a data version stays while a reader has it ------------------------------

class Pin:
    """A shared ``flock`` on a directory, held until ``close`` (or until garbage collected).

    Readers pin the data version they read (``data.results.store.Store.pin``); the writer's
    clean-up removes a version only when it can lock it exclusively (``remove_unpinned``), so
    never under a reader, in this process or another. The lock goes with the descriptor: a
    reader killed mid-read holds nothing.
    """

    def __init__(self, fd: int) -> None:
        self._close = weakref.finalize(self, os.close, fd)

    def close(self) -> None:
        """Let the directory go (idempotent)."""
        self._close()


def pin(directory: Path) -> Pin | None:
    """Pin a directory; ``None`` if it is gone (or going: ``remove_unpinned`` renamed it)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    try:
        with contextlib.suppress(OSError):  # no locks here: the remover cannot lock either
            fcntl.flock(fd, fcntl.LOCK_SH)
        # A remover renames the directory away under its exclusive lock before deleting it:
        # a pin taken after that (on the renamed one) guards nothing.
        same = os.path.samestat(os.fstat(fd), directory.stat())
    except FileNotFoundError:
        same = False
    except BaseException:
        os.close(fd)
        raise
    if same:
        return Pin(fd)
    os.close(fd)
    return None


def remove_unpinned(directory: Path, trash: Path) -> bool:
    """Delete ``directory`` unless someone pins it; ``True`` if it is gone.

    Renamed to ``trash`` (same file system) under an exclusive lock, so no reader can pin it
    from then on, then deleted. A crash in between leaves only ``trash`` behind.
    """
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # A reader has it, or the file system has no such locks (a directory on NFS):
            # then no one can tell, and it stays.
            return False
        directory.rename(trash)
    finally:
        os.close(fd)
    shutil.rmtree(trash, ignore_errors=True)
    return True
