"""Many people at once (issue 11): dashboard sessions and command-line processes together.

For ``SECONDS`` seconds, eight threads of one process (as eight Streamlit sessions are) sign
in, write audit entries, make and give rosters and read what pages read, while two other
processes run ``elpac users add`` and ``elpac rosters import`` in a loop — on SQLite and on
PostgreSQL. Nothing may fail, nothing may wait for ever, and the audit log must hold exactly
one entry per audited action.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from data.catalog import audit
from data.catalog.accounts import Accounts
from data.catalog.rosters import Rosters
from data.catalog.saved_reports import save_report, saved_reports
from data.results.store import Store
from queries.rosters import assign_group, create_group
from queries.scope import Scope

SECONDS = 30
ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "correct horse battery"


def test_sessions_and_cli_processes_at_once(store_copy: Store, tmp_path: Path) -> None:
    path = store_copy.path
    students = Rosters(store_copy).newest_students().sort("school_code", "ssid")
    school = students.get_column("school_code").mode().sort()[0]
    ssids = students.filter(students["school_code"] == school).get_column("ssid").to_list()[:4]
    accounts = Accounts(store_copy)
    for n in range(2):
        accounts.add(f"user{n}@x.org", name=f"User {n}", role="lea_admin", password=PASSWORD,
                     leas=(school[:7] + "0000000",))
    accounts.add("teacher@x.org", name="Teacher", role="teacher", password=PASSWORD,
                 schools=(school,))
    before = audit.read(store_copy).height
    scope = Scope.state(pii=True)

    done: Counter[str] = Counter()
    errors: list[tuple[str, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sign_in(n: int, i: int) -> str:
        Accounts(Store(path)).sign_in(f"user{n % 2}@x.org", PASSWORD)
        return "audited"

    def write_audit(n: int, i: int) -> str:
        audit.record(Store(path), f"thread{n}@x.org", "export", detail=f"file {i}", n_rows=i)
        return "audited"

    def roster(n: int, i: int) -> str:
        store = Store(path)
        name = f"T{n}-{i}"
        create_group(store, scope, name=name, school_code=school, ssids=ssids,
                     created_by="thread@x.org")
        assign_group(store, scope, f"{school}:{name}", ["teacher@x.org"], by="thread@x.org")
        return "audited twice"

    def read(n: int, i: int) -> str:
        store = Store(path)
        assert store.version() > 0
        assert store.loads().height > 0
        assert Accounts(store).get("user0@x.org") is not None
        Rosters(store).list()
        audit.read(store, users=["user0@x.org"])
        save_report(store, f"reader{n}", "latest", f'{{"i": {i}}}')
        assert saved_reports(store, f"reader{n}").height == 1
        return "read"

    def run(kind: str, n: int, work) -> None:  # noqa: ANN001
        i = 0
        while not stop.is_set():
            i += 1
            try:
                outcome = work(n, i)
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                with lock:
                    errors.append((kind, repr(exc)))
                continue
            with lock:
                done[kind] += 1
                done[outcome] += 1

    def cli(kind: str, make_command) -> None:  # noqa: ANN001
        i = 0
        while not stop.is_set():
            i += 1
            command, stdin = make_command(i)
            run_ = subprocess.run([sys.executable, "-m", "elpac", *command, "--store", str(path)],
                                  cwd=ROOT, input=stdin, capture_output=True, text=True,
                                  timeout=120, check=False)
            with lock:
                if run_.returncode:
                    errors.append((kind, run_.stderr.strip() or run_.stdout.strip()))
                else:
                    done[kind] += 1

    def add_user(i: int) -> tuple[list[str], str]:
        return (["users", "add", f"cli{i}@x.org", "--name", f"CLI {i}", "--role", "teacher",
                 "--school", school, "--password-stdin"], PASSWORD + "\n")

    def import_roster(i: int) -> tuple[list[str], str]:
        file = tmp_path / f"roster-{i}.csv"
        file.write_text("name,school_cds,ssid,user_email\n"
                        + "".join(f"CLI {i},{school},{s},teacher@x.org\n" for s in ssids))
        return ["rosters", "import", str(file)], ""

    work = {"sign_in": sign_in, "audit": write_audit, "roster": roster, "read": read}
    threads = [threading.Thread(target=run, args=(kind, n, fn))
               for n, (kind, fn) in enumerate(list(work.items()) * 2)]
    threads += [threading.Thread(target=cli, args=("cli users add", add_user)),
                threading.Thread(target=cli, args=("cli rosters import", import_roster))]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a worker never finished"

    print(dict(done))  # what ran (pytest -s shows it)
    assert errors == []
    assert all(done[kind] > 0 for kind in [*work, "cli users add", "cli rosters import"]), done
    expected = (before + done["audited"] + 2 * done["audited twice"]
                + done["cli rosters import"])
    assert audit.read(store_copy).height == expected
    assert Accounts(store_copy).list().height == 3 + done["cli users add"]
    assert len(Rosters(store_copy).all_members()) >= (
        done["roster"] + done["cli rosters import"])
