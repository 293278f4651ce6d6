"""Parent-portal credentials: the one secret an SIS vendor's portal fetches SSRs with.

An LEA generates its credential in the app and gives it to the vendor; the portal sends it as
``Authorization: Bearer <token>`` to ``elpac portal-api`` (``elpac.portal_api``). Each LEA has one
row here, so generating a new credential replaces the old one and every earlier credential
stops working at once ("only the last credentials generated are valid").

A token is ``elpac_<key id>_<secret>``: the key id finds the row, the secret is checked against
its Argon2id hash (``argon2-cffi``'s verification compares in constant time). The secret itself
is returned once, by :func:`generate_credential`, and never stored.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from data.catalog import audit
from data.catalog.db import upsert
from data.catalog.schema import portal_credentials
from data.problems import InputError

if TYPE_CHECKING:
    from sqlalchemy import Select

    from data.results.store import Store

PREFIX = "elpac"
_TOKEN = re.compile(r"elpac_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
# The secret is 256 random bits, so a slow hash adds no protection against guessing (there
# is nothing to guess); it only costs every portal request. OWASP's minimum Argon2id setting
# (19 MiB, 2 passes, 1 lane) keeps a verification near 20 ms instead of the password
# hasher's ~170 ms and 64 MiB (measured on the 2-core build machine).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Checked against when the key id is unknown, so an unknown key id costs as much time as a
# wrong secret (no timing hint about which key ids exist).
_DUMMY_HASH = _HASHER.hash("not a secret: timing equaliser")


@dataclass(frozen=True)
class CredentialInfo:
    """What may be shown about an LEA's current credential (never the secret)."""

    lea_code: str
    key_id: str
    created_by: str
    created_at: datetime


def _check_lea(lea: str) -> str:
    code = lea.strip()
    if not (code.isdigit() and len(code) == 14):
        raise InputError(f"{lea.strip()!r} is not a 14-digit LEA code")
    return code


def _rows(store: Store, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a query on the credentials; none when there is no store."""
    if not store.exists():
        return []
    with store.catalog.read() as con:
        return [tuple(r) for r in con.execute(statement)]


def generate_credential(store: Store, lea: str, *, created_by: str,
                        now: datetime | None = None) -> str:
    """A new credential for an LEA's parent portal, returned once; earlier ones stop working.

    Raises ``InputError`` if ``lea`` is not a 14-digit CDS code.
    """
    code = _check_lea(lea)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    digest = _HASHER.hash(secret)
    with store.catalog.write() as con:
        upsert(con, portal_credentials, {
            "lea_code": code, "key_id": key_id, "secret_hash": digest, "created_by": created_by,
            "created_at": now or datetime.now().replace(microsecond=0)})
    # Who made the LEA's credential, and when (never the secret): earlier ones stopped now.
    audit.record(store, created_by, "portal_credential", scope=f"LEA {lea}",
                 detail=f"key {key_id}", n_rows=0)
    return f"{PREFIX}_{key_id}_{secret}"


def verify(store: Store, token: str) -> str | None:
    """The LEA code of a current credential; ``None`` for any other token.

    Examples
    --------
    >>> from data.results.store import Store
    >>> verify(Store("/nonexistent"), "elpac_0123456789abcdef_" + "x" * 43) is None
    True
    """
    found = _TOKEN.fullmatch(token.strip())
    if found is None:
        return None
    key_id, secret = found.groups()
    table = portal_credentials
    rows = _rows(store, select(table.c.lea_code, table.c.secret_hash)
                 .where(table.c.key_id == key_id))
    lea, digest = rows[0] if rows else (None, _DUMMY_HASH)
    try:
        ok = _HASHER.verify(digest, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    return lea if ok else None


def credential_info(store: Store, lea: str) -> CredentialInfo | None:
    """When and by whom an LEA's current credential was made, and its key id; ``None`` if none."""
    code = _check_lea(lea)
    table = portal_credentials
    rows = _rows(store, select(table.c.key_id, table.c.created_by, table.c.created_at)
                 .where(table.c.lea_code == code))
    if not rows:
        return None
    key_id, created_by, created_at = rows[0]
    return CredentialInfo(code, key_id, created_by, created_at)
