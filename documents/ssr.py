"""Render Student Score Reports: HTML (accessible, printable) and PDF (two Letter pages).

One Jinja template (``templates/ssr.html``) and stylesheet make both: the HTML as it is, the
PDF printed by Chromium (``documents.pdf``). Words come from the language's message catalogue
(``documents.i18n``); numbers and names from ``queries.ssr_documents.SsrContent``. Bulk output
is one merged PDF or a zip of per-student files.
"""

from __future__ import annotations

import io
import re
import zipfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from jinja2 import Environment, FileSystemLoader, select_autoescape

from documents.i18n import HTML_LANG, LOCALES, locale_of, long_date, translations
from documents.pdf import PdfPrinter, html_to_pdf

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from queries.ssr_documents import Scale, SsrContent

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _level_of(score: int, scale: Scale) -> int:
    return 1 + sum(score >= cut for cut in scale.cuts)


@cache
def _environment(locale: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["level_of"] = _level_of
    return env


@cache
def _css() -> str:
    return (TEMPLATES / "ssr.css").read_text(encoding="utf-8")


PARENT_SITE = "https://www.startingsmarter.org"
"""Where page 1 sends families for more (the state's parent site for CAASPP and ELPAC)."""


@cache
def _qr_svg(url: str) -> str:
    """The URL as an inline SVG QR code: no image file, nothing fetched.

    Hidden from screen readers: its wrapper carries the label.
    """
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=4, border=1)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg"):]
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


def languages_of(content: SsrContent) -> tuple[str, ...]:
    """The languages a student's SSR is made in: English, and their primary language's."""
    return tuple(lang for lang in content.languages if lang in LOCALES) or ("ENG",)


def render_html(content: SsrContent, language: str = "ENG") -> str:
    """One SSR as a complete HTML document in one language (``ENG``, ``SPA``, ...)."""
    locale = locale_of(language)
    template = _environment(locale).get_template("ssr.html")
    return template.render(
        c=content, css=_css(), html_lang=HTML_LANG[locale],
        year_text=content.school_year.replace("-", "–"),
        birth_date=long_date(content.birth_date, locale),
        released_on=long_date(content.released_on, locale),
        site=PARENT_SITE, qr_svg=_qr_svg(PARENT_SITE))


def render_pdf(content: SsrContent, language: str = "ENG") -> bytes:
    """One SSR as a two-page Letter PDF."""
    return html_to_pdf(render_html(content, language))


def file_name(content: SsrContent, language: str, suffix: str) -> str:
    """``ssr-2024-25-summative-1234567890-castillo-camila-es.pdf``: what, who, language."""
    who = re.sub(r"[^a-z0-9]+", "-", f"{content.last_name} {content.first_name}".lower()
                 ).strip("-") or "student"
    return (f"ssr-{content.school_year}-{content.test}-{content.ssid}-{who}-"
            f"{locale_of(language).lower().replace('_', '-')}.{suffix}")


PAGES = 2
"""Pages of every SSR (checked when bulk output is split per student)."""


def _printed_chunks(items: list[tuple[SsrContent, str]], chunk: int,
                    progress: Callable[[int, int], None] | None) -> Iterator[bytes]:
    """The items printed ``chunk`` at a time as one document each, by one browser.

    One document per chunk, not per report: a page costs Chromium little, a document a lot
    (measured: 200 SSRs in 2.5 s as one document, 0.28 s each one by one).
    """
    with PdfPrinter() as printer:
        for start in range(0, len(items), chunk):
            yield printer.print(_joined(items[start:start + chunk]))
            if progress is not None:
                progress(min(start + chunk, len(items)), len(items))


def bulk_pdf(contents: Iterable[tuple[SsrContent, str]], out: BinaryIO, *,
             progress: Callable[[int, int], None] | None = None, chunk: int = 200) -> None:
    """Write many SSRs to ``out`` as one merged PDF, in order (two pages each).

    ``progress(done, total)`` after each chunk. Merged with pikepdf (qpdf), which keeps far
    less of each chunk in memory than pypdf did (measured: 25 chunks of 200 SSRs, +0.16 GB
    against +0.53 GB, in the same time), and written straight into ``out`` (a file: the
    merged document is never also held as bytes). Keeping the printed chunks in temporary
    files instead was measured too: more memory, as qpdf maps them (1,000 SSRs: 438 MB
    against 345 MB).
    """
    import pikepdf

    merged = pikepdf.Pdf.new()
    for pdf in _printed_chunks(list(contents), chunk, progress):
        merged.pages.extend(pikepdf.Pdf.open(io.BytesIO(pdf)).pages)
    merged.save(out)


def _joined(items: list[tuple[SsrContent, str]]) -> str:
    """Several SSRs as one HTML document: each one's two pages, one after another."""
    bodies = []
    head = ""
    for content, language in items:
        html = render_html(content, language)
        start, end = html.index("<main>"), html.index("</main>") + len("</main>")
        head = head or html[:start]
        # Each report keeps its own language for screen readers and hyphenation.
        lang = HTML_LANG[locale_of(language)]
        bodies.append(f'<div lang="{lang}" class="report">' + html[start:end] + "</div>")
    return head + "\n".join(bodies) + "\n</body>\n</html>\n"


def bulk_zip(contents: Iterable[tuple[SsrContent, str]], out: BinaryIO, *, fmt: str = "pdf",
             progress: Callable[[int, int], None] | None = None, chunk: int = 200) -> None:
    """Write many SSRs to ``out`` as a zip of one file per student and language (PDF or HTML).

    PDFs are printed a chunk at a time and split into their two-page reports; each goes into
    the zip (written as it goes) before the next chunk is printed.
    """
    import pikepdf

    items = list(contents)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if fmt == "html":
            for done, (content, language) in enumerate(items, start=1):
                archive.writestr(file_name(content, language, "html"),
                                 render_html(content, language))
                if progress is not None and (done % chunk == 0 or done == len(items)):
                    progress(done, len(items))
            return
        for n, pdf in enumerate(_printed_chunks(items, chunk, progress)):
            printed = pikepdf.Pdf.open(io.BytesIO(pdf))
            part = items[n * chunk:(n + 1) * chunk]
            if len(printed.pages) != PAGES * len(part):
                raise RuntimeError(f"{len(part)} SSRs printed on {len(printed.pages)} pages, "
                                   f"not {PAGES} each: the template overflows a page")
            for i, (content, language) in enumerate(part):
                one = pikepdf.Pdf.new()
                one.pages.extend(printed.pages[PAGES * i:PAGES * (i + 1)])
                buffer = io.BytesIO()
                one.save(buffer)
                archive.writestr(file_name(content, language, "pdf"), buffer.getvalue())
