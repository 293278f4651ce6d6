"""AppTest of the Data loads page (dashboard/app_pages/data_loads.py) through the router.

Files are uploaded with AppTest's ``file_uploader`` (Streamlit 1.67) and loaded with the page's
own Load button into real stores: an empty one (the first load) or a private copy of the tiny
demo. Every count the page shows is checked against Polars reading the uploaded file, and every
load against the store's Parquet files; refused and checked-only uploads must leave the store
byte for byte as it was (``digest``).
"""

from __future__ import annotations

import doctest
import hashlib
import io
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.results.ingest import ingest
from data.results.store import Store
from data.toms.read import file_name_facts
from queries import data_loads
from queries.access import User
from queries.data_loads import Upload, check_uploads, load_uploads
from queries.scope import Scope

if TYPE_CHECKING:
    from collections.abc import Callable

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGE = "app_pages/data_loads.py"
UPLOADER = "data_loads_files_0"
"""The uploader's key until a load succeeds (the page then gives a fresh, empty one)."""
LOS_ANGELES = "19"
"""County of the tiny demo's file with four LEAs and every kind of record."""
OWN_LEA = "19619690000000"
OPERATOR = User.operator("local:test")
"""A local install's operator: may load any LEA's files."""


@pytest.fixture(autouse=True)
def _no_scope_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test says who is using the page; none inherits it from the shell running pytest.
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)


# -- building uploads ----------------------------------------------------------------------


def read_toms(path: Path) -> pl.DataFrame:
    """A caret-delimited TOMS file, every cell as text (independently of data.toms.read)."""
    return pl.read_csv(path, separator="^", infer_schema=False, quote_char=None)


def toms_bytes(frame: pl.DataFrame) -> bytes:
    return frame.write_csv(separator="^", quote_style="never").encode()


def tiny_file(tiny_files: dict[str, list[Path]], year: str) -> Path:
    return next(p for p in tiny_files[year] if p.name.startswith(f"County{LOS_ANGELES}"))


def first_line(frame: pl.DataFrame, where: dict[str, str | None], *, skip: int = 0) -> int:
    """The file line (header = 1) of the ``skip``-th record whose fields have these values."""
    match = pl.all_horizontal(pl.col(f).is_null() if v is None else pl.col(f) == v
                              for f, v in where.items())
    index = frame.with_row_index().filter(match).get_column("index")
    return int(index[skip]) + 2


def set_cell(frame: pl.DataFrame, line: int, field: str, value: str) -> pl.DataFrame:
    at = pl.int_range(pl.len()) == line - 2
    return frame.with_columns(pl.when(at).then(pl.lit(value)).otherwise(pl.col(field)).alias(field))


SCORED: dict[str, str | None] = {"RecordType": "21", "TestedStatus": "Y", "Attemptedness": "Y",
                                 "ConditionCode": None}
"""A scored Summative record (ELPAC.md §1.5): one bad value makes exactly one problem."""


def bad_file(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[int, str, str, str]]]:
    """Two bad cells in two scored records: the file and the (row, field, value, reason)s."""
    score_line = first_line(frame, SCORED)
    grade_line = first_line(frame, SCORED, skip=1)
    bad = set_cell(frame, score_line, "OverallScaleScore", "ABC")
    bad = set_cell(bad, grade_line, "GradeAssessed", "13")
    return bad, [(score_line, "OverallScaleScore", "ABC", "is not a scale score"),
                 (grade_line, "GradeAssessed", "13", "is not a grade")]


# -- running the page ----------------------------------------------------------------------


def run_page(monkeypatch: pytest.MonkeyPatch, store: Path, *, scope: dict | None = None,
             user: str | None = None, users: dict | None = None) -> AppTest:
    """Open /loads on ``store`` as a local user, an ``$ELPAC_SCOPE`` scope or a signed-in user."""
    monkeypatch.setenv("ELPAC_STORE", str(store))
    if scope is not None:
        monkeypatch.setenv("ELPAC_SCOPE", json.dumps(scope))
    at = AppTest.from_file(str(APP), default_timeout=60)
    if user is not None:
        at.user = {"is_logged_in": True, "email": user}
        at.secrets["access"] = {"users": users or {}}
    at.run()
    at.switch_page(PAGE).run()
    assert_ok(at)
    assert [t.value for t in at.title] == ["Data loads"]
    return at


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=UPLOADER).set_value((name, data, "text/csv")).run()
    assert_ok(at)
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, column: str) -> pl.DataFrame:
    """The one table showing ``column`` (the page's tables each have a column of their own)."""
    found = [pl.from_pandas(t.value) for t in at.dataframe if column in t.value.columns]
    assert len(found) == 1, f"{len(found)} tables with a {column!r} column"
    return found[0]


