"""Student Score Reports: content rules, both tests, every language, two pages, bulk output.

Reports are built from hand-made records (``queries.ssr_documents``) and rendered
(``documents.ssr``); the PDF's text is read back with pdfplumber and compared with the numbers
and the catalogue's words.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pdfplumber
import polars as pl
import pytest
from babel.messages.pofile import read_po

from data.domain import summative_cuts
from documents.catalogue import template_catalog
from documents.i18n import DOMAIN, LOCALE_DIR, LOCALES, translations
from documents.ssr import bulk_pdf, bulk_zip, file_name, render_html, render_pdf
from queries.ssr_documents import _COLUMNS, SsrContent, _build

BASE: dict[str, object] = {c: None for c in _COLUMNS}
BASE.update({
    "ssid": "1234567890", "first_name": "Ana", "last_name": "Pérez", "middle_name": None,
    "birth_date": date(2013, 4, 5), "record_type": "21", "enrolled_lea_code": "19647330000000",
    "enrolled_school_code": "19647331932334", "enrolled_district_name": "Los Angeles Unified",
    "enrolled_school_name": "Hollenbeck Middle", "enrolled_charter_indicator": None,
    "reporting_lea_code": "19647330000000", "reporting_school_code": "19647331932334",
    "is_tested": True, "attemptedness": "Y", "include_indicator": "Y",
    "is_ssr_eligible": True, "ssr_languages": "ENG;SPA", "ssr_available_date": date(2025, 5, 22),
    "final_test_completed_date": date(2025, 3, 3), "is_listening_exempt": False,
    "is_speaking_exempt": False, "is_reading_exempt": False, "is_writing_exempt": False,
})


def record(year: str, grade: str, **values: object) -> dict[str, object]:
    return {**BASE, "school_year": year, "grade_assessed": grade, **values}


def scored(year: str, grade: str, overall: int, level: int, **values: object
           ) -> dict[str, object]:
    return record(year, grade, **{
        "overall_scale_score": overall, "overall_level": level,
        "oral_scale_score": overall + 10, "oral_level": level,
        "written_scale_score": overall - 10, "written_level": level,
        "listening_level": 3, "speaking_level": 2, "reading_level": 2, "writing_level": 1,
        **values})


def student_history() -> list[dict[str, object]]:
    """Grade 3 in 2018-19 up to grade 8 in 2024-25, with every score-history case."""
    return [
        scored("2018-19", "03", 1480, 2),
        scored("2019-20", "04", 1500, 2),  # never shown (testing suspended)
        record("2020-21", "05", is_tested=False, attemptedness="N", include_indicator="N",
               is_ssr_eligible=False),  # eligible but not tested
        record("2021-22", "06", attemptedness="P", include_indicator="T",
               is_ssr_eligible=False),  # incomplete
        # 2022-23: no record at all (not eligible that year): no row
        scored("2023-24", "07", 1540, 3),
        scored("2024-25", "08", 1561, 3, is_writing_exempt=True, writing_level=None),
    ]


def summative_content() -> SsrContent:
    """The grade-8 Summative SSR of ``student_history`` (also the accessibility test's)."""
    found = _build(pl.DataFrame(student_history(), infer_schema_length=None), "summative",
                   years=["2024-25"])
    assert len(found) == 1
    return found[0]


def alternate_content() -> SsrContent:
    """A grade-7 Summative Alternate ELPAC SSR with one earlier year."""
    rows = [record("2023-24", "06", record_type="23", overall_scale_score=640,
                   overall_level=1),
            record("2024-25", "07", record_type="23", overall_scale_score=650,
                   overall_level=2, ssr_languages="ENG;KOR")]
    (found,) = _build(pl.DataFrame(rows, infer_schema_length=None), "alternate",
                      years=["2024-25"])
    return found


@pytest.fixture(scope="module")
def content() -> SsrContent:
    return summative_content()


@pytest.fixture(scope="module")
def alternate() -> SsrContent:
    return alternate_content()


def pages(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [re.sub(r"\s+", " ", page.extract_text() or "") for page in doc.pages]


def halves(pdf: bytes, page: int) -> tuple[str, str]:
    """The left and right half of a page's text (page 2 sets the composites side by side)."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        sheet = doc.pages[page]
        middle = sheet.width / 2
        return tuple(re.sub(r"\s+", " ", sheet.crop(box).extract_text() or "")  # type: ignore[return-value]
                     for box in ((0, 0, middle, sheet.height),
                                 (middle, 0, sheet.width, sheet.height)))


def gettext(language: str, msgid: str) -> str:
    return translations(LOCALES[language]).gettext(msgid)


# -- content ----------------------------------------------------------------------------------

def test_score_history_follows_the_states_rules(content: SsrContent) -> None:
    rows = [(h.school_year, h.grade, h.status, h.overall_score) for h in content.history]
    assert rows == [("2023-24", "07", "scored", 1540),
                    ("2021-22", "06", "incomplete", None),
                    ("2020-21", "05", "not_tested", None),
                    ("2018-19", "03", "scored", 1480)]
    assert content.exempt == frozenset({"writing"})
    assert content.languages == ("ENG", "SPA")
    assert (content.scale.low, content.scale.high, content.scale.cuts) == (
        1150, 1900, summative_cuts("overall", "08"))


def test_no_ssr_for_a_partial_or_untested_year() -> None:
    rows = student_history()
    frame = pl.DataFrame(rows, infer_schema_length=None)
    assert _build(frame, "summative", years=["2021-22"]) == []
    assert _build(frame, "summative", years=["2020-21"]) == []
    assert [c.school_year for c in _build(frame, "summative", years=None)] == [
        "2018-19", "2019-20", "2023-24", "2024-25"]


# -- the English documents -----------------------------------------------------------------

def test_a_summative_ssr_in_english(content: SsrContent) -> None:
    html = render_html(content)
    # Page 1's QR code to the parent site: inline SVG, labelled for screen readers.
    assert ('role="img" aria-label="QR code: https://www.startingsmarter.org"' in html)
    assert '<svg aria-hidden="true" focusable="false"' in html
    pdf = render_pdf(content)
    first, second = pages(pdf)
    left, right = halves(pdf, 1)
    assert "Student Score Report" in first
    assert "Ana Pérez" in first
    assert "1234567890" in first
    assert "Grade 8" in first
    assert "Hollenbeck Middle" in first
    assert "April 5, 2013" in first
    assert "1561 Level 3 of 4: Moderately Developed" in first
    assert "Students at this level have moderately developed oral" in first
    assert "scale score from 1150 to 1900" in first
    # Page 2: composites, domains (the exemption marked), the history and its messages.
    assert "Oral language 1571 Level 3 of 4: Moderately Developed" in left
    assert "Written language 1551 Level 3 of 4: Moderately Developed" in right
    assert "Listening Well Developed" in second
    assert "Speaking Somewhat/Moderately Developed" in second
    assert "Writing Exempt" in second
    assert "2023–24 Grade 7 1540 Level 3: Moderately Developed" in second
    assert "2021–22 Grade 6 Incomplete test | No score available" in second
    assert "2020–21 Grade 5 Eligible but not tested" in second
    assert "2018–19 Grade 3 1480 Level 2: Somewhat Developed" in second
    assert "2019–20 Grade" not in second
    assert "2022–23" not in second
    assert "released on May 22, 2025" in second


def test_an_alternate_ssr_has_the_overall_score_and_three_levels(alternate: SsrContent
                                                                 ) -> None:
    first, second = pages(render_pdf(alternate))
    assert "Summative Alternate ELPAC" in first
    assert "650 Level 2 of 3: Intermediate English Learner" in first
    assert "scale score from 601 to 699" in first
    assert "Oral language" not in second
    assert "Fluent English Proficient" in second
    assert "Novice English Learner" in second
    assert "Students at this level can understand and use English to communicate about a " \
        "variety" in second
    assert "2023–24 Grade 6 640 Level 1: Novice English Learner" in second


# -- every language ----------------------------------------------------------------------------

def test_the_template_catalogue_is_up_to_date() -> None:
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as handle:
        saved = {m.id for m in read_po(handle) if m.id}
    assert saved == {m.id for m in template_catalog() if m.id}, "run make messages"


@pytest.mark.parametrize("locale", [v for v in LOCALES.values() if v != "en"])
def test_every_message_is_translated_with_its_placeholders(locale: str) -> None:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    ids = {m.id for m in template_catalog() if m.id}
    found = {m.id: m for m in catalog if m.id}
    assert set(found) >= ids
    for msgid in ids:
        message = found[msgid]
        assert message.string, f"{locale}: no translation of {msgid!r}"
        assert not message.fuzzy, f"{locale}: fuzzy translation of {msgid!r}"
        assert sorted(re.findall(r"%\(\w+\)s", message.string)) == sorted(
            re.findall(r"%\(\w+\)s", msgid)), msgid


@pytest.mark.parametrize("language", ["SPA", "VIE", "FIL", "KOR", "CHI"])
def test_a_translated_ssr(content: SsrContent, alternate: SsrContent, language: str) -> None:
    html = render_html(content, language)
    lang = {"SPA": "es", "VIE": "vi", "FIL": "fil", "KOR": "ko", "CHI": "zh-Hant"}[language]
    assert f'<html lang="{lang}">' in html
    first, second = pages(render_pdf(content, language))
    squeeze = re.compile(r"\s+")

    def has(text: str, msgid: str) -> bool:
        # PDF text comes back with line breaks as spaces (and none between CJK glyphs).
        want = squeeze.sub("", gettext(language, msgid))
        return want in squeeze.sub("", text)

    assert gettext(language, "Moderately Developed") != "Moderately Developed"
    assert has(first, "Student Score Report")
    assert has(first, "Moderately Developed")
    assert "1561" in first
    assert "1234567890" in first
    assert has(second, "Eligible but not tested")
    assert has(second, "Score history")
    alt_first, _ = pages(render_pdf(alternate, language))
    assert has(alt_first, "Intermediate English Learner")
    assert "650" in alt_first


# -- bulk ----------------------------------------------------------------------------------------

def test_bulk_output_keeps_two_pages_per_report(content: SsrContent,
                                                alternate: SsrContent) -> None:
    items = [(content, "ENG"), (content, "SPA"), (alternate, "ENG")]
    done: list[tuple[int, int]] = []
    buffer = io.BytesIO()
    bulk_pdf(items, buffer, chunk=2, progress=lambda d, t: done.append((d, t)))
    merged = pages(buffer.getvalue())
    assert len(merged) == 6
    assert done == [(2, 3), (3, 3)]
    assert "Intermediate English Learner" in merged[4]
    zipped = io.BytesIO()
    bulk_zip(items, zipped, chunk=2)
    archive = zipfile.ZipFile(zipped)
    names = archive.namelist()
    assert names == [file_name(c, lang, "pdf") for c, lang in items]
    assert names[1] == "ssr-2024-25-summative-1234567890-p-rez-ana-es.pdf"
    for name in names:
        assert len(pages(archive.read(name))) == 2
