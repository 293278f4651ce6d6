"""A report link naming organisations the account may not see says which it left out.

Issue 12, item 7: a shared link with two LEAs, opened by an account of one of them, showed
that LEA's rows and nothing about the other. The query layer names what it drops and why
(``queries.report_plan.left_out``); the page says it above the table.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from queries.report_plan import left_out
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
YEAR = "2024-25"


def _leas(store: Path) -> list[str]:
    orgs = Snapshot(store).orgs_of([YEAR])
    return sorted(orgs.filter(pl.col("org_level") == "lea").get_column("lea_code").to_list())


def test_left_out_names_each_dropped_organisation_and_why(tiny_store_path: Path) -> None:
    mine, other = _leas(tiny_store_path)[:2]
    spec = ReportSpec(years=(YEAR,), orgs=(mine, other, "19999999999999"), org_level="lea")
    snap = Snapshot(tiny_store_path)
    assert left_out(snap, spec, Scope.lea(mine)) == {
        other: "outside your access", "19999999999999": f"no results in {YEAR}"}
    assert left_out(snap, spec, Scope.state()) == {"19999999999999": f"no results in {YEAR}"}


def test_the_page_says_what_a_shared_link_left_out(monkeypatch: pytest.MonkeyPatch,
                                                    tiny_store_path: Path) -> None:
    mine, other = _leas(tiny_store_path)[:2]
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    monkeypatch.setenv("ELPAC_SCOPE", f'{{"leas": ["{mine}"]}}')
    spec = ReportSpec(years=(YEAR,), orgs=(mine, other), org_level="lea")
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in spec.to_params().items():
        at.query_params[key] = value
    at.switch_page("app_pages/report.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = pl.from_pandas(at.dataframe[0].value)
    assert set(shown.get_column("cds_code")) == {mine}
    warnings = [w.value for w in at.warning]
    assert f"Not in this report: {other} (outside your access)." in warnings, warnings
