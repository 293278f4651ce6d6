"""``elpac loads undo`` (issue 15, finding 4): the state before a load comes back byte for byte.

"Byte for byte" is ``tree_digest`` of the data version's directory: the version the undo
writes equals the one the load replaced, file for file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import data.results.loading
from data.problems import InputError
from data.results.ingest import ingest
from data.results.store import NOT_CURRENT, Store
from data.results.undo import undo
from tests.data.results.conftest import YEAR, Toms, directories, records


def version_digest(store: Store, digest: Callable[[Path], dict[str, str]]) -> dict[str, str]:
    """The current data version's files (the version number itself left out)."""
    return digest(store.version_path())


def newer_file(toms: Callable[..., Toms], created: str, folder: str, drop: int) -> Path:
    """A newer Los Angeles file lacking ``drop`` students, one name changed."""
    f = toms(created=created, name=f"{folder}/{toms().path.name}")
    for record in f.where(RecordType="21", TestedStatus="Y")[:drop]:
        f.records.remove(record)
    f.set(f.records[0], StudentLastName="Newname")
    return f.save()


def load_of(store: Store, path: Path, **options: bool) -> int:
    result = ingest([path], store=store, **options)
    assert result.loaded, result.file_problems
    (outcome,) = result.outcomes
    assert outcome.load_id is not None
    return outcome.load_id


def test_undo_restores_the_records_byte_for_byte(
        store_copy: Store, toms: Callable[..., Toms],
        digest: Callable[[Path], dict[str, str]]) -> None:
    before_files, before_records = version_digest(store_copy, digest), records(store_copy)
    before_history = store_copy.loads()
    path = newer_file(toms, "2025-10-01", "newer", drop=2)
    new_id = load_of(store_copy, path, replace=True)
    loaded_version = store_copy.version()
    assert records(store_copy).height == before_records.height - 2
    # The replaced load's rows are kept once, beside the records, for the undo to read.
    replaced = store_copy.loads().filter(pl.col("superseded_by") == new_id)
    kept = pl.read_parquet(store_copy.year_files()[YEAR].with_name(NOT_CURRENT))
    assert kept.height == replaced["n_records"].sum() > 0
    assert set(kept["load_id"]) == set(replaced["load_id"])
    assert set(kept["source_lea_code"]) == set(replaced["lea_code"])

    done = undo(store_copy, new_id, undone_by="tester")

    assert done.version == loaded_version + 1 == store_copy.version()
    assert version_digest(store_copy, digest) == before_files
    assert_frame_equal(records(store_copy), before_records)
    history = store_copy.loads()
    mine = history.filter(pl.col("load_id") == new_id)
    assert mine["is_undone"].all()
    assert not mine["is_current"].any()
    restored = history.filter(pl.col("superseded_by") == new_id)
    assert restored.height == mine.height
    assert restored["is_current"].all()
    assert set(restored["load_id"]) == set(done.restored["load_id"])
    # Every other load is as it was.
    assert_frame_equal(history.filter(pl.col("load_id") != new_id).select(
        "load_id", "lea_code", "is_current"), before_history.select(
        "load_id", "lea_code", "is_current"))
    assert done.sentence().startswith(f"undid load {new_id}: load ")
    assert done.sentence().endswith(f"the store is now at data version {done.version}")
    # As it stood when the load was current: the history keeps what happened when.
    then = store_copy.loads(loaded_version)
    assert then.filter(pl.col("load_id") == new_id)["is_current"].all()
    assert not then.filter(pl.col("superseded_by") == new_id)["is_current"].any()


def test_two_undos_in_turn_give_back_each_earlier_year(
        store_copy: Store, toms: Callable[..., Toms],
        digest: Callable[[Path], dict[str, str]]) -> None:
    """The replaced files' rows survive two rebuilds beside the records (``not_current``)."""
    original = version_digest(store_copy, digest)
    second = load_of(store_copy, newer_file(toms, "2025-10-01", "second", drop=2),
                     replace=True)
    after_second = version_digest(store_copy, digest)
    third = load_of(store_copy, newer_file(toms, "2025-11-01", "third", drop=3), replace=True)
    part = store_copy.year_files()[YEAR]
    kept = pl.read_parquet(part.with_name(NOT_CURRENT), columns=["load_id"])
    assert {second} < set(kept["load_id"])  # the first file's rows and the second's
    shown = pl.read_parquet(part, columns=["load_id", "record_type", "ssid"])
    assert shown.join(pl.read_parquet(part.with_name(NOT_CURRENT), columns=shown.columns),
                      on=shown.columns).height == 0

    undo(store_copy, third)
    assert version_digest(store_copy, digest) == after_second
    undo(store_copy, second)
    assert version_digest(store_copy, digest) == original


