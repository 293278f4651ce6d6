"""``elpac ingest --replace``, ``elpac loads`` and ``elpac loads undo`` (issue 15, finding 4).

A file that would remove students is refused with how many until ``--replace``; the history
says what each load replaced and which was undone; an undo says what is current again.
Every refusal is one ``error:`` sentence and exit code 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from data.results.store import Store
from elpac.cli import app

YEAR = "2025-26"


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def county_file(tiny_files: dict[str, list[Path]], tmp_path: Path) -> Callable[..., Path]:
    """The tiny Los Angeles file of 2025-26 as a newer download: ``drop`` students fewer,
    created ``created`` ("" = blank)."""
    source = next(p for p in tiny_files[YEAR] if p.name.startswith("County19"))
    frame = pl.read_csv(source, separator="^", infer_schema=False, quote_char=None)

    def make(folder: str, *, drop: int = 0, created: str = "2026-08-20") -> Path:
        path = tmp_path / folder / source.name
        path.parent.mkdir()
        newer = frame.slice(drop).with_columns(ReportCreatedDate=pl.lit(created))
        path.write_bytes(newer.write_csv(separator="^", quote_style="never").encode())
        return path

    return make


def test_ingest_refuses_a_file_removing_students_until_replace(
        store_copy: Store, county_file: Callable[..., Path],
        digest: Callable[[Path], dict[str, str]]) -> None:
    path = county_file("final", drop=3)
    before = digest(store_copy.path)

    refused = run("ingest", str(path), "--store", str(store_copy.path))

    assert refused.exit_code == 1
    (error,) = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: {path.name}: loading it would remove 3 student(s) that "
                            "the file it replaces lists and it does not (2025-26, tested, load ")
    assert error.endswith("If they are meant to go, load it again with --replace")
    assert digest(store_copy.path) == before

    loaded = run("ingest", str(path), "--store", str(store_copy.path), "--replace")

    assert loaded.exit_code == 0, loaded.output
    (line,) = [x for x in loaded.stdout.splitlines() if x.lstrip().startswith("loaded  ")]
    assert "(a newer file replaces an older one), removing 3 student(s) it listed" in line


def test_ingest_refuses_an_undated_file_over_a_dated_one(
        store_copy: Store, county_file: Callable[..., Path]) -> None:
    refused = run("ingest", str(county_file("undated", created="")), "--store",
                  str(store_copy.path), "--replace")
    assert refused.exit_code == 1
    assert "a file without a created date never replaces a dated one" in refused.stderr


def test_loads_shows_what_was_replaced_and_undo_takes_it_back(
        store_copy: Store, county_file: Callable[..., Path],
        digest: Callable[[Path], dict[str, str]]) -> None:
    before = digest(store_copy.version_path())
    old_id = int(store_copy.loads().filter(
        pl.col("school_year") == YEAR, pl.col("file_name").str.starts_with("County19"))
        ["load_id"][0])
    assert run("ingest", str(county_file("final")), "--store", str(store_copy.path)
               ).exit_code == 0
    new_id = int(store_copy.loads()["load_id"].max())

    shown = run("loads", "--store", str(store_copy.path)).stdout.splitlines()
    assert any(f"load {new_id:>4}" in x and f"current, replaced load {old_id}" in x
               for x in shown)
    assert any(f"load {old_id:>4}" in x and f"superseded by load {new_id}" in x for x in shown)

    done = run("loads", "undo", str(new_id), "--store", str(store_copy.path))

    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"undid load {new_id}: load {old_id} (County19")
    assert digest(store_copy.version_path()) == before
    shown = run("loads", "--store", str(store_copy.path)).stdout.splitlines()
    assert any(f"load {new_id:>4}" in x and "undone, replaced load" in x for x in shown)
    assert any(f"load {old_id:>4}" in x and "  current  " in x for x in shown)

    again = run("loads", "undo", str(new_id), "--store", str(store_copy.path))
    assert again.exit_code == 1
    assert again.stderr.startswith(f"error: load {new_id} was undone already")


def test_undo_of_a_load_that_does_not_exist(store_copy: Store) -> None:
    result = run("loads", "undo", "999", "--store", str(store_copy.path))
    assert result.exit_code == 1
    assert result.stderr == (f"error: there is no load 999 in the store at {store_copy.path}; "
                             "`elpac loads` lists them\n")
