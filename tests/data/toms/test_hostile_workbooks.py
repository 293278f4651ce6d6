"""Hostile workbooks are refused before anything parses them (issue 15, finding 1).

An .xlsx is a zip: a 3 MB upload may inflate to gigabytes of sheet XML, and the Excel reader
keeps every cell of it. ``data.toms.workbook_limits`` checks the zip (parts, sizes, compression
ratio) before the reader sees a byte. The CLI runs in a real process here, under an
address-space cap, so a regression fails the test instead of taking the machine down, and
its peak memory is read from the kernel (its VmHWM).
"""

from __future__ import annotations

import io
import re
import resource
import subprocess
import sys
import time
import zipfile
from typing import TYPE_CHECKING

import pytest

from data.results.ingest import ingest
from data.toms.layout import layout
from tests.data.toms.zip_bomb import GIB, write_zip_bomb

if TYPE_CHECKING:
    from pathlib import Path

MB = 1 << 20
CAP = 3 * GIB
"""Address space the CLI may take here: without the checks it needs far more and aborts."""
MAX_PARTS = 10_000
"""``data.toms.MAX_PARTS``, written out so the attack runs on any version."""


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid 2024-25 workbook of a few MB whose sheet XML inflates to about 2 GiB."""
    path = tmp_path_factory.mktemp("bomb") / "2024-25_tested_bomb.xlsx"
    sheet = write_zip_bomb(path, list(layout("2024-25").headers))
    assert path.stat().st_size < 8 * MB
    assert sheet > 1.9 * GIB
    return path


PEAK_REPORTER = """
import atexit, runpy, sys
out = sys.argv[1]
def report():
    status = open("/proc/self/status").read()
    peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    open(out, "w").write(peak)
