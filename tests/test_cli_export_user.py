"""``elpac export … --user EMAIL`` applies that account's access exactly as the dashboard does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from tests.cli_exports import run, year_of

if TYPE_CHECKING:
    from pathlib import Path

    from data.catalog.accounts import Account
    from data.results.store import Store


def test_an_lea_administrator_exports_their_lea_only(store_copy: Store,
                                                     demo: dict[str, Account],
                                                     tmp_path: Path) -> None:
    admin = demo["lea_admin"]
    (lea,) = admin.leas
    year = year_of(store_copy)
    out = tmp_path / "mine.csv"
    code, text = run(store_copy, "students", "-o", str(out), "--year", year, "--lea", lea,
                     "--by", "tested", "--user", admin.email)
    assert code == 0, text
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.height > 0
    # Another LEA, asked by the same user: refused, nothing written.
    other = next(c for c in pl.read_parquet(store_copy.year_files()[year],
                                            columns=["tested_lea_code"])
                 .get_column("tested_lea_code").unique().sort() if c != lea)
    code, text = run(store_copy, "students", "-o", str(tmp_path / "other.csv"), "--year",
                     year, "--lea", other, "--by", "tested", "--user", admin.email)
    assert code == 1
    assert "error:" in text
    assert not (tmp_path / "other.csv").exists()


def test_a_viewer_gets_no_student_rows(store_copy: Store, demo: dict[str, Account],
                                       tmp_path: Path) -> None:
    viewer = demo["viewer"]
    (lea,) = viewer.leas
    for args in (["students", "-o", str(tmp_path / "s.csv"), "--lea", lea],
                 ["district", str(tmp_path / "d.csv"), "--lea", lea]):
        code, text = run(store_copy, *args, "--user", viewer.email)
        assert code == 1, text
        assert "error:" in text
        assert "Traceback" not in text
    assert not list(tmp_path.glob("*.csv"))


def test_a_viewer_research_file_is_suppressed_even_when_asked_not_to(
        store_copy: Store, demo: dict[str, Account], tmp_path: Path) -> None:
    viewer = demo["viewer"]
    (lea,) = viewer.leas
    out = tmp_path / "research.txt"
    code, text = run(store_copy, "research-file", "-o", str(out), "--year",
                     year_of(store_copy), "--lea", lea, "--no-suppress", "--user", viewer.email)
    assert code == 0, text
    assert "suppressed under 11" in text
    frame = pl.read_csv(out, separator="^", infer_schema=False)
    assert (frame.get_column(frame.columns[12]) == "*").any()


def test_an_unknown_user_is_refused(store_copy: Store, tmp_path: Path) -> None:
    code, text = run(store_copy, "research-file", "-o", str(tmp_path / "r.txt"), "--user",
                     "nobody@example.org")
    assert code == 1
    assert "there is no account for nobody@example.org" in text


def test_a_site_administrator_exports_their_school_only(store_copy: Store,
                                                        demo: dict[str, Account],
                                                        tmp_path: Path) -> None:
    site = demo["site_admin"]
    (school,) = site.schools
    lea = demo["lea_admin"].leas[0]  # the same district (create_demo_accounts)
    year = year_of(store_copy)
    other = next(c for c in pl.read_parquet(store_copy.year_files()[year],
                                            columns=["tested_school_code", "tested_lea_code"])
                 .filter(pl.col("tested_lea_code") == lea)
                 .get_column("tested_school_code").drop_nulls().unique().sort()
                 if c != school)
    code, text = run(store_copy, "district", str(tmp_path / "mine.csv"), "--lea", lea,
                     "--school", school, "--year", year, "--user", site.email)
    assert code == 0, text
    assert pl.read_csv(tmp_path / "mine.csv", infer_schema=False).height > 0
    for args in (["--school", other], []):  # another school, or the whole LEA
        code, text = run(store_copy, "district", str(tmp_path / "not.csv"), "--lea", lea,
                         "--year", year, *args, "--user", site.email)
        assert code == 1, text
        assert "error:" in text
    assert not (tmp_path / "not.csv").exists()
