"""No silent supersession (issue 15, finding 4): which file replaces which, and what it takes.

A file replaces the current load of the same LEA, school year and kind. It may not when it has
no created date and the loaded file has one; a dated file replaces an undated one and says so;
a replacement that removes students says how many and needs ``replace`` (``--replace``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from data.results.ingest import ingest
from data.results.store import Store
from tests.data.results.conftest import YEAR, Toms, records

LEA = "19619690000000"
"""The Los Angeles LEA with the most records in the tiny 2024-25 file (162, one per student)."""
LEA_FILE = (f"{LEA}_Summative_ELPAC_and_Summative_Alternate_ELPAC_Student_Score_Data_File_"
            "TestedStudentScoreData_2025_DLMTR.CSV")
"""TOMS's name for an LEA's tested-LEA file: LEA, kind and year from the name."""


@pytest.fixture
def lea_file(toms: Callable[..., Toms]) -> Callable[..., Toms]:
    """The LEA's first ``n`` students as its own TOMS file, created ``created`` ("" = blank)."""

    def make(n: int, created: str, folder: str) -> Toms:
        f = toms(name=f"{folder}/{LEA_FILE}")
        f.records = f.where(FinalTestedDistrictCode=LEA)[:n]
        assert len(f.records) == n
        for record in f.records:
            f.set(record, ReportCreatedDate=created)
        f.save()
        return f

    return make


def ssids(store: Store) -> set[str]:
    return set(records(store, YEAR).get_column("ssid"))


def test_issue15_undated_file_never_silently_replaces_a_dated_one(
        lea_file: Callable[..., Toms], tmp_path: Path,
        digest: Callable[[Path], dict[str, str]]) -> None:
    # The attack as found: 137 records created 2025-10-01, then 97 of them with a blank
    # ReportCreatedDate; the 40 others disappeared from the store without a word.
    store = Store(tmp_path / "store")
    dated = lea_file(137, "2025-10-01", "dated")
    undated = lea_file(97, "", "undated")
    assert ingest([dated.path], store=store).loaded
    students = ssids(store)
    assert len(students) == 137
    before = digest(store.path)

    result = ingest([undated.path], store=store)

    assert not result.loaded
    assert [o.status for o in result.outcomes] == ["refused"]
    (problem,) = result.file_problems
    assert problem.file == LEA_FILE
    assert "ReportCreatedDate is blank" in problem.message
    assert "a file without a created date never replaces a dated one" in problem.message
    assert f"LEA {LEA}, {YEAR}, tested" in problem.message
    assert digest(store.path) == before
    assert ssids(store) == students


def test_undated_file_is_refused_even_with_replace(lea_file: Callable[..., Toms],
                                                    tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert ingest([lea_file(137, "2025-10-01", "dated").path], store=store).loaded
    result = ingest([lea_file(137, "", "undated").path], store=store, replace=True)
    assert not result.loaded
    assert "never replaces a dated one" in result.file_problems[0].message


def test_dated_file_replaces_an_undated_one_and_says_so(lea_file: Callable[..., Toms],
                                                         tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    first = ingest([lea_file(137, "", "undated").path], store=store)
    assert first.loaded

    result = ingest([lea_file(137, "2025-10-01", "dated").path], store=store)

    assert result.loaded
    (outcome,) = result.outcomes
    assert outcome.message == (
        f"replaces load {first.outcomes[0].load_id} for LEA {LEA} (a dated file replaces an "
        "undated one: its date makes it the more reliable)")
    assert outcome.removed == {LEA: 0}
    history = store.loads()
    assert history.filter(pl.col("is_current"))["load_id"].to_list() == [outcome.load_id]
    assert history.filter(pl.col("load_id") == outcome.load_id)["replaced_load_id"].to_list() \
        == [first.outcomes[0].load_id]


def test_of_two_undated_files_the_later_load_replaces(lea_file: Callable[..., Toms],
                                                      tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert ingest([lea_file(137, "", "first").path], store=store).loaded
    second = lea_file(137, "", "second")
    second.set(second.records[0], StudentLastName="Newname")  # another file, not the same one

    result = ingest([second.save()], store=store)

    assert result.loaded
    assert "(neither file has a created date: the later load replaces the earlier)" in (
        result.outcomes[0].message)


def test_replacement_that_removes_students_needs_replace(
        lea_file: Callable[..., Toms], tmp_path: Path,
        digest: Callable[[Path], dict[str, str]]) -> None:
    store = Store(tmp_path / "store")
    assert ingest([lea_file(137, "2025-10-01", "first").path], store=store).loaded
    kept = lea_file(97, "2025-10-05", "second")
    before = digest(store.path)

    refused = ingest([kept.path], store=store)

    assert not refused.loaded
    (problem,) = refused.file_problems
    assert problem.file == LEA_FILE
    assert problem.message.startswith(
        "loading it would remove 40 student(s) that the file it replaces lists and it does "
        f"not ({YEAR}, tested, load 1 ({LEA_FILE}): 40 of LEA {LEA}); nothing was loaded.")
    assert problem.message.endswith("load it again with --replace")
    assert digest(store.path) == before

    result = ingest([kept.path], store=store, replace=True)

    assert result.loaded
    (outcome,) = result.outcomes
    assert outcome.removed == {LEA: 40}
    assert outcome.message.endswith("removing 40 student(s) it listed")
    assert ssids(store) == {kept.get(r, "SSID") for r in kept.records}


def test_a_check_applies_the_same_rules(lea_file: Callable[..., Toms], tmp_path: Path,
                                        digest: Callable[[Path], dict[str, str]]) -> None:
    store = Store(tmp_path / "store")
    assert ingest([lea_file(137, "2025-10-01", "first").path], store=store).loaded
    before = digest(store.path)
    kept = lea_file(97, "2025-10-05", "second").path
    undated = lea_file(137, "", "undated").path

    refused = ingest([kept], store=store, dry_run=True)
    assert [o.status for o in refused.outcomes] == ["refused"]
    assert "would remove 40 student(s)" in refused.file_problems[0].message
    told = ingest([kept], store=store, dry_run=True, replace=True)
    assert told.ok
    assert [(o.status, o.removed) for o in told.outcomes] == [("checked", {LEA: 40})]
    undated_check = ingest([undated], store=store, dry_run=True, replace=True)
    assert "never replaces a dated one" in undated_check.file_problems[0].message
    assert digest(store.path) == before


def test_a_newer_file_with_the_same_students_loads_without_asking(
        lea_file: Callable[..., Toms], tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert ingest([lea_file(137, "2025-10-01", "first").path], store=store).loaded
    result = ingest([lea_file(137, "2025-10-05", "second").path], store=store)
    assert result.loaded
    assert result.outcomes[0].message == (
        f"replaces load 1 for LEA {LEA} (a newer file replaces an older one)")
