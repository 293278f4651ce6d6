"""A file-system error while writing the store, as one sentence (issue 15, finding 8).

A full disk, a lost quota or a failing disk while a load (or an undo) writes its new data
version used to end in a Python traceback. ``writing`` turns it into ``StoreNotWritten``, an
``InputError`` whose sentence says what happened and what did not; the writer has already
removed what it wrote (``data.results.loading.publish``), so the store is as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from typing import TYPE_CHECKING

import polars as pl

from data.problems import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from data.results.store import Store


class StoreNotWritten(InputError):
    """The file system refused a write (a full disk, most often); the store is as it was."""


@contextlib.contextmanager
def writing(store: Store, outcome: str) -> Iterator[None]:
    """Turn a file-system error while writing the store into ``StoreNotWritten``'s sentence.

    ``outcome`` says what did not happen ("nothing was loaded"). Polars reports a failed write
    of Parquet as a ``ComputeError`` naming the OS error, not as an ``OSError``.
    """
    try:
        yield
    except (OSError, pl.exceptions.PolarsError) as exc:
        number = _os_error(exc)
        if number is None:
            raise
        if number in (errno.ENOSPC, errno.EDQUOT):
            message = (f"the disk holding the store is full ({store.path}): {outcome}, and "
                       "the store is as it was. Free some space there, then try again")
        else:
            reason = os.strerror(number)
            message = (f"the store at {store.path} could not be written ({reason}): "
                       f"{outcome}, and the store is as it was. Ask whoever looks after "
                       "that disk")
        raise StoreNotWritten(message) from exc


def _os_error(exc: BaseException) -> int | None:
    """The OS error number behind ``exc``, or ``None`` if it is not a file-system error."""
    if isinstance(exc, OSError) and exc.errno:
        return exc.errno
    found = re.search(r"\(os error (\d+)\)", str(exc))
    return int(found[1]) if found else (errno.EIO if isinstance(exc, OSError) else None)
