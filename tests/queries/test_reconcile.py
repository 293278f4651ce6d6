"""Reconciling the store's aggregates with a published research file (issue 12, item 3).

The published file is built here from the tiny store's own research-file export
(``write_research_file``, unsuppressed), so an unchanged copy must reconcile with no
difference at all; each test then changes the file's text in a way it knows, and expects
exactly those cells flagged.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import polars as pl
import pytest

from data.published.store import import_research_file
from data.results.store import Store
from queries.reconcile import TK_NOTE, XLSX_MAX_CELLS, reconcile, reconcile_file
from queries.research import research_rows, write_research_file
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot

if TYPE_CHECKING:
    from pathlib import Path

YEAR = "2024-25"
LEA = "19619690000000"
"""The tiny demo's largest LEA."""


def export(store: Store, path: Path, test: str = "summative") -> list[list[str]]:
    """The store's own research file (unsuppressed), written to ``path``; its lines split."""
    rows = research_rows(Snapshot(store), year=YEAR, test=test, scope=Scope.state(),
                         suppress=False)
    write_research_file(rows, path)
    return [line.split("^") for line in path.read_text().splitlines()]


def write(path: Path, lines: list[list[str]]) -> Path:
    path.write_text("".join("^".join(cells) + "\r\n" for cells in lines))
    return path


def publish(store: Store, path: Path) -> None:
    import_research_file(store, path, imported_by="test")


