"""Without Chromium, pages say how to install it instead of offering images or PDFs.

Chart images (kaleido) and SSR PDFs are printed by the system Chromium after the download
button is clicked; a missing browser there reached the user only as Streamlit's "Failed to
generate file for download". The pages now ask ``documents.pdf.chromium_available`` while they
draw. The tests make it say "missing" (the machine running them has Chromium) and check
that the buttons are gone and the sentence is there, and that with Chromium they are offered.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import chart_export
from data.results.store import Store
from documents import pdf
from documents.i18n import LANGUAGE_NAMES
from tests.dashboard.conftest import ok, open_local

LEA = "19619690000000"
YEAR = "2024-25"
INSTALL = ("install Debian's Chromium (`apt-get install chromium`, as root) or start the "
           "dashboard with `make run`, which installs it")


def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "chromium_available", lambda: False)


def labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def ssr_buttons(at: AppTest) -> list[str]:
    return [b for b in labels(at) if b.endswith((": PDF", ": web page"))]


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def test_the_helper_follows_the_configured_browser(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    assert pdf.configured_chromium() == str(tmp_path / "no-such-chromium")
    assert pdf.chromium_available() is False
    # The chart export and the SSR printer refuse with the same advice.
    with pytest.raises(RuntimeError, match=r"apt-get install chromium"):
        chart_export.figure_image(go.Figure(), "png")
    with pytest.raises(Exception, match=r"apt-get install chromium"):
        pdf.chromium_path()
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    monkeypatch.setenv("BROWSER_PATH", str(browser))
    assert pdf.chromium_available() is True


def report_with_cohort(monkeypatch: pytest.MonkeyPatch, store: Path) -> AppTest:
    at = open_local(monkeypatch, store, "app_pages/report.py")
    at.selectbox(key="ctx_year").select(YEAR).run()
    at.selectbox(key="ctx_lea").select(LEA).run()
    at.button_group(key="report_type").set_value("longitudinal").run()
    at.multiselect(key="report_years").set_value(["2023-24", YEAR]).run()
    at.button_group(key="report_population").set_value("cohort").run()
    at.button(key="report_run_button").click().run()
    return ok(at)


def test_report_charts_without_chromium_say_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path) -> None:
    with_browser = report_with_cohort(monkeypatch, tiny_store_path)
    # Two charts (the years and the heat map), each with its three image buttons.
    assert [b for b in labels(with_browser) if b.startswith("Chart as")] == [
        "Chart as PNG", "Chart as SVG", "Chart as PDF"] * 2
    assert not [i for i in infos(with_browser) if "Chromium" in i]

    no_chromium(monkeypatch)
    at = report_with_cohort(monkeypatch, tiny_store_path)
    assert len(at.get("plotly_chart")) == 2  # the charts themselves are still drawn
    assert labels(at) == ["Download CSV", "Download Excel"]  # the table's files stay
    said = [i for i in infos(at) if "Chromium" in i]
    assert said == [
        f"Chart images (PNG, SVG, PDF) are drawn by Chromium, which is not installed on this "
        f"server: to offer them, {INSTALL}. The table's CSV and Excel files work without it."
    ] * 2


def eligible_student(store: Path) -> dict[str, object]:
    """A student with an SSR, enrolled where tested (their SSR is offered on the profile)."""
    files = Store(store).year_files()
    return pl.read_parquet(files[max(files)]).filter(
        (pl.col("record_type") == "21") & pl.col("is_ssr_eligible").fill_null(False)
        & pl.col("overall_scale_score").is_not_null()
        & (pl.col("enrolled_lea_code") == pl.col("reporting_lea_code"))
        & (pl.col("ssr_languages") == "ENG;SPA")).sort("ssid").row(0, named=True)


def open_student(monkeypatch: pytest.MonkeyPatch, store: Path, student: dict[str, object]
                 ) -> AppTest:
    at = open_local(monkeypatch, store, "app_pages/students.py",
                   scope={"leas": [student["reporting_lea_code"]], "pii": True})
    at.radio(key="students_mode").set_value("search")
    at.text_input(key="students_text").input(str(student["ssid"])).run()
    return ok(at)


def test_ssr_pdfs_without_chromium_say_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                         tiny_store_path: Path) -> None:
    student = eligible_student(tiny_store_path)
    with_browser = open_student(monkeypatch, tiny_store_path, student)
    english, spanish = LANGUAGE_NAMES["ENG"], LANGUAGE_NAMES["SPA"]
    assert ssr_buttons(with_browser) == [f"{english}: PDF", f"{english}: web page",
                                         f"{spanish}: PDF", f"{spanish}: web page"]

    no_chromium(monkeypatch)
    at = open_student(monkeypatch, tiny_store_path, student)
    # The web pages stay (any browser prints them); the PDFs give way to the sentence.
    assert ssr_buttons(at) == [f"{english}: web page", f"{spanish}: web page"]
    assert [i for i in infos(at) if "Chromium" in i] == [
        f"SSR PDFs are printed by Chromium, which is not installed on this server: to offer "
        f"them, {INSTALL}. The web pages below print from any browser."]


def test_score_reports_without_chromium_offer_web_pages_only(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path) -> None:
    scope = {"leas": [LEA], "pii": True}
    with_browser = open_local(monkeypatch, tiny_store_path, "app_pages/score_reports.py",
                             scope=scope)
    assert with_browser.radio(key="score_reports_output").options == [
        "One PDF to print (two pages per report)",
        "A zip of PDFs, one per student and language",
        "A zip of web pages, one per student and language"]

    no_chromium(monkeypatch)
    at = open_local(monkeypatch, tiny_store_path, "app_pages/score_reports.py", scope=scope)
    output = at.radio(key="score_reports_output")
    assert output.options == ["A zip of web pages, one per student and language"]
    assert output.value == "zip_html"
    assert [i for i in infos(at) if "Chromium" in i] == [
        f"PDFs are printed by Chromium, which is not installed on this server: to offer them, "
        f"{INSTALL}. The zip of web pages works without it."]
    # And the zip of web pages is made.
    at.button(key="score_reports_make").click().run()
    ok(at)
    (offered,) = [e.proto.body for e in at.get("html") if "elpac-download" in e.proto.body]
    assert ">Download ssr-" in offered
    assert "-html.zip (" in offered