def stored_records(store: Path) -> pl.DataFrame:
    """Every record of the store's current version, read with Polars from its Parquet files."""
    files = Store(store).year_files()
    if not files:
        return pl.DataFrame({"ssid": []}, schema={"ssid": pl.String})
    return pl.concat([pl.read_parquet(p) for p in files.values()], how="diagonal_relaxed")


def load_button_disabled(at: AppTest) -> bool:
    return bool(at.button(key="data_loads_load").disabled)


# -- the first load ------------------------------------------------------------------------


def test_first_load_into_an_empty_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        tiny_files: dict[str, list[Path]]) -> None:
    store = tmp_path / "store"
    source = tiny_file(tiny_files, "2025-26")
    expected = read_toms(source)
    per_lea = dict(expected.group_by("FinalTestedDistrictCode").len().iter_rows())

    at = run_page(monkeypatch, store)
    assert [i.value for i in at.info] == ["Nothing has been loaded yet. Upload the first files "
                                          "above."]
    upload(at, source.name, source.read_bytes())

    n = expected.height
    assert metrics(at) == {"Records read": f"{n:,}", "Would load": f"{n:,}",
                           "Rejected rows": "0"}
    files = table(at, "n_would_load")
    assert files.select("status", "school_year", "kind", "release", "n_read", "n_would_load",
                        "n_rejected").rows() == [("ready", "2025-26", "tested", "partial", n, n, 0)]
    leas = table(at, "replaces")
    assert dict(leas.select("lea_code", "n_records").iter_rows()) == per_lea
    assert set(leas["replaces"]) == {"nothing: the first file for this LEA, school year and kind"}
    assert [s.value for s in at.success] == [f"Ready to load {n:,} records."]
    assert not at.error
    assert not store.exists(), "checking a file wrote to the store"

    at.button(key="data_loads_load").click().run()

    assert_ok(at)
    assert [s.value for s in at.success] == [
        f"Loaded {n:,} records as load 1; the store is now at data version 1. Every page shows "
        "the new data."]
    records = stored_records(store)
    assert records.height == n
    assert sorted(records["ssid"]) == sorted(expected["SSID"])
    history = table(at, "loaded_at")
    assert history.select("load_id", "lea_code", "n_records", "status", "release").sort(
        "lea_code").rows() == [(1, lea, per_lea[lea], "current", "partial")
                               for lea in sorted(per_lea)]
    # A fresh, empty uploader; the report of the loaded files is gone.
    assert [u.key for u in at.get("file_uploader")] == ["data_loads_files_1"]
    assert not at.metric


# -- what a load would replace -------------------------------------------------------------


def test_a_final_file_shows_what_it_replaces_then_supersedes_it(
        monkeypatch: pytest.MonkeyPatch, store_copy: Store,
        tiny_files: dict[str, list[Path]]) -> None:
    source = tiny_file(tiny_files, "2025-26")
    old = store_copy.loads().filter(pl.col("file_name") == source.name)
    (old_id,) = old["load_id"].unique()
    old_counts = dict(old.select("lea_code", "n_records").iter_rows())
    # The same records in the August final file (ELPAC.md §7): a newer report date.
    final = read_toms(source).with_columns(ReportCreatedDate=pl.lit("2026-08-20"))
    before = stored_records(store_copy.path)

    at = run_page(monkeypatch, store_copy.path)
    upload(at, source.name, toms_bytes(final))

    leas = table(at, "replaces")
    assert set(leas["release"]) == {"final"}
    assert dict(leas.select("lea_code", "replaces").iter_rows()) == {
        lea: f"load {old_id} (partial, created 2026-06-01, {n:,} records)"
        for lea, n in old_counts.items()}
    assert not load_button_disabled(at)

    at.button(key="data_loads_load").click().run()

    assert_ok(at)
    new_id = store_copy.loads()["load_id"].max()
    assert at.success[0].value.startswith(f"Loaded {final.height:,} records as load {new_id};")
    history = table(at, "loaded_at")
    assert set(history.filter(pl.col("load_id") == old_id)["status"]) == {
        f"superseded by load {new_id}"}
    assert set(history.filter(pl.col("load_id") == new_id)["release"]) == {"final"}
    # The final file holds the same students: the store has the same records, now final.
    after = stored_records(store_copy.path)
    assert after.height == before.height
    assert sorted(after["ssid"]) == sorted(before["ssid"])


