"""The parent-portal hand-off: an HTTP endpoint an SIS vendor's portal fetches SSRs from.

``GET /ssr/<SSID>?format=pdf|html&lang=ENG|SPA|VIE|FIL|KOR|CHI&year=2024-25&test=summative``
with ``Authorization: Bearer <credential>`` answers one student's Student Score Report. The
credential (``data.catalog.portal_credentials``) belongs to one LEA, and that LEA is the whole
scope of the
request: a student the LEA does not report, an unknown SSID, a year or test without an SSR and
a language the student's SSR is not made in all get the same 404, so the answer says nothing
about students of other LEAs. ``GET /health`` needs no credential.

Standard library only (``http.server``), on the loopback interface by default: expose it
through a TLS reverse proxy, never as plain HTTP. Every SSR served is in the audit log
(user ``portal:<LEA>``); the request log has the method, the route, the client and the status,
never an SSID or a credential.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from data.catalog import audit
from data.catalog import portal_credentials as portal
from data.domain import spring_year
from data.problems import InputError
from data.results.store import Store, store_path
from documents.i18n import LOCALES
from documents.ssr import file_name, languages_of, render_html, render_pdf
from queries.access import describe_scope
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.ssr_documents import NoReportError, read_ssr_content

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

LOG = logging.getLogger("elpac.portal_api")
DEFAULT_PORT = 8600
FORMATS = ("pdf", "html")
TESTS = ("summative", "alternate")
PRINTERS = 2
"""PDFs printed at once: each is a headless Chromium (~0.6 s, a few hundred MB)."""
NOT_FOUND = ("There is no Student Score Report for this student, school year, test and "
             "language.")
UNAUTHORISED = ("A current parent-portal credential is needed: send it as "
                "'Authorization: Bearer <credential>'.")
_SSR_PATH = re.compile(r"/ssr/([^/]*)")
_SSID = re.compile(r"[0-9]{10}")


class _BadRequest(ValueError):
    """A parameter the portal sent is wrong (400, with this sentence)."""


class PortalServer(ThreadingHTTPServer):
    """The HTTP server: one thread per request, one store."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: Store) -> None:
        super().__init__(address, PortalHandler)
        self.store = store
        # One DuckDB process may not hold the catalog read-only and writable at once
        # ("different configuration" error), so every catalog use in here takes turns.
        self.catalog_lock = threading.Lock()
        self.printers = threading.BoundedSemaphore(PRINTERS)
        self._snap: Snapshot | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` the server listens on."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def snapshot(self) -> Snapshot:
        """The store's committed data (a new load is picked up); call with ``catalog_lock``."""
        version = self.store.version()
        if self._snap is None or self._snap.version != version:
            self._snap = Snapshot(self.store, version)
        return self._snap

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log an unexpected error by its type only: its message might name a student."""
        LOG.error("request from %s failed: %s", client_address[0],
                  type(sys.exc_info()[1]).__name__)


class PortalHandler(BaseHTTPRequestHandler):
    """Answers ``/health`` and ``/ssr/<SSID>``."""

    server: PortalServer
    server_version = "elpac-portal"
    timeout = 30  # seconds to send a request: a silent client does not keep a thread
    _status: int | str = "-"

    def version_string(self) -> str:
        """The ``Server`` header: the name only (no Python version to advertise)."""
        return self.server_version

    # -- routing -------------------------------------------------------------------------
    def do_GET(self) -> None:
        """Answer a GET request; a failure is a JSON 503 or 500, never a traceback."""
        try:
            self._get()
        except InputError as exc:  # the store is missing, busy or of an older version
            LOG.error("%s %s: store unavailable: %s", self.command, self._route(), exc)
            self._json(HTTPStatus.SERVICE_UNAVAILABLE,
                       {"error": "The results store is not available; try again later."})
        except Exception as exc:  # logged by type only: its message may name a student
            LOG.error("%s %s failed: %s", self.command, self._route(), type(exc).__name__)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR,
                       {"error": "The report could not be made; try again later."})

    def _get(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/health":
            self._json(HTTPStatus.OK, {"status": "ok"})
            return
        token = self._bearer()
        with self.server.catalog_lock:
            lea = portal.verify(self.server.store, token) if token else None
        if lea is None:
            error = ', error="invalid_token"' if token else ""
            self._json(HTTPStatus.UNAUTHORIZED, {"error": UNAUTHORISED},
                       {"WWW-Authenticate": f'Bearer realm="elpac-portal"{error}'})
            return
        found = _SSR_PATH.fullmatch(parts.path)
        if found is None:
            self._json(HTTPStatus.NOT_FOUND,
                       {"error": "Not found: the portal answers GET /ssr/<SSID>."})
            return
        self._ssr(lea, found.group(1), parts.query)

    def _refuse(self) -> None:
        self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "The portal answers GET only."},
                   {"Allow": "GET"})

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    # -- the SSR -------------------------------------------------------------------------
    def _ssr(self, lea: str, ssid: str, query: str) -> None:
        try:
            fmt, language, year, test = _options(ssid, query)
        except _BadRequest as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        scope = Scope.lea(lea, pii=True)
        try:
            with self.server.catalog_lock:
                content = read_ssr_content(self.server.snapshot(), ssid, scope=scope,
                                           year=year, test=test)
        except NoReportError:
            content = None
        if content is None or language not in languages_of(content):
            self._json(HTTPStatus.NOT_FOUND, {"error": NOT_FOUND})
            return
        if fmt == "html":
            body = render_html(content, language).encode("utf-8")
            kind = "text/html; charset=utf-8"
        else:
            try:
                with self.server.printers:
                    body = render_pdf(content, language)
            except InputError as exc:  # no Chromium on this machine
                LOG.error("cannot print PDFs: %s", exc)
                self._json(HTTPStatus.SERVICE_UNAVAILABLE,
                           {"error": "PDFs cannot be printed here now; ask for format=html."})
                return
            kind = "application/pdf"
        name = file_name(content, language, fmt)
        with self.server.catalog_lock:
            audit.record(self.server.store, f"portal:{lea}", "export",
                         scope=describe_scope(scope), n_rows=1,
                         detail=f"{name}; portal ssr ssid={content.ssid} "
                                f"year={content.school_year} test={test} lang={language}")
        self._send(HTTPStatus.OK, body, kind, {
            "Content-Disposition": f'inline; filename="{name}"',
            # The SSR is self-contained: no script, no fetch.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        })

    # -- requests and responses ----------------------------------------------------------
    def _bearer(self) -> str | None:
        scheme, _, token = (self.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    def _json(self, status: HTTPStatus, payload: dict[str, str],
              headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json", headers)

    def _send(self, status: HTTPStatus, body: bytes, kind: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    # -- logging: method, route, client and status; never an SSID or a credential ---------
    def _route(self) -> str:
        path = urlsplit(getattr(self, "path", "") or "").path
        if path == "/health":
            return path
        return "/ssr/<ssid>" if path.startswith("/ssr/") else "<other path>"

    def send_response(self, code: int, message: str | None = None) -> None:
        """Send the status line (and note the status for the log line)."""
        self._status = int(code)
        super().send_response(code, message)

    def log_error(self, format: str, *args: Any) -> None:
        """Nothing: http.server's error messages quote the request line (an SSID)."""

    def log_message(self, format: str, *args: Any) -> None:
        """One line per request, built from the method, route and status only."""
        LOG.info("%s %s %s %s", self.address_string(), getattr(self, "command", None) or "-",
                 self._route(), self._status)


def _one(params: dict[str, list[str]], name: str, default: str | None) -> str | None:
    values = params.pop(name, [])
    if len(values) > 1:
        raise _BadRequest(f"Give {name} once.")
    return values[0].strip() if values else default


def _options(ssid: str, query: str) -> tuple[str, str, str | None, str]:
    """The format, language, school year and test asked for; ``_BadRequest`` if wrong."""
    if not _SSID.fullmatch(ssid):
        raise _BadRequest("An SSID is 10 digits.")
    params = parse_qs(query, keep_blank_values=True)
    fmt = (_one(params, "format", "pdf") or "").lower()
    language = (_one(params, "lang", "ENG") or "").upper()
    year = _one(params, "year", None)
    test = (_one(params, "test", "summative") or "").lower()
    if params:
        raise _BadRequest(f"Unknown parameter {sorted(params)[0]!r}: use format, lang, year "
                          "and test.")
    if fmt not in FORMATS:
        raise _BadRequest(f"format is {' or '.join(FORMATS)}.")
    if language not in LOCALES:
        raise _BadRequest(f"lang is one of {', '.join(LOCALES)}.")
    if test not in TESTS:
        raise _BadRequest(f"test is {' or '.join(TESTS)}.")
    if year is not None:
        try:
            spring_year(year)
        except ValueError:
            raise _BadRequest("year is a school year like 2024-25.") from None
    return fmt, language, year or None, test


def make_server(store: str | Path | None = None, host: str = "127.0.0.1", port: int = 0
                ) -> PortalServer:
    """A server bound to ``host:port`` (0: a free port) on a store; not yet serving.

    Raises ``InputError`` if there is no store there.
    """
    the_store = Store(store_path(store))
    if not the_store.exists():
        raise InputError(f"no store at {the_store.path}: run `elpac demo` or `elpac ingest` "
                         "first")
    the_store.check_schema()
    return PortalServer((host, port), the_store)


def serve(store: str | Path | None = None, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          *, announce: Callable[[PortalServer], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C), logging one line per request to standard error.

    ``announce`` is called with the server once it listens (to print its address). Raises
    ``InputError`` without a store and ``OSError`` if the address cannot be bound.
    """
    server = make_server(store, host, port)
    if announce is not None:
        announce(server)
    if not LOG.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
