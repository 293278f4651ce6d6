"""``elpac ssr``: Student Score Reports, one student's or many, and their languages."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import Annotated

import typer

from data.problems import InputError
from elpac.options import (
    StoreOption,
    TestOption,
    UserOption,
    YearOption,
    acting,
    audit_export,
    echo_count,
    fail,
    operator_scope,
    snapshot,
    target_path,
)

app = typer.Typer(no_args_is_help=True,
                  help="Student Score Reports: one student's, or many as one PDF or a zip.")


@app.command("render")
def ssr_render(
    ssid: Annotated[str, typer.Option("--ssid", help="The student's SSID.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="File to write (.pdf or .html), "
                                      "or a directory to write it in under its own name.")],
    lang: Annotated[str | None, typer.Option(
        "--lang", help="ENG, SPA, VIE, FIL, KOR or CHI (or es, vi, fil, ko, zh): default "
                       "English.")] = None,
    year: Annotated[str | None, typer.Option(help="School year (default: the newest with an "
                                             "SSR).")] = None,
    test: TestOption = "summative",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write one student's SSR as PDF (two Letter pages) or HTML."""
    from documents.ssr import file_name, render_html, render_pdf
    from queries.scope import ScopeError
    from queries.ssr_documents import read_ssr_content

    language = _ssr_language(lang)
    try:
        snap = snapshot(store)
        scope = operator_scope(store, user)
        content = read_ssr_content(snap, ssid, scope=scope, year=year, test=test)
        suffix = "html" if out.suffix.lower() in (".html", ".htm") else "pdf"
        target = target_path(out, file_name(content, language, suffix))
        data = (render_html(content, language).encode() if suffix == "html"
                else render_pdf(content, language))
        target.write_bytes(data)
        audit_export(store, user, scope, target, f"ssr ssid={content.ssid} "
                     f"year={content.school_year} lang={language}", 1)
    except (InputError, ScopeError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {target}")


@app.command("bulk")
def ssr_bulk(
    out: Annotated[Path, typer.Option("-o", "--output", help="The .pdf (merged) or .zip file "
                                      "to write.")],
    year: YearOption,
    lea: Annotated[str | None, typer.Option(help="Enrolled LEA (14-digit CDS code).")] = None,
    school: Annotated[str | None, typer.Option(help="Enrolled school (14-digit CDS code).")
                      ] = None,
    grade: Annotated[str | None, typer.Option(help="Assessment grade: KN, 01-12.")] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="Only this language's SSRs (SPA: the Spanish ones); default: every "
                       "student's English SSR and their primary-language one.")] = None,
    test: TestOption = "summative",
    fmt: Annotated[str, typer.Option("--format", help="pdf (per-student PDFs in a zip, or "
                                     "one merged PDF when -o ends in .pdf) or html (a zip).")
                   ] = "pdf",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write many SSRs as one merged PDF or a zip of per-student files."""
    from documents.ssr import bulk_pdf, bulk_zip, languages_of
    from queries.scope import ScopeError
    from queries.ssr_documents import list_ssr_contents

    language = _ssr_language(lang) if lang else None
    if fmt not in ("pdf", "html"):
        raise fail("--format must be pdf or html")
    merged = out.suffix.lower() == ".pdf"
    if merged and fmt != "pdf":
        raise fail("a merged file is a PDF: use -o FILE.zip for HTML files")
    try:
        snap = snapshot(store)
        scope = operator_scope(store, user)
        contents = list_ssr_contents(snap, scope=scope, year=year, test=test, lea=lea,
                                     school=school, grade=grade, language=language)
        items = [(c, lang_) for c in contents for lang_ in languages_of(c)
                 if language is None or lang_ == language]
        if not items:
            raise InputError("no Student Score Report matches these options in your access")
        typer.echo(f"rendering {len(items):,} SSRs of {len(contents):,} students")
        # Written into the file as it is made (not held in memory), then put in place whole.
        partial = out.with_name(f".{out.name}.partial")
        try:
            with partial.open("wb") as target:
                if merged:
                    bulk_pdf(items, target, progress=echo_count)
                else:
                    bulk_zip(items, target, fmt=fmt, progress=echo_count)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        audit_export(store, user, scope, out, f"ssr bulk year={year} lea={lea} "
                     f"school={school} grade={grade} lang={language} test={test}", len(items))
    except (InputError, ScopeError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {len(items):,} SSRs to {out}")


@app.command("language")
def ssr_language(
    ssid: Annotated[str, typer.Option("--ssid", help="The student's SSID.")],
    year: YearOption,
    lang: Annotated[str, typer.Option(
        "--lang", help="ENG (English only), SPA, VIE, FIL, KOR or CHI (English and that "
                       "language), or 'file' for the score file's own choice.")],
    test: TestOption = "summative",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Change a student's SSR languages, as an LEA coordinator can in TOMS."""
    from queries.scope import ScopeError
    from queries.ssr_documents import read_ssr_content
    from queries.ssr_languages import AS_IN_FILE, ENGLISH_ONLY, set_ssr_languages

    try:
        snap = snapshot(store)
        who = acting(store, user)
        code = AS_IN_FILE if lang.strip().lower() == "file" else _ssr_language(lang)
        set_ssr_languages(snap, who, ssid, year=year, test=test,
                          languages=ENGLISH_ONLY if code == "ENG" else code)
        after = read_ssr_content(snap, ssid, scope=who.scope, year=year, test=test)
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{after.ssid} {year}: SSRs in {', '.join(after.languages)}")


def _ssr_language(lang: str | None) -> str:
    """An SSR language code from ``--lang`` (``SPA``, or its locale ``es``)."""
    from documents.i18n import LOCALES

    if lang is None:
        return "ENG"
    code = lang.strip()
    by_locale = {loc.split("_")[0].lower(): c for c, loc in LOCALES.items()}
    found = code.upper() if code.upper() in LOCALES else by_locale.get(code.lower())
    if found is None:
        raise fail(f"--lang must be one of {', '.join(LOCALES)} (or "
                   f"{', '.join(sorted(by_locale))})")
    return found
