"""``elpac export elpi|elpi-students|reclassification``: the issue's columns, scope, audit.

The numbers are the queries' (tested against independent computations in
``tests/queries/test_elpi_*.py``); here: that each file holds exactly them, with the column
names issue 13 fixes, that ``--user`` applies that account's access (an aggregate-only account
stays suppressed and gets no student rows, an LEA administrator no other LEA), that a refusal
writes nothing and says why in a sentence, and that every file written is in the audit log.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import polars as pl

from queries.access import User
from queries.audit import read_audit
from queries.elpi_orgs import read_elpi
from queries.elpi_reclass import read_candidates
from queries.elpi_students import read_elpi_students
from queries.scope import Scope
from queries.snapshot import Snapshot
from tests.cli_exports import run, year_of

if TYPE_CHECKING:
    from pathlib import Path

    from data.catalog.accounts import Account
    from data.results.store import Store

ISSUE_COLUMNS = ["org_level", "cds_code", "student_group", "n_counted", "n_progressed",
                 "n_maintained_level_4", "n_maintained_other", "n_declined", "rate", "status",
                 "change", "color"]
"""Issue 13, item 6: "at least these columns, named exactly so"."""


def read(out: Path) -> pl.DataFrame:
    return pl.read_csv(out, infer_schema=False)


def test_elpi_file_has_the_issue_columns_and_the_query_numbers(
        store_copy: Store, demo: dict[str, Account], tmp_path: Path) -> None:
    (lea,) = demo["lea_admin"].leas
    year = year_of(store_copy)
    out = tmp_path / "elpi.csv"
    code, text = run(store_copy, "elpi", "-o", str(out), "--year", year, "--lea", lea,
                     "--no-suppress")
    assert code == 0, text
    frame = read(out)
    assert set(ISSUE_COLUMNS) <= set(frame.columns)
    assert set(frame.get_column("org_level")) == {"lea", "school"}
    assert frame.get_column("cds_code").str.contains(r"^\d{14}$").all()
    want = read_elpi(Snapshot(store_copy), year, scope=Scope.state(), lea=lea, suppress=False)
    assert frame.height == want.height
    got = {(r["cds_code"], r["student_group"]): r for r in frame.iter_rows(named=True)}
    for row in want.iter_rows(named=True):
        line = got[(row["cds_code"], row["student_group"])]
        assert int(line["n_counted"]) == row["n_counted"]
        assert int(line["n_progressed"]) == row["n_progressed"]
        assert int(line["n_declined"]) == row["n_declined"]
        assert (line["status"] or None) == row["status"]
        assert (line["color"] or None) == row["color"]
        if row["rate"] is None:
            assert not line["rate"]
        else:  # percent, one decimal, rounded half away from zero from the unrounded rate
            tenths = Decimal(repr(row["rate"])).quantize(Decimal("0.1"), ROUND_HALF_UP)
            assert Decimal(line["rate"]) == tenths


def test_elpi_default_suppresses_small_groups(store_copy: Store, demo: dict[str, Account],
                                              tmp_path: Path) -> None:
    (lea,) = demo["lea_admin"].leas
    out = tmp_path / "elpi.csv"
    code, text = run(store_copy, "elpi", "-o", str(out), "--year", year_of(store_copy),
                     "--lea", lea)
    assert code == 0, text
    assert "suppressed" in text
    small = read(out).filter(pl.col("n_counted").cast(pl.Int64) < 11)
    assert small.height > 0  # the tiny store has small groups
    assert small.get_column("rate").is_null().all()
    assert small.get_column("n_progressed").is_null().all()


def test_an_aggregate_only_account_stays_suppressed_and_gets_no_students(
        store_copy: Store, demo: dict[str, Account], tmp_path: Path) -> None:
    viewer = demo["viewer"]
    (lea,) = viewer.leas
    year = year_of(store_copy)
    out = tmp_path / "elpi.csv"
    code, text = run(store_copy, "elpi", "-o", str(out), "--year", year, "--lea", lea,
                     "--no-suppress", "--user", viewer.email)
    assert code == 0, text
    frame = read(out)  # as every aggregate of the app: the count shows, the outcomes do not
    small = frame.filter(pl.col("n_counted").cast(pl.Int64) < 11)
    assert small.height > 0
    assert (small.get_column("is_suppressed") == "true").all()
    for column in ("rate", "n_progressed", "n_maintained_level_4", "n_maintained_other",
                   "n_declined", "change", "color"):
        assert small.get_column(column).is_null().all(), column
    for args in (["elpi-students", "-o", str(tmp_path / "s.csv"), "--lea", lea],
                 ["reclassification", "-o", str(tmp_path / "r.csv"), "--lea", lea]):
        code, text = run(store_copy, *args, "--year", year, "--user", viewer.email)
        assert code == 1, text
        assert "error:" in text
        assert "Traceback" not in text
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == ["elpi.csv"]


def test_an_lea_administrator_gets_their_lea_only(store_copy: Store,
                                                  demo: dict[str, Account],
                                                  tmp_path: Path) -> None:
    admin = demo["lea_admin"]
    (lea,) = admin.leas
    year = year_of(store_copy)
    out = tmp_path / "students.csv"
    code, text = run(store_copy, "elpi-students", "-o", str(out), "--year", year,
                     "--user", admin.email)
    assert code == 0, text
    frame = read(out)
    want = read_elpi_students(Snapshot(store_copy), year, scope=Scope.lea(lea, pii=True))
    assert sorted(frame.get_column("ssid")) == sorted(want.get_column("ssid"))
    assert {"elpi_level", "prior_source", "is_counted", "not_counted_why",
            "outcome_name"} <= set(frame.columns)
    other = next(c for c in pl.read_parquet(store_copy.year_files()[year],
                                            columns=["reporting_lea_code"])
                 .get_column("reporting_lea_code").drop_nulls().unique().sort() if c != lea)
    for command in ("elpi", "elpi-students", "reclassification"):
        target = tmp_path / f"other-{command}.csv"
        code, text = run(store_copy, command, "-o", str(target), "--year", year, "--lea",
                         other, "--user", admin.email)
        assert code == 1, (command, text)
        assert "error:" in text
        assert "Traceback" not in text
        assert not target.exists()


def test_reclassification_list_and_summary(store_copy: Store, demo: dict[str, Account],
                                           tmp_path: Path) -> None:
    (lea,) = demo["lea_admin"].leas
    year = year_of(store_copy)
    code, text = run(store_copy, "reclassification", "-o", str(tmp_path / "r.csv"), "--year",
                     year, "--lea", lea)
    assert code == 0, text
    listed = read(tmp_path / "r.csv")
    want = read_candidates(Snapshot(store_copy), year, scope=Scope.lea(lea, pii=True),
                           lea=lea, only_candidates=True)
    assert sorted(listed.get_column("ssid")) == sorted(want.get_column("ssid"))
    assert (listed.get_column("meets_criterion_1") == "true").all()
    code, text = run(store_copy, "reclassification", "-o", str(tmp_path / "sum.csv"),
                     "--year", year, "--lea", lea, "--summary")
    assert code == 0, text
    summary = read(tmp_path / "sum.csv")
    assert summary.get_column("n_meeting_criterion_1").cast(pl.Int64).sum() == listed.height
    code, text = run(store_copy, "reclassification", "-o", str(tmp_path / "x.csv"),
                     "--local-minimums")
    assert code == 1
    assert "--lea" in text


def test_every_file_is_audited_and_a_bad_year_is_a_sentence(
        store_copy: Store, demo: dict[str, Account], tmp_path: Path) -> None:
    admin = demo["lea_admin"]
    (lea,) = admin.leas
    code, text = run(store_copy, "elpi", "-o", str(tmp_path / "e.csv"), "--year",
                     year_of(store_copy), "--user", admin.email)
    assert code == 0, text
    log = read_audit(store_copy, User.operator("cli:test"))
    mine = log.filter(pl.col("user_email") == admin.email)
    assert mine.filter(pl.col("detail").str.contains("elpi year=")).height == 1
    code, text = run(store_copy, "elpi", "-o", str(tmp_path / "bad.csv"), "--year", "1999-00",
                     "--lea", lea)
    assert code == 1
    assert "no results for 1999-00" in text
    assert "Traceback" not in text
    assert not (tmp_path / "bad.csv").exists()
