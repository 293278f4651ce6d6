"""SSR languages: their message catalogues (gettext ``.po`` files read with Babel) and formats.

The fixed texts of an SSR are English ``msgid``s in the template
(``documents/templates/ssr.html``); ``documents/locale/ssr.pot`` lists them (``make
messages`` extracts it again) and ``documents/locale/<locale>/LC_MESSAGES/ssr.po`` gives each
language's text. Catalogues are read straight from the ``.po`` files (compiled in memory), so
nothing is built before use. Dates are formatted per language by Babel (CLDR data).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

if TYPE_CHECKING:
    from datetime import date

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "ssr"
LOCALES = {"ENG": "en", "SPA": "es", "VIE": "vi", "FIL": "fil", "KOR": "ko", "CHI": "zh_Hant"}
"""SSR language code of the Student Score Data File -> Babel locale (ELPAC.md §7)."""
LANGUAGE_NAMES = {"ENG": "English", "SPA": "Spanish (Español)",
                  "VIE": "Vietnamese (Tiếng Việt)", "FIL": "Filipino",
                  "KOR": "Korean (한국어)", "CHI": "Chinese, Traditional (繁體中文)"}
HTML_LANG = {"en": "en", "es": "es", "vi": "vi", "fil": "fil", "ko": "ko", "zh_Hant": "zh-Hant"}


def locale_of(language: str) -> str:
    """The Babel locale of an SSR language code (``SPA`` -> ``es``); ``ValueError`` if none."""
    try:
        return LOCALES[language.upper()]
    except KeyError:
        raise ValueError(f"SSRs are made in {', '.join(LOCALES)}, not {language!r}") from None


@cache
def translations(locale: str) -> NullTranslations:
    """The catalogue of a locale (English: the msgids themselves)."""
    if locale == "en":
        return NullTranslations()
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def long_date(day: date | None, locale: str) -> str:
    """A date as the language writes it in full (``May 22, 2025``, ``22 de mayo de 2025``)."""
    return "" if day is None else format_date(day, format="long", locale=Locale.parse(locale))
