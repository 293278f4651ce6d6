"""A download made on click survives other sessions' clean-up until the browser fetches it.

Driven through Streamlit's own MediaFileManager: a deferred download's file is tied to no
session, and every session's run ends with a clean-up sweep (``remove_orphaned_files``).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.media_file_storage import MediaFileKind, MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from dashboard.media_files import LINGER_SECONDS, LingeringMediaFileStorage


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def clicked_download(manager: MediaFileManager) -> str:
    """What a click on a download button with ``data=`` a callable does: the file's name."""
    placeholder = manager.add_deferred(lambda: b"School,Percent\nLincoln,42\n", "text/csv",
                                       coordinates="1.(2.3).4", file_name="report.csv")
    url = manager.execute_deferred(placeholder)
    return url.rsplit("/", 1)[1]


def other_sessions_end_their_runs(manager: MediaFileManager, runs: int) -> None:
    for _ in range(runs):
        manager.remove_orphaned_files()


def test_streamlit_alone_loses_the_file_after_two_other_runs() -> None:
    # Why the lingering storage exists: with Streamlit's storage the fetch finds nothing.
    storage = MemoryMediaFileStorage("/media")
    manager = MediaFileManager(storage)
    name = clicked_download(manager)
    other_sessions_end_their_runs(manager, 2)
    with pytest.raises(MediaFileStorageError):
        storage.get_file(name)


def downloaded_then_other_runs(runs: int) -> tuple[Clock, LingeringMediaFileStorage,
                                                    MediaFileManager, str]:
    """A lingering storage on a test clock, a download clicked, then ``runs`` other runs."""
    clock = Clock()
    storage = LingeringMediaFileStorage("/media", clock=clock)
    manager = MediaFileManager(storage)
    name = clicked_download(manager)
    other_sessions_end_their_runs(manager, runs)
    return clock, storage, manager, name


def test_the_file_is_served_after_five_other_runs_and_gone_after_the_linger() -> None:
    clock, storage, _, name = downloaded_then_other_runs(5)
    file = storage.get_file(name)
    assert file.content == b"School,Percent\nLincoln,42\n"
    assert file.filename == "report.csv"
    assert file.kind == MediaFileKind.DOWNLOADABLE
    clock.now += LINGER_SECONDS - 1
    assert storage.get_file(name).content.startswith(b"School")
    clock.now += 2
    with pytest.raises(MediaFileStorageError):
        storage.get_file(name)
    assert storage.lingering_count() == 0


def test_images_are_deleted_at_once_and_lingering_bytes_are_bounded() -> None:
    clock = Clock()
    storage = LingeringMediaFileStorage("/media", clock=clock, linger_bytes=10)
    image = storage.load_and_get_id(b"\x89PNG....", "image/png", MediaFileKind.MEDIA)
    storage.delete_file(image)
    with pytest.raises(MediaFileStorageError):
        storage.get_file(image)
    first = storage.load_and_get_id(b"123456", "text/csv", MediaFileKind.DOWNLOADABLE, "a.csv")
    second = storage.load_and_get_id(b"abcdef", "text/csv", MediaFileKind.DOWNLOADABLE, "b.csv")
    storage.delete_file(first)
    storage.delete_file(second)  # 12 bytes kept would pass the bound: the oldest goes
    with pytest.raises(MediaFileStorageError):
        storage.get_file(first)
    assert storage.get_file(second).content == b"abcdef"


def test_a_file_made_again_while_lingering_is_live_again() -> None:
    clock, storage, manager, name = downloaded_then_other_runs(2)
    assert storage.lingering_count() == 1
    assert clicked_download(manager) == name
    assert storage.lingering_count() == 0
    clock.now += LINGER_SECONDS * 2  # live files do not expire
    assert storage.get_file(name).filename == "report.csv"


def test_the_served_app_creates_its_runtime_with_the_lingering_storage() -> None:
    # In a child: Streamlit's Runtime is one per process.
    script = textwrap.dedent("""
        from dashboard.media_files import LingeringMediaFileStorage
        from dashboard.web import app
        runtime = app._create_runtime()
        storage = runtime.media_file_mgr._storage
        print(type(storage).__name__, isinstance(storage, LingeringMediaFileStorage))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split()[-2:] == ["LingeringMediaFileStorage", "True"]
