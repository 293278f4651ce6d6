"""AppTest of the SSR delivery page and the At a glance "Reaching parents" block.

Every number is recomputed here with Polars from the store's Parquet files (SSR-eligible
Summative records enrolled in the LEA, counted under the enrolled school; ELPAC.md §7) and
the statuses planted for a few students; what was recorded is read back from the catalog
with plain SQL.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.catalog import ssr_deliveries as distribution
from data.results.store import Store
from tests.sql import catalog_rows

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGE = "app_pages/ssr_delivery.py"
LEA = "19619690000000"
"""Meadow Acres Unified, the tiny demo's largest LEA."""
SCHOOL = "19619693907856"
YEAR = "2025-26"
"""The sidebar's default: the newest year."""


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_app(monkeypatch: pytest.MonkeyPatch, store: Store, page: str | None = PAGE,
             pii: bool = True) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store.path))
    monkeypatch.setenv("ELPAC_SCOPE", json.dumps({"leas": [LEA], "pii": pii}))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    if page is not None:
        at.switch_page(page).run()
    return ok(at)


def lea_records(store: Store) -> pl.DataFrame:
    return pl.read_parquet(store.year_files()[YEAR]).filter(
        (pl.col("record_type") == "21") & pl.col("is_ssr_eligible")
        & (pl.col("enrolled_lea_code") == LEA))  # the SSR goes to the enrolled LEA (§7)


def catalog(store: Store, sql: str) -> list[tuple]:
    return catalog_rows(store, sql)


def frame(at: AppTest, *columns: str) -> pl.DataFrame:
    """The one table on the page whose columns start with ``columns``."""
    (table,) = [t.value for t in at.dataframe if tuple(t.value.columns[:len(columns)]) == columns]
    return pl.from_pandas(table)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def planted(store_copy: Store) -> dict[str, str]:
    """Two delivered, one bounced (no later delivery), in the LEA; expected status by SSID."""
    kids = lea_records(store_copy).filter(pl.col("ssr_available_date").is_not_null()).sort(
        "ssid").get_column("ssid").to_list()
    a, b, c = kids[:3]
    today = date.today()
    distribution.import_deliveries(store_copy, "ssid,school_year,method,date\r\n" + "".join(
        f"{s},{YEAR},{m},2026-06-15\r\n" for s, m in ((a, "portal"), (b, "mail"),
                                                       (c, "email"))),
        file_name="sent.csv", uploaded_by="t", today=today)
    distribution.import_failures(store_copy, "ssid,school_year,kind,date,detail\r\n"
                                 f"{c},{YEAR},bounced,2026-06-16,mailbox full\r\n",
                                 file_name="back.csv", uploaded_by="t", today=today)
    return {a: "delivered", b: "delivered", c: "bounced"}


def expected(store: Store, planted: dict[str, str]) -> pl.DataFrame:
    """Per enrolled school: with an SSR, released, delivered, failed, not yet delivered."""
    rows = lea_records(store).with_columns(
        pl.col("ssid").replace_strict(planted, default=None, return_dtype=pl.String)
        .alias("planted"), (pl.col("ssr_available_date") <= date.today()).alias("out"))
    return rows.group_by(pl.col("enrolled_school_code").alias("school_code")).agg(
        pl.len().cast(pl.Int64).alias("n_eligible"),
        pl.col("out").sum().cast(pl.Int64).alias("n_released"),
        (pl.col("planted") == "delivered").sum().cast(pl.Int64).alias("n_delivered"),
        (pl.col("planted") == "bounced").sum().cast(pl.Int64).alias("n_failed"),
        (pl.col("out") & pl.col("planted").is_null()).sum().cast(pl.Int64)
        .alias("n_not_delivered")).sort("school_code")


def test_the_page_shows_coverage_by_school(monkeypatch: pytest.MonkeyPatch, store_copy: Store,
                                           planted: dict[str, str]) -> None:
    at = open_app(monkeypatch, store_copy)
    assert [t.value for t in at.title] == ["SSR delivery"]
    assert at.selectbox(key="ctx_year").value == YEAR
    shown = frame(at, "lea_code", "school_code", "name").sort("school_code")
    want = expected(store_copy, planted)
    assert shown.select(want.columns).rows() == want.rows()
    assert shown.filter(pl.col("school_code") == SCHOOL).item(0, "name") == "Carver Middle"
    totals = want.select(pl.all().exclude("school_code").sum()).row(0, named=True)
    assert metrics(at) == {"Students with an SSR": f"{totals['n_eligible']:,}",
                           "Released": f"{totals['n_released']:,}", "Delivered": "2",
                           "Bounced or returned": "1",
                           "Not yet delivered": f"{totals['n_not_delivered']:,}"}

    # The students not reached: the bounced one and every released one with nothing recorded.
    at.segmented_control(key="delivery_action").set_value("unreached").run()
    listed = frame(ok(at), "ssid")
    rows = lea_records(store_copy).filter(pl.col("ssr_available_date") <= date.today())
    waiting = {s for s in rows.get_column("ssid") if planted.get(s) != "delivered"}
    assert set(listed.get_column("ssid")) == waiting
    (button,) = at.get("download_button")
    assert button.proto.label == f"Download {len(waiting):,} students (CSV)"

    # The bounced family reached another way: marked resolved, its earlier delivery counts
    # again, and it leaves the list of families not reached.
    (bounced,) = [s for s, status in planted.items() if status == "bounced"]
    picker = at.selectbox(key="delivery_resolve_pick")
    (choice,) = picker.options
    assert bounced in choice
    picker.select(choice).run()
    at.button(key="delivery_resolve").click().run()
    ok(at)
    assert [m.value for m in at.success] == ["Marked resolved."]
    assert (metrics(at)["Bounced or returned"], metrics(at)["Delivered"]) == ("0", "3")
    after = frame(at, "ssid")
    assert set(after.get_column("ssid")) == waiting - {bounced}


