"""The router: errors reach users as sentences, never as tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest

from dashboard import cached

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


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