def test_an_older_file_is_refused_before_anything_is_loaded(
        monkeypatch: pytest.MonkeyPatch, store_copy: Store, tiny_files: dict[str, list[Path]],
        digest: Callable[[Path], dict[str, str]]) -> None:
    source = tiny_file(tiny_files, "2025-26")
    older = read_toms(source).with_columns(ReportCreatedDate=pl.lit("2026-05-20"))
    before = digest(store_copy.path)

    at = run_page(monkeypatch, store_copy.path)
    upload(at, source.name, toms_bytes(older))

    (error,) = [e.value for e in at.error]
    assert error.startswith(f"{source.name}: older than {source.name} (created 2026-06-01), "
                            "already loaded for LEA ")
    assert error.endswith("the newer file stays and nothing was loaded")
    assert set(table(at, "replaces")["replaces"].str.slice(0, 21)) == {"nothing: older than l"}
    assert metrics(at)["Would load"] == "0"
    assert load_button_disabled(at)
    assert digest(store_copy.path) == before


def test_a_newer_file_loaded_meanwhile_wins_and_the_page_says_so(
        monkeypatch: pytest.MonkeyPatch, store_copy: Store, tiny_files: dict[str, list[Path]],
        digest: Callable[[Path], dict[str, str]], tmp_path: Path) -> None:
    source = tiny_file(tiny_files, "2025-26")
    frame = read_toms(source)
    at = run_page(monkeypatch, store_copy.path)
    upload(at, source.name, toms_bytes(frame.with_columns(ReportCreatedDate=pl.lit("2026-08-20"))))
    assert [s.value for s in at.success] == [f"Ready to load {frame.height:,} records."]

    # Someone else loads a newer file of the same LEAs before this user presses Load.
    newer = tmp_path / source.name
    newer.write_bytes(toms_bytes(frame.with_columns(ReportCreatedDate=pl.lit("2026-08-25"))))
    assert ingest([newer], store=store_copy).loaded
    before = digest(store_copy.path)
    at.button(key="data_loads_load").click().run()

    # The store's version changed, so the click's run checks the file again first: the
    # report now says why it cannot load, and the button no longer loads anything.
    assert_ok(at)
    assert digest(store_copy.path) == before
    assert not at.success
    (error,) = [e.value for e in at.error]
    assert error.startswith(f"{source.name}: older than {source.name} (created 2026-08-25)")
    assert load_button_disabled(at)


# -- bad rows ------------------------------------------------------------------------------


def test_bad_rows_are_listed_and_a_strict_load_changes_nothing(
        monkeypatch: pytest.MonkeyPatch, store_copy: Store, tiny_files: dict[str, list[Path]],
        digest: Callable[[Path], dict[str, str]]) -> None:
    source = tiny_file(tiny_files, "2024-25")
    frame, wrong = bad_file(read_toms(source))
    before = digest(store_copy.path)

    at = run_page(monkeypatch, store_copy.path)
    upload(at, source.name, toms_bytes(frame))

    assert metrics(at) == {"Records read": f"{frame.height:,}", "Would load": "0",
                           "Rejected rows": "2"}
    assert any(m.value.startswith("**Rejected rows: 2 problem(s) in 2 row(s).**")
               for m in at.markdown)
    problems = table(at, "reason").sort("row")
    assert problems.select("file", "row", "field", "value").rows() == [
        (source.name, row, field, value) for row, field, value, _ in sorted(wrong)]
    for reason, (*_, part) in zip(problems["reason"], sorted(wrong), strict=True):
        assert part in reason
    assert table(at, "n_would_load")["status"].to_list() == ["would be refused"]
    assert at.get("download_button")[0].label == "Download the row problems (CSV)"
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("2 row(s) have problems, so nothing would be loaded")
    assert load_button_disabled(at)  # AppTest, like a browser, cannot press it
    assert digest(store_copy.path) == before


