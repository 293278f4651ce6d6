"""A server killed (kill -9) while it writes loses nothing it committed and corrupts nothing.

A dashboard server's writes are catalog transactions: sign-ins, sessions, audit entries,
rosters. A child process makes them in a loop, saying after each commit what it committed;
it is killed with SIGKILL at several points. The catalog must then be intact (SQLite's own
integrity check), hold every committed change whole, and take new writes. (A load killed half
way: ``tests/data/results/test_store_atomic.py``.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from data.catalog import audit, sessions
from data.catalog.rosters import Rosters
from data.results.store import Store
from tests.sql import catalog_rows

ROOT = Path(__file__).resolve().parents[3]
CHILD = """
import sys
from data.catalog import audit, sessions
from data.catalog.rosters import Rosters
from data.results.store import Store

store = Store(sys.argv[1])
school, ssids = sys.argv[2], sys.argv[3].split(",")
i = 0
while True:
    i += 1
    audit.record(store, "writer@x.org", "export", detail=f"entry {i}")
    print(f"audit {i}", flush=True)
    token = sessions.start(store, f"user{i}@x.org")
    print(f"session {i} {token}", flush=True)
    Rosters(store).create(f"Killed {i}", school, ssids, created_by="writer@x.org")
    print(f"roster {i}", flush=True)
"""


@pytest.mark.parametrize("after_s", [0.7, 1.9, 3.3])
def test_a_writer_killed_at_any_point_leaves_every_commit_whole(
        store_copy: Store, after_s: float) -> None:
    students = Rosters(store_copy).newest_students().sort("school_code", "ssid")
    school = students.get_column("school_code").mode().sort()[0]
    ssids = students.filter(students["school_code"] == school).get_column("ssid").head(3)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(store_copy.path), school,
                              ",".join(ssids)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    started = time.monotonic()
    lines: list[str] = []
    assert child.stdout is not None
    while time.monotonic() - started < after_s:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line.split())
    os.kill(child.pid, signal.SIGKILL)
    rest, errors = child.communicate(timeout=30)
    lines += [line.split() for line in rest.splitlines()]
    assert "Traceback" not in errors, errors
    committed = {kind: [w for w in lines if w[0] == kind] for kind in ("audit", "session",
                                                                      "roster")}
    assert committed["audit"], "the writer committed nothing before the kill: slow machine?"

    if store_copy.catalog.is_sqlite:
        with store_copy.catalog.read() as con:
            assert con.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    details = set(audit.read(store_copy, users=["writer@x.org"]).get_column("detail"))
    assert {f"entry {w[1]}" for w in committed["audit"]} <= details
    for _, n, token in committed["session"]:
        assert sessions.who(store_copy, token, idle=sessions.TOUCH_EVERY * 60) == f"user{n}@x.org"
    groups = Rosters(store_copy).all_members()
    for _, n in committed["roster"]:
        assert groups[f"{school}:Killed {n}"] == sorted(ssids)
    # A roster is whole or absent: never a roster without its students.
    rows = catalog_rows(store_copy, "SELECT r.name, count(s.ssid) FROM rosters r LEFT JOIN "
                        "roster_students s USING (name, school_code) "
                        "WHERE r.name LIKE 'Killed %' GROUP BY r.name")
    assert all(n == len(ssids) for _, n in rows)
    audit.record(store_copy, "after@x.org", "export")  # and it takes new writes
    assert audit.read(store_copy, users=["after@x.org"]).height == 1
