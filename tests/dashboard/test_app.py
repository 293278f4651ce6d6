"""The router: errors reach users as sentences, never as tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from dashboard import cached

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture
def error_details():
    """Set ``client.showErrorDetails`` for one test (AppTest reads .streamlit/config.toml)."""
    before = config.get_option("client.showErrorDetails")
    yield lambda value: config.set_option("client.showErrorDetails", value)
    config.set_option("client.showErrorDetails", before)


def failing(exc: Exception):
    def _raise(*_args, **_kwargs):
        raise exc
    return _raise


def test_a_query_error_is_shown_as_its_sentence(monkeypatch, tiny_store_path):
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    monkeypatch.setattr(cached, "report", failing(ValueError("the store has no results for "
                                                             "2031-32")))
    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert not at.exception
    assert [e.value for e in at.error] == ["The store has no results for 2031-32"]


def test_a_bug_shows_a_sentence_and_logs_the_details(monkeypatch, tiny_store_path, caplog,
                                                      error_details):
    error_details("none")  # the project's setting for users
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    monkeypatch.setattr(cached, "report", failing(KeyError("overall_l9_pct")))
    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("Something went wrong on this page.")
    assert "overall_l9_pct" not in at.error[0].value
    assert "overall_l9_pct" in caplog.text


def test_developers_keep_the_traceback(monkeypatch, tiny_store_path, error_details):
    error_details("full")
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    monkeypatch.setattr(cached, "report", failing(KeyError("overall_l9_pct")))
    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert len(at.exception) == 1
    assert "overall_l9_pct" in at.exception[0].message


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s",
        "client_id": "c", "client_secret": "x",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


def test_with_sign_in_configured_an_anonymous_session_sees_nothing(monkeypatch,
                                                                    tiny_store_path):
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    # Even a permissive environment must not open a shared server to anonymous sessions.
    monkeypatch.setenv("ELPAC_SCOPE", '{"statewide": true, "pii": true, "loads": true}')
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.run()

    assert not at.exception
    assert at.button(key="app_sign_in").label == "Sign in"
    assert [i.value for i in at.info] == [
        "Sign in (the button in the sidebar) to see your organisation's results."]
    assert not at.metric
    assert not at.dataframe
    for page in ("app_pages/exports.py", "app_pages/report.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert not at.dataframe, page
    at.switch_page("app_pages/data_loads.py").run()
    assert not at.get("file_uploader")
    # Students and Store contents are not even in the menu.
    for page in ("app_pages/students.py", "app_pages/store_contents.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_a_signed_in_user_gets_the_scope_of_their_secrets_entry(monkeypatch, tiny_store_path):
    import polars as pl

    from data.results.store import Store

    lea = (pl.read_parquet(Store(tiny_store_path).year_files()["2024-25"])
           .get_column("reporting_lea_code").mode().sort().item(0))
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["access"] = {"users": {"c@example.org": {"leas": [lea], "pii": False}}}
    at.user = {"is_logged_in": True, "email": "c@example.org"}
    at.run()

    assert not at.exception
    assert at.selectbox(key="ctx_lea").value == lea
    assert len(at.selectbox(key="ctx_lea").options) == 1
    assert at.button(key="app_sign_out").label == "Sign out (c@example.org)"
    assert "aggregates only" in at.sidebar.caption[0].value


def test_store_contents_is_for_statewide_administrators(monkeypatch, tiny_store_path):
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    monkeypatch.setenv("ELPAC_SCOPE", '{"leas": ["19647330000000"], "pii": true}')
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    # Not in the menu of an LEA account (the page refuses it too, should it be reached).
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/store_contents.py")
    assert not at.exception


def test_pages_stop_through_the_context() -> None:
    # Nothing can be drawn after st.stop(), and the sidebar's pickers are drawn last:
    # a page that called st.stop() itself would leave the user without them.
    offenders = [p.name for p in (APP.parent).rglob("*.py")
                 if "st.stop()" in p.read_text() and p.name != "context.py"]
    assert offenders == []


@pytest.mark.parametrize("page", ["app_pages/at_a_glance.py", "app_pages/report.py",
                                  "app_pages/students.py", "app_pages/exports.py",
                                  "app_pages/data_loads.py"])
def test_every_page_keeps_the_sidebar_pickers(monkeypatch: pytest.MonkeyPatch,
                                              tiny_store_path: Path, page: str) -> None:
    # Each of these pages stops early on its first run (nothing searched, nothing built yet).
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(page).run()
    assert not at.exception
    years = at.selectbox(key="ctx_year")
    assert years.value == years.options[0]  # the newest year
    assert at.selectbox(key="ctx_lea").value == "00"
    at.selectbox(key="ctx_year").select(years.options[-1]).run()
    assert at.selectbox(key="ctx_year").value == years.options[-1]
    assert any(years.options[-1] in c.value for c in at.sidebar.caption)
