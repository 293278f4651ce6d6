"""Downloadable files that outlive Streamlit's clean-up long enough to be fetched.

A download button whose file is made on click (``data=`` a callable) stores the file without
tying it to any session. Streamlit sweeps unreferenced files at the end of *every* session's
script run and deletes a downloadable one on its second sweep. With many people at once, two
other sessions' runs can end between the file being made and the browser fetching it: the
fetch then finds nothing and the browser cancels the download. Real users hit this, and the
20-session browser test caught it.

``LingeringMediaFileStorage`` keeps a deleted downloadable file for ``LINGER_SECONDS`` more
(bounded in total bytes, oldest dropped first), still served by its address; images and other
media are deleted at once, as Streamlit does. ``linger_downloads`` puts it into a served app's
runtime.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.media_file_storage import MediaFileKind, MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryFile, MemoryMediaFileStorage

if TYPE_CHECKING:
    from collections.abc import Callable

    from streamlit.runtime import Runtime

LINGER_SECONDS = 300.0
# Deleted files kept at most, in bytes: a burst of large downloads cannot grow the server
# without bound (large extracts stream from disk through /download/ and never come here).
LINGER_BYTES = 256 * 1024 * 1024


class LingeringMediaFileStorage(MemoryMediaFileStorage):
    """Streamlit's in-memory storage, keeping deleted downloads servable for a while."""

    def __init__(self, media_endpoint: str, *, linger_seconds: float = LINGER_SECONDS,
                 linger_bytes: int = LINGER_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(media_endpoint)
        self._linger_seconds = linger_seconds
        self._linger_bytes = linger_bytes
        self._clock = clock
        self._lingering: OrderedDict[str, tuple[float, MemoryFile]] = OrderedDict()
        self._lingering_bytes = 0
        self._lock = threading.Lock()

    def load_and_get_id(self, path_or_data: str | bytes, mimetype: str, kind: MediaFileKind,
                        filename: str | None = None) -> str:
        """Store a file (Streamlit's way); a lingering copy of it is live again."""
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        with self._lock:
            self._forget(file_id)  # live again: it is Streamlit's to delete once more
            self._expire()
        return file_id

    def get_file(self, filename: str) -> MemoryFile:
        """The live file, else a deleted download still lingering; else Streamlit's error."""
        try:
            return super().get_file(filename)
        except MediaFileStorageError:
            file_id = filename.rsplit(".", 1)[0] if "." in filename else filename
            with self._lock:
                self._expire()
                kept = self._lingering.get(file_id)
            if kept is None:
                raise
            return kept[1]

    def delete_file(self, file_id: str) -> None:
        """Delete as Streamlit does, keeping a downloadable file servable a while longer."""
        file = self._files_by_id.get(file_id)
        super().delete_file(file_id)
        if file is None or file.kind != MediaFileKind.DOWNLOADABLE:
            return
        with self._lock:
            self._forget(file_id)
            self._lingering[file_id] = (self._clock() + self._linger_seconds, file)
            self._lingering_bytes += file.content_size
            self._expire()

    def lingering_count(self) -> int:
        """How many deleted downloads are still kept (for tests and stats)."""
        with self._lock:
            self._expire()
            return len(self._lingering)

    def _forget(self, file_id: str) -> None:
        kept = self._lingering.pop(file_id, None)
        if kept is not None:
            self._lingering_bytes -= kept[1].content_size

    def _expire(self) -> None:
        now = self._clock()
        while self._lingering:
            file_id, (deadline, file) = next(iter(self._lingering.items()))
            if deadline > now and self._lingering_bytes <= self._linger_bytes:
                break
            self._forget(file_id)


def linger_downloads(runtime: Runtime) -> Runtime:
    """Give a just-created runtime (no session yet) the lingering storage."""
    old: Any = runtime.media_file_mgr._storage  # noqa: SLF001 - Streamlit offers no setter
    storage = LingeringMediaFileStorage(old._media_endpoint)  # noqa: SLF001
    runtime._media_file_mgr = MediaFileManager(storage=storage)  # noqa: SLF001
    runtime._stats_mgr.register_provider(storage)  # noqa: SLF001
    return runtime
