"""The demo store's accounts: one per role, and a teacher's roster, for trying each role.

Made by ``elpac demo`` on the synthetic store only (the store is marked, and only a marked
store lists them on the sign-in form); real stores get their accounts from ``elpac users``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select

from data.catalog.accounts import Account, Accounts
from data.catalog.db import upsert
from data.catalog.rosters import Rosters, group_key
from data.catalog.schema import store_meta, users

if TYPE_CHECKING:
    from data.results.store import Store

DEMO_PASSWORD = "elpac-demo-password"
"""The password of every demo account: they exist only in the synthetic demo store."""
_DEMO_FLAG = "demo_accounts"


def create_demo_accounts(store: Store) -> list[Account]:
    """One account per role with work to show, on the demo store's largest district.

    A state administrator, the district's LEA administrator, its largest school's site
    administrator, an aggregate-only viewer of the district (a board presenter) and a teacher
    at that school with one student group (``DEMO_GROUP``); all with ``DEMO_PASSWORD``. The
    store is marked so the sign-in form lists them.
    """
    with store.reading() as version:
        files = store.year_files(version)
        years = sorted(files)
        year = years[-2] if len(years) > 1 else years[-1]  # the newest final year
        frame = pl.read_parquet(files[year], columns=["tested_lea_code", "tested_school_code"])
    districts = frame.filter(pl.col("tested_lea_code").str.ends_with("0000000"))
    lea = str(districts.get_column("tested_lea_code").mode().sort()[0])
    school = str(districts.filter(pl.col("tested_lea_code") == lea)
                 .drop_nulls("tested_school_code").get_column("tested_school_code")
                 .mode().sort()[0])
    accounts = Accounts(store)
    wanted = [
        ("state.admin@demo.example", "Sam State", "state_admin", {}),
        ("lea.admin@demo.example", "Lee Coordinator", "lea_admin", {"leas": (lea,)}),
        ("site.admin@demo.example", "Pat Principal", "site_admin", {"schools": (school,)}),
        ("board@demo.example", "Bo Board", "viewer", {"leas": (lea,)}),
        ("teacher@demo.example", "Tia Teacher", "teacher", {"schools": (school,)}),
    ]
    made = []
    for email, name, role, where in wanted:
        # A demo rebuilt into the same store keeps its accounts (and their assignments).
        existing = accounts.get(email)
        made.append(existing or accounts.add(email, name=name, role=role,
                                             password=DEMO_PASSWORD, **where))
    _demo_group(store, school, "teacher@demo.example")
    with store.catalog.write() as con:
        upsert(con, store_meta, {"key": _DEMO_FLAG, "value": "yes"})
    return made


DEMO_GROUP = "Period 3 (demo)"
DEMO_GROUP_SIZE = 25


def _demo_group(store: Store, school: str, teacher: str) -> None:
    """The demo teacher's group: the first students by SSID at the school in the newest year."""
    with store.reading() as version:
        files = store.year_files(version)
        here = pl.read_parquet(files[max(files)], columns=["ssid", "reporting_school_code"]
                               ).filter(pl.col("reporting_school_code") == school)
    ssids = here.get_column("ssid").unique().sort().head(DEMO_GROUP_SIZE).to_list()
    rosters = Rosters(store)
    if ssids and group_key(DEMO_GROUP, school) not in rosters.all_members():
        rosters.create(DEMO_GROUP, school, ssids, created_by="elpac demo", users=[teacher])


def demo_accounts(store: Store) -> list[Account]:
    """The demo accounts to list on the sign-in form: only in a store marked as the demo."""
    if not store.exists():
        return []
    with store.catalog.read() as con:
        marked = con.execute(select(store_meta.c.value).where(
            store_meta.c.key == _DEMO_FLAG, store_meta.c.value == "yes")).first()
        if marked is None:
            return []
        emails = list(con.execute(select(users.c.email)
                                  .where(users.c.email.like("%@demo.example"))
                                  .order_by(users.c.created_at, users.c.email)).scalars())
    accounts = Accounts(store)
    return [a for a in (accounts.get(e) for e in emails) if a is not None]
