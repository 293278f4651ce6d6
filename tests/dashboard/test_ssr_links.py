"""The Reporting tab's SSR links follow enrolment: TOMS sends the SSR to the enrolled LEA.

A student reported under one LEA but enrolled in another shows in the first LEA's Students
page; their SSR downloads are offered to the enrolled LEA only, and the first is told why.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.results.store import Store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def open_student(monkeypatch: pytest.MonkeyPatch, store: Path, lea: str, ssid: str
                 ) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    monkeypatch.setenv("ELPAC_SCOPE", json.dumps({"leas": [lea], "pii": True}))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("app_pages/students.py").run()
    at.radio(key="students_mode").set_value("search")
    at.text_input(key="students_text").input(ssid).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_ssr_is_offered_to_the_enrolled_lea_only(monkeypatch: pytest.MonkeyPatch,
                                                    tiny_store_path: Path) -> None:
    files = Store(tiny_store_path).year_files()
    year = max(files)
    movers = pl.read_parquet(files[year]).filter(
        (pl.col("record_type") == "21") & pl.col("is_ssr_eligible").fill_null(False)
        & pl.col("overall_scale_score").is_not_null()
        & (pl.col("enrolled_lea_code") != pl.col("reporting_lea_code")))
    assert movers.height, "the tiny demo has students tested outside their enrolled LEA"
    student = movers.sort("ssid").row(0, named=True)
    tested_here = open_student(monkeypatch, tiny_store_path, student["reporting_lea_code"],
                               student["ssid"])
    assert tested_here.header, "the student's profile"
    assert not [b for b in tested_here.get("download_button")
                if b.proto.label.endswith(": PDF")]
    assert any("goes to their enrolled LEA" in c.value and student["enrolled_lea_code"]
               in c.value for c in tested_here.caption)
