"""Shared by the AppTest suites: every test starts from empty Streamlit caches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

if TYPE_CHECKING:
    from collections.abc import Iterator

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # st.cache_* live for the whole process; start (and leave) every test with empty caches.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def ok(at: AppTest) -> AppTest:
    """``at`` after checking that its run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_local(monkeypatch: pytest.MonkeyPatch, store: Path, page: str,
               scope: dict[str, Any] | None = None) -> AppTest:
    """A page of a local install (no accounts) on ``store``: ``$ELPAC_SCOPE``, else statewide."""
    monkeypatch.setenv("ELPAC_STORE", str(store))
    if scope is None:
        monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    else:
        monkeypatch.setenv("ELPAC_SCOPE", json.dumps(scope))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page(page).run()
    return ok(at)
