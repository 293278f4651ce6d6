"""The Audit page (AppTest): who may read the log, and whose entries they see."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data.catalog import audit
from data.synth.demo_accounts import create_demo_accounts

if TYPE_CHECKING:
    from data.results.store import Store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture
def store(store_copy: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    with store_copy.catalog.write() as con:
        con.execute(text("DELETE FROM audit"))  # other tests' views of the shared tiny store
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()
    return store_copy


def users_shown(at: AppTest) -> set[str]:
    return set(at.dataframe[0].value["user_email"])


def test_a_local_install_reads_every_entry(store: Store) -> None:
    audit.record(store, "someone@x.org", "export", detail="a.csv", n_rows=3)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("app_pages/audit.py").run()
    assert not at.exception
    assert users_shown(at) == {"someone@x.org"}
    assert at.get("download_button")


def test_an_lea_administrator_reads_their_lea_only(store: Store) -> None:
    create_demo_accounts(store)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    for role in ("state_admin", "site_admin", "lea_admin"):
        at.button(key=f"auth_demo_{role}").click().run()
        at.button(key="auth_local_sign_out").click().run()
    audit.record(store, "stranger@other.org", "export", detail="x.csv", n_rows=1)
    at.button(key="auth_demo_lea_admin").click().run()
    at.switch_page("app_pages/audit.py").run()
    assert not at.exception
    # Their own and their school's site administrator's sign-ins; not the state's or others'.
    assert users_shown(at) == {"lea.admin@demo.example", "site.admin@demo.example"}


@pytest.mark.parametrize("role", ["site_admin", "viewer"])
def test_others_have_no_audit_page(store: Store, role: str) -> None:
    create_demo_accounts(store)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.button(key=f"auth_demo_{role}").click().run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/audit.py")
