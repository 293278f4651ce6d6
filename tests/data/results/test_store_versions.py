"""Old data versions go as soon as no reader has them, and never under a reader (issue 14).

A reader pins the version it reads (``Store.pin``; a ``Snapshot`` for its lifetime), in any
process. The writer's clean-up (``data.results.loading.collect_garbage``) removes every old
version it can lock exclusively. Before, it kept the previous version "one load longer" and
removed the one before whoever read it: a dashboard holding a snapshot through two loads lost
its files.
"""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from data.files import pin, remove_unpinned, writer_lock
from data.problems import InputError
from data.results.ingest import ingest
from data.results.loading import collect_garbage
from data.results.store import Store
from data.results.undo import undo
from queries.snapshot import Snapshot

READER = textwrap.dedent("""
    import sys

    import duckdb

    from queries.reports import read_report
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec

    snap = Snapshot(sys.argv[1])
    print(snap.version, flush=True)
    sys.stdin.readline()  # the parent loads meanwhile
    files = [str(p) for p in snap.year_files.values()]
    n = duckdb.connect().sql("SELECT count(*) FROM read_parquet(?)", params=[files]).fetchall()[0]
    report = read_report(snap, ReportSpec(years=snap.years, orgs=("00",), org_level="state",
                                          breakdown="grade"), scope=Scope.state(), suppress=False)
    print(n[0], report.height, int(report["n_enrolled"].sum()), flush=True)
""")


def _reader(store: Store) -> subprocess.Popen[str]:
    """A process reading the store through a snapshot: it prints its version, waits for a
    line, then reads every file of that version and prints what it counted."""
    return subprocess.Popen([sys.executable, "-c", READER, str(store.path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _load_and_undo(store: Store, toms) -> None:
    """Two new data versions: a newer file, then taking it back."""
    f = toms(created="2025-10-01")
    f.set(f.records[0], StudentLastName="Newname")
    assert ingest([f.save()], store=store).loaded
    newest = int(store.loads().get_column("load_id").max())
    undo(store, newest)


def _on_disk(store: Store) -> list[int]:
    return sorted(store.version_numbers())


def test_issue14_a_version_another_process_reads_survives_two_loads(store_copy, toms):
    alone = Snapshot(store_copy)  # what the reader will count, read before the loads
    expected = sum(pl.scan_parquet(p).select(pl.len()).collect().item()
                   for p in alone.year_files.values())
    alone.close()
    with _reader(store_copy) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        version = int(child.stdout.readline())
        _load_and_undo(store_copy, toms)
        assert store_copy.version() == version + 2
        # The reader's version is still there; the one in between, read by no one, is not.
        assert _on_disk(store_copy) == [version, version + 2]
        child.stdin.write("\n")
        child.stdin.flush()
        counted = child.stdout.readline()
        assert child.wait(timeout=120) == 0
    n_records, n_rows, n_enrolled = map(int, counted.split())
    assert n_records == expected
    assert n_rows > 0
    assert n_enrolled > 0
    # The reader is gone: the next clean-up removes its version.
    with writer_lock(store_copy.path):
        collect_garbage(store_copy)
    assert _on_disk(store_copy) == [version + 2]


def test_issue14_a_killed_reader_holds_nothing(store_copy, toms):
    with _reader(store_copy) as child:
        assert child.stdout is not None
        version = int(child.stdout.readline())
        child.send_signal(signal.SIGKILL)
        child.wait()
    _load_and_undo(store_copy, toms)
    assert _on_disk(store_copy) == [version + 2]


def test_issue14_no_reader_no_old_version(store_copy, toms):
    version = store_copy.version()
    assert _on_disk(store_copy) == [version]
    _load_and_undo(store_copy, toms)
    assert _on_disk(store_copy) == [version + 2]


def test_issue14_a_closed_or_forgotten_snapshot_lets_its_version_go(store_copy, toms):
    closed, forgotten = Snapshot(store_copy), Snapshot(store_copy)
    version = closed.version
    closed.close()
    _load_and_undo(store_copy, toms)
    assert _on_disk(store_copy) == [version, version + 2]  # ``forgotten`` still holds it
    del forgotten
    gc.collect()
    with writer_lock(store_copy.path):
        collect_garbage(store_copy)
    assert _on_disk(store_copy) == [version + 2]


def test_issue14_a_removed_version_is_a_sentence(store_copy, toms):
    version = store_copy.version()
    _load_and_undo(store_copy, toms)
    with pytest.raises(InputError, match=f"data version {version} of the store .* is gone"):
        Snapshot(store_copy, version)


def test_issue14_pins_and_removal(tmp_path: Path):
    target, trash = tmp_path / "v000001", tmp_path / ".gone-v000001"
    target.mkdir()
    (target / "file").write_text("x")
    held = pin(target)
    assert held is not None
    assert not remove_unpinned(target, trash)  # pinned, even from this process
    assert (target / "file").exists()
    held.close()
    held.close()  # closing twice is harmless
    assert remove_unpinned(target, trash)
    assert not target.exists()
    assert not trash.exists()
    assert pin(target) is None  # gone: nothing to pin
    assert remove_unpinned(target, trash)  # already gone


def test_issue14_a_pin_taken_as_the_version_goes_holds_nothing(tmp_path: Path, monkeypatch):
    """A reader that opened the directory just before the remover renamed it is refused."""
    target = tmp_path / "v000001"
    target.mkdir()
    real_stat, renamed = Path.stat, []

    def renamed_meanwhile(self: Path, **kwargs: object) -> object:
        if self == target and not renamed:
            renamed.append(True)
            target.rename(tmp_path / ".gone-v000001")
        return real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", renamed_meanwhile)
    assert pin(target) is None


def test_issue14_short_reads_pin_too(store_copy):
    """Reads outside a snapshot (store contents, rosters, SSR deliveries) hold their version."""
    with store_copy.reading() as version:
        assert version == store_copy.version()
        assert not remove_unpinned(store_copy.version_path(version),
                                   store_copy.data_path / "trash")
    with store_copy.reading() as again:
        assert again == version
