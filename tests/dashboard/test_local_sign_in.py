"""Sign-in with local accounts in the dashboard (AppTest): form, scope, lockout, idle expiry.

A store with at least one account (``elpac users add``) asks every session to sign in; the
signed-in account's role and assignments are the session's scope.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.local_sign_in import EMAIL_KEY, TOKEN_KEY
from data.catalog import audit
from data.catalog.accounts import MAX_FAILURES, REFUSED, Accounts
from data.catalog.rosters import Rosters
from data.catalog.schema import sessions as sessions_table
from data.results.store import Store
from data.synth.demo_accounts import DEMO_GROUP, DEMO_GROUP_SIZE, create_demo_accounts
from queries.sessions import end_session, session_account
from queries.spec import ReportSpec

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
LEA = "19619690000000"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def store(store_copy: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    accounts = Accounts(store_copy)
    accounts.add("coord@example.org", name="Cora Ortiz", role="lea_admin", password=PASSWORD,
                 leas=(LEA,))
    accounts.add("board@example.org", name="Bo Ard", role="viewer", password=PASSWORD,
                 leas=(LEA,))
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()  # the "store has accounts" check is cached for a few seconds
    return store_copy


def open_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if page:
        at.switch_page(page)
    return at.run()


def sign_in(at: AppTest, email: str, password: str) -> AppTest:
    at.text_input(key="auth_local_form_email").input(email)
    at.text_input(key="auth_local_form_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def test_nothing_is_shown_before_signing_in(store: Store) -> None:
    at = open_app()
    assert not at.exception
    assert [i.value for i in at.info] == [
        "Sign in with your e-mail and password (in the sidebar) to see this page."]
    assert not at.get("metric")
    with pytest.raises(KeyError):
        at.selectbox(key="ctx_lea")
    at = open_app("app_pages/students.py")
    assert not at.get("dataframe")
    assert any("Sign in" in i.value for i in at.info)


def test_a_wrong_password_is_refused(store: Store) -> None:
    at = sign_in(open_app(), "coord@example.org", "not the password")
    assert [e.value for e in at.sidebar.error] == [REFUSED]
    assert EMAIL_KEY not in at.session_state
    # The password is not kept in the session.
    assert at.session_state["auth_local_form_password"] == ""


def test_signed_in_the_scope_is_the_accounts(store: Store) -> None:
    at = sign_in(open_app(), "Coord@Example.org", PASSWORD)
    assert not at.exception
    assert at.session_state[EMAIL_KEY] == "coord@example.org"
    assert any("Signed in as Cora Ortiz" in c.value for c in at.sidebar.caption)
    # Only the account's LEA, not California or any other LEA.
    assert at.selectbox(key="ctx_lea").options == [f"Meadow Acres Unified ({LEA})"]
    assert at.get("metric")
    at.button(key="auth_local_sign_out").click().run()
    assert EMAIL_KEY not in at.session_state
    assert not at.get("metric")


def test_a_viewer_sees_aggregates_only(store: Store) -> None:
    at = sign_in(open_app(), "board@example.org", PASSWORD)
    assert any("aggregates only" in c.value for c in at.sidebar.caption)
    # The home page runs to its end, with no link to the Students page it does not have.
    assert not at.exception
    assert not at.error
    assert at.header[-1].value == "Go further"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/students.py")  # not in a viewer's menu


def test_lockout_after_repeated_failures(store: Store) -> None:
    at = open_app()
    for _ in range(MAX_FAILURES):
        at = sign_in(at, "coord@example.org", "not the password")
    assert at.sidebar.error[0].value == REFUSED  # the same sentence: nothing to enumerate
    at = sign_in(at, "coord@example.org", PASSWORD)
    assert at.sidebar.error[0].value == REFUSED
    assert EMAIL_KEY not in at.session_state
    # The audit log says why (for administrators).
    reasons = audit.read(store, users=["coord@example.org"]).filter(
        pl.col("action") == "sign_in_refused").get_column("detail").to_list()
    assert reasons[0].startswith("the account is locked until")
    assert "locked until" in reasons[1]


def test_an_idle_session_is_signed_out(store: Store) -> None:
    at = sign_in(open_app(), "coord@example.org", PASSWORD)
    assert at.get("metric")
    # As if this session's last run was 31 minutes ago (the catalog keeps when).
    with store.catalog.write() as con:
        con.execute(sessions_table.update().values(
            last_seen_at=datetime.now() - timedelta(minutes=31)))
    at.run()
    assert EMAIL_KEY not in at.session_state
    assert not at.get("metric")
    assert "idle for more than 30 minutes" in at.sidebar.error[0].value


def test_signing_in_begins_a_session_that_signing_out_ends(store: Store) -> None:
    at = sign_in(open_app(), "coord@example.org", PASSWORD)
    token = at.session_state[TOKEN_KEY]
    assert session_account(store, token=token, idle=timedelta(minutes=30)) == (
        "coord@example.org")
    at.button(key="auth_local_sign_out").click().run()
    assert session_account(store, token=token, idle=timedelta(minutes=30)) is None


def test_a_session_ended_elsewhere_signs_this_one_out(store: Store) -> None:
    at = sign_in(open_app(), "coord@example.org", PASSWORD)
    end_session(store, token=at.session_state[TOKEN_KEY])  # signed out in another tab
    at.run()
    assert EMAIL_KEY not in at.session_state
    assert not at.get("metric")
    assert "in another tab" in at.sidebar.error[0].value


def test_a_removed_account_loses_access(store: Store) -> None:
    at = sign_in(open_app(), "coord@example.org", PASSWORD)
    assert at.get("metric")
    Accounts(store).remove("coord@example.org")
    st.cache_data.clear()  # in a live server the account is read again within seconds
    at.run()
    assert not at.get("metric")


def test_the_demo_store_lists_its_accounts(store_copy: Store,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    made = create_demo_accounts(store_copy)
    assert sorted(a.role for a in made) == ["lea_admin", "site_admin", "state_admin", "teacher",
                                            "viewer"]
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()
    at = open_app()
    at.button(key="auth_demo_lea_admin").click().run()
    assert at.session_state[EMAIL_KEY] == "lea.admin@demo.example"
    lea = next(a for a in made if a.role == "lea_admin").leas[0]
    assert at.selectbox(key="ctx_lea").value == lea
    # Building the demo again keeps the accounts as they are.
    assert create_demo_accounts(store_copy) == made


def test_the_demo_teacher_sees_their_group_only(store_copy: Store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    made = {a.role: a for a in create_demo_accounts(store_copy)}
    (key,) = Rosters(store_copy).all_members()
    members = Rosters(store_copy).members(key)
    assert 0 < len(members) <= DEMO_GROUP_SIZE  # the tiny store's school has fewer
    assert key == f"{made['site_admin'].schools[0]}:{DEMO_GROUP}"
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()
    at = open_app()
    at.button(key="auth_demo_teacher").click().run()
    assert not at.exception
    assert at.session_state[EMAIL_KEY] == "teacher@demo.example"
    sidebar = " ".join(str(m.value) for m in [*at.sidebar.markdown, *at.sidebar.caption])
    assert f"only the {len(members)} students of your rosters" in sidebar


def test_a_store_of_real_accounts_lists_none(store: Store) -> None:
    at = open_app()
    assert not [b for b in at.button if (b.key or "").startswith("auth_demo_")]


def test_a_site_administrator_sees_their_school(store_copy: Store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    site = next(a for a in create_demo_accounts(store_copy) if a.role == "site_admin")
    (school,) = site.schools
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()
    at = open_app()
    at.button(key="auth_demo_site_admin").click().run()
    assert not at.exception
    picker = at.selectbox(key="ctx_lea")
    assert (picker.label, picker.value) == ("School", school)
    assert len(picker.options) == 1
    year = at.selectbox(key="ctx_year").value
    frame = pl.read_parquet(Store(store_copy.path).year_files()[year])
    tk = pl.col("is_tk").fill_null(False) & pl.lit(year >= "2024-25")
    rows = frame.filter((pl.col("record_type") == "21") & ~tk
                        & (pl.col("reporting_school_code") == school))
    shown = {m.label: m.value for m in at.metric}
    assert shown["Students tested"] == f"{int(rows['is_tested'].sum()):,}"
    # The custom report starts from the school, and finds only it.
    at.switch_page("app_pages/report.py").run()
    assert at.session_state["report_org_level"] == "school"
    assert at.session_state["report_orgs"] == [school]


def test_a_shared_link_to_another_lea_shows_a_site_administrator_nothing(
        store_copy: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    made = {a.role: a for a in create_demo_accounts(store_copy)}
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()
    at = open_app()
    at.button(key="auth_demo_site_admin").click().run()
    year = at.selectbox(key="ctx_year").value
    link = ReportSpec(years=(year,), orgs=made["lea_admin"].leas, org_level="lea",
                      breakdown="gender").to_params()["report"]
    at.query_params["report"] = link
    at.switch_page("app_pages/report.py").run()
    assert not at.exception
    assert any("None of this report's organisations" in w.value for w in at.warning)
    assert not at.dataframe


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s",
        "client_id": "c", "client_secret": "x",
        "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}


@pytest.mark.parametrize(("email", "expect_lea"), [("lea.admin@demo.example", True),
                                                   ("nobody@example.org", False)])
def test_an_oidc_user_gets_their_account_or_a_clear_refusal(
        store_copy: Store, monkeypatch: pytest.MonkeyPatch, email: str,
        expect_lea: bool) -> None:
    made = {a.role: a for a in create_demo_accounts(store_copy)}
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email}
    at.run()
    assert not at.exception
    if expect_lea:
        picker = at.selectbox(key="ctx_lea")
        assert (picker.value, len(picker.options)) == (made["lea_admin"].leas[0], 1)
        assert at.get("metric")
    else:
        assert [i.value for i in at.info] == [
            "You signed in as nobody@example.org, but this explorer has no account for that "
            "e-mail, so it shows you nothing. Ask your LEA ELPAC coordinator to add you "
            "(elpac users add) with the right role."]
        assert not at.get("metric")


def test_a_busy_catalog_before_the_page_is_a_sentence_not_an_error_box(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 11: who is signed in, the menu and the sidebar read the catalog before the page
    # runs; a failure there used to reach Streamlit's raw error box.
    import dashboard.local_sign_in as local_sign_in
    from data.catalog.db import CatalogBusy

    def busy(_store: object) -> bool:
        raise CatalogBusy("the store's catalog stayed busy for 30 s; try again in a minute")

    monkeypatch.setattr(local_sign_in, "has_accounts", busy)
    st.cache_data.clear()
    at = open_app()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The store's catalog stayed busy for 30 s; try again in a minute"]


@pytest.mark.parametrize("email", ["coord@example.org", {"email": "coord@example.org"}, 7,
                                   ["coord@example.org"], "", "\x00"])
@pytest.mark.parametrize("token", [None, "forged-token", 12345, {"t": 1}])
def test_crafted_session_state_is_signed_out_not_a_traceback(
        store: Store, email: object, token: object) -> None:
    # Issue 15, finding 8: a crafted widget-state message set auth_local_email and left an
    # unhandled KeyError in the server log. Whatever shape the values take, the run ends
    # signed out with the sign-in form, no error and nothing of the store shown.
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state[EMAIL_KEY] = email
    if token is not None:
        at.session_state[TOKEN_KEY] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # A forged token is a session that has ended: said as such; nothing else goes wrong.
    assert all(e.value.startswith("You were signed out") for e in at.error), [
        e.value for e in at.error]
    assert not at.get("metric")
    assert any(b.label == "Sign in" for b in at.button)
