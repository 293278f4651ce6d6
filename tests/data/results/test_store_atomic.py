"""A load is all or nothing, a file loaded twice changes nothing, and newer files replace older
ones per LEA, school year and kind without counting a student twice.

"Nothing changed" means byte for byte: ``tree_digest`` of the store directory before and after.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import data.results.loading
from data.results import loading
from data.results.ingest import ingest
from data.results.store import Store
from elpac.cli import app
from tests.data.results.conftest import (
    COUNTY,
    CREATED,
    YEAR,
    Toms,
    catalog,
    directories,
    pending_for,
    records,
)


def last_names(store: Store, ssids: list[str]) -> dict[str, str]:
    rows = records(store, YEAR).filter(pl.col("ssid").is_in(ssids))
    return dict(rows.select("ssid", "last_name").iter_rows())


@pytest.fixture
def newer(toms: Callable[..., Toms]) -> tuple[Path, str]:
    """A newer Los Angeles file with one last name changed; returns it and that student."""
    f = toms(created="2025-10-01")
    record = f.where(RecordType="21", TestedStatus="Y")[7]
    f.set(record, StudentLastName="Newname")
    return f.save(), f.get(record, "SSID")


# -- failures at each step -------------------------------------------------------------------


@pytest.mark.parametrize("step", ["write", "rename", "catalog"])
def test_failure_after_a_step_leaves_the_store_as_it_was(store_copy, digest, newer, step):
    path, ssid = newer
    before, dirs, old_name = digest(store_copy.path), directories(store_copy.path), last_names(
        store_copy, [ssid])

    with pytest.raises(RuntimeError, match=f"injected failure after step '{step}'"):
        loading.apply(store_copy, [pending_for(path)], fail_after=step)

    assert digest(store_copy.path) == before
    assert directories(store_copy.path) == dirs
    assert last_names(store_copy, [ssid]) == old_name

    # And the store still takes the same load.
    version, pending = store_copy.version(), pending_for(path)
    (load_id,) = loading.apply(store_copy, [pending])
    assert store_copy.version() == version + 1
    assert last_names(store_copy, [ssid]) == {ssid: "Newname"}
    leas = store_copy.loads().filter(pl.col("load_id") == load_id).get_column("lea_code")
    assert sorted(leas) == sorted(lea.lea_code for lea in pending.leas)


@pytest.mark.parametrize("step", ["write", "rename", "catalog"])
def test_failure_inside_ingest_leaves_the_store_as_it_was(store_copy, digest, newer, step,
                                                           monkeypatch):
    path, ssid = newer
    before = digest(store_copy.path)

    def fail(fail_after: str | None, at: str) -> None:
        if at == step:
            raise RuntimeError(f"injected failure after step {at!r}")

    monkeypatch.setattr(data.results.loading, "_maybe_fail", fail)
    with pytest.raises(RuntimeError, match="injected failure"):
        ingest([path], store=store_copy)
    assert digest(store_copy.path) == before

    monkeypatch.undo()
    assert ingest([path], store=store_copy).loaded
    assert last_names(store_copy, [ssid]) == {ssid: "Newname"}


@pytest.mark.parametrize("step", ["write", "rename", "catalog"])
@pytest.mark.parametrize("directory", ["absent", "empty"])
def test_failed_first_load_leaves_nothing_behind(toms, tmp_path, monkeypatch, step, directory):
    # A failed first load must not leave a lock file and an empty catalog that look like a
    # store: with no store directory it leaves none, with an empty one it leaves it empty.
    store = Store(tmp_path / "new-store")
    if directory == "empty":
        store.path.mkdir()
    path = toms(county="30").save()

    def fail(fail_after: str | None, at: str) -> None:
        if at == step:
            raise RuntimeError(f"injected failure after step {at!r}")

    monkeypatch.setattr(data.results.loading, "_maybe_fail", fail)
    with pytest.raises(RuntimeError, match="injected failure"):
        ingest([path], store=store)
    if directory == "absent":
        assert not store.path.exists()
    else:
        assert list(store.path.iterdir()) == []
    assert not store.exists()

    monkeypatch.undo()
    assert ingest([path], store=store).loaded
    assert store.version() == 1


def test_first_load_refused_under_the_lock_leaves_nothing_behind(toms, tmp_path):
    # Two downloads for the same LEAs in one batch, the second older: found only under the
    # store's lock, after the catalog was opened (``data.results.loading.supersessions``).
    store = Store(tmp_path / "new-store")
    newer = toms(county="30", created="2025-10-01", name="newer.CSV").save()
    older = toms(county="30", created="2025-09-01", name="older.CSV").save()
    result = ingest([newer, older], store=store, kind="tested", year=YEAR)
    assert result.loaded is False
    assert "older than newer.CSV" in result.file_problems[0].message
    assert not store.path.exists()


# -- a load killed half way ------------------------------------------------------------------

CHILD = """
import sys, time
from pathlib import Path

