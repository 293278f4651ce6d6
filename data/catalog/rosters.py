"""Student groups made by LEA staff ("Creating Groups in CERS"), kept in the catalog.

Called rosters in the code, to keep them apart from the demographic student groups of the
research files (``data.student_groups``). A roster has a name, a school, its students (SSIDs) and
the users it is assigned to (e-mails). This module stores them and imports the CSV upload
(name, school CDS, SSID, assigned user e-mail): every row is checked against the store and
the accounts, every problem is reported with its row number, field and reason, and a file
with any bad row loads nothing. Each upload is kept in the history, loaded or refused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import func, select

from data.catalog.accounts import Accounts, normalise_email
from data.catalog.db import frame, insert_ignore
from data.catalog.schema import roster_students, roster_uploads, roster_users, rosters
from data.problems import InputError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Connection, Select, Table

    from data.results.store import Store

COLUMNS = ("name", "school_cds", "ssid", "user_email")
"""The upload's columns, by header (any order; case and spaces ignored)."""


@dataclass
class ImportResult:
    """What an upload did: rows read, problems found (row, field, value, reason), loaded."""

    n_rows: int = 0
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)
    loaded: bool = False


def _header(name: str) -> str:
    return (name.strip().lower().replace("e-mail", "email").replace(" ", "_")
            .replace("-", "_"))


MayUse = Callable[[str, str], str | None]
"""``(school_code, ssid) -> reason`` a user may not put that student in a group, or ``None``."""


def group_key(name: str, school_code: str) -> str:
    """The one string naming a group: its school's CDS code, a colon, its name.

    >>> group_key("Period 3", "19647330000001")
    '19647330000001:Period 3'
    """
    return f"{school_code}:{name}"


def split_group_key(key: str) -> tuple[str, str]:
    """``(name, school_code)`` of a ``group_key`` (``ValueError`` if it is not one)."""
    school, sep, name = key.partition(":")
    if not sep or not name or not (school.isdigit() and len(school) == 14):
        raise ValueError(f"{key!r} is not a student group (school CDS code:name)")
    return name, school


