"""The catalog's tests run twice: on SQLite (the default) and on a real PostgreSQL server.

The server is Debian's PostgreSQL, started by this fixture in a temporary directory on a Unix
socket only (``.ci/run`` installs it where it is missing; a missing server fails the tests, it
never skips them). ``initdb`` refuses to run as root, so as root it runs as ``postgres``.
Each test gets a new database; ``store_copy`` then holds the tiny store with its catalog
copied there and ``ELPAC_CATALOG_URL`` pointing at it, so every ``Store`` the test opens uses
PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from data.catalog.db import ENV_URL, Catalog, copy_catalog
from data.results.store import Store

BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Postgres:
    """A running server: a socket directory and a port."""

    socket_dir: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql://elpac@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self) -> str:
        """A new, empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user="elpac",
                             dbname="postgres", autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")), reverse=True)),
        None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: apt-get install postgresql "
                           "(.ci/run does it)")
    return found


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL server per test process, on a Unix socket in a temporary directory."""
    # Not under pytest's base directory: that is private to the user running the tests, and
    # as root the server runs as ``postgres``, who must reach its own directory.
    root = Path(tempfile.mkdtemp(prefix="elpac-pg-"))
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")
    data = root / "data"
    port = 20000 + os.getpid() % 20000
    try:
        _run([*run_as, _bin("initdb"), "-D", str(data), "-A", "trust", "-U", "elpac",
              "--no-sync"])
        _run([*run_as, _bin("pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"),
              "-o", f"-p {port} -k {root} -c listen_addresses='' -c fsync=off "
                    "-c max_connections=200", "start"])
        yield Postgres(root, port)
    finally:
        subprocess.run([*run_as, _bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the catalog is on in this test."""
    return str(request.param)


@pytest.fixture
def catalog_url(backend: str, request: pytest.FixtureRequest,
                monkeypatch: pytest.MonkeyPatch) -> str | None:
    """``None`` for SQLite; else a new PostgreSQL database, set as ``ELPAC_CATALOG_URL``."""
    if backend == "sqlite":
        monkeypatch.delenv(ENV_URL, raising=False)
        return None
    url = request.getfixturevalue("postgres").new_database()
    monkeypatch.setenv(ENV_URL, url)
    return url


@pytest.fixture
def store_copy(store_copy: Store, catalog_url: str | None) -> Store:
    """The tiny store's private copy, its catalog on this test's database."""
    if catalog_url is None:
        return store_copy
    sqlite = Catalog(store_copy.path, url=f"sqlite:///{store_copy.path / 'catalog.sqlite'}")
    copy_catalog(sqlite, Catalog(store_copy.path, url=catalog_url))
    sqlite.forget()
    for leftover in store_copy.path.glob("catalog.sqlite*"):
        leftover.unlink()
    return Store(store_copy.path)
