"""A student's SSR languages, changed as TOMS lets an LEA coordinator change them (ELPAC.md §7).

Overrides are kept per student, school year and test (``data.catalog.ssr_languages``). Only a
user with an LEA coordinator's rights (``queries.access.require_loads``) may change them, and
only for a student whose SSR their scope may have (the same check as making the SSR): a
teacher or an aggregate-only viewer is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.catalog.ssr_languages import clear_languages, set_languages
from queries.access import may_load, require_loads
from queries.labels import RECORD_TYPE_OF_TEST
from queries.scope import ScopeError
from queries.ssr_documents import NoReportError, read_ssr_content

if TYPE_CHECKING:
    from queries.access import User
    from queries.snapshot import Snapshot

AS_IN_FILE = ""
"""The choice that removes an override: the score file's languages again."""
ENGLISH_ONLY = "ENG"


def may_change_ssr_languages(user: User) -> bool:
    """Whether the user may change SSR languages at all (then per student in their scope)."""
    return may_load(user)


def set_ssr_languages(snap: Snapshot, user: User, ssid: str, *, year: str, test: str,
                      languages: str) -> None:
    """Set a student's SSR languages for a year and test (their SSRs follow at once).

    ``languages`` is ``AS_IN_FILE`` (the score file's), ``ENGLISH_ONLY``, or one of
    ``queries.labels.SSR_SECOND_LANGUAGES`` (English and that language). Recorded as set by
    ``user.name``. Raises ``ScopeError`` if the user may not change it (no coordinator's
    rights, or no SSR of that student in their scope) and ``InputError`` for a language an SSR
    is not made in.
    """
    require_loads(user, "Changing a student's SSR languages")
    try:
        content = read_ssr_content(snap, ssid, scope=user.scope, year=year, test=test)
    except NoReportError as exc:
        raise ScopeError(str(exc)) from None
    record_type = RECORD_TYPE_OF_TEST[test]
    if languages == AS_IN_FILE:
        clear_languages(snap.store, content.ssid, year, record_type)
    else:
        set_languages(snap.store, content.ssid, year, record_type,
                      None if languages == ENGLISH_ONLY else languages, set_by=user.name)