def test_skip_bad_rows_loads_only_the_good_rows(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path,
                                                tiny_files: dict[str, list[Path]]) -> None:
    store = tmp_path / "store"
    source = tiny_file(tiny_files, "2024-25")
    frame, wrong = bad_file(read_toms(source))
    bad_ssids = [frame["SSID"][row - 2] for row, *_ in wrong]
    good = frame.height - 2

    at = run_page(monkeypatch, store)
    upload(at, source.name, toms_bytes(frame))
    at.radio(key="data_loads_mode").set_value("skip").run()

    assert_ok(at)
    assert metrics(at)["Would load"] == f"{good:,}"
    assert table(at, "n_would_load")["status"].to_list() == ["ready"]
    assert [s.value for s in at.success] == [
        f"Ready to load {good:,} records; 2 bad row(s) will be skipped."]

    at.button(key="data_loads_load").click().run()

    assert_ok(at)
    assert at.success[0].value.startswith(f"Loaded {good:,} records as load 1;")
    records = stored_records(store)
    assert records.height == good
    assert not set(bad_ssids) & set(records["ssid"])
    assert set(records["ssid"]) == set(frame["SSID"]) - set(bad_ssids)
    assert table(at, "loaded_at")["n_rejected"].unique().to_list() == [2]


# -- files that cannot be read -------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "sentence"), [
    ("empty.csv", b"", "empty.csv: the file is empty"),
    ("notes.txt", b"hello world\n", "notes.txt: the header row has no ^, tab or comma"),
    ("other.csv", b"Name,Score\nAna,3\n", "other.csv: the first line has 2 column(s)"),
    ("broken.xlsx", b"PK\x03\x04 not really a workbook", "broken.xlsx: cannot be read as an "
                                                         "Excel workbook"),
])
def test_unreadable_files_are_explained_in_sentences(monkeypatch: pytest.MonkeyPatch,
                                                     store_copy: Store, name: str, data: bytes,
                                                     sentence: str,
                                                     digest: Callable[[Path], dict[str, str]]
                                                     ) -> None:
    before = digest(store_copy.path)
    at = run_page(monkeypatch, store_copy.path)
    upload(at, name, data)

    (error,) = [e.value for e in at.error]
    assert error.startswith(sentence)
    assert "Traceback" not in error
    assert table(at, "n_would_load")["status"].to_list() == ["refused"]
    assert [w.value for w in at.warning] == [
        "Nothing can be loaded until the file problems listed above are fixed: correct or "
        "remove those files and upload again."]
    assert load_button_disabled(at)
    assert digest(store_copy.path) == before


def test_file_options_settle_what_the_file_name_does_not_say(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        tiny_files: dict[str, list[Path]]) -> None:
    # A renamed county file: several tested LEAs and enrolled LEAs, so its kind is unknown.
    source = tiny_file(tiny_files, "2025-26")
    at = run_page(monkeypatch, tmp_path / "store")
    upload(at, "results.csv", source.read_bytes())

    (error,) = [e.value for e in at.error]
    assert error.startswith("results.csv: cannot tell an enrolled-LEA file from a tested-LEA")
    assert error.endswith("choose its kind under File options")
    assert "--kind" not in error

    at.selectbox(key="data_loads_kind").set_value("tested").run()

    assert_ok(at)
    assert not at.error
    assert table(at, "n_would_load")["kind"].to_list() == ["tested"]
    assert metrics(at)["Would load"] == f"{read_toms(source).height:,}"


# -- who may load --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["scope without loads", "signed-in, loads = false",
                                 "signed-in, not listed"])
