"""A file checked in blocks gives exactly what the whole file read at once gives (issue 14).

The reference is ``normalise(read_file(path))``, the whole-file path; each test cuts the same
file into many small blocks (``BLOCK_BYTES`` lowered) and compares rows, problems and the
fields packed in ``extra_fields``, including what only the whole file decides: a student twice
in different blocks, and the order of non-ISO dates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

import data.toms.checked_file as checked_file
from data.toms.checked_file import check_file
from data.toms.normalise import normalise
from data.toms.read import read_file


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checked_file, "BLOCK_BYTES", 30_000)


def source(tiny_files: dict[str, list[Path]]) -> Path:
    """The demo's largest 2024-25 file (a few hundred records: a dozen blocks of 30 kB)."""
    return max(tiny_files["2024-25"], key=lambda p: p.stat().st_size)


def whole_and_blocks(path: Path, tmp_path: Path, **options: str) -> tuple[object, object]:
    whole = normalise(read_file(path), **options)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    blocks = check_file(path, work, **options)
    assert len(blocks.parts) > 3 or blocks.n_records == 0, "the file was not cut in blocks"
    return whole, blocks


def assert_same(whole, blocks) -> None:  # noqa: ANN001 - test helper
    assert_frame_equal(blocks.rows().collect(), whole.frame)
    assert_frame_equal(blocks.problems, whole.problems.sort("row", "field", maintain_order=True))
    assert blocks.extra_names == whole.extra_names
    assert blocks.n_input_rows == whole.n_input_rows
    assert blocks.n_records == whole.frame.height


def test_a_clean_file_in_blocks_is_the_file_whole(tiny_files, tmp_path, small_blocks):
    whole, blocks = whole_and_blocks(source(tiny_files), tmp_path)
    assert whole.frame.height > 300
    assert_same(whole, blocks)


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_problems_and_duplicates_across_blocks_are_found_as_in_the_whole_file(
        tiny_files, tmp_path, small_blocks):
    lines = lines_of(source(tiny_files))
    header, records = lines[0], lines[1:]
    fields = header.split("^")
    score = fields.index("OverallScaleScore")
    bad = records[40].split("^")
    bad[score] = "12345"
    records[40] = "^".join(bad)
    records[60] = records[60] + "^extra"  # a record with one field too many
    # The same student three times: row 3, then far later (other blocks), twice.
    records += [records[1], records[1]]
    path = tmp_path / "problems_2024-25_tested.txt"
    path.write_text("\n".join([header, *records]) + "\n", encoding="utf-8")
    whole, blocks = whole_and_blocks(path, tmp_path)
    reasons = whole.problems.get_column("reason").to_list()
    assert sum("another record for this test on row 3" in r for r in reasons) == 2
    assert_same(whole, blocks)


def test_dates_whose_order_only_the_whole_file_settles(tiny_files, tmp_path, small_blocks):
    text = source(tiny_files).read_text(encoding="utf-8")
    # Every date month-first (03/04/2025 is 4 March); only the file's last record has a day
    # above 12, so no block but the last can tell.
    mdy = re.sub(r"(\d{4})-(\d{2})-(\d{2})", lambda m: f"{m[2]}/{m[3]}/{m[1]}", text)
    mdy = re.sub(r"(\d{2})/(1[3-9]|2\d|3[01])/", lambda m: f"{m[1]}/12/", mdy)
    lines = mdy.splitlines()
    last = lines[-1].split("^")
    header = lines[0].split("^")
    last[header.index("DateofBirth")] = "01/25/2015"
    lines[-1] = "^".join(last)
    path = tmp_path / "mdy_2024-25_tested.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole, blocks = whole_and_blocks(path, tmp_path)
    assert whole.problems.height == 0
    assert_same(whole, blocks)


def test_a_comma_file_with_a_quoted_line_break_is_cut_between_records(tiny_files, tmp_path,
                                                                      small_blocks):
    lines = lines_of(source(tiny_files))
    rows = [line.split("^") for line in lines]
    last_name = rows[0].index("StudentLastName")
    for row in rows[1::7]:
        row[last_name] = 'Smith\nJones, "Jr"'  # refused by the field checks, row by row
    text = "\n".join(",".join('"' + c.replace('"', '""') + '"' if re.search(r'[",\n]', c)
                              else c for c in row) for row in rows) + "\n"
    path = tmp_path / "quoted_2024-25_tested.csv"
    path.write_text(text, encoding="utf-8")
    whole, blocks = whole_and_blocks(path, tmp_path)
    assert whole.problems.height > 10
    assert_same(whole, blocks)


def test_blocks_in_memory_stay_few_whatever_the_file_size(tiny_files, tmp_path, small_blocks,
                                                          monkeypatch):
    """At most ``WORKERS`` blocks are being checked at once: memory follows the block."""
    import threading

    running, peak, lock = [0], [0], threading.Lock()
    real = checked_file.normalise_part

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - a spy
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(checked_file, "normalise_part", counted)
    work = tmp_path / "w"
    work.mkdir()
    result = check_file(source(tiny_files), work)
    assert len(result.parts) > 6
    assert peak[0] <= checked_file.WORKERS
    assert result.n_records == result.rows().collect().height


@pytest.mark.parametrize(("data", "delimiter", "clean"), [
    (b"21^123^N\xc3\xba\xc3\xb1ez\r\n21^124^Nguy\xe1\xbb\x85n\n", "^", True),
    (b"21^123^Smith\x1fJones\n", "^", False),  # the unit separator that shifted exports
    (b"21^123^Smith\x00\n", "^", False),
    (b"21^123^Smith\tJones\n", "^", False),  # a tab inside a caret file's cell
    (b"21\t123\tSmith\n", "\t", True),
    (b'21,123,"Smith^Jones"\n', ",", False),  # a caret inside a comma file's cell
    (b'21,123,"12 Main St\nApt 4"\n', ",", False),  # a quoted line break
    (b'21,123,"Smith, Jr"\n', ",", False),  # quoted: may hold a line break; checked cell by cell
    (b"21,123,Smith\r\n", ",", True),
    (b"21^123^Smith\x7f\n", "^", False),
])
def test_one_scan_of_the_bytes_tells_whether_cells_need_the_character_checks(
        data, delimiter, clean):
    from data.toms.field_hygiene import clean_bytes

    assert clean_bytes(data, delimiter) is clean
