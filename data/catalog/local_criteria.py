"""An LEA's local domain minimums for reclassification, kept in the catalog (ELPI.md §5).

The state's criterion 1 is the overall level alone (Summative ELPAC level 4; Summative
Alternate ELPAC level 3), and CDE's guidance is that no sub-scores be added to it; many
districts still add local domain minimums, and an LEA coordinator may record theirs so the
reclassification list can show who meets them too. One small JSON value per LEA in the
catalog's key-value table (``store_meta``, key ``reclassification_minimums:<LEA CDS>``): no
table of its own for a handful of numbers. Who may set them is decided in ``queries``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select

from data.catalog.db import upsert
from data.catalog.schema import store_meta
from data.problems import InputError

if TYPE_CHECKING:
    from data.results.store import Store

DOMAINS = ("listening", "speaking", "reading", "writing")
DOMAIN_LEVELS = (1, 2, 3)
"""Domain levels are 1-3 (ELPAC.md §1.4)."""
_PREFIX = "reclassification_minimums:"


def _key(lea: str) -> str:
    code = lea.strip()
    if not (len(code) == 14 and code.isdigit()):
        raise InputError(f"an LEA is a 14-digit CDS code, not {lea!r}")
    return _PREFIX + code


def checked(minimums: dict[str, int]) -> dict[str, int]:
    """``minimums`` if every domain and level is valid; ``InputError`` naming the first bad one.

    Examples
    --------
    >>> checked({"reading": 2})
    {'reading': 2}
    """
    for domain, level in minimums.items():
        if domain not in DOMAINS:
            raise InputError(f"{domain!r} is not a domain: use {', '.join(DOMAINS)}")
        if level not in DOMAIN_LEVELS:
            raise InputError(f"a {domain} minimum is a domain level 1, 2 or 3, not {level!r}")
    return {d: int(minimums[d]) for d in DOMAINS if d in minimums}


def minimums(store: Store, lea: str) -> dict[str, int]:
    """The LEA's local domain minimums (empty: none set)."""
    if not store.exists():
        return {}
    with store.catalog.read() as con:
        value = con.execute(select(store_meta.c.value)
                            .where(store_meta.c.key == _key(lea))).scalar()
    return checked(json.loads(value)) if value else {}


def set_minimums(store: Store, lea: str, values: dict[str, int]) -> None:
    """Keep ``values`` as the LEA's minimums (an empty dict removes them), in one write."""
    key, values = _key(lea), checked(values)
    with store.catalog.write() as con:
        if values:
            upsert(con, store_meta, {"key": key, "value": json.dumps(values)})
        else:
            con.execute(store_meta.delete().where(store_meta.c.key == key))