import data.results.loading
from data.results.ingest import ingest
from data.results.store import Store

store, file, marker, point = sys.argv[1:5]


def stall() -> None:
    Path(marker).touch()
    time.sleep(300)


if point == "staging":
    build = data.results.loading.build_year

    def slow_build(*args, **kwargs):
        build(*args, **kwargs)  # one year's file is written into .staging, then stall
        stall()

    data.results.loading.build_year = slow_build
else:
    record = data.results.loading.record_load

    def slow_record(*args, **kwargs):
        record(*args, **kwargs)  # the catalog rows are written, not committed
        stall()

    data.results.loading.record_load = slow_record

ingest([Path(file)], store=Store(store))
"""


def _kill_mid_load(store: Store, path: Path, point: str, tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    marker = tmp_path / "stalled"
    child = subprocess.Popen([sys.executable, str(script), str(store.path), str(path),
                              str(marker), point], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the loading process ended early: {child.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("the loading process never reached the point to kill it")
            time.sleep(0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["staging", "catalog"])
def test_killed_load_leaves_committed_data_and_next_load_cleans_up(
        store_copy, tiny_store_path, digest, newer, point, tmp_path):
    path, ssid = newer
    before_digest, before_records = digest(store_copy.path), records(store_copy)
    before_catalog, version = catalog(store_copy), store_copy.version()

    _kill_mid_load(store_copy, path, point, tmp_path)

    assert_frame_equal(records(store_copy), before_records)
    after = catalog(store_copy)
    for table, frame in before_catalog.items():
        assert_frame_equal(after[table], frame)
    assert store_copy.version() == version
    # The killed load left files behind, and they are all it left.
    left = {k: v for k, v in digest(store_copy.path).items() if before_digest.get(k) != v}
    # The checked rows (.checking/), the load's rows to build from (.staging/), then the new
    # version.
    leftover = (".staging/" if point == "staging" else f"data/v{version + 1:06d}/",
                ".checking/")
    assert left
    assert all(k.startswith(leftover) for k in left), sorted(left)

    # The next load cleans up: the store then equals one that was never interrupted.
    reference = Store(tmp_path / "reference")
    shutil.copytree(tiny_store_path, reference.path)
    for store in (store_copy, reference):
        assert ingest([path], store=store).loaded
    assert not (store_copy.path / ".staging").exists()
    assert not (store_copy.path / ".checking").exists()
    assert directories(store_copy.path) == directories(reference.path)
    mine, theirs = digest(store_copy.path), digest(reference.path)
    # The catalogs hold load times: compared table by table below.
    for files in (mine, theirs):
        for name in [k for k in files if k.startswith("catalog.sqlite")]:
            del files[name]
    assert mine == theirs
    mine_catalog, their_catalog = catalog(store_copy), catalog(reference)
    for table, frame in their_catalog.items():
        assert_frame_equal(mine_catalog[table].drop("loaded_at", strict=False),
                           frame.drop("loaded_at", strict=False))
    assert last_names(store_copy, [ssid]) == {ssid: "Newname"}


# -- the same file twice ---------------------------------------------------------------------


@pytest.mark.parametrize("rename", [False, True], ids=["same-name", "other-name"])
def test_loaded_file_again_is_unchanged(store_copy, digest, tiny_files, tmp_path, rename):
    source = next(p for p in tiny_files[YEAR] if p.name.startswith(f"County{COUNTY}"))
    path = source
    if rename:
        path = tmp_path / ("copy_" + source.name)
        shutil.copyfile(source, path)
    before = digest(store_copy.path)
    result = ingest([path], store=store_copy)
    assert [o.status for o in result.outcomes] == ["unchanged"]
    assert "already loaded as load" in result.outcomes[0].message
    assert result.loaded is False
    assert result.ok
    assert digest(store_copy.path) == before


def test_second_ingest_into_a_new_store_is_unchanged(toms, digest, tmp_path):
    store = Store(tmp_path / "new-store")
    path = toms(county="30").save()
    first = ingest([path], store=store)
    assert [o.status for o in first.outcomes] == ["loaded"]
    before = digest(store.path)
    second = ingest([path], store=store)
    assert [o.status for o in second.outcomes] == ["unchanged"]
    assert digest(store.path) == before


# -- newer and older files -------------------------------------------------------------------


def _current_load(store: Store, file_name: str) -> int:
    loads = store.loads().filter(pl.col("file_name") == file_name, pl.col("school_year") == YEAR,
                                 pl.col("is_current"))
    (load_id,) = loads.get_column("load_id").unique().to_list()
    return load_id


def test_newer_file_replaces_the_older_ones_records(store_copy, toms):
    f = toms(created="2025-10-01")
    old_id = _current_load(store_copy, f.path.name)
    dropped, changed = f.where(RecordType="21", TestedStatus="Y")[3:5]
    f.records.remove(dropped)
    f.set(changed, StudentLastName="Newname", Section504Status="Yes")
    dropped_ssid, changed_ssid = f.get(dropped, "SSID"), f.get(changed, "SSID")
    before = records(store_copy, YEAR)
    old_leas = set(store_copy.loads().filter(pl.col("load_id") == old_id)
                   .get_column("lea_code"))

    result = ingest([f.save()], store=store_copy, replace=True)  # one student goes

    assert result.loaded
    (outcome,) = result.outcomes
    after = records(store_copy, YEAR)
    assert after.height == before.height - 1
    assert dropped_ssid not in after.get_column("ssid").to_list()
    row = after.filter(pl.col("ssid") == changed_ssid).row(0, named=True)
    assert (row["last_name"], row["is_section504"], row["load_id"]) == (
        "Newname", True, outcome.load_id)
    # Every record of those LEAs now comes from the new load; nothing else moved.
    ours = pl.col("source_lea_code").is_in(list(old_leas))
    assert set(after.filter(ours).get_column("load_id")) == {outcome.load_id}
    assert_frame_equal(after.filter(~ours), before.filter(~ours))
    history = store_copy.loads()
    old = history.filter(pl.col("load_id") == old_id)
    assert set(old.get_column("superseded_by")) == {outcome.load_id}
    assert not old.get_column("is_current").any()
    new = history.filter(pl.col("load_id") == outcome.load_id)
    assert set(new.get_column("lea_code")) == old_leas
    assert new.get_column("is_current").all()


def test_newer_file_for_one_lea_leaves_the_others(store_copy, toms):
    f = toms(created="2025-10-01", name="one_lea_TestedStudentScoreData_2025.csv")
    old_id = _current_load(store_copy, toms().path.name)
    leas = sorted({f.get(r, "FinalTestedDistrictCode") for r in f.records})
    assert len(leas) > 1
    lea = leas[0]
    f.records = [r for r in f.where(FinalTestedDistrictCode=lea)
                 if f.get(r, "FinalTestedCharterSchoolIndicator") != "DF"]
    gone = f.records.pop()
    before = records(store_copy, YEAR)

    result = ingest([f.save()], store=store_copy, replace=True)  # one student goes

    assert result.loaded
    (outcome,) = result.outcomes
    assert outcome.leas == [lea]
    after = records(store_copy, YEAR)
    assert f.get(gone, "SSID") not in after.get_column("ssid").to_list()
    others = pl.col("source_lea_code") != lea
    assert_frame_equal(after.filter(others), before.filter(others))
    old = store_copy.loads().filter(pl.col("load_id") == old_id)
    superseded = dict(old.select("lea_code", "superseded_by").iter_rows())
    assert superseded == {code: (outcome.load_id if code == lea else None) for code in superseded}


def test_older_file_is_refused(store_copy, toms, digest):
    f = toms(created="2025-09-01")
    f.set(f.records[0], StudentLastName="Oldname")
    path = f.save()
    before = digest(store_copy.path)
    result = ingest([path], store=store_copy)
    assert not result.loaded
    assert [o.status for o in result.outcomes] == ["refused"]
    assert f"older than {path.name} (created {CREATED})" in result.file_problems[0].message
    assert digest(store_copy.path) == before


def test_older_file_after_a_newer_one_is_refused_by_the_cli(store_copy, toms, digest,
                                                            tiny_files, tmp_path):
    older = next(p for p in tiny_files[YEAR] if p.name.startswith(f"County{COUNTY}"))
    newer = toms(created="2025-10-01", name="newer_TestedStudentScoreData_2025.csv").save()
    assert ingest([newer], store=store_copy).loaded
    before = digest(store_copy.path)

    result = CliRunner().invoke(app, ["ingest", str(older), "--store", str(store_copy.path),
                                      "--report", str(tmp_path / "r.csv")])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert f"{older.name}: older than {newer.name} (created 2025-10-01)" in result.stderr
    assert "Traceback" not in result.output
    assert digest(store_copy.path) == before


# -- enrolled-LEA and tested-LEA files -------------------------------------------------------


def test_enrolled_and_tested_files_do_not_double_count(store_copy, toms):
    tested = toms()
    enrolled = toms(created="2025-10-01", name=tested.path.name.replace("Tested", "Enrolled"))
    before = records(store_copy, YEAR)

    result = ingest([enrolled.save()], store=store_copy)

    assert result.loaded
    assert [o.kind for o in result.outcomes] == ["enrolled"]
    after = records(store_copy, YEAR)
    assert after.height == before.height
    assert after.group_by("record_type", "ssid").len().get_column("len").max() == 1
    assert_frame_equal(after.select("record_type", "ssid"), before.select("record_type", "ssid"))
    mine = after.filter(pl.col("load_id") == result.outcomes[0].load_id)
    assert mine.height == len(enrolled.records)
    assert (mine.get_column("source_lea_code") == mine.get_column("enrolled_lea_code")).all()

    # A newer tested file after it: still one row per student and test.
    again = toms(created="2025-11-01")
    assert ingest([again.save()], store=store_copy).loaded
    final = records(store_copy, YEAR)
    assert_frame_equal(final.select("record_type", "ssid"), before.select("record_type", "ssid"))


def test_student_stays_while_a_current_load_holds_them(store_copy, toms):
    # The tested file of the student's LEA is still current and holds the student; replacing
    # an enrolled file that no longer lists the student must not lose their record.
    tested = toms()
    name = tested.path.name.replace("Tested", "Enrolled").replace("LosAngeles", "{}")
    district = Counter(tested.get(r, "CALPADSDistrictCode") for r in tested.records)
    lea = district.most_common(1)[0][0]
    student, other = tested.where(CALPADSDistrictCode=lea, CALPADSCharterSchoolIndicator="")[:2]
    ssid = tested.get(student, "SSID")

    first = toms(created="2025-10-01", name=name.format("First"))
    first.records = [r for r in first.records if r[first.column["SSID"]] in (
        ssid, tested.get(other, "SSID"))]
    assert ingest([first.save()], store=store_copy).loaded
    second = toms(created="2025-11-01", name=name.format("Second"))
    second.records = [r for r in second.records if r[second.column["SSID"]] == tested.get(
        other, "SSID")]
    assert ingest([second.save()], store=store_copy, replace=True).loaded

    holders = store_copy.loads().filter(pl.col("is_current"), pl.col("school_year") == YEAR,
                                        pl.col("file_name") == tested.path.name)
    assert holders.height > 0  # the tested file, which lists the student, is still current
    assert ssid in records(store_copy, YEAR).get_column("ssid").to_list()
