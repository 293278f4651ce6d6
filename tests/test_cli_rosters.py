"""``elpac rosters create|members|assign|unassign|remove``, ``--user`` on them, and the hidden
``elpac groups`` alias."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from typer.testing import CliRunner

from data.catalog.accounts import Accounts
from data.catalog.rosters import Rosters
from elpac.cli import app

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store

PASSWORD = "a-long-enough-password"


def run(store: Store, *args: str, command: str = "rosters") -> tuple[int, str]:
    result = CliRunner().invoke(app, [command, *args, "--store", str(store.path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.output


def _school(store: Store) -> tuple[str, str, list[str]]:
    """The busiest school of the newest year: its code, its LEA and its SSIDs."""
    files = store.year_files()
    records = pl.read_parquet(files[max(files)], columns=[
        "ssid", "reporting_lea_code", "reporting_school_code"]).drop_nulls()
    school = records.group_by("reporting_school_code").len().sort(
        ["len", "reporting_school_code"], descending=[True, False]).item(0, 0)
    here = records.filter(pl.col("reporting_school_code") == school)
    return school, here.item(0, "reporting_lea_code"), sorted(set(here.get_column("ssid")))


def test_create_list_members_assign_remove(store_copy: Store, tmp_path: Path) -> None:
    school, lea, ssids = _school(store_copy)
    accounts = Accounts(store_copy)
    accounts.add("t@x.org", name="T", role="teacher", password=PASSWORD, schools=(school,))
    accounts.add("lea@x.org", name="L", role="lea_admin", password=PASSWORD, leas=(lea,))
    listing = tmp_path / "ssids.txt"
    listing.write_text(",".join(ssids[:4]) + "\n" + ssids[4] + "\n")
    code, out = run(store_copy, "create", "Period 3", "--school", school, "--ssids-from",
                    str(listing), "--ssid", ssids[5], "--user", "lea@x.org")
    assert (code, out.strip()) == (0, f"{school}:Period 3: 6 students")
    key = f"{school}:Period 3"
    code, out = run(store_copy, "members", key)
    assert out.split() == ssids[:6]
    code, out = run(store_copy, "assign", key, "t@x.org", "--user", "lea@x.org")
    assert code == 0, out
    code, out = run(store_copy, "list", "--user", "t@x.org")
    assert key in out
    assert "t@x.org" in out
    # The teacher sees their roster's members, but may not give it away or delete it.
    assert run(store_copy, "members", key, "--user", "t@x.org")[1].split() == ssids[:6]
    code, out = run(store_copy, "remove", key, "--user", "t@x.org")
    assert code == 1
    assert "Only LEA and site administrators" in out
    # A teacher's own roster: only from their students.
    code, out = run(store_copy, "create", "Mine", "--school", school, "--ssid", ssids[0],
                    "--ssid", ssids[9], "--user", "t@x.org")
    assert code == 1
    assert f"ssid {ssids[9]}: not one of your students" in out
    assert run(store_copy, "create", "Mine", "--school", school, "--ssid", ssids[0],
               "--user", "t@x.org")[0] == 0
    assert Rosters(store_copy).members_of("t@x.org") == [(school, s) for s in ssids[:6]]
    code, out = run(store_copy, "unassign", key, "t@x.org", "--user", "lea@x.org")
    assert code == 0, out
    assert Rosters(store_copy).members_of("t@x.org") == [(school, ssids[0])]
    code, out = run(store_copy, "remove", key, "--user", "lea@x.org")
    assert (code, out.strip()) == (0, f"removed {key}")
    assert run(store_copy, "members", key)[0] == 1


def test_an_administrator_of_another_lea_is_refused(store_copy: Store) -> None:
    school, _, ssids = _school(store_copy)
    Accounts(store_copy).add("far@x.org", name="F", role="lea_admin", password=PASSWORD,
                             leas=("01611190000000",))
    code, out = run(store_copy, "create", "P1", "--school", school, "--ssid", ssids[0],
                    "--user", "far@x.org")
    assert code == 1
    assert "this school is not in your access" in out
    assert Rosters(store_copy).list().height == 0
    assert run(store_copy, "create", "P1", "--school", school, "--ssid", ssids[0])[0] == 0
    code, out = run(store_copy, "members", f"{school}:P1", "--user", "far@x.org")
    assert code == 1
    assert "not one of yours" in out


def test_groups_still_runs_the_roster_commands_but_is_not_in_the_help(store_copy: Store) -> None:
    # `elpac groups` was the rosters' name: scripts written for it keep working.
    school, _, ssids = _school(store_copy)
    code, out = run(store_copy, "create", "P1", "--school", school, "--ssid", ssids[0],
                    command="groups")
    assert (code, out.strip()) == (0, f"{school}:P1: 1 students")
    code, out = run(store_copy, "list")
    assert (code, out.split()[0]) == (0, f"{school}:P1")
    assert run(store_copy, "members", f"{school}:P1", command="groups")[1].split() == ssids[:1]
    commands = [line.strip("│ ").split(" ")[0]
                for line in CliRunner().invoke(app, ["--help"]).output.splitlines()]
    assert "rosters" in commands
    assert "groups" not in commands
