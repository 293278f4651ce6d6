"""SSR delivery uploads (data/catalog/ssr_deliveries.py): checked row by row, all rows or none,
kept.

Which students have an SSR, and when it was released, is read here straight from the
store's Parquet files; what was recorded is read from the catalog with plain SQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from data.catalog import ssr_deliveries as distribution
from data.problems import InputError
from data.results.store import Store
from tests.sql import catalog_rows

YEAR = "2024-25"
NOW = datetime(2025, 10, 1, 9, 30)
TODAY = date(2025, 10, 1)


def ssrs(store: Store, year: str = YEAR, record_type: str = "21") -> pl.DataFrame:
    """SSR-eligible records of a year and test: ssid and release date, by SSID."""
    return (pl.read_parquet(store.year_files()[year],
                            columns=["ssid", "record_type", "is_ssr_eligible",
                                     "ssr_available_date"])
            .filter((pl.col("record_type") == record_type) & pl.col("is_ssr_eligible"))
            .sort("ssid"))


def not_eligible(store: Store, year: str = YEAR) -> str:
    frame = pl.read_parquet(store.year_files()[year], columns=["ssid", "is_ssr_eligible"])
    eligible = set(frame.filter(pl.col("is_ssr_eligible")).get_column("ssid"))
    return sorted(set(frame.get_column("ssid")) - eligible)[0]


def catalog(store: Store, sql: str) -> list[tuple]:
    return catalog_rows(store, sql)


def csv_text(header: str, rows: list[str]) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


def test_a_good_deliveries_file_loads_every_row(store_copy: Store) -> None:
    kids = ssrs(store_copy).head(3).rows()
    text = csv_text("SSID,School Year,Test,Method,Date", [
        f"{kids[0][0]},{YEAR},summative,email,{kids[0][3]}",
        f"{kids[1][0]},{YEAR},21,Parent portal,{kids[1][3]:%-m/%-d/%Y}",
        f"{kids[2][0]},{YEAR},,In person,{TODAY}",
        f"{kids[0][0]},{YEAR},summative,mail,{TODAY}"])  # a second delivery: kept too

    result = distribution.import_deliveries(store_copy, text, file_name="sent.csv",
                                            uploaded_by="lea@x.org", now=NOW, today=TODAY)

    assert (result.loaded, result.n_rows, result.problems, result.n_added) == (True, 4, [], 4)
    assert catalog(store_copy, "SELECT ssid, school_year, record_type, method, delivered_on, "
                               "recorded_by, upload_id FROM ssr_deliveries ORDER BY ssid, "
                               "delivered_on, method") == sorted([
        (kids[0][0], YEAR, "21", "email", kids[0][3], "lea@x.org", 1),
        (kids[0][0], YEAR, "21", "mail", TODAY, "lea@x.org", 1),
        (kids[1][0], YEAR, "21", "portal", kids[1][3], "lea@x.org", 1),
        (kids[2][0], YEAR, "21", "in_person", TODAY, "lea@x.org", 1)])
    assert catalog(store_copy, "SELECT * FROM ssr_delivery_uploads") == [
        (1, "deliveries", NOW, "lea@x.org", "sent.csv", 4, 0, True)]

    # The same file again adds nothing new, but is in the history.
    again = distribution.import_deliveries(store_copy, text, file_name="sent.csv",
                                           uploaded_by="lea@x.org", now=NOW, today=TODAY)
    assert (again.loaded, again.n_added) == (True, 0)
    assert catalog(store_copy, "SELECT count(*) FROM ssr_deliveries") == [(4,)]
    assert distribution.uploads(store_copy).get_column("upload_id").to_list() == [2, 1]


def test_one_bad_row_refuses_the_whole_file(store_copy: Store) -> None:
    kids = ssrs(store_copy).rows()
    released = kids[0][3]
    text = csv_text("ssid,school_year,test,method,date", [
        f"{kids[0][0]},{YEAR},summative,email,{released}",                  # good
        f"{kids[1][0]},{YEAR},summative,pigeon,{released}",                 # method
        f"12ab,{YEAR},summative,mail,{released}",                           # SSID
        f"{not_eligible(store_copy)},{YEAR},summative,mail,{released}",     # no SSR
        f"{kids[2][0]},2024,summative,mail,{released}",                     # year
        f"{kids[3][0]},{YEAR},summative,mail,{TODAY + timedelta(days=1)}",  # future
        f"{kids[4][0]},{YEAR},summative,mail,{kids[4][3] - timedelta(days=1)}",  # too soon
        f"{kids[5][0]},{YEAR},CAASPP,mail,2025-13-01"])                     # test, date

    result = distribution.import_deliveries(store_copy, text, file_name="bad.csv",
                                            uploaded_by="lea@x.org", now=NOW, today=TODAY)

    assert not result.loaded
    assert result.n_rows == 8
    assert result.problems == [
        (3, "method", "pigeon", "must be one of portal, email, mail, in_person"),
        (4, "ssid", "12ab", "not a 10-digit SSID"),
        (5, "ssid", not_eligible(store_copy),
         f"no Student Score Report for this SSID in {YEAR} for this test"),
        (6, "school_year", "2024", "not a school year like 2024-25"),
        (7, "date", str(TODAY + timedelta(days=1)), "in the future"),
        (8, "date", str(kids[4][3] - timedelta(days=1)),
         f"before the SSR was released ({kids[4][3]})"),
        (9, "test", "CAASPP", "not a test: summative or alternate (or record type 21, 23)"),
        (9, "date", "2025-13-01", "not a date (2025-06-02 or 6/2/2025)")]
    assert catalog(store_copy, "SELECT count(*) FROM ssr_deliveries") == [(0,)]
    assert catalog(store_copy, "SELECT kind, file_name, n_rows, n_problems, loaded "
                               "FROM ssr_delivery_uploads") == [
        ("deliveries", "bad.csv", 8, 8, False)]


def test_bounces_and_returns_load_with_their_detail(store_copy: Store) -> None:
    kids = ssrs(store_copy).head(2).get_column("ssid").to_list()
    text = csv_text("ssid,school_year,kind,date,detail", [
        f"{kids[0]},{YEAR},Bounced,2025-06-10,550 mailbox unavailable",
        f"{kids[1]},{YEAR},returned,6/12/2025,"])

    result = distribution.import_failures(store_copy, text, file_name="back.csv",
                                          uploaded_by="lea@x.org", now=NOW, today=TODAY)

    assert (result.loaded, result.n_added, result.problems) == (True, 2, [])
    assert catalog(store_copy, "SELECT failure_id, ssid, record_type, kind, reported_on, "
                               "detail, upload_id, resolved_at FROM ssr_delivery_failures "
                               "ORDER BY failure_id") == [
        (1, kids[0], "21", "bounced", date(2025, 6, 10), "550 mailbox unavailable", 1, None),
        (2, kids[1], "21", "returned", date(2025, 6, 12), "", 1, None)]

    distribution.resolve_failure(store_copy, 2, resolved_by="lea@x.org", now=NOW)
    assert catalog(store_copy, "SELECT resolved_at, resolved_by FROM ssr_delivery_failures "
                               "WHERE failure_id = 2") == [(NOW, "lea@x.org")]
    with pytest.raises(InputError, match="numbered 9"):
        distribution.resolve_failure(store_copy, 9, resolved_by="lea@x.org")


def test_a_bad_kind_refuses_the_failures_file(store_copy: Store) -> None:
    kid = ssrs(store_copy).item(0, "ssid")
    text = csv_text("ssid,school_year,kind,date,detail", [
        f"{kid},{YEAR},bounced,2025-06-10,full", f"{kid},{YEAR},lost,2025-06-11,"])
    result = distribution.import_failures(store_copy, text, file_name="f.csv",
                                          uploaded_by="u", now=NOW, today=TODAY)
    assert result.problems == [(3, "kind", "lost", "must be one of bounced, returned")]
    assert catalog(store_copy, "SELECT count(*) FROM ssr_delivery_failures") == [(0,)]
    assert distribution.uploads(store_copy).select("kind", "loaded").rows() == [
        ("failures", False)]


def test_access_is_asked_before_the_store(store_copy: Store) -> None:
    kids = ssrs(store_copy).get_column("ssid").to_list()
    missing = "9999999999"
    asked: list[tuple[str, str]] = []

    def may_use(ssid: str, year: str) -> str | None:
        asked.append((ssid, year))
        return None if ssid == kids[0] else "not in your access"

    text = csv_text("ssid,school_year,method,date", [
        f"{kids[0]},{YEAR},mail,{TODAY}", f"{kids[1]},{YEAR},mail,{TODAY}",
        f"{missing},{YEAR},mail,{TODAY}"])
    result = distribution.import_deliveries(store_copy, text, file_name="a.csv",
                                            uploaded_by="u", may_use=may_use, today=TODAY)
    # A student who does not exist is refused with the same words as one outside access.
    assert result.problems == [(3, "ssid", kids[1], "not in your access"),
                               (4, "ssid", missing, "not in your access")]
    assert asked == [(kids[0], YEAR), (kids[1], YEAR), (missing, YEAR)]
    assert catalog(store_copy, "SELECT count(*) FROM ssr_deliveries") == [(0,)]


def test_a_file_without_the_columns_is_refused_whole(store_copy: Store) -> None:
    with pytest.raises(InputError, match="missing: method, date"):
        distribution.import_deliveries(store_copy, "ssid,school_year\r\n1,2024-25\r\n",
                                       file_name="x.csv", uploaded_by="u")


def test_one_delivery_by_hand(store_copy: Store) -> None:
    kid, released = ssrs(store_copy).select("ssid", "ssr_available_date").row(0)
    assert distribution.record_delivery(store_copy, ssid=kid, school_year=YEAR, method="mail",
                                        delivered_on=released, recorded_by="me", now=NOW)
    assert not distribution.record_delivery(store_copy, ssid=kid, school_year=YEAR,
                                            method="mail", delivered_on=released,
                                            recorded_by="me", now=NOW)
    with pytest.raises(InputError, match="method fax: must be one of"):
        distribution.record_delivery(store_copy, ssid=kid, school_year=YEAR, method="fax",
                                     delivered_on=released, recorded_by="me")
    assert catalog(store_copy, "SELECT ssid, method, delivered_on, upload_id "
                               "FROM ssr_deliveries") == [(kid, "mail", released, None)]
    # No upload: nothing in the upload history.
    assert distribution.uploads(store_copy).height == 0
