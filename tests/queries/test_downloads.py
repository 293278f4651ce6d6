"""Built files for download (issue 11): private, kept an hour, only their owner's, audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from data.catalog import audit
from queries.access import User
from queries.downloads import LIFETIME, find_download, finish, new_download, record_fetch, sweep
from queries.scope import Scope

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store

ANA = User("ana@x.org", Scope.lea("19647330000000", pii=True), email="ana@x.org")
NOW = datetime(2026, 3, 2, 9, 0)


def test_a_built_file_is_found_by_its_token_and_only_by_its_owner(tmp_path: Path) -> None:
    made = new_download(tmp_path, "extract.csv", user=ANA, detail="year=2024-25", now=NOW)
    assert made.link == f"/download/{made.token}"
    assert find_download(tmp_path, made.token, now=NOW) is None  # not written yet
    made.path.write_text("SSID\n1\n")
    assert (made.path.parent.stat().st_mode & 0o777) == 0o700
    assert find_download(tmp_path, made.token, now=NOW) == made
    assert find_download(tmp_path, made.token, requester="ana@x.org", now=NOW) == made
    assert find_download(tmp_path, made.token, requester="bo@x.org", now=NOW) is None
    assert find_download(tmp_path, made.token, requester="", now=NOW) is None  # signed out
    assert find_download(tmp_path, "../" + made.token[3:], now=NOW) is None
    assert find_download(tmp_path, "x" * 43, now=NOW) is None


def test_a_file_is_gone_after_an_hour(tmp_path: Path) -> None:
    made = new_download(tmp_path, "extract.csv", user=ANA, now=NOW)
    made.path.write_text("x")
    later = NOW + LIFETIME + timedelta(seconds=1)
    assert find_download(tmp_path, made.token, now=NOW + LIFETIME) == made
    assert find_download(tmp_path, made.token, now=later) is None
    assert not made.path.parent.exists()
    assert sweep(tmp_path, now=later) == 0


@pytest.mark.parametrize("name", ["", "../x.csv", "a/b.csv", ".hidden"])
def test_file_names_that_could_leave_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="not a file name"):
        new_download(tmp_path, name, user=ANA)


def test_a_fetch_is_audited_with_what_the_file_holds(store_copy: Store) -> None:
    made = new_download(store_copy.path, "ssrs.pdf", user=ANA, detail="12 student score "
                        "reports")
    made.path.write_bytes(b"%PDF")
    made = finish(made, n_rows=12)
    before = audit.read(store_copy).height
    record_fetch(store_copy, find_download(store_copy.path, made.token))
    entries = audit.read(store_copy)
    assert entries.height == before + 1
    entry = entries.row(0, named=True)
    assert (entry["user_email"], entry["action"], entry["n_rows"]) == ("ana@x.org", "export",
                                                                      12)
    assert entry["detail"] == "ssrs.pdf; 12 student score reports"
    assert "1 LEAs" in entry["scope"]
