"""The Score reports page (AppTest): choices, the number of SSRs, and the file it builds.

The count of reports is checked against the Parquet records (an SSR per complete test, one
per language: ELPAC.md §7); the merged PDF against that count (two pages each).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from data.catalog import portal_credentials as portal
from data.results.store import Store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def run(monkeypatch: pytest.MonkeyPatch, store: Path, scope: dict[str, object] | None = None
        ) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    if scope is None:
        monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    else:
        monkeypatch.setenv("ELPAC_SCOPE", json.dumps(scope))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("app_pages/score_reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_schools_reports_in_one_pdf(monkeypatch: pytest.MonkeyPatch,
                                      tiny_store_path: Path) -> None:
    at = run(monkeypatch, tiny_store_path)
    year = at.selectbox(key="ctx_year").value
    eligible = pl.read_parquet(Store(tiny_store_path).year_files()[year]).filter(
        (pl.col("record_type") == "21") & pl.col("is_ssr_eligible").fill_null(False)
        & pl.col("overall_scale_score").is_not_null())
    lea = eligible.group_by("enrolled_lea_code").len().sort(
        ["len", "enrolled_lea_code"], descending=[True, False]).item(0, 0)
    at.selectbox(key="ctx_lea").set_value(lea).run()
    records = eligible.filter(pl.col("enrolled_lea_code") == lea)
    school = records.group_by("enrolled_school_code").len().sort(
        ["len", "enrolled_school_code"], descending=[True, False]).item(0, 0)
    at.selectbox(key="score_reports_school").set_value(school).run()
    at.selectbox(key="score_reports_language").set_value("SPA").run()
    spanish = records.filter((pl.col("enrolled_school_code") == school)
                             & (pl.col("ssr_languages") == "ENG;SPA")).height
    assert spanish > 0
    assert any(m.value.startswith(f"**{spanish:,} reports**") for m in at.markdown)
    at.button(key="score_reports_make").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (offered,) = [e.proto.body for e in at.get("html") if "elpac-download" in e.proto.body]
    assert "spa.pdf" in offered
    made = at.session_state["score_reports_result"]  # a file on disk, not bytes in memory
    assert made.name.endswith("spa.pdf")
    assert made.n_rows == spanish
    assert f'href="/download/{made.token}"' in offered
    assert len(PdfReader(made.path).pages) == 2 * spanish


def test_an_aggregate_only_account_has_no_score_reports(monkeypatch: pytest.MonkeyPatch,
                                                        tiny_store_path: Path) -> None:
    monkeypatch.setenv("ELPAC_STORE", str(tiny_store_path))
    monkeypatch.setenv("ELPAC_SCOPE", json.dumps({"statewide": True, "pii": False}))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/score_reports.py")


def test_an_lea_coordinator_makes_the_portal_credential(monkeypatch: pytest.MonkeyPatch,
                                                        store_copy: Store) -> None:
    at = run(monkeypatch, store_copy.path)
    lea = next(o for o in at.selectbox(key="ctx_lea").options if o != "California (all LEAs)")
    at.selectbox(key="ctx_lea").select(lea).run()
    code = at.selectbox(key="ctx_lea").value
    assert not at.exception
    assert portal.credential_info(store_copy, code) is None
    generate = [b for b in at.button if "Generate" in b.label]
    assert generate, [b.label for b in at.button]
    generate[0].click().run()
    confirm = [b for b in at.button if b.label.startswith("Yes")]
    if confirm:
        confirm[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    (token,) = [c.value for c in at.code]
    assert portal.verify(store_copy, token) == code
