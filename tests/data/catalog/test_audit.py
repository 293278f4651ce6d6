"""The audit log (data/catalog/audit.py) and what writes to it: sign-ins, profile views, exports."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from data.catalog import audit
from data.catalog.accounts import Accounts, SignInError
from elpac.cli import app

if TYPE_CHECKING:
    from data.results.store import Store

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def store_copy(store_copy: Store) -> Store:
    """The tiny store's copy with an empty audit log (other tests' views may be in it)."""
    with store_copy.catalog.write() as con:
        con.execute(text("DELETE FROM audit"))
    return store_copy


def test_entries_are_kept_newest_first_and_filtered(store_copy: Store) -> None:
    audit.record(store_copy, "a@x.org", "sign_in", at=datetime(2026, 1, 1, 9))
    audit.record(store_copy, "b@x.org", "export", scope="Access: 1 LEAs; aggregates only.",
                 detail="report.csv", n_rows=12, at=datetime(2026, 1, 2, 9))
    entries = audit.read(store_copy)
    assert entries.get_column("user_email").to_list() == ["b@x.org", "a@x.org"]
    assert entries.row(0, named=True)["n_rows"] == 12
    assert audit.read(store_copy, users=["a@x.org"]).height == 1
    assert audit.read(store_copy, since=datetime(2026, 1, 2)).height == 1
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(store_copy, "a@x.org", "deleted everything")


def test_sign_ins_are_recorded_right_or_wrong(store_copy: Store) -> None:
    accounts = Accounts(store_copy)
    accounts.add("a@x.org", name="A", role="state_admin", password=PASSWORD)
    accounts.sign_in("a@x.org", PASSWORD)
    with pytest.raises(SignInError):
        accounts.sign_in("a@x.org", "wrong password!")
    actions = audit.read(store_copy).get_column("action").to_list()
    assert actions == ["sign_in_refused", "sign_in"]
    # The password is never written, right or wrong.
    text = audit.read(store_copy).write_csv()
    assert PASSWORD not in text
    assert "wrong password!" not in text


def test_a_student_view_is_recorded_once_per_session(store_copy: Store,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    files = store_copy.year_files()  # any student of the newest year
    one = pl.read_parquet(files[max(files)], columns=["ssid"]).get_column("ssid").sort()[0]
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("app_pages/students.py").run()
    at.text_input(key="students_text").input(one).run()
    at.run()  # a rerun is not another view
    views = audit.read(store_copy).filter(pl.col("action") == "view_student")
    assert views.get_column("detail").to_list() == [f"SSID {one}"]
    assert views.get_column("scope").to_list() == [
        "Access: all of California; student records visible."]


def test_exports_are_recorded_with_their_rows(store_copy: Store, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    year = sorted(store_copy.year_files())[-2]
    out = tmp_path / "research.txt"
    result = CliRunner().invoke(app, ["export", "research-file", "-o", str(out), "--year",
                                      year, "--store", str(store_copy.path)])
    assert result.exit_code == 0, result.output
    entry = audit.read(store_copy).row(0, named=True)
    assert entry["action"] == "export"
    assert entry["detail"].startswith("research.txt; research-file year=" + year)
    assert entry["n_rows"] == pl.read_csv(out, separator="^", infer_schema=False).height
    # A report shown on the page is not an export; only a download would be.
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.setenv("ELPAC_SCOPE", json.dumps({"statewide": True, "pii": True}))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("app_pages/report.py").run()
    at.button(key="report_run_button").click().run()
    assert not at.exception
    assert at.get("download_button")
    assert audit.read(store_copy).height == 1