def test_a_user_without_load_rights_sees_the_history_only(monkeypatch: pytest.MonkeyPatch,
                                                          tiny_store_path: Path,
                                                          who: str) -> None:
    statewide = {"statewide": True, "pii": True}
    if who == "scope without loads":
        at = run_page(monkeypatch, tiny_store_path, scope=statewide)
    elif who == "signed-in, loads = false":
        at = run_page(monkeypatch, tiny_store_path, user="analyst@cde.example",
                      users={"analyst@cde.example": {**statewide, "loads": False}})
    else:
        at = run_page(monkeypatch, tiny_store_path, user="stranger@example.org",
                      users={"analyst@cde.example": {**statewide, "loads": True}})

    assert not at.get("file_uploader")
    assert not at.button
    assert at.info[0].value.startswith("Your account can see the load history but cannot load "
                                       "files.")
    assert "ask your dashboard administrator" in at.info[0].value
    if who == "signed-in, not listed":  # an empty scope: no LEA's history either
        assert at.info[1].value == "Nothing has been loaded yet."
    else:
        shown = table(at, "loaded_at")
        assert shown.height == Store(tiny_store_path).loads().height
        assert shown["load_id"].to_list() == sorted(shown["load_id"], reverse=True)


def test_a_signed_in_user_with_load_rights_may_upload(monkeypatch: pytest.MonkeyPatch,
                                                      tiny_store_path: Path) -> None:
    at = run_page(monkeypatch, tiny_store_path, user="coordinator@lea.example",
                  users={"coordinator@lea.example": {"statewide": True, "loads": True}})
    assert [u.key for u in at.get("file_uploader")] == [UPLOADER]
    assert not at.info


def test_an_lea_limited_user_is_refused_another_leas_file(
        monkeypatch: pytest.MonkeyPatch, store_copy: Store, tiny_files: dict[str, list[Path]],
        digest: Callable[[Path], dict[str, str]]) -> None:
    source = tiny_file(tiny_files, "2025-26")
    # A new version of the county file (already loaded files are never checked again).
    frame = read_toms(source).with_columns(ReportCreatedDate=pl.lit("2026-08-20"))
    others = sorted(set(frame["FinalTestedDistrictCode"]) - {OWN_LEA})
    assert len(others) == 3
    before = digest(store_copy.path)

    at = run_page(monkeypatch, store_copy.path, scope={"leas": [OWN_LEA], "loads": True})
    upload(at, source.name, toms_bytes(frame))

    (error,) = [e.value for e in at.error]
    assert error.startswith(f"{source.name}: it holds records of LEA {', '.join(others)}, "
                            "which your account does not cover")
    assert OWN_LEA not in error
    assert load_button_disabled(at)
    assert metrics(at)["Would load"] == "0"
    # The history shows this LEA's loads only.
    assert set(table(at, "loaded_at")["lea_code"]) == {OWN_LEA}
    assert digest(store_copy.path) == before


# -- the query functions the page calls (queries/data_loads.py) ---------------------------


def test_the_helper_refuses_another_leas_records_even_under_this_leas_name(
        tmp_path: Path, tiny_files: dict[str, list[Path]]) -> None:
    store = Store(tmp_path / "store")
    source = tiny_file(tiny_files, "2025-26")
    frame = read_toms(source)
    user = User("lea@x.org", Scope.lea(OWN_LEA), loads=True)
    # A TOMS file name carrying this LEA's code: the records still name three other LEAs.
    renamed = source.name.replace(f"County{LOS_ANGELES}LosAngeles", f"{OWN_LEA}")
    assert file_name_facts(renamed)[0] == OWN_LEA
    for name in (source.name, renamed):
        result = load_uploads([Upload(name, source.read_bytes())], store=store, user=user)
        assert not result.loaded
        (sentence,) = result.file_problems
        assert "it holds records of LEA 19670200000000, 19701130000000, 19767330000000" in sentence
        assert not store.path.exists()

    own = frame.filter(pl.col("FinalTestedDistrictCode") == OWN_LEA)
    result = load_uploads([Upload(source.name, toms_bytes(own))], store=store, user=user)

    assert result.loaded, result.file_problems
    records = stored_records(store.path)
    assert records.height == own.height
    assert set(records["tested_lea_code"]) == {OWN_LEA}


