"""The parent-portal credential of an LEA: its status and a confirmed *Generate* button.

The SIS vendor's parent portal fetches SSRs from ``elpac portal-api`` (``elpac.portal_api``) with
this credential (``queries.portal_credentials``, which decides who may see and make it).
Generating one replaces the LEA's credential: every earlier one stops working at once. The new
credential is shown once, in this run only: it is taken out of session state as it is drawn,
so the next interaction no longer shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from queries.errors import REFUSALS, as_sentence
from queries.portal_credentials import make_portal_credential, read_portal_credential

if TYPE_CHECKING:
    from queries.access import User
    from queries.store import Store

_CONFIRM = "portal_confirm_generate"
_NEW = "portal_new_credential"
"""Session key of ``(LEA code, credential)`` made by the last click, to show once."""
_ERROR = "portal_error"


def _ask(lea_code: str | None) -> None:
    st.session_state[_CONFIRM] = lea_code


def _generate(store: Store, user: User, lea_code: str) -> None:
    st.session_state[_CONFIRM] = None
    try:
        token = make_portal_credential(store, user, lea_code)
    except REFUSALS as exc:
        st.session_state[_ERROR] = str(exc)
        return
    st.session_state[_NEW] = (lea_code, token)


def credential_section(store: Store, user: User, lea_code: str, lea_name: str) -> None:
    """Draw the LEA's parent-portal credential status and the button that makes a new one."""
    state = st.session_state
    st.header("Parent-portal credential", anchor=False)
    st.caption("Your SIS vendor's parent portal fetches each student's Student Score Report "
               "(PDF or HTML, in the languages it is made in) from the explorer's portal "
               "endpoint with this credential. Only the last credential generated works.")
    error = state.pop(_ERROR, None)
    if error:
        st.error(f"No credential was made: {error}", icon=":material/error:")
    new = state.pop(_NEW, None)
    if new is not None and new[0] == lea_code:
        st.success(f"New credential for {lea_name}. Give it to your SIS vendor:",
                   icon=":material/key:")
        st.code(new[1], language=None)
        st.warning("Copy it now: it will not be shown again (the explorer keeps only a hash "
                   "of it). Every earlier credential of this LEA has stopped working.",
                   icon=":material/warning:")
    try:
        info = read_portal_credential(store, user, lea_code)
    except REFUSALS as exc:
        st.info(as_sentence(exc), icon=":material/lock:")
        return
    if info is None:
        st.info(f"{lea_name} has no parent-portal credential yet.", icon=":material/info:")
    else:
        st.markdown(f"Current credential `elpac_{info.key_id}_…`, made by "
                    f"{info.created_by} on {info.created_at:%Y-%m-%d at %H:%M}.")
    if state.get(_CONFIRM) != lea_code:
        st.button("Generate a new credential", key="portal_generate", icon=":material/key:",
                  on_click=_ask, args=(lea_code,))
        return
    st.warning(f"Generate a new credential for {lea_name}?"
               + (" The current one stops working at once: the parent portal cannot fetch "
                  "reports until the vendor has the new one." if info is not None else ""),
               icon=":material/warning:")
    buttons = st.container(horizontal=True)
    buttons.button("Yes, generate it", key="portal_generate_yes", type="primary",
                   on_click=_generate, args=(store, user, lea_code))
    buttons.button("Cancel", key="portal_generate_no", on_click=_ask, args=(None,))