def test_one_delivery_recorded_by_hand(monkeypatch: pytest.MonkeyPatch,
                                       store_copy: Store) -> None:
    kid = lea_records(store_copy).filter(pl.col("ssr_available_date").is_not_null()).item(
        0, "ssid")
    at = open_app(monkeypatch, store_copy)
    assert metrics(at)["Delivered"] == "0"
    at.segmented_control(key="delivery_action").set_value("record").run()
    at.text_input(key="delivery_ssid").input(kid)
    at.selectbox(key="delivery_method").select("in_person")
    at.run()
    at.button(key="delivery_record").click().run()

    assert [s.value for s in ok(at).success] == ["Recorded."]
    assert metrics(at)["Delivered"] == "1"
    assert catalog(store_copy, "SELECT ssid, school_year, record_type, method, delivered_on "
                               "FROM ssr_deliveries") == [
        (kid, YEAR, "21", "in_person", date.today())]

    # A student outside the LEA is refused, and nothing is recorded.
    outside = pl.read_parquet(store_copy.year_files()[YEAR]).filter(
        pl.col("is_ssr_eligible") & (pl.col("enrolled_lea_code") != LEA)
        & (pl.col("reporting_lea_code") != LEA)).item(0, "ssid")
    at.text_input(key="delivery_ssid").input(outside).run()
    at.button(key="delivery_record").click().run()
    assert [e.value for e in ok(at).error] == [
        f"The delivery was not recorded: ssid {outside}: no Student Score Report for this "
        f"SSID in {YEAR} in your access."]
    assert catalog(store_copy, "SELECT count(*) FROM ssr_deliveries") == [(1,)]


def upload(at: AppTest, action: str, name: str, text: str) -> AppTest:
    at.segmented_control(key="delivery_action").set_value(action).run()
    uploader = next(iter(at.get("file_uploader")))
    uploader.set_value((name, text.encode(), "text/csv")).run()
    at.button(key="delivery_load").click().run()
    return ok(at)


def test_an_upload_with_a_bad_row_shows_it_and_loads_nothing(monkeypatch: pytest.MonkeyPatch,
                                                            store_copy: Store) -> None:
    kids = lea_records(store_copy).filter(pl.col("ssr_available_date").is_not_null()).sort(
        "ssid").get_column("ssid").to_list()
    text = (f"ssid,school_year,test,method,date\r\n{kids[0]},{YEAR},summative,email,"
            f"2026-06-15\r\n{kids[1]},{YEAR},summative,carrier pigeon,2026-06-15\r\n")
    at = upload(open_app(monkeypatch, store_copy), "deliveries", "sent.csv", text)

    assert [e.value for e in at.error] == [
        "Nothing was loaded from sent.csv: 1 problem(s) in 1 of its 2 rows. Fix them and "
        "upload the file again."]
    assert frame(at, "row").rows() == [
        (3, "method", "carrier pigeon", "must be one of portal, email, mail, in_person")]
    assert catalog(store_copy, "SELECT count(*) FROM ssr_deliveries") == [(0,)]
    assert metrics(at)["Delivered"] == "0"
    history = frame(at, "upload_id")
    assert history.select("kind", "file_name", "n_rows", "n_problems", "loaded").rows() == [
        ("deliveries", "sent.csv", 2, 1, False)]
    assert history.item(0, "uploaded_by").startswith("local")  # a local install's user

    # Corrected, it loads, and the coverage counts it.
    good = text.replace("carrier pigeon", "mail")
    at = upload(at, "deliveries", "sent.csv", good)
    assert [s.value for s in at.success] == ["Loaded sent.csv: all 2 rows."]
    assert metrics(at)["Delivered"] == "2"
    assert frame(at, "upload_id").get_column("loaded").to_list() == [True, False]


def test_at_a_glance_shows_reaching_parents(monkeypatch: pytest.MonkeyPatch,
                                            store_copy: Store, planted: dict[str, str]
                                            ) -> None:
    at = open_app(monkeypatch, store_copy, page=None)
    assert at.selectbox(key="ctx_lea").value == LEA
    assert "Reaching parents" in [s.value for s in at.header]
    totals = expected(store_copy, planted).select(pl.all().exclude("school_code").sum()).row(
        0, named=True)
    shown = metrics(at)
    assert {k: shown[k] for k in ("Released", "Delivered", "Bounced or returned",
                                  "Not yet delivered")} == {
        "Released": f"{totals['n_released']:,}", "Delivered": "2", "Bounced or returned": "1",
        "Not yet delivered": f"{totals['n_not_delivered']:,}"}
    assert "delivery" in {link.proto.page for link in at.get("page_link")}
    # By school, in the expander: each school's row as counted here.
    (table,) = [t.value for t in at.table if "Delivered (%)" in t.value.columns]
    per_school = expected(store_copy, planted)
    got = dict(zip(table["CDS code"], table["Released"], strict=True))
    assert got == dict(zip(per_school.get_column("school_code"),
                           per_school.get_column("n_released"), strict=True))

    # An aggregate-only account sees no student-level block (and no such page).
    at = open_app(monkeypatch, store_copy, page=None, pii=False)
    assert "Reaching parents" not in [s.value for s in at.header]
    assert "Delivered" not in metrics(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
