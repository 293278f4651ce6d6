"""Files built for one user to download, kept on disk for an hour, never in server memory.

A large extract (a statewide Student Score Data File, a school's bulk SSRs) is written into
its own private folder under the store (``.downloads/<token>/``); the page offers a link to
``/download/<token>`` (``dashboard.web``), which streams the file from disk. The token is 256
random bits given only to the session that built the file, so it is the key to that file
(as a signed object-storage link is); with a local account, the browser's session must also
be the one that built it. A file is deleted an hour after it was built, whenever any
download is made or fetched.

Each fetch is audited (``record_fetch``): who built it, with their access in words, what it
holds and how many rows: the audit log says what reached a browser, not only what was built.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from data.catalog import audit
from queries.access import describe_scope

if TYPE_CHECKING:
    from data.results.store import Store
    from queries.access import User

FOLDER = ".downloads"
LIFETIME = timedelta(hours=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_META = "download.json"


@dataclass(frozen=True)
class Download:
    """A file to download: its token (for the link), where it is, its name, whose it is."""

    token: str
    path: Path
    name: str
    owner: str
    detail: str = ""
    n_rows: int | None = None
    scope: str = ""

    @property
    def link(self) -> str:
        """The address that streams it."""
        return f"/download/{self.token}"


def new_download(store_dir: Path, name: str, *, user: User, detail: str = "",
                 n_rows: int | None = None, now: datetime | None = None) -> Download:
    """A new private place for a file called ``name``: write it at ``.path``, then offer it.

    ``user`` builds it; ``detail`` and ``n_rows`` say what it holds, for the audit log when
    it is fetched (:func:`record_fetch`; ``n_rows`` may be set later with :func:`finish`).
    """
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a file name: {name!r}")
    now = now or datetime.now()
    sweep(store_dir, now=now)
    token = secrets.token_urlsafe(32)
    folder = Path(store_dir) / FOLDER / token
    folder.mkdir(parents=True, mode=0o700)
    made = Download(token, folder / name, name, user.name, detail, n_rows,
                    describe_scope(user.scope))
    _write_meta(made, now)
    return made


def finish(download: Download, *, n_rows: int, detail: str | None = None) -> Download:
    """Say how many rows the built file holds (known once it is written)."""
    done = replace(download, n_rows=n_rows, detail=download.detail if detail is None
                   else detail)
    meta = json.loads((download.path.parent / _META).read_text())
    _write_meta(done, datetime.fromisoformat(meta["made"]))
    return done


def record_fetch(store: Store, download: Download) -> None:
    """Audit that a built file reached a browser (an export, as the log names it)."""
    audit.record(store, download.owner, "export", scope=download.scope,
                 detail=f"{download.name}; {download.detail}".rstrip("; "),
                 n_rows=download.n_rows)


def _write_meta(download: Download, made: datetime) -> None:
    (download.path.parent / _META).write_text(json.dumps({
        "name": download.name, "owner": download.owner, "detail": download.detail,
        "n_rows": download.n_rows, "scope": download.scope, "made": made.isoformat()}))


def find_download(store_dir: Path, token: str, *, requester: str | None = None,
                  now: datetime | None = None) -> Download | None:
    """The built file of a token, if it is still there and ``requester`` may have it.

    ``requester`` is the e-mail of the browser's signed-in session, when it has one: a file
    built by an account is then only that account's.
    """
    now = now or datetime.now()
    sweep(store_dir, now=now)
    if not _TOKEN.fullmatch(token):
        return None
    folder = Path(store_dir) / FOLDER / token
    try:
        meta = json.loads((folder / _META).read_text())
    except (OSError, ValueError):
        return None
    found = Download(token, folder / meta["name"], meta["name"], meta["owner"],
                     meta.get("detail", ""), meta.get("n_rows"), meta.get("scope", ""))
    if not found.path.is_file():
        return None  # still being built, or the build failed
    if requester is not None and requester != found.owner:
        return None
    return found


def sweep(store_dir: Path, *, now: datetime | None = None) -> int:
    """Delete downloads older than ``LIFETIME``; how many went."""
    root = Path(store_dir) / FOLDER
    if not root.exists():
        return 0
    limit = (now or datetime.now()) - LIFETIME
    gone = 0
    for folder in root.iterdir():
        try:
            made = datetime.fromisoformat(json.loads((folder / _META).read_text())["made"])
        except (OSError, ValueError, KeyError):
            try:
                made = datetime.fromtimestamp(folder.stat().st_mtime)
            except OSError:  # swept by another process meanwhile
                continue
        if made < limit:
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return gone
