"""A store whose catalog lacks the newer tables still opens.

The first read of a process adds the missing, empty tables (``Catalog._prepare``): rosters,
SSR languages, deliveries and portal credentials read as empty instead of failing, and the
dashboard's report page runs. (A store whose catalog is still DuckDB: ``test_migrate.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import inspect, text
from streamlit.testing.v1 import AppTest

from data.catalog.rosters import Rosters
from data.catalog.ssr_languages import overrides
from data.results.store import Store

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"
NEWER = ("rosters", "roster_students", "roster_users", "roster_uploads",
         "ssr_language_overrides")


@pytest.fixture
def old_store(store_copy: Store) -> Store:
    with store_copy.catalog.write() as con:
        tables = set(inspect(con).get_table_names())
        for table in (*NEWER, *sorted(t for t in tables if t.startswith(("ssr_deliver",
                                                                         "ssr_fail",
                                                                         "portal")))):
            con.execute(text(f"DROP TABLE IF EXISTS {table}"))
    store_copy.catalog.forget()
    return store_copy


def test_an_older_store_gets_its_missing_tables_on_first_read(old_store: Store) -> None:
    assert Rosters(old_store).list().height == 0
    assert overrides(old_store) == {}
    assert set(NEWER) <= old_store.catalog.tables()


def test_the_report_page_runs_on_an_older_store(old_store: Store,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELPAC_STORE", str(old_store.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("app_pages/report.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