def check_rows(text: str, *, students: pl.DataFrame, accounts: Accounts,
               may_use: MayUse | None = None
               ) -> tuple[list[dict[str, str]], list[tuple[int, str, str, str]]]:
    """Parse and check an upload; the good rows and every problem (row as a spreadsheet shows).

    ``students`` holds the (``ssid``, ``school_code``) pairs of the store's newest year: a
    student must be at the row's school. ``may_use`` says whether the uploader may group a
    student (their access); a refused row is a problem like any other.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = {_header(h): h for h in reader.fieldnames or []}
    missing = [c for c in COLUMNS[:3] if c not in headers]
    if missing:
        raise InputError(f"the file needs the columns {', '.join(COLUMNS)}; missing: "
                         f"{', '.join(missing)}")
    known = set(students.select("ssid", "school_code").iter_rows())
    schools = set(students.get_column("school_code"))
    rows, problems = [], []
    for number, raw in enumerate(reader, start=2):
        row = {c: (raw.get(headers[c]) or "").strip() if c in headers else "" for c in COLUMNS}
        before = len(problems)
        if not row["name"]:
            problems.append((number, "name", "", "a group needs a name"))
        school = row["school_cds"].zfill(14) if row["school_cds"].isdigit() else row["school_cds"]
        if not (school.isdigit() and len(school) == 14):
            problems.append((number, "school_cds", row["school_cds"],
                             "not a 14-digit school CDS code"))
        elif school not in schools:
            problems.append((number, "school_cds", row["school_cds"],
                             "no school with this code has results in the store"))
        ssid = row["ssid"].zfill(10) if row["ssid"].isdigit() else row["ssid"]
        if not (ssid.isdigit() and len(ssid) == 10):
            problems.append((number, "ssid", row["ssid"], "not a 10-digit SSID"))
        elif school in schools and (ssid, school) not in known:
            problems.append((number, "ssid", row["ssid"],
                             "no student with this SSID at this school in the newest year"))
        elif may_use is not None and (reason := may_use(school, ssid)) is not None:
            problems.append((number, "ssid", row["ssid"], reason))
        email = row["user_email"]
        if email:
            try:
                email = normalise_email(email)
            except InputError as exc:
                problems.append((number, "user_email", row["user_email"], str(exc)))
            else:
                if accounts.get(email) is None:
                    problems.append((number, "user_email", row["user_email"],
                                     "no account has this e-mail (elpac users add)"))
        if len(problems) == before:
            rows.append({"name": row["name"], "school_code": school, "ssid": ssid,
                         "email": email})
    return rows, problems


class Rosters:
    """The student groups of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def newest_students(self) -> pl.DataFrame:
        """(``ssid``, ``school_code``) of the newest year's records: whom a group may hold."""
        with self.store.reading() as version:
            files = self.store.year_files(version)
            if not files:
                raise InputError("the store holds no results: load Student Score Data Files "
                                 "first")
            newest = pl.read_parquet(files[max(files)],
                                     columns=["ssid", "reporting_school_code"])
        return newest.rename({"reporting_school_code": "school_code"}).drop_nulls().unique()

    def import_csv(self, text: str, *, file_name: str, uploaded_by: str,
                   now: datetime | None = None, may_use: MayUse | None = None
                   ) -> ImportResult:
        """Check an upload and, if every row is good, add its groups, students and users."""
        rows, problems = check_rows(text, students=self.newest_students(),
                                    accounts=Accounts(self.store), may_use=may_use)
        result = ImportResult(n_rows=len(rows) + len({p[0] for p in problems}),
                              problems=problems)
        now = now or datetime.now().replace(microsecond=0)
        with self.store.catalog.write() as con:
            if not problems and rows:
                insert_ignore(con, rosters, [
                    {"name": name, "school_code": school, "created_by": uploaded_by,
                     "created_at": now}
                    for name, school in sorted({(r["name"], r["school_code"]) for r in rows})])
                _add_members(con, rows)
                result.loaded = True
            con.execute(roster_uploads.insert().values(
                uploaded_at=now, uploaded_by=uploaded_by, file_name=file_name,
                n_rows=result.n_rows, n_problems=len(problems), loaded=result.loaded))
        return result

    def create(self, name: str, school_code: str, ssids: Iterable[str], *, created_by: str,
               users: Iterable[str] = (), may_use: MayUse | None = None,
               now: datetime | None = None) -> list[str]:
        """Make a new group from a list of SSIDs.

        Every SSID is checked as an upload row is; on any problem nothing is written and
        ``InputError`` lists each SSID with its reason. A group of that name at that school
        is refused, not added to: adding to someone else's group would hand its students to
        the adder, or the adder's students to its users. Returns the group's SSIDs.
        """
        name = name.strip()
        if not name:
            raise InputError("a group needs a name")
        if ":" in name:
            # group_key splits at the first colon after the CDS code; a colon in the name
            # would still parse, but it reads badly in a report link.
            raise InputError("a group name cannot contain a colon (:)")
        wanted = [s.strip() for s in ssids if s.strip()]
        if not wanted:
            raise InputError("a group needs at least one student (SSID)")
        users = [u for u in users if u]
        rows = [("name", "school_cds", "ssid", "user_email")]
        rows += [(name, school_code, ssid, "") for ssid in wanted]
        rows += [(name, school_code, wanted[0], user) for user in users]
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        good, problems = check_rows(buffer.getvalue(), students=self.newest_students(),
                                    accounts=Accounts(self.store), may_use=may_use)
        if problems:
            raise InputError("the group was not made: " + "; ".join(
                f"{field} {value or '(blank)'}: {reason}"
                for _, field, value, reason in dict.fromkeys(problems)))
        school = good[0]["school_code"]
        now = now or datetime.now().replace(microsecond=0)
        with self.store.catalog.write() as con:
            if con.execute(_one(rosters, name, school)).first():
                raise InputError(f"a group named {name!r} already exists at school {school}: "
                                 "choose another name")
            con.execute(rosters.insert().values(name=name, school_code=school,
                                                created_by=created_by, created_at=now))
            _add_members(con, good)
        return self.members(group_key(name, school))

    def _existing(self, key: str) -> tuple[str, str]:
        name, school = split_group_key(key)
        with self.store.catalog.read() as con:
            found = con.execute(_one(rosters, name, school)).first()
        if not found:
            raise InputError(f"there is no student group {name!r} at school {school}")
        return name, school

    def members(self, key: str) -> list[str]:
        """The SSIDs of one group (``group_key``), sorted."""
        name, school = split_group_key(key)
        s = roster_students
        with self.store.catalog.read() as con:
            return list(con.execute(select(s.c.ssid)
                                    .where(s.c.name == name, s.c.school_code == school)
                                    .order_by(s.c.ssid)).scalars())

    def all_members(self) -> dict[str, list[str]]:
        """Every group's SSIDs by ``group_key`` (one catalog read)."""
        s = roster_students
        with self.store.catalog.read() as con:
            rows = con.execute(select(s.c.name, s.c.school_code, s.c.ssid)
                               .order_by(s.c.school_code, s.c.name, s.c.ssid)).all()
        out: dict[str, list[str]] = {}
        for name, school, ssid in rows:
            out.setdefault(group_key(name, school), []).append(ssid)
        return out

    def assign(self, key: str, emails: Iterable[str]) -> None:
        """Give users a group (their accounts must exist)."""
        name, school = self._existing(key)
        accounts = Accounts(self.store)
        found = []
        for email in emails:
            email = normalise_email(email)
            if accounts.get(email) is None:
                raise InputError(f"no account has the e-mail {email} (elpac users add)")
            found.append(email)
        with self.store.catalog.write() as con:
            insert_ignore(con, roster_users, [{"name": name, "school_code": school,
                                               "email": email} for email in found])

    def unassign(self, key: str, email: str) -> None:
        """Take a group away from a user."""
        name, school = self._existing(key)
        u = roster_users
        with self.store.catalog.write() as con:
            con.execute(u.delete().where(u.c.name == name, u.c.school_code == school,
                                         u.c.email == normalise_email(email)))

    def remove(self, key: str) -> None:
        """Delete a group, its students and its assignments (the results stay)."""
        name, school = self._existing(key)
        with self.store.catalog.write() as con:
            for table in (roster_users, roster_students, rosters):
                con.execute(table.delete().where(table.c.name == name,
                                                 table.c.school_code == school))

    def list(self) -> pl.DataFrame:
        """Every group: name, school, number of students, assigned users."""
        with self.store.catalog.read() as con:
            made = frame(con, select(rosters.c.name, rosters.c.school_code,
                                     rosters.c.created_by)
                         .order_by(rosters.c.school_code, rosters.c.name), _KEYS_BY)
            sizes = frame(con, select(roster_students.c.name, roster_students.c.school_code,
                                      func.count().label("n_students"))
                          .group_by(roster_students.c.name, roster_students.c.school_code),
                          {**_KEYS, "n_students": pl.Int64})
            given = frame(con, select(roster_users), {**_KEYS, "email": pl.String})
        users = (given.sort("email").group_by(list(_KEYS), maintain_order=True)
                 .agg(pl.col("email").str.join(", ").alias("users")))
        return (made.join(sizes, on=list(_KEYS), how="left")
                .join(users, on=list(_KEYS), how="left")
                .with_columns(pl.col("n_students").fill_null(0), pl.col("users").fill_null(""))
                .select("name", "school_code", "created_by", "n_students", "users"))

    def students_of(self, email: str) -> list[str]:
        """SSIDs of the students in the groups assigned to a user."""
        return sorted({ssid for _, ssid in self.members_of(email)})

    def members_of(self, email: str) -> list[tuple[str, str]]:
        """(school, SSID) of the students in the groups assigned to a user."""
        u, s = roster_users, roster_students
        with self.store.catalog.read() as con:
            return [(r[0], r[1]) for r in con.execute(
                select(s.c.school_code, s.c.ssid).distinct()
                .join(u, (u.c.name == s.c.name) & (u.c.school_code == s.c.school_code))
                .where(u.c.email == normalise_email(email))
                .order_by(s.c.school_code, s.c.ssid))]

    def uploads(self) -> pl.DataFrame:
        """The upload history, newest first (loaded or refused)."""
        u = roster_uploads
        with self.store.catalog.read() as con:
            return frame(con, select(*(u.c[name] for name in UPLOAD_SCHEMA))
                         .order_by(u.c.uploaded_at.desc(), u.c.upload_id.desc()),
                         UPLOAD_SCHEMA)


_KEYS = {"name": pl.String, "school_code": pl.String}
_KEYS_BY = {**_KEYS, "created_by": pl.String}
UPLOAD_SCHEMA = {"uploaded_at": pl.Datetime("us"), "uploaded_by": pl.String,
                 "file_name": pl.String, "n_rows": pl.Int64, "n_problems": pl.Int64,
                 "loaded": pl.Boolean}
"""``Rosters.uploads()``: one row per upload, loaded or refused."""


def _one(table: Table, name: str, school: str) -> Select[Any]:
    return select(table.c.name).where(table.c.name == name, table.c.school_code == school)


def _add_members(con: Connection, rows: list[dict[str, str]]) -> None:
    """Put checked rows' students (and users, where given) in their groups."""
    insert_ignore(con, roster_students, [
        {"name": r["name"], "school_code": r["school_code"], "ssid": r["ssid"]} for r in rows])
    insert_ignore(con, roster_users, [
        {"name": r["name"], "school_code": r["school_code"], "email": r["email"]}
        for r in rows if r["email"]])
