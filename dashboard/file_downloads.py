"""Files a page builds for its user: written to disk, offered as a link that streams them.

``st.download_button`` keeps the file's bytes in the server's memory for the session; a
statewide extract or a school's bulk SSRs would hold hundreds of MB there. Pages build such
files into a private download (``queries.downloads``) and offer ``/download/<token>``
(``dashboard.web``), which streams the file from disk and audits the fetch.
"""

from __future__ import annotations

from html import escape

import streamlit as st

from dashboard import cached, identity
from queries.downloads import Download, new_download

_STYLE = """<style>
a.elpac-download { display: inline-block; padding: .45rem .9rem; border-radius: .5rem;
  background: #1f4e99; color: #fff !important; text-decoration: none; font-weight: 600; }
a.elpac-download:hover, a.elpac-download:focus-visible { background: #163a73;
  outline: 3px solid #f2b134; outline-offset: 2px; }
</style>"""


def new_file(name: str, *, detail: str = "", n_rows: int | None = None) -> Download:
    """A private place to build a file called ``name`` for this session's user."""
    return new_download(cached.store().path, name, user=identity.current_user(),
                        detail=detail, n_rows=n_rows)


def offer(download: Download, label: str | None = None) -> None:
    """A link that downloads the built file (kept for an hour; each fetch audited)."""
    size = download.path.stat().st_size
    text = f"{label or 'Download ' + download.name} ({size / 1e6:,.1f} MB)"
    st.html(f'{_STYLE}<a class="elpac-download" href="{escape(download.link)}" '
            f'download="{escape(download.name)}" data-testid="elpacDownloadLink">'
            f'{escape(text)}</a>')
    st.caption("The file is kept on the server for an hour; build it again after that.")
