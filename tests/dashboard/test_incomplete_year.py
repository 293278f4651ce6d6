"""The dashboard with 2019-20 loaded: not a default year, marked whenever it is chosen.

The store holds 2018-19, 2019-20 (testing stopped in March 2020) and 2020-21
(``spring_2020_store_path``). The pages offer 2019-20 in the year picker, last, and say what it
is when it is chosen; the report's table, files and subtitle mark its rows.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import chart_labels, report_output
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec
from queries.spreadsheets import csv_bytes

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
MARK = "Incomplete: testing stopped in March 2020"


def _glance(monkeypatch: pytest.MonkeyPatch, store: Path) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_at_a_glance_starts_on_the_newest_complete_year(monkeypatch, spring_2020_store_path):
    at = _glance(monkeypatch, spring_2020_store_path)
    years = at.selectbox(key="ctx_year")
    assert years.options == ["2020-21", "2018-19", "2019-20"]
    assert years.value == "2020-21"
    # 2020-21 is not compared with 2019-20: the level table holds 2020-21 alone.
    table = pl.from_pandas(at.table[-1].value)
    assert table.get_column("School year").to_list() == ["2020-21"]
    assert not any("2019-20" in w.value for w in at.warning)


def test_choosing_2019_20_shows_it_marked(monkeypatch, spring_2020_store_path):
    at = _glance(monkeypatch, spring_2020_store_path)
    at.selectbox(key="ctx_year").select("2019-20").run()
    assert not at.exception, [e.value for e in at.exception]
    note = ("2019-20 is incomplete: testing stopped in March 2020, so it holds only the "
            "students tested before then.")
    assert [w.value for w in at.warning] == [note]
    assert note in [c.value for c in at.sidebar.caption]
    # Asked for, it is compared with the (complete) year before, under the banner.
    table = pl.from_pandas(at.table[-1].value)
    assert table.get_column("School year").to_list() == ["2018-19", "2019-20"]


def test_the_report_table_files_and_subtitle_mark_2019_20(spring_2020_store_path):
    spec = ReportSpec(years=("2018-19", "2019-20", "2020-21"))
    report = read_report(Snapshot(spring_2020_store_path), spec, scope=Scope.state(),
                         suppress=False)
    files = report_output.export_frame(
        report_output.file_table(report, test="summative", measure="overall"),
        test="summative", measure="overall")
    csv = pl.read_csv(io.BytesIO(csv_bytes(files)), infer_schema=False)
    status = dict(csv.select("School year", "Data status").iter_rows())
    assert status == {"2018-19": "Final", "2019-20": MARK, "2020-21": "Partial"}
    _, subtitle = chart_labels.describe_report(report, spec, suppress=False)
    assert subtitle[-1].endswith("Data: partial for 2020-21 (may change until the final "
                                 "release); incomplete for 2019-20 (testing stopped in March "
                                 "2020).")