@pytest.fixture(scope="module")
def published_store(tiny_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A copy of the tiny store with its own 2024-25 summative export imported as published."""
    target = tmp_path_factory.mktemp("published") / "store"
    shutil.copytree(tiny_store_path, target)
    store = Store(target)
    publish(store, write(target.parent / "own.txt", export(store, target.parent / "x.txt")))
    return store


def test_the_stores_own_file_reconciles_with_zero_differences(published_store: Store) -> None:
    result = reconcile(Snapshot(published_store), year=YEAR, scope=Scope.state())
    assert result.n_differ == 0
    assert result.cells.get_column("status").unique().to_list() == ["same"]
    # Every row of the file, every value column of each row.
    n_file_rows = len((published_store.path.parent / "own.txt").read_text().splitlines()) - 1
    assert (result.n_rows, result.n_cells) == (n_file_rows, n_file_rows * (70 - 9))
    assert result.table().height == 0
    assert result.summary().startswith(f"rows compared: {n_file_rows:,}, cells compared: "
                                       f"{n_file_rows * 61:,}, cells that differ: 0; ")


def test_the_alternate_file_reconciles_too(store_copy: Store, tmp_path: Path) -> None:
    publish(store_copy, write(tmp_path / "alt.txt", export(store_copy, tmp_path / "a.txt",
                                                           "alternate")))
    result = reconcile(Snapshot(store_copy), year=YEAR, test="alternate", scope=Scope.state())
    assert result.n_cells > 0
    assert result.n_differ == 0
    assert set(result.cells.get_column("status")) == {"same"}


def test_one_changed_cell_is_exactly_the_one_flagged(store_copy: Store, tmp_path: Path) -> None:
    lines = export(store_copy, tmp_path / "own.txt")
    header = lines[0]
    col = {name: i for i, name in enumerate(header)}
    # The LEA's all-students, all-grades row: one more enrolled than we count.
    target = next(i for i, cells in enumerate(lines) if cells[col["TypeID"]] == "02"
                  and "".join(cells[:3]) == LEA and cells[col["StudentGroupID"]] == "001"
                  and cells[col["Grade"]] == "13")
    ours_enrolled = lines[target][col["TotalEnrolled"]]
    lines[target][col["TotalEnrolled"]] = str(int(ours_enrolled) + 1)
    # A school row's mean shown as CDE's * (suppressed): not a difference.
    hidden = next(i for i, cells in enumerate(lines) if cells[col["TypeID"]] == "01"
                  and cells[col["OverallMeanSclScr"]] not in ("", "*"))
    ours_mean = lines[hidden][col["OverallMeanSclScr"]]
    lines[hidden][col["OverallMeanSclScr"]] = "*"
    publish(store_copy, write(tmp_path / "changed.txt", lines))

    result = reconcile(Snapshot(store_copy), year=YEAR, scope=Scope.state())
    flagged = result.table()
    assert flagged.height == 2
    differs = flagged.filter(pl.col("status") == "differs").row(0, named=True)
    assert result.n_differ == 1
    assert (differs["org_level"], differs["county_code"] + differs["district_code"]
            + differs["school_code"], differs["student_group_id"], differs["grade"],
            differs["column"]) == ("lea", LEA, "001", "13", "TotalEnrolled")
    assert (differs["ours"], differs["published"], differs["difference"]) == (
        ours_enrolled, str(int(ours_enrolled) + 1), -1.0)
    suppressed = flagged.filter(pl.col("status") == "suppressed by CDE").row(0, named=True)
    assert (suppressed["column"], suppressed["ours"], suppressed["published"]) == (
        "OverallMeanSclScr", ours_mean, None)
    assert result.count("suppressed by CDE") == 1


def test_an_lea_account_reconciles_only_its_lea_and_schools(published_store: Store) -> None:
    result = reconcile(Snapshot(published_store), year=YEAR, scope=Scope.lea(LEA))
    assert result.n_differ == 0
    # Independently: the file's rows of that LEA (TypeID 02) and of its schools (01, 10).
    lines = [ln.split("^") for ln in
             (published_store.path.parent / "own.txt").read_text().splitlines()[1:]]
    expected = {(c[0] + c[1] + c[2], c[6], c[8]) for c in lines
                if (c[3] == "02" and c[0] + c[1] + c[2] == LEA)
                or (c[3] in ("01", "10") and c[0] + c[1] == LEA[:7])}
    got = set(result.cells.select(pl.concat_str("county_code", "district_code", "school_code"),
                                  "student_group_id", "grade").unique().rows())
    assert got == expected
    assert set(result.cells.get_column("org_level")) == {"lea", "school"}
    with pytest.raises(ScopeError, match="not in your scope"):
        reconcile(Snapshot(published_store), year=YEAR, scope=Scope.lea(LEA),
                  lea="17703350000000")


def test_same_means_equal_after_rounding_ours_as_the_file_does(store_copy: Store,
                                                               tmp_path: Path) -> None:
    lines = export(store_copy, tmp_path / "own.txt")
    col = {name: i for i, name in enumerate(lines[0])}
    pcnt = col["OverallPerfLvl1Pcnt"]
    # Two rows whose two-decimal percent rounds up to one decimal (e.g. 38.78).
    rounded, wrong = [i for i, c in enumerate(lines[1:], start=1)
                      if "." in c[pcnt] and c[pcnt][-1] in "6789"][:2]
    one_decimal = str(round(float(lines[rounded][pcnt]) + 1e-9, 1))  # as a 1-decimal file
    lines[rounded][pcnt] = one_decimal
    lines[wrong][pcnt] = lines[wrong][pcnt][:-1]  # truncated, not rounded: 38.78 -> 38.7
    publish(store_copy, write(tmp_path / "rounded.txt", lines))
    result = reconcile(Snapshot(store_copy), year=YEAR, scope=Scope.state())
    assert result.n_differ == 1
    assert result.table().item(0, "published") == lines[wrong][pcnt]


def test_rows_on_one_side_only(store_copy: Store, tmp_path: Path) -> None:
    lines = export(store_copy, tmp_path / "own.txt")
    col = {name: i for i, name in enumerate(lines[0])}
    dropped = next(i for i, c in enumerate(lines) if c[col["TypeID"]] == "01")
    added = list(lines[dropped])
    added[col["SchoolCode"]] = "9999999"  # a school our store never saw
    removed = lines.pop(dropped)
    lines.append(added)
    publish(store_copy, write(tmp_path / "sides.txt", lines))
    result = reconcile(Snapshot(store_copy), year=YEAR, scope=Scope.state())
    ours_only = result.cells.filter(pl.col("status") == "only in our store")
    theirs = result.cells.filter(pl.col("status") == "only in the published file")
    assert set(ours_only.get_column("school_code")) == {removed[col["SchoolCode"]]}
    assert set(theirs.get_column("school_code")) == {"9999999"}
    assert ours_only.height == theirs.height == 61
    assert set(theirs.get_column("note")) == {"our store has no records of this organisation "
                                              "for the year"}
    assert result.n_differ == 0


def test_a_kindergarten_difference_in_2024_25_names_tk(store_copy: Store,
                                                       tmp_path: Path) -> None:
    lines = export(store_copy, tmp_path / "own.txt")
    col = {name: i for i, name in enumerate(lines[0])}
    kn = next(i for i, c in enumerate(lines) if c[col["Grade"]] == "KN")
    lines[kn][col["TotalEnrolled"]] = str(int(lines[kn][col["TotalEnrolled"]]) + 2)
    publish(store_copy, write(tmp_path / "kn.txt", lines))
    result = reconcile(Snapshot(store_copy), year=YEAR, scope=Scope.state())
    assert result.table().select("grade", "status", "note").rows() == [
        ("KN", "differs", TK_NOTE)]


def test_a_scope_of_some_students_is_refused(published_store: Store) -> None:
    teacher = Scope(schools=("19619696011111",), ssids=("1234567890",))
    with pytest.raises(ScopeError, match="whole organisations"):
        reconcile(Snapshot(published_store), year=YEAR, scope=teacher)


def test_without_a_published_file_the_sentence_says_how(store_copy: Store) -> None:
    with pytest.raises(ValueError, match="elpac import research-file"):
        reconcile(Snapshot(store_copy), year=YEAR, scope=Scope.state())


def test_the_files_hold_the_flagged_cells(store_copy: Store, tmp_path: Path) -> None:
    lines = export(store_copy, tmp_path / "own.txt")
    lines[1][9] = str(int(lines[1][9]) + 5)  # the state's first row, TotalEnrolled
    publish(store_copy, write(tmp_path / "f.txt", lines))
    result = reconcile(Snapshot(store_copy), year=YEAR, scope=Scope.state())
    (tmp_path / "r.csv").write_bytes(reconcile_file(result, "csv"))
    back = pl.read_csv(tmp_path / "r.csv", infer_schema=False)
    assert back.select("org_level", "column", "status", "difference").rows() == [
        ("state", "TotalEnrolled", "differs", "-5.0")]
    (tmp_path / "r.xlsx").write_bytes(reconcile_file(result, "xlsx"))
    sheet = pl.read_excel(tmp_path / "r.xlsx", sheet_name="Reconcile")
    assert sheet.select("org_level", "column", "status").rows() == [
        ("state", "TotalEnrolled", "differs")]
    # Every cell of the state: more rows than an Excel file here holds, refused in words
    # (xlsxwriter would leave rows past Excel's limit out without a word).
    assert result.n_cells > XLSX_MAX_CELLS
    with pytest.raises(ValueError, match=rf"^{result.n_cells:,} cells are more than an Excel "
                       rf"file here holds \({XLSX_MAX_CELLS:,}\): choose CSV"):
        reconcile_file(result, "xlsx", all_cells=True)
    assert pl.read_csv(reconcile_file(result, "csv", all_cells=True),
                       infer_schema=False).height == result.n_cells
    one_lea = reconcile(Snapshot(store_copy), year=YEAR, scope=Scope.state(), lea=LEA)
    (tmp_path / "lea.xlsx").write_bytes(reconcile_file(one_lea, "xlsx", all_cells=True))
    sheet = pl.read_excel(tmp_path / "lea.xlsx", sheet_name="Reconcile")
    assert sheet.height == one_lea.n_cells
    assert set(sheet.get_column("status")) == {"same"}
