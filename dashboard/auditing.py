"""Dashboard events for the audit log (``data.catalog.audit``): profile views and exports.

Who: the signed-in e-mail, else ``local:<operating-system user>`` (a local install).
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import cached, identity
from data.catalog import audit

if TYPE_CHECKING:
    from collections.abc import Callable

_VIEWED = "audit_viewed_ssids"


def who() -> str:
    """The user an entry is about."""
    email = identity.signed_in_email()
    if email:
        return email
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local"


def record(action: str, *, detail: str = "", n_rows: int | None = None) -> None:
    """Add an entry for this session's user, with their scope in words."""
    audit.record(cached.store(), who(), action,
                 scope=identity.describe(identity.current_scope()), detail=detail,
                 n_rows=n_rows)


def viewed_student(ssid: str) -> None:
    """A student's profile was shown: one entry per student and session (not per rerun)."""
    seen = st.session_state.setdefault(_VIEWED, [])
    if ssid not in seen:
        record("view_student", detail=f"SSID {ssid}")
        seen.append(ssid)


def on_download(make: Callable[[], bytes], *, name: str, detail: str, n_rows: int
                ) -> Callable[[], bytes]:
    """``make`` for a download button, recording the export when the file is made.

    The user, scope and store are taken now: the button builds the file later, on click,
    possibly outside this script run.
    """
    store, user = cached.store(), who()
    scope = identity.describe(identity.current_scope())

    def build() -> bytes:
        data = make()
        audit.record(store, user, "export", scope=scope, detail=f"{name}; {detail}",
                     n_rows=n_rows)
        return data

    return build
