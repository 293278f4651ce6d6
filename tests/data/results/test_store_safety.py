"""The store's own safety (issue 15, finding 8): two ingests of one file at once, a full disk,
and who may read what the store writes.

"Nothing changed" means byte for byte: ``tree_digest`` of the store directory before and after.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import data.results.loading
from data.results.ingest import ingest
from data.results.store import Store
from elpac.cli import app
from queries.access import User
from queries.downloads import new_download
from tests.data.results.conftest import Toms, directories

# -- two ingests of the same file at once ----------------------------------------------------

CHILD = """
import json, sys, time
from pathlib import Path

import data.results.loading
from data.results.ingest import ingest
from data.results.store import Store

store, file, folder, me = sys.argv[1:5]
lock = data.results.loading.writer_lock
waited = []


def together(directory):
    # Both processes have read the store (and found the file new) before either takes the
    # writer lock: the race of two people pressing Load at once, every time.
    if not waited:
        waited.append(True)
        Path(folder, f"ready-{me}").touch()
        deadline = time.monotonic() + 60
        while len(list(Path(folder).glob("ready-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    return lock(directory)


data.results.loading.writer_lock = together
result = ingest([Path(file)], store=Store(store))
print(json.dumps([[o.status, o.message] for o in result.outcomes]))
"""


def test_issue15_two_ingests_of_one_file_at_once_load_it_once(
        store_copy: Store, toms: Callable[..., Toms], tmp_path: Path) -> None:
    path = toms(created="2025-10-01").save()
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    n_loads = store_copy.loads().get_column("load_id").n_unique()
    children = [subprocess.Popen(
        [sys.executable, str(script), str(store_copy.path), str(path), str(tmp_path), str(n)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    outcomes = []
    for child in children:
        out, err = child.communicate(timeout=240)
        assert child.returncode == 0, err
        (outcome,) = json.loads(out.strip().splitlines()[-1])
        outcomes.append(outcome)

    assert sorted(status for status, _ in outcomes) == ["loaded", "unchanged"]
    (message,) = [m for status, m in outcomes if status == "unchanged"]
    assert message.startswith("already loaded as load ")
    assert store_copy.loads().get_column("load_id").n_unique() == n_loads + 1


# -- a full disk -----------------------------------------------------------------------------

FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
BROKEN = OSError(errno.EIO, os.strerror(errno.EIO))
FULL_AS_POLARS_SAYS = pl.exceptions.ComputeError(
    "parquet: File out of specification: underlying IO error: No space left on device "
    "(os error 28)")
"""What ``write_parquet`` into a full disk raises (checked on /dev/full): not an OSError."""


def fail_on_call(monkeypatch: pytest.MonkeyPatch, n: int, error: Exception) -> None:
    """The ``n``-th Parquet file written stops half way: a few bytes, then ``error``."""
    write = pl.DataFrame.write_parquet
    calls = iter(range(1, 1000))

    def write_parquet(self: pl.DataFrame, file: Path, *args: object, **kwargs: object) -> None:
        if next(calls) == n:
            Path(file).write_bytes(b"PAR1 truncated")
            raise error
        write(self, file, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", write_parquet)


def fail_streamed(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """A streamed Parquet write (a load's own rows, from its checked parts) stops half way."""
    def sink_parquet(self: pl.LazyFrame, path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1 truncated")
        raise error

    monkeypatch.setattr(pl.LazyFrame, "sink_parquet", sink_parquet)


def fail_always(monkeypatch: pytest.MonkeyPatch, target: object, name: str,
                error: OSError) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(target, name, fail)


STEPS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "checked rows": lambda mp: fail_on_call(mp, 1, FULL),
    "load file": lambda mp: fail_streamed(mp, FULL),
    "load file, as Polars says it": lambda mp: fail_streamed(mp, FULL_AS_POLARS_SAYS),
    "year file": lambda mp: fail_on_call(mp, 2, FULL),
    "year file, as Polars says it": lambda mp: fail_on_call(mp, 2, FULL_AS_POLARS_SAYS),
    "organisations": lambda mp: fail_on_call(mp, 3, FULL),
    "fsync": lambda mp: fail_always(mp, data.results.loading, "fsync", FULL),
    "hard link": lambda mp: fail_always(mp, os, "link", BROKEN),
}
"""Where the write fails: the checked rows, the load's own rows, the new version's files, the
flush, the links of unchanged years (an I/O error there, not a full disk)."""


@pytest.mark.parametrize("step", list(STEPS))
def test_issue15_full_disk_is_a_sentence_and_leaves_the_store_as_it_was(
        store_copy: Store, toms: Callable[..., Toms], digest: Callable[[Path], dict[str, str]],
        monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    path = toms(created="2025-10-01").save()
    before, dirs = digest(store_copy.path), directories(store_copy.path)
    STEPS[step](monkeypatch)

    result = ingest([path], store=store_copy)

    assert not result.loaded
    assert [o.status for o in result.outcomes] == ["refused"]
    (problem,) = result.file_problems
    if step == "hard link":
        assert "could not be written (Input/output error)" in problem.message
    else:
        assert "the disk holding the store is full" in problem.message
    assert "nothing was loaded" in problem.message
    assert digest(store_copy.path) == before
    assert directories(store_copy.path) == dirs

    monkeypatch.undo()
    assert ingest([path], store=store_copy).loaded


def test_issue15_full_disk_on_a_first_load_leaves_no_store(
        toms: Callable[..., Toms], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "new-store")
    path = toms(county="30").save()
    fail_on_call(monkeypatch, 2, FULL)
    result = ingest([path], store=store)
    assert not result.loaded
    assert "the disk holding the store is full" in result.file_problems[0].message
    assert not store.path.exists()


def test_issue15_full_disk_in_the_cli_is_one_sentence(
        store_copy: Store, toms: Callable[..., Toms], digest: Callable[[Path], dict[str, str]],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = toms(created="2025-10-01").save()
    before = digest(store_copy.path)
    fail_on_call(monkeypatch, 1, FULL)

    result = CliRunner().invoke(app, ["ingest", str(path), "--store", str(store_copy.path)])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "the disk holding the store is full" in errors[0]
    assert digest(store_copy.path) == before


# -- file permissions ------------------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022): files would be readable by everyone unless the store says so."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, str]:
    """Every path under ``root`` (``root`` itself as ``.``) with its permission bits."""
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root)): oct(stat.S_IMODE(p.lstat().st_mode)) for p in paths}


@pytest.mark.usefixtures("open_umask")
def test_issue15_store_files_are_readable_by_their_owner_only(
        toms: Callable[..., Toms], tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert ingest([toms(county="30").save()], store=store).loaded
    assert ingest([toms(county="30", created="2025-10-01").save()], store=store).loaded
    download = new_download(store.path, "extract.csv", user=User.operator("local:test"))
    download.path.write_text("ssid\n", encoding="utf-8")

    with store.catalog.write() as con:  # a write in progress: the -wal and -shm files exist
        con.exec_driver_sql("UPDATE store_meta SET value = value WHERE key = 'data_version'")
        found = modes(store.path)

    for name in ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", ".lock",
                 ".downloads"):
        assert name in found
    assert any(name.startswith("data/v") and name.endswith("part-0.parquet") for name in found)
    assert any(name.startswith("data/v") and name.endswith("not_current.parquet")
               for name in found)
    directories_ = {n: m for n, m in found.items() if (store.path / n).is_dir()}
    files = {n: m for n, m in found.items() if n not in directories_}
    assert {n: m for n, m in directories_.items() if m != "0o700"} == {}
    assert {n: m for n, m in files.items() if m != "0o600"} == {}
