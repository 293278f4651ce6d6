"""What a user sees when something fails: a sentence, never Streamlit's error box.

Refusals and errors written for users (``queries.errors``: a report outside the store's years,
a busy catalog, a scope that does not cover the request) are shown as they are. Anything else
is a bug: developers (and AppTest) keep the traceback; with the project's configuration
(``client.showErrorDetails = "none"``) users get a sentence and the server log the traceback,
which holds no student data (no page puts any in an exception's message).
"""

from __future__ import annotations

import logging

import streamlit as st

from queries.errors import InputError

_LOG = logging.getLogger("elpac.dashboard")


def show_error(exc: Exception, where: str) -> None:
    """Show ``exc`` as a sentence in the page; log a bug's traceback (``where`` it happened)."""
    if isinstance(exc, (InputError, ValueError)):
        message = str(exc)
        st.error(f"{message[:1].upper()}{message[1:]}", icon=":material/error:")
        return
    if st.get_option("client.showErrorDetails") not in ("none", False):
        raise exc
    _LOG.exception("%s failed", where, exc_info=exc)
    st.error("Something went wrong on this page. Reload it; if it happens again, tell your "
             "ELPAC data administrator the time it happened (the server log has the details).",
             icon=":material/error:")