def test_the_helper_never_half_loads_a_bad_file(store_copy: Store,
                                                 tiny_files: dict[str, list[Path]],
                                                 digest: Callable[[Path], dict[str, str]]
                                                 ) -> None:
    source = tiny_file(tiny_files, "2024-25")
    frame, _ = bad_file(read_toms(source))
    good = tiny_file(tiny_files, "2025-26")
    batch = [Upload(source.name, toms_bytes(frame)),
             Upload(good.name, toms_bytes(read_toms(good).with_columns(
                 ReportCreatedDate=pl.lit("2026-08-20"))))]
    before = digest(store_copy.path)

    result = load_uploads(batch, store=store_copy, user=OPERATOR)

    assert not result.loaded
    assert result.row_problems.height == 2
    assert result.outcome() == "Nothing was loaded: 2 row(s) have problems."
    # The good file of the batch is not loaded either: strict is all or nothing.
    assert result.files["status"].to_list() == ["refused", "refused"]
    assert digest(store_copy.path) == before


def test_row_problems_csv_is_safe_to_open_in_a_spreadsheet(
        store_copy: Store, tiny_files: dict[str, list[Path]]) -> None:
    source = tiny_file(tiny_files, "2024-25")
    frame = read_toms(source)
    line = first_line(frame, SCORED)
    frame = set_cell(frame, line, "Gender", "=HYPERLINK(1)")

    report = check_uploads([Upload(source.name, toms_bytes(frame))], store=store_copy,
                           user=OPERATOR)
    written = pl.read_csv(io.BytesIO(report.problems_csv()), infer_schema=False)

    assert written.columns == ["file", "sheet", "row", "field", "value", "reason"]
    assert written.select("row", "field", "value").rows() == [
        (str(line), "Gender", "'=HYPERLINK(1)")]
    assert report.row_problems["value"].to_list() == ["=HYPERLINK(1)"]  # shown as it was


def test_the_same_file_name_twice_is_refused(tmp_path: Path) -> None:
    report = check_uploads([Upload("a.csv", b"x"), Upload("dir/a.csv", b"y")],
                           store=Store(tmp_path / "store"), user=OPERATOR)
    assert report.file_problems == ["a.csv: chosen twice; remove one copy and check again."]
    assert report.verdict(skip_bad_rows=True)[0] is False


def test_the_helpers_examples_run() -> None:
    failures, tried = doctest.testmod(data_loads, raise_on_error=False)
    assert tried >= 5
    assert failures == 0


def loads_of(store: Store, data: bytes) -> pl.DataFrame:
    return store.loads().filter(pl.col("sha256") == hashlib.sha256(data).hexdigest())


def test_a_file_loaded_meanwhile_by_someone_else_is_done_not_an_error(
        store_copy: Store, tiny_files: dict[str, list[Path]], tmp_path: Path) -> None:
    source = tiny_file(tiny_files, "2025-26")
    data = toms_bytes(read_toms(source).with_columns(ReportCreatedDate=pl.lit("2026-08-20")))
    (tmp_path / source.name).write_bytes(data)
    assert ingest([tmp_path / source.name], store=store_copy).loaded  # the command line

    result = load_uploads([Upload(source.name, data)], store=store_copy, user=OPERATOR)

    assert not result.loaded
    assert result.already_loaded
    (load_id,) = loads_of(store_copy, data)["load_id"].unique().to_list()
    assert result.outcome() == (f"Nothing new to load: {source.name} was already loaded as "
                                f"load {load_id}. Every page already shows these records.")


def test_the_page_and_the_command_line_loading_one_file_at_once_load_it_once(
        store_copy: Store, tiny_files: dict[str, list[Path]], tmp_path: Path) -> None:
    source = tiny_file(tiny_files, "2025-26")
    data = toms_bytes(read_toms(source).with_columns(ReportCreatedDate=pl.lit("2026-08-20")))
    (tmp_path / source.name).write_bytes(data)
    start = threading.Barrier(2)
    done: dict[str, object] = {}

    def command_line() -> None:
        start.wait()
        done["cli"] = ingest([tmp_path / source.name], store=store_copy)

    def page() -> None:
        start.wait()
        done["page"] = load_uploads([Upload(source.name, data)], store=store_copy,
                                    user=OPERATOR)

    threads = [threading.Thread(target=command_line), threading.Thread(target=page)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    cli, shown = done["cli"], done["page"]
    assert isinstance(shown, data_loads.Report)
    assert cli.loaded != shown.loaded  # exactly one of them loaded it
    if not shown.loaded:
        assert shown.already_loaded, shown.outcome()
    else:
        assert [o.status for o in cli.outcomes] == ["unchanged"]
    assert loads_of(store_copy, data)["load_id"].n_unique() == 1
