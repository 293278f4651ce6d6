"""Uploads are read in a worker process with a memory limit of its own (issue 15, finding 1).

An uploaded workbook whose sheet inflates to gigabytes killed the whole dashboard, and every
user's session with it. ``queries.data_loads`` now checks and loads uploads in a child process
(``queries.load_worker``): a file that needs more memory than a load may use ends that child,
never the dashboard, and the uploader reads a sentence. The dashboard's side runs in a real
process here, so its own peak memory is the kernel's figure, not a guess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from streamlit.testing.v1 import AppTest

from data.results.store import Store
from data.toms.layout import layout
from queries.access import User
from queries.data_loads import Upload, check_uploads, load_uploads
from tests.data.toms.zip_bomb import write_zip_bomb

if TYPE_CHECKING:
    from collections.abc import Callable

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
OPERATOR = User.operator("local:test")
MB = 1 << 20

DASHBOARD_SIDE = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from data.results.store import Store
    from queries.access import User
    from queries.data_loads import Upload, check_uploads

    def peak_kb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    path, store = Path(sys.argv[1]), Store(sys.argv[2])
    data = path.read_bytes()
    before = peak_kb()
    report = check_uploads([Upload(path.name, data)], store=store,
                           user=User.operator("local:test"))
    print(json.dumps({"problems": report.file_problems, "before_kb": before,
                      "after_kb": peak_kb(),
                      "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
""")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "2024-25_tested_bomb.xlsx"
    write_zip_bomb(path, list(layout("2024-25").headers))
    return path


def test_the_dashboards_check_refuses_the_zip_bomb_without_growing(bomb, store_copy, digest,
                                                                    tmp_path):
    before = digest(store_copy.path)
    done = subprocess.run([sys.executable, "-c", DASHBOARD_SIDE, str(bomb), str(store_copy.path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    [problem] = found["problems"]
    assert problem.startswith(f"{bomb.name}: the workbook part xl/worksheets/sheet1.xml is "
                              "compressed ")
    assert "a zip bomb?" in problem
    # The dashboard's side only holds the 5 MB upload; the worker did the reading.
    assert found["after_kb"] - found["before_kb"] < 32 * 1024, found
    assert 0 < found["worker_kb"] < 400 * 1024, found
    assert digest(store_copy.path) == before


def county_file(tiny_files: dict[str, list[Path]]) -> Path:
    return next(p for p in tiny_files["2025-26"] if p.name.startswith("County19"))


def big_upload(tiny_files: dict[str, list[Path]]) -> Upload:
    """The county file with its records repeated to about 40 MB: reading it takes far more
    than 20 MB whatever the worker's allocators hold in reserve."""
    source = county_file(tiny_files)
    header, *records = source.read_bytes().splitlines(keepends=True)
    body = b"".join(records)
    return Upload(source.name, header + body * (40 * MB // len(body) + 1))


def test_a_check_needing_more_memory_than_a_load_may_use_is_a_sentence(
        tiny_files, store_copy, digest, monkeypatch):
    # 20 MB more than the worker holds once started: far less than reading the file takes.
    monkeypatch.setenv("ELPAC_LOAD_MEMORY_GB", "0.02")
    before = digest(store_copy.path)
    report = check_uploads([big_upload(tiny_files)], store=store_copy, user=OPERATOR)
    assert report.file_problems == [
        "The files need more memory than a load may use (0.02 GB); nothing was loaded. Load "
        "fewer or smaller files at a time (one LEA's file, or a workbook split into tabs saved "
        "as separate files), or ask your dashboard administrator to raise "
        "ELPAC_LOAD_MEMORY_GB."]
    assert report.files.height == 0
    assert digest(store_copy.path) == before


def test_a_load_needing_more_memory_is_refused_and_changes_nothing(tiny_files, store_copy,
                                                                   digest, monkeypatch):
    monkeypatch.setenv("ELPAC_LOAD_MEMORY_GB", "0.02")
    before = digest(store_copy.path)
    report = load_uploads([big_upload(tiny_files)], store=store_copy, user=OPERATOR,
                          skip_bad_rows=True)
    assert report.loaded is False
    assert report.outcome().startswith("Nothing was loaded: The files need more memory than a "
                                       "load may use (0.02 GB)")
    assert digest(store_copy.path) == before


def test_the_worker_checks_and_loads_as_the_ingest_does(tiny_files, store_copy, tmp_path):
    source = county_file(tiny_files)
    upload = Upload(source.name, source.read_bytes())
    report = check_uploads([upload], store=store_copy, user=OPERATOR)
    assert report.file_problems == []
    assert report.files.get_column("status").to_list() == ["unchanged"]  # the demo has it
    fresh = Store(tmp_path / "fresh")
    report = load_uploads([upload], store=fresh, user=OPERATOR)
    assert report.loaded is True, report.file_problems
    assert report.files.get_column("status").to_list() == ["loaded as load 1"]
    assert fresh.loads().get_column("load_id").unique().to_list() == [1]


def test_an_unreadable_memory_setting_is_a_sentence(tiny_files, store_copy, monkeypatch):
    monkeypatch.setenv("ELPAC_LOAD_MEMORY_GB", "lots")
    source = county_file(tiny_files)
    report = check_uploads([Upload(source.name, source.read_bytes())], store=store_copy,
                           user=OPERATOR)
    assert report.file_problems == ["ELPAC_LOAD_MEMORY_GB must be a number of GB greater than "
                                    "0, such as 4; it is 'lots'"]


@pytest.mark.parametrize(("value", "expected"), [
    (None, 4.0), ("2", 2.0), ("0.5", 0.5), ("lots", None),
    ("-1", None), ("0", None)])
def test_the_memory_limit_setting(monkeypatch, value, expected):
    from queries import load_worker

    if value is None:
        monkeypatch.delenv("ELPAC_LOAD_MEMORY_GB", raising=False)
    else:
        monkeypatch.setenv("ELPAC_LOAD_MEMORY_GB", value)
    if expected is None:
        with pytest.raises(ValueError, match="ELPAC_LOAD_MEMORY_GB must be a number of GB"):
            load_worker.memory_limit_gb()
    else:
        assert load_worker.memory_limit_gb() == expected


def test_the_page_shows_the_bomb_refused(monkeypatch, bomb, store_copy: Store,
                                         digest: Callable[[Path], dict[str, str]]):
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    before = digest(store_copy.path)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("app_pages/data_loads.py").run()
    at.file_uploader(key="data_loads_files_0").set_value(
        (bomb.name, bomb.read_bytes(), "application/vnd.openxmlformats-officedocument."
                                       "spreadsheetml.sheet")).run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    assert error.startswith(f"{bomb.name}: the workbook part xl/worksheets/sheet1.xml is "
                            "compressed ")
    assert at.button(key="data_loads_load").disabled
    assert digest(store_copy.path) == before
