"""Shared by the AppTest suites: every test starts from empty Streamlit caches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import streamlit as st

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # st.cache_* live for the whole process; start (and leave) every test with empty caches.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
