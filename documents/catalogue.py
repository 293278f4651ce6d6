"""Extract the SSR template's messages (``ssr.pot``) and keep every catalogue in step with it.

``python -m documents.catalogue`` (``make messages``) writes ``locale/ssr.pot`` from the
template and merges new msgids into each language's ``ssr.po`` (their translations are then
to be written; ``tests/documents`` fails until every msgid has one).
"""

from __future__ import annotations

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from documents.i18n import DOMAIN, LOCALE_DIR, LOCALES
from documents.ssr import TEMPLATES


def template_catalog() -> Catalog:
    """The msgids of the template, as Babel extracts them (``_()`` calls)."""
    catalog = Catalog(project="elpac-explorer", domain=DOMAIN)
    for path in sorted(TEMPLATES.glob("*.html")):
        for line, message, comments, context in extract_from_file(
                "jinja2.ext:babel_extract", path,
                options={"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                         "lstrip_blocks": "true"}):
            catalog.add(message, None, [(path.name, line)], auto_comments=comments,
                        context=context)
    return catalog


def main() -> None:
    """Write the template and merge it into each language's catalogue."""
    template = template_catalog()
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as handle:
        write_po(handle, template, omit_header=False, width=100)
    for locale in LOCALES.values():
        if locale == "en":
            continue
        path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, domain=DOMAIN, project="elpac-explorer")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, ignore_obsolete=True)


if __name__ == "__main__":
    main()
