"""The Data loads page asks before a load removes students (issue 15, finding 4).

A newer file that lacks students the loaded file lists is shown with how many it would remove;
the Load button waits for the confirmation box; without it (or with a load that changed
meanwhile) nothing is loaded. The load history shows what each load replaced and which loads
were undone. AppTest through the router, on a private copy of the tiny store.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from data.results.store import Store
from data.results.undo import undo
from queries.data_loads import Upload, check_uploads, load_uploads
from tests.dashboard.test_data_loads import (
    OPERATOR,
    _no_scope_from_the_environment,  # noqa: F401 (an autouse fixture: used by being here)
    assert_ok,
    load_button_disabled,
    read_toms,
    run_page,
    table,
    tiny_file,
    toms_bytes,
    upload,
)

DROP = 3
"""Students the newer file no longer lists."""


def final_without_some(tiny_files: dict[str, list[Path]]) -> tuple[str, pl.DataFrame,
                                                                    list[str]]:
    """The August final file of 2025-26 for Los Angeles, without its first ``DROP`` students."""
    source = tiny_file(tiny_files, "2025-26")
    frame = read_toms(source).with_columns(ReportCreatedDate=pl.lit("2026-08-20"))
    return source.name, frame.slice(DROP), frame["SSID"].head(DROP).to_list()


def stored_others(store: Store, name: str) -> int:
    """Records of 2025-26 that other files than ``name`` hold."""
    others = store.loads().filter(pl.col("school_year") == "2025-26", pl.col("is_current"),
                                  pl.col("file_name") != name)
    return int(others["n_records"].sum())


def confirm_box(at: object) -> list:
    return [c for c in at.checkbox if c.key.startswith("data_loads_replace_")]  # type: ignore[attr-defined]


def test_a_load_that_removes_students_waits_for_a_confirmation(
        monkeypatch: pytest.MonkeyPatch, store_copy: Store, tiny_files: dict[str, list[Path]],
        digest: Callable[[Path], dict[str, str]]) -> None:
    name, frame, gone = final_without_some(tiny_files)
    old_id = int(store_copy.loads().filter(pl.col("file_name") == name)["load_id"][0])
    before = digest(store_copy.path)

    at = run_page(monkeypatch, store_copy.path)
    upload(at, name, toms_bytes(frame))

    leas = table(at, "replaces")
    assert int(leas["n_removed"].sum()) == DROP
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith(f"Loading would remove {DROP} student(s) (")
    assert warning.endswith("Load only if they are meant to go: confirm below.")
    (box,) = confirm_box(at)
    assert box.label == f"Remove these {DROP} student(s) and load"
    assert not box.value
    assert load_button_disabled(at)
    assert digest(store_copy.path) == before

    box.check().run()
    assert_ok(at)
    assert not load_button_disabled(at)
    at.button(key="data_loads_load").click().run()

    assert_ok(at)
    assert at.success[0].value.startswith(f"Loaded {frame.height:,} records as load ")
    year = pl.read_parquet(store_copy.year_files()["2025-26"])
    assert not set(gone) & set(year["ssid"])
    assert year.height == frame.height + stored_others(store_copy, name)
    history = table(at, "loaded_at")
    new_id = int(history["load_id"].max())
    assert set(history.filter(pl.col("load_id") == new_id)["replaced_load_id"]) == {old_id}
    assert set(history.filter(pl.col("load_id") == old_id)["status"]) == {
        f"superseded by load {new_id}"}


def test_a_load_without_the_confirmation_is_refused_in_words(
        store_copy: Store, tiny_files: dict[str, list[Path]],
        digest: Callable[[Path], dict[str, str]]) -> None:
    name, frame, _ = final_without_some(tiny_files)
    uploads = [Upload(name, toms_bytes(frame))]
    before = digest(store_copy.path)

    checked = check_uploads(uploads, store=store_copy, user=OPERATOR)
    assert checked.n_removed == DROP
    assert checked.verdict(skip_bad_rows=False)[0]
    result = load_uploads(uploads, store=store_copy, user=OPERATOR)

    assert not result.loaded
    (sentence,) = result.file_problems
    assert f"loading it would remove {DROP} student(s)" in sentence
    assert sentence.endswith("If they are meant to go, confirm the removal on this page, "
                             "then Load")
    assert "--replace" not in sentence
    assert digest(store_copy.path) == before
    assert load_uploads(uploads, store=store_copy, user=OPERATOR, replace=True).loaded


def test_no_confirmation_is_asked_when_nobody_is_removed(
        monkeypatch: pytest.MonkeyPatch, store_copy: Store,
        tiny_files: dict[str, list[Path]]) -> None:
    name, frame, _ = final_without_some(tiny_files)
    full = read_toms(tiny_file(tiny_files, "2025-26")).with_columns(
        ReportCreatedDate=pl.lit("2026-08-20"))
    at = run_page(monkeypatch, store_copy.path)
    upload(at, name, toms_bytes(full))
    assert not confirm_box(at)
    assert not at.warning
    assert set(table(at, "replaces")["n_removed"]) == {0}
    assert not load_button_disabled(at)


def test_an_undone_load_shows_in_the_history(monkeypatch: pytest.MonkeyPatch,
                                             store_copy: Store) -> None:
    latest = int(store_copy.loads()["load_id"].max())
    undo(store_copy, latest)
    at = run_page(monkeypatch, store_copy.path)
    history = table(at, "loaded_at")
    assert set(history.filter(pl.col("load_id") == latest)["status"]) == {"undone"}
