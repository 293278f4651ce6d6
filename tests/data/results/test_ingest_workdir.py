"""An ingest removes only the working directories of ingests that died (``.checking/``).

Another ingest's directory that is being set up (no owner file yet, or an empty one: not yet
locked) or is in use (its owner file locked) must survive, or two people loading at once lose
one of the loads' checked rows.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from data.results.ingest import OWNER, ingest
from data.results.store import Store
from tests.data.results.conftest import Toms


def working_directory(store: Store, name: str, owner: bytes | None) -> Path:
    directory = store.path / ".checking" / f"ingest-{name}"
    directory.mkdir(parents=True)
    (directory / "part-0.parquet").write_bytes(b"checked rows")
    if owner is not None:
        (directory / OWNER).write_bytes(owner)
    return directory


def test_an_ingest_removes_dead_ingests_work_and_keeps_the_living(
        store_copy: Store, toms: Callable[..., Toms]) -> None:
    file = toms(county="19").save()
    just_made = working_directory(store_copy, "just-made", owner=None)
    setting_up = working_directory(store_copy, "setting-up", owner=b"")
    in_use = working_directory(store_copy, "in-use", owner=b"4242\n")
    died = working_directory(store_copy, "died", owner=b"4242\n")
    died_setting_up = working_directory(store_copy, "died-setting-up", owner=b"")
    an_hour = time.time() - 3700
    os.utime(died_setting_up, (an_hour, an_hour))
    with (in_use / OWNER).open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the living ingest's lock
        result = ingest([file], store=store_copy, replace=True)
    assert result.ok, result
    assert (just_made / "part-0.parquet").exists()
    assert not (just_made / OWNER).exists()  # not created by the look
    assert setting_up.is_dir()
    assert in_use.is_dir()
    assert not died.exists()
    assert not died_setting_up.exists()


def test_a_finished_ingest_leaves_no_working_directory(store_copy: Store,
                                                       toms: Callable[..., Toms]) -> None:
    result = ingest([toms(county="19").save()], store=store_copy, replace=True)
    assert result.ok, result
    assert not (store_copy.path / ".checking").exists()
