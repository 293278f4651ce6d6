"""Dashboard events for the audit log (``queries.audit``): profile views and exports.

Who: the session's user (``identity.current_user``): the signed-in e-mail, else
``local:<operating-system user>`` (a local install).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dashboard import cached, identity
from queries.audit import record_event

if TYPE_CHECKING:
    from collections.abc import Callable

_VIEWED = "audit_viewed_ssids"


def record(action: str, *, detail: str = "", n_rows: int | None = None) -> None:
    """Add an entry for this session's user, with their scope in words."""
    record_event(cached.store(), identity.current_user(), action, detail=detail, n_rows=n_rows)


def viewed_student(ssid: str) -> None:
    """A student's profile was shown: one entry per student and session (not per rerun)."""
    seen = st.session_state.setdefault(_VIEWED, [])
    if ssid not in seen:
        record("view_student", detail=f"SSID {ssid}")
        seen.append(ssid)


def on_download(make: Callable[[], bytes], *, name: str, detail: str, n_rows: int
                ) -> Callable[[], bytes]:
    """``make`` for a download button, recording the export when the file is made.

    The user and store are taken now: the button builds the file later, on click, possibly
    outside this script run.
    """
    store, user = cached.store(), identity.current_user()

    def build() -> bytes:
        data = make()
        record_event(store, user, "export", detail=f"{name}; {detail}", n_rows=n_rows)
        return data

    return build
