"""``elpac catalog copy`` moves a store's catalog to PostgreSQL; ``show`` says where it is."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from data.catalog import audit
from data.catalog.accounts import Accounts
from data.catalog.db import ENV_URL
from data.results.store import Store
from elpac.cli import app


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_copy_to_postgresql_then_use_it(store_copy: Store, postgres,  # noqa: ANN001
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    Accounts(store_copy).add("ana@x.org", name="Ana", role="state_admin",
                             password="correct horse battery")
    audit.record(store_copy, "ana@x.org", "export", detail="before the move")
    before = (store_copy.loads(), store_copy.version(), audit.read(store_copy).height)
    url = postgres.new_database()

    done = CliRunner().invoke(app, ["catalog", "copy", "--to", url, "--store",
                                    str(store_copy.path)])
    assert done.exit_code == 0, done.output
    assert f"now set {ENV_URL}" in done.output
    again = CliRunner().invoke(app, ["catalog", "copy", "--to", url, "--store",
                                     str(store_copy.path)])
    assert again.exit_code == 1
    assert "already holds" in again.output

    monkeypatch.setenv(ENV_URL, url)
    moved = Store(store_copy.path)
    assert moved.catalog.url.startswith("postgresql")
    assert moved.loads().equals(before[0])
    assert moved.version() == before[1]
    assert audit.read(moved).height == before[2]
    assert Accounts(moved).sign_in("ana@x.org", "correct horse battery").email == "ana@x.org"
    shown = CliRunner().invoke(app, ["catalog", "show", "--store", str(store_copy.path)])
    assert "postgresql" in shown.output
    assert "users: 1 rows" in shown.output