atexit.register(report)
sys.argv = sys.argv[2:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""
"""Runs ``python -m <module> ...`` and writes its peak resident memory (kB) at exit. VmHWM is
the process's own high-water mark since it started; ``ru_maxrss`` from ``wait4`` would also
count the pytest process it was forked from."""


def run_measured(args: list[str], cwd: Path, *, cap: int = CAP) -> tuple[int, str, float, int]:
    """Run ``python -m`` ``args`` under an address-space cap: code, output, seconds, peak bytes."""
    log, peak = cwd / "output.txt", cwd / "peak.txt"
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", PEAK_REPORTER, str(peak), *args],
                                stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    # Set at once, while the interpreter is still starting: long before any file is read.
    resource.prlimit(proc.pid, resource.RLIMIT_AS, (cap, cap))
    code = proc.wait()
    peak_kb = int(peak.read_text()) if peak.exists() else 0
    return code, log.read_text(errors="replace"), time.monotonic() - started, peak_kb * 1024


def test_cli_refuses_the_zip_bomb_quickly_naming_the_limit(bomb, store_copy, digest, tmp_path):
    before = digest(store_copy.path)
    code, output, seconds, peak = run_measured(
        ["elpac", "ingest", str(bomb), "--store", str(store_copy.path)],
        tmp_path)
    assert code == 1, output
    assert "Traceback" not in output
    assert "memory allocation" not in output
    assert re.search(rf"error: {re.escape(bomb.name)}: the workbook part "
                     r"xl/worksheets/sheet1.xml is compressed [\d,]+ to 1, more than the 100 "
                     r"to 1 a real workbook reaches \(a zip bomb\?\), so it was not opened",
                     output), output
    assert seconds < 30, output
    # The CLI with Polars loaded is about 100 MB; the bomb adds its 5 MB, never its 2 GiB.
    assert 0 < peak < 250 * MB, f"peak {peak / MB:.0f} MB"
    assert digest(store_copy.path) == before


def test_a_bomb_that_declares_small_sizes_is_refused(tmp_path, store_copy, digest):
    # The zip's directory says 1 MiB; the deflate stream inflates to 2 GiB. Readers that
    # trust the stream (the Excel reader does) would inflate all of it.
    path = tmp_path / "2024-25_tested_lying.xlsx"
    write_zip_bomb(path, list(layout("2024-25").headers), declared=MB)
    before = digest(store_copy.path)
    code, output, seconds, peak = run_measured(
        ["elpac", "ingest", str(path), "--store", str(store_copy.path)],
        tmp_path)
    assert code == 1, output
    assert "Traceback" not in output
    assert ("the workbook part xl/worksheets/sheet1.xml inflates to more than the 1,048,576 "
            "bytes its zip directory declares") in output
    assert seconds < 30, output
    assert 0 < peak < 250 * MB, f"peak {peak / MB:.0f} MB"
    assert digest(store_copy.path) == before


def _workbook_with_parts(path: Path, n: int) -> None:
    """A zip of ``n`` tiny parts: far more than any workbook Excel writes."""
    with zipfile.ZipFile(path, "w") as book:
        for i in range(n):
            book.writestr(f"xl/media/part{i}.xml", b"<a/>")


def test_a_workbook_with_too_many_parts_is_refused(tmp_path, store_copy, digest):
    path = tmp_path / "2024-25_tested_parts.xlsx"
    _workbook_with_parts(path, MAX_PARTS + 1)
    before = digest(store_copy.path)
    result = ingest([path], store=store_copy)
    assert result.loaded is False
    assert [(p.file, p.message) for p in result.file_problems] == [
        (path.name, f"the workbook has {MAX_PARTS + 1:,} parts; a Student "
                    f"Score Data File saved from Excel has a few dozen, and at most "
                    f"{MAX_PARTS:,} are read")]
    assert digest(store_copy.path) == before


def _small_workbook(tiny_files: dict[str, list[Path]], path: Path) -> None:
    """A real workbook: the 2024-25 Los Angeles file's header and records as text cells."""
    import xlsxwriter

    source = next(p for p in tiny_files["2024-25"] if p.name.startswith("County19"))
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Records")
    for r, line in enumerate(source.read_text(encoding="utf-8").splitlines()):
        for c, value in enumerate(line.split("^")):
            if value:
                sheet.write_string(r, c, value)
    book.close()


@pytest.mark.parametrize(("limit", "sentence"), [
    ("MAX_PART_BYTES", "the workbook part xl/worksheets/sheet1.xml inflates to more than "
                       "{limit}, the most one part may hold"),
    ("MAX_TOTAL_BYTES", "the workbook inflates to more than {limit} in all, the most a "
                        "workbook may hold"),
])
def test_each_size_limit_is_named(tiny_files, tmp_path, store_copy, monkeypatch, limit,
                                  sentence):
    path = tmp_path / "County19_TestedStudentScoreData_2025.xlsx"
    _small_workbook(tiny_files, path)
    assert ingest([path], store=store_copy, dry_run=True).file_problems == []
    monkeypatch.setattr(f"data.toms.workbook_limits.{limit}", 100_000)
    result = ingest([path], store=store_copy, dry_run=True)
    assert [p.message for p in result.file_problems] == [
        sentence.format(limit="100,000 bytes (0.1 MB)")]


def test_parts_compressed_in_other_ways_are_refused(tmp_path, store_copy):
    path = tmp_path / "2024-25_tested_lzma.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as book:
        book.writestr("xl/workbook.xml", b"<workbook/>")
    result = ingest([path], store=store_copy, dry_run=True)
    assert [p.message for p in result.file_problems] == [
        "the workbook part xl/workbook.xml is compressed with method 14 (LZMA); Excel "
        "workbooks use deflate, so it was not opened"]


def test_a_real_workbook_passes_the_checks_quickly(tiny_files, tmp_path):
    from data.toms import workbook_limits

    path = tmp_path / "book.xlsx"
    _small_workbook(tiny_files, path)
    started = time.monotonic()
    workbook_limits.check_workbook(path.read_bytes())
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("damage", ["truncated", "not-a-zip"])
def test_damaged_zips_are_one_sentence(tiny_files, tmp_path, store_copy, damage):
    good = tmp_path / "good.xlsx"
    _small_workbook(tiny_files, good)
    data = good.read_bytes()
    path = tmp_path / "2024-25_tested_damaged.xlsx"
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"PK\x03\x04" + bytes(99))
    result = ingest([path], store=store_copy, dry_run=True)
    assert [p.message for p in result.file_problems] == [
        "cannot be read as an Excel workbook (its zip directory is missing or damaged)"]


def test_check_workbook_names_no_limit_for_a_plain_zip_in_memory() -> None:
    from data.toms import workbook_limits

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/workbook.xml", b"<workbook/>" * 1000)
    workbook_limits.check_workbook(buffer.getvalue())  # nothing to refuse