def test_an_undone_file_can_be_loaded_again(store_copy: Store,
                                            toms: Callable[..., Toms]) -> None:
    path = newer_file(toms, "2025-10-01", "newer", drop=0)
    new_id = load_of(store_copy, path)
    undo(store_copy, new_id)
    again = load_of(store_copy, path)
    assert again > new_id
    assert records(store_copy, YEAR).filter(pl.col("last_name") == "Newname").height == 1


def test_undo_is_refused_after_a_later_load_of_the_same_lea(
        store_copy: Store, toms: Callable[..., Toms],
        digest: Callable[[Path], dict[str, str]]) -> None:
    original = version_digest(store_copy, digest)
    second = load_of(store_copy, newer_file(toms, "2025-10-01", "second", drop=1),
                     replace=True)
    third = load_of(store_copy, newer_file(toms, "2025-10-02", "third", drop=3), replace=True)
    before = digest(store_copy.path)

    with pytest.raises(InputError) as refused:
        undo(store_copy, second)

    assert str(refused.value).startswith(
        f"load {second} cannot be undone: load {third} (")
    assert "undo that load first; nothing was changed" in str(refused.value)
    assert digest(store_copy.path) == before
    # Undone newest first, the store comes back to where it was.
    undo(store_copy, third)
    undo(store_copy, second)
    assert version_digest(store_copy, digest) == original


@pytest.mark.parametrize("case", ["missing", "twice"])
def test_undo_that_cannot_be_done_is_a_sentence(store_copy: Store, toms: Callable[..., Toms],
                                                digest: Callable[[Path], dict[str, str]],
                                                case: str) -> None:
    load_id = 999
    if case == "twice":
        load_id = load_of(store_copy, newer_file(toms, "2025-10-01", "newer", drop=0))
        undo(store_copy, load_id)
    before = digest(store_copy.path)
    with pytest.raises(InputError) as refused:
        undo(store_copy, load_id)
    expected = (f"there is no load 999 in the store at {store_copy.path}" if case == "missing"
                else f"load {load_id} was undone already (data version ")
    assert str(refused.value).startswith(expected)
    assert digest(store_copy.path) == before


def test_undo_of_a_load_that_replaced_nothing_removes_its_records(
        store_copy: Store) -> None:
    history = store_copy.loads().filter(pl.col("school_year") == YEAR,
                                        pl.col("file_name").str.starts_with("County17"))
    (load_id,) = history["load_id"].unique()
    leas = history["lea_code"].to_list()
    before = records(store_copy)
    ours = pl.col("source_lea_code").is_in(leas) & (pl.col("school_year") == YEAR)

    done = undo(store_copy, load_id)

    assert done.restored.is_empty()
    assert "it replaced nothing" in done.sentence()
    assert_frame_equal(records(store_copy), before.filter(~ours))


@pytest.mark.parametrize("step", ["write", "rename", "catalog"])
def test_failed_undo_leaves_the_store_as_it_was(store_copy: Store, toms: Callable[..., Toms],
                                                digest: Callable[[Path], dict[str, str]],
                                                step: str) -> None:
    load_id = load_of(store_copy, newer_file(toms, "2025-10-01", "newer", drop=2),
                      replace=True)
    before, dirs = digest(store_copy.path), directories(store_copy.path)

    with pytest.raises(RuntimeError, match=f"injected failure after step '{step}'"):
        undo(store_copy, load_id, fail_after=step)

    assert digest(store_copy.path) == before
    assert directories(store_copy.path) == dirs
    assert undo(store_copy, load_id).version == store_copy.version()


def test_full_disk_during_an_undo_is_a_sentence(store_copy: Store, toms: Callable[..., Toms],
                                                digest: Callable[[Path], dict[str, str]],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    load_id = load_of(store_copy, newer_file(toms, "2025-10-01", "newer", drop=2),
                      replace=True)
    before = digest(store_copy.path)

    def full(_path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data.results.loading, "fsync", full)
    with pytest.raises(InputError, match="the disk holding the store is full") as refused:
        undo(store_copy, load_id)
    assert "nothing was undone, and the store is as it was" in str(refused.value)
    assert digest(store_copy.path) == before


def test_a_year_is_never_dropped_while_its_files_hold_rows_of_a_load_still_kept(
        tmp_path: Path) -> None:
    """Only the undone loads' rows may go with a year no load is current in."""
    rows = tmp_path / "rows.parquet"
    pl.DataFrame({"load_id": [4, 4, 7]}).write_parquet(rows)
    data.results.loading._check_nothing_kept([rows], [4, 7], YEAR)  # all undone: fine
    with pytest.raises(RuntimeError, match=r"1 row\(s\) of loads still kept would be lost"):
        data.results.loading._check_nothing_kept([rows], [4], YEAR)
