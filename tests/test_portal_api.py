"""Parent-portal hand-off: credentials (``data.catalog.portal_credentials``), the endpoint
(``elpac.portal_api``), the
``portal-credential`` commands and the dashboard's credential section.

The server runs in a thread on a private copy of the tiny store; requests go over loopback.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
import pytest
from pypdf import PdfReader
from sqlalchemy import text
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from data.catalog import audit
from data.catalog import portal_credentials as portal
from data.catalog.accounts import Accounts
from data.problems import InputError
from data.results.store import Store
from elpac.commands.portal import credentials_app
from elpac.portal_api import NOT_FOUND, PortalServer, make_server
from queries.labels import RECORD_TYPE_OF_TEST

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ADMIN = "lea.admin@example.org"


@dataclass(frozen=True)
class Picked:
    """A student with a Summative SSR in English and Spanish, their LEA, and an outsider."""

    lea: str
    ssid: str
    year: str
    other_lea: str
    other_ssid: str


@pytest.fixture(scope="module")
def picked(tiny_store_path: Path) -> Picked:
    files = Store(tiny_store_path).year_files()
    rows = pl.concat([
        pl.read_parquet(path, columns=["ssid", "enrolled_lea_code", "reporting_lea_code",
                                       "is_ssr_eligible", "overall_scale_score",
                                       "record_type", "ssr_languages"])
        .with_columns(school_year=pl.lit(year)) for year, path in files.items()])
    with_ssr = rows.filter(pl.col("is_ssr_eligible").fill_null(False)
                           & pl.col("overall_scale_score").is_not_null()
                           & (pl.col("record_type") == RECORD_TYPE_OF_TEST["summative"]))
    # read_ssr_content keeps the records the scope's organisations report.
    mine = (with_ssr.filter((pl.col("ssr_languages") == "ENG;SPA")
                            & (pl.col("enrolled_lea_code") == pl.col("reporting_lea_code")))
            .sort(["school_year", "ssid"], descending=[True, False]))
    ssid, lea, year = mine.select("ssid", "reporting_lea_code", "school_year").row(0)
    in_lea = rows.filter(pl.col("reporting_lea_code") == lea).get_column("ssid")
    # An SSR of another LEA's student: never reported by ours, in any year.
    outsider = (with_ssr.filter(~pl.col("ssid").is_in(in_lea.implode()))
                .sort("ssid").select("ssid", "reporting_lea_code").row(0))
    assert outsider[1] != lea
    return Picked(lea, ssid, year, outsider[1], outsider[0])


@pytest.fixture
def server(store_copy: Store) -> Iterator[PortalServer]:
    srv = make_server(store_copy.path)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def error(self) -> str:
        return json.loads(self.body)["error"]


def get(server: PortalServer, path: str, token: str | None = None,
        authorization: str | None = None) -> Reply:
    host, port = server.server_address[:2]
    con = http.client.HTTPConnection(str(host), int(port), timeout=60)
    try:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if authorization is not None:
            headers["Authorization"] = authorization
        con.request("GET", path, headers=headers)
        response = con.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read())
    finally:
        con.close()


def portal_entries(store: Store, lea: str) -> pl.DataFrame:
    return audit.read(store, users=[f"portal:{lea}"])


# -- the endpoint ----------------------------------------------------------------------------

def test_current_credential_fetches_pdf_and_html(server: PortalServer, picked: Picked) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    pdf = get(server, f"/ssr/{picked.ssid}?format=pdf&year={picked.year}", token)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert pdf.body.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf.body)).pages) == 2

    html = get(server, f"/ssr/{picked.ssid}?format=html&lang=SPA&year={picked.year}", token)
    assert html.status == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.headers["cache-control"] == "no-store"
    text = html.body.decode("utf-8")
    assert picked.ssid in text
    assert '<html lang="es"' in text

    entries = portal_entries(server.store, picked.lea)
    assert entries.height == 2
    assert entries.get_column("action").to_list() == ["export", "export"]
    assert entries.get_column("n_rows").to_list() == [1, 1]
    details = entries.get_column("detail").to_list()
    assert all(f"ssid={picked.ssid}" in d and f"year={picked.year}" in d for d in details)
    assert [d.split("; ")[0].rsplit(".", 1)[1] for d in details] == ["html", "pdf"]
    assert "lang=SPA" in details[0]


def test_default_is_the_newest_english_pdf(server: PortalServer, picked: Picked) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    reply = get(server, f"/ssr/{picked.ssid}", token)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/pdf"
    detail = portal_entries(server.store, picked.lea).get_column("detail")[0]
    assert "lang=ENG" in detail
    assert "test=summative" in detail


def test_concurrent_requests_share_the_catalog(server: PortalServer, picked: Picked) -> None:
    # Reads (credential, SSR languages) and writes (audit) of one process must take turns:
    # DuckDB refuses a writable connection beside a read-only one to the same file.
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    path = f"/ssr/{picked.ssid}?format=html&year={picked.year}"
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda _: get(server, path, token), range(6)))
    assert [r.status for r in replies] == [200] * 6
    assert portal_entries(server.store, picked.lea).height == 6


def test_only_the_last_credential_works(server: PortalServer, picked: Picked) -> None:
    first = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    second = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    path = f"/ssr/{picked.ssid}?format=html&year={picked.year}"
    old = get(server, path, first)
    assert old.status == 401
    assert old.headers["www-authenticate"].startswith("Bearer")
    assert get(server, path, second).status == 200
    assert portal.verify(server.store, first) is None
    assert portal.verify(server.store, second) == picked.lea


@pytest.mark.parametrize("authorization", [
    None,
    "Bearer ",
    "Bearer not-a-credential",
    "Bearer elpac_0123456789abcdef_" + "A" * 43,
    "Basic dXNlcjpwYXNz",
])
def test_missing_or_wrong_credential_is_401(server: PortalServer, picked: Picked,
                                            authorization: str | None) -> None:
    portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    reply = get(server, f"/ssr/{picked.ssid}?format=html", authorization=authorization)
    assert reply.status == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert reply.headers["content-type"] == "application/json"
    assert "Authorization: Bearer" in reply.error


def test_right_key_id_wrong_secret_is_401(server: PortalServer, picked: Picked) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert get(server, f"/ssr/{picked.ssid}?format=html", forged).status == 401


def test_other_leas_student_is_the_same_404_as_an_unknown_ssid(server: PortalServer,
                                                               picked: Picked) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    outsider = get(server, f"/ssr/{picked.other_ssid}?format=html", token)
    unknown = get(server, "/ssr/0000000000?format=html", token)
    assert outsider.status == unknown.status == 404
    assert outsider.body == unknown.body
    assert outsider.headers["content-type"] == unknown.headers["content-type"]
    assert outsider.error == NOT_FOUND
    # The other LEA's own credential does fetch it.
    theirs = portal.generate_credential(server.store, picked.other_lea, created_by=ADMIN)
    assert get(server, f"/ssr/{picked.other_ssid}?format=html", theirs).status == 200
    assert portal_entries(server.store, picked.lea).height == 0


def test_language_not_offered_is_404(server: PortalServer, picked: Picked) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    reply = get(server, f"/ssr/{picked.ssid}?format=html&lang=KOR&year={picked.year}", token)
    assert reply.status == 404
    assert reply.error == NOT_FOUND
    assert portal_entries(server.store, picked.lea).height == 0


def test_year_without_ssr_is_404(server: PortalServer, picked: Picked) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    reply = get(server, f"/ssr/{picked.ssid}?format=html&year=2019-20", token)
    assert (reply.status, reply.error) == (404, NOT_FOUND)


@pytest.mark.parametrize(("query", "sentence"), [
    ("format=docx", "format is pdf or html."),
    ("lang=XX", "lang is one of ENG, SPA, VIE, FIL, KOR, CHI."),
    ("test=interim", "test is summative or alternate."),
    ("year=2024", "year is a school year like 2024-25."),
    ("year=2024-26", "year is a school year like 2024-25."),
    ("format=pdf&format=html", "Give format once."),
    ("colour=red", "Unknown parameter 'colour': use format, lang, year and test."),
])
def test_bad_parameters_are_400(server: PortalServer, picked: Picked, query: str,
                                sentence: str) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    reply = get(server, f"/ssr/{picked.ssid}?{query}", token)
    assert (reply.status, reply.headers["content-type"]) == (400, "application/json")
    assert reply.error == sentence


def test_malformed_ssid_is_400(server: PortalServer, picked: Picked) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    reply = get(server, "/ssr/12345?format=html", token)
    assert (reply.status, reply.error) == (400, "An SSID is 10 digits.")


def test_health_needs_no_credential(server: PortalServer) -> None:
    reply = get(server, "/health")
    assert (reply.status, json.loads(reply.body)) == (200, {"status": "ok"})


def test_other_paths_and_methods(server: PortalServer, picked: Picked) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    assert get(server, "/students", token).status == 404
    assert get(server, "/students").status == 401  # no route is told to a stranger
    host, port = server.server_address[:2]
    con = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        con.request("POST", f"/ssr/{picked.ssid}", body=b"",
                    headers={"Authorization": f"Bearer {token}"})
        response = con.getresponse()
        assert (response.status, response.getheader("Allow")) == (405, "GET")
        response.read()
    finally:
        con.close()


def test_log_names_no_student_and_no_credential(server: PortalServer, picked: Picked,
                                                caplog: pytest.LogCaptureFixture) -> None:
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    with caplog.at_level(logging.INFO, logger="elpac.portal_api"):
        get(server, f"/ssr/{picked.ssid}?format=html&year={picked.year}", token)
        get(server, f"/ssr/{picked.other_ssid}?format=html", token)
        get(server, f"/ssr/{picked.ssid}?format=html", "wrong")
        # A malformed request line: http.server's own message would quote it.
        with socket.create_connection(server.server_address[:2], timeout=10) as sock:
            sock.sendall(f"GET /ssr/{picked.ssid} x y HTTP/1.1\r\n\r\n".encode())
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.0 400")
    text = caplog.text
    assert "<other path> 400" in text or "/ssr/<ssid> 400" in text
    assert "GET /ssr/<ssid> 200" in text
    assert "GET /ssr/<ssid> 404" in text
    assert "GET /ssr/<ssid> 401" in text
    for secret in (picked.ssid, picked.other_ssid, token, token.rsplit("_", 1)[1]):
        assert secret not in text


def test_a_failure_is_a_json_500_logged_without_its_message(
        server: PortalServer, picked: Picked, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_: object) -> str:
        raise RuntimeError(f"template failed for SSID {picked.ssid}")

    monkeypatch.setattr("elpac.portal_api.render_html", broken)
    token = portal.generate_credential(server.store, picked.lea, created_by=ADMIN)
    with caplog.at_level(logging.INFO, logger="elpac.portal_api"):
        reply = get(server, f"/ssr/{picked.ssid}?format=html&year={picked.year}", token)
    assert (reply.status, reply.error) == (500, "The report could not be made; try again "
                                                "later.")
    assert "GET /ssr/<ssid> failed: RuntimeError" in caplog.text
    assert picked.ssid not in caplog.text
    assert portal_entries(server.store, picked.lea).height == 0


# -- credentials -------------------------------------------------------------------------------

def test_only_a_hash_is_stored(store_copy: Store, picked: Picked) -> None:
    token = portal.generate_credential(store_copy, picked.lea, created_by=ADMIN)
    prefix, key_id, secret = token.split("_", 2)
    assert (prefix, len(key_id), len(secret)) == ("elpac", 16, 43)
    with store_copy.catalog.read() as con:
        rows = con.execute(text("SELECT * FROM portal_credentials")).all()
    assert len(rows) == 1
    lea, stored_key, digest, created_by, _ = rows[0]
    assert (lea, stored_key, created_by) == (picked.lea, key_id, ADMIN)
    assert digest.startswith("$argon2id$")
    assert token not in digest
    assert secret not in digest
    info = portal.credential_info(store_copy, picked.lea)
    assert info is not None
    assert (info.lea_code, info.key_id, info.created_by) == (picked.lea, key_id, ADMIN)
    assert secret not in repr(info)


def test_credential_info_and_verify_without_a_credential(store_copy: Store,
                                                        picked: Picked) -> None:
    # A store made before the portal (no table yet) and an LEA without a credential.
    assert portal.credential_info(store_copy, picked.lea) is None
    assert portal.verify(store_copy, "elpac_0123456789abcdef_" + "A" * 43) is None
    with pytest.raises(InputError, match="is not a 14-digit LEA code"):
        portal.generate_credential(store_copy, "1964733", created_by=ADMIN)


def test_credentials_are_per_lea(store_copy: Store, picked: Picked) -> None:
    ours = portal.generate_credential(store_copy, picked.lea, created_by=ADMIN)
    theirs = portal.generate_credential(store_copy, picked.other_lea, created_by=ADMIN)
    assert portal.verify(store_copy, ours) == picked.lea
    assert portal.verify(store_copy, theirs) == picked.other_lea


# -- the commands ------------------------------------------------------------------------------

def test_generate_and_show_commands(store_copy: Store, picked: Picked) -> None:
    store = ["--store", str(store_copy.path)]
    shown = CliRunner().invoke(credentials_app, ["show", "--lea", picked.lea, *store])
    assert (shown.exit_code, shown.stdout.strip()) == (
        0, f"LEA {picked.lea} has no parent-portal credential "
           "(elpac portal-credential generate makes one)")
    made = CliRunner().invoke(credentials_app, ["generate", "--lea", picked.lea, "--by",
                                                ADMIN, *store])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert portal.verify(store_copy, token) == picked.lea
    assert "will not be shown again" in made.stderr
    assert "every earlier credential" in made.stderr
    shown = CliRunner().invoke(credentials_app, ["show", "--lea", picked.lea, *store])
    assert shown.exit_code == 0
    assert f"elpac_{token.split('_')[1]}_…" in shown.stdout
    assert f"made by {ADMIN}" in shown.stdout
    assert token.split("_", 2)[2] not in shown.stdout


def test_generate_and_show_with_user_apply_the_accounts_rights(store_copy: Store,
                                                                picked: Picked) -> None:
    # queries.portal_credentials decides, as on the Score reports page.
    accounts = Accounts(store_copy)
    accounts.add("viewer@x.org", name="V", role="viewer", password="correct horse battery",
                 leas=(picked.lea,))
    accounts.add("coord@x.org", name="C", role="lea_admin", password="correct horse battery",
                 leas=(picked.lea,))
    store = ["--store", str(store_copy.path)]
    for command in ("generate", "show"):
        refused = CliRunner().invoke(credentials_app, [command, "--lea", picked.lea, "--user",
                                                       "viewer@x.org", *store])
        assert refused.exit_code == 1
        assert "credential" in refused.stderr
    made = CliRunner().invoke(credentials_app, ["generate", "--lea", picked.lea, "--user",
                                                "coord@x.org", *store])
    assert made.exit_code == 0, made.output
    assert portal.verify(store_copy, made.stdout.strip()) == picked.lea
    shown = CliRunner().invoke(credentials_app, ["show", "--lea", picked.lea, "--user",
                                                 "coord@x.org", *store])
    assert "made by coord@x.org" in shown.stdout


def test_generate_refuses_an_lea_without_results(store_copy: Store) -> None:
    made = CliRunner().invoke(credentials_app, ["generate", "--lea", "99999999999999",
                                                "--store", str(store_copy.path)])
    assert made.exit_code == 1
    assert made.stderr.strip() == ("error: the store has no results of LEA '99999999999999': "
                                   "check the 14-digit code")


# -- the dashboard section ---------------------------------------------------------------------

def _section(store_dir: str, lea: str) -> None:
    from dashboard.credentials_section import credential_section
    from data.results.store import Store
    from queries.access import User
    from queries.scope import Scope

    # The LEA's coordinator (queries.portal_credentials decides who may).
    admin = User("lea.admin@example.org", Scope.lea(lea, pii=True),
                 email="lea.admin@example.org", loads=True)
    credential_section(Store(store_dir), admin, lea, "Test Unified")


def test_credential_section_generates_after_confirmation(store_copy: Store,
                                                         picked: Picked) -> None:
    at = AppTest.from_function(_section, args=(str(store_copy.path), picked.lea),
                               default_timeout=30)
    at.run()
    assert not at.exception
    assert "Test Unified has no parent-portal credential yet." in at.info[0].value
    at.button(key="portal_generate").click().run()
    assert not at.exception
    assert portal.credential_info(store_copy, picked.lea) is None  # not before "Yes"
    at.button(key="portal_generate_yes").click().run()
    assert not at.exception
    token = at.code[0].value
    assert portal.verify(store_copy, token) == picked.lea
    assert "it will not be shown again" in at.warning[0].value
    info = portal.credential_info(store_copy, picked.lea)
    assert info is not None
    assert info.created_by == ADMIN
    assert any(f"elpac_{info.key_id}_…" in m.value for m in at.markdown)
    at.run()  # any later run: the credential is gone from the page
    assert not at.exception
    assert len(at.code) == 0
    # Cancel leaves the credential as it is.
    at.button(key="portal_generate").click().run()
    at.button(key="portal_generate_no").click().run()
    assert portal.verify(store_copy, token) == picked.lea
