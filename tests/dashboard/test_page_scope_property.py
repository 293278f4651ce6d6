"""No page shows a student outside the scope (property test over random scopes, AppTest).

For random scopes (counties, LEAs, schools, with or without student records) given to the
dashboard as ``$ELPAC_SCOPE``, the Students page lists, for the sidebar's LEA and year, only
students the scope covers (every SSID anywhere on the page is checked against a reading of
the Parquet records made here), so do the English learner progress page's student lists and
reclassification candidates, and an aggregate-only scope has no Students page at all and no
SSID on its home page or its English learner progress page.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from data.results.store import Store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
SSID = re.compile(r"\b\d{10}\b")


@pytest.fixture(scope="module")
def records(tiny_store_path: Path) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p, columns=["ssid", "county_code", "reporting_lea_code",
                                                  "reporting_school_code"])
                      .with_columns(pl.lit(y).alias("school_year"))
                      for y, p in sorted(Store(tiny_store_path).year_files().items())])


def _shown(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "header", "subheader", "info",
                                  "warning", "error", "success") for e in getattr(at, kind)]
    parts += [t.value.to_csv() for t in at.dataframe]
    parts += [t.value.to_csv() for t in at.table]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hs.data())
def test_no_page_lists_a_student_outside_the_scope(tiny_store_path: Path,
                                                   records: pl.DataFrame,
                                                   data: hs.DataObject) -> None:
    places = records.select("county_code", "reporting_lea_code",
                            "reporting_school_code").unique().sort(pl.all())
    counties = sorted(set(places.get_column("county_code")))
    leas = sorted(set(places.get_column("reporting_lea_code")))
    schools = sorted(set(places.get_column("reporting_school_code").drop_nulls()))
    scope = {"counties": data.draw(hs.lists(hs.sampled_from(counties), max_size=1)),
             "leas": data.draw(hs.lists(hs.sampled_from(leas), max_size=2)),
             "schools": data.draw(hs.lists(hs.sampled_from(schools), max_size=3)),
             "pii": data.draw(hs.integers(0, 3)) > 0}
    if not (scope["counties"] or scope["leas"] or scope["schools"]):
        scope["leas"] = [data.draw(hs.sampled_from(leas))]
    note(f"scope: {scope}")
    covered = records.filter(pl.col("county_code").is_in(scope["counties"])
                             | pl.col("reporting_lea_code").is_in(scope["leas"])
                             | pl.col("reporting_school_code").is_in(scope["schools"]))
    allowed = set(covered.get_column("ssid"))
    every = set(records.get_column("ssid"))
    saved = {k: os.environ.get(k) for k in ("ELPAC_STORE", "ELPAC_SCOPE")}
    os.environ["ELPAC_STORE"] = str(tiny_store_path)
    os.environ["ELPAC_SCOPE"] = json.dumps(scope)
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        assert not at.exception, [e.value for e in at.exception]
        home = set(SSID.findall(_shown(at))) & every
        if not scope["pii"]:
            event("aggregate-only")
            assert home == set()
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page("app_pages/students.py")
            at.switch_page("app_pages/elpi.py").run()  # English learner progress: numbers only
            assert not at.exception, [e.value for e in at.exception]
            assert set(SSID.findall(_shown(at))) & every == set()
            return
        at.switch_page("app_pages/students.py").run()
        at.radio(key="students_mode").set_value("list").run()  # the sidebar LEA's students
        assert not at.exception, [e.value for e in at.exception]
        seen = set(SSID.findall(_shown(at))) & every
        event(f"students listed: {bool(seen)}")
        assert seen <= allowed, sorted(seen - allowed)[:5]
        # English learner progress: the students behind it, and reclassification candidates.
        at.switch_page("app_pages/elpi.py").run()
        at.segmented_control(key="elpi_mode").set_value("students").run()
        if any(r.key == "elpi_watch" for r in at.radio):  # else: no results there that year
            at.radio(key="elpi_watch").set_value("declined").run()
        assert not at.exception, [e.value for e in at.exception]
        seen = set(SSID.findall(_shown(at))) & every
        at.segmented_control(key="elpi_mode").set_value("reclassification").run()
        assert not at.exception, [e.value for e in at.exception]
        seen |= set(SSID.findall(_shown(at))) & every
        event(f"ELPI students listed: {bool(seen)}")
        assert seen <= allowed, sorted(seen - allowed)[:5]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        st.cache_data.clear()
