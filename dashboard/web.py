"""The dashboard as served: Streamlit's app plus the two routes that keep a sign-in in a cookie.

``elpac serve`` runs this file (``streamlit run dashboard/web.py``: Streamlit finds ``app``
and serves it with its own routes, OpenID Connect's included). A Streamlit script cannot set
an HttpOnly cookie, so a sign-in on the dashboard's form sends the browser once to
``/auth/session`` with a one-time hand-off, and that route sets the cookie and returns to the
page the user was on. ``/auth/sign-out`` ends the session everywhere and clears the cookie.

The cookie is HttpOnly (no script can read it), SameSite=Strict (no other site's page can send
it), Secure when the dashboard is reached over HTTPS, and lasts until the browser closes; the
session behind it also ends after the idle limit.

``/download/<token>`` streams a file a page built (``queries.downloads``) from disk, so a large
extract is never held in the server's memory. Smaller files a download button makes on click
are kept a few minutes after Streamlit lets go of them (``dashboard.media_files``), so another
session's run cannot delete one before the browser fetches it.

Routes are plain functions: Starlette runs them in its thread pool, so their catalog reads do
not hold up other requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from streamlit.starlette import App

from dashboard.media_files import linger_downloads
from queries.accounts import has_accounts
from queries.downloads import find_download, record_fetch
from queries.sessions import (
    COOKIE,
    end_session,
    idle_limit,
    safe_next,
    session_account,
    take_hand_off,
)
from queries.store import open_store

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request
    from streamlit.runtime import Runtime

APP_SCRIPT = Path(__file__).with_name("app.py")


def session(request: Request) -> Response:
    """Exchange a fresh hand-off for the session cookie; go back to where the user was."""
    cookie = take_hand_off(open_store(), request.query_params.get("h", ""))
    response = _back(request)
    if cookie is not None:
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", path="/",
                            secure=_secure(request))
    return response


def sign_out(request: Request) -> Response:
    """End the browser's session everywhere and clear its cookie."""
    end_session(open_store(), cookie=request.cookies.get(COOKIE))
    response = _back(request)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_secure(request))
    return response


def download(request: Request) -> Response:
    """Stream a built file to the browser that may have it; else say it is gone."""
    store = open_store()
    requester = None
    if has_accounts(store):  # a file an account built is that account's only
        requester = session_account(store, cookie=request.cookies.get(COOKIE),
                                    idle=idle_limit()) or ""
    found = find_download(store.path, request.path_params["token"], requester=requester)
    if found is None:
        return PlainTextResponse("This download is no longer here (files are kept for an hour) "
                                 "or is not yours: build it again on its page.",
                                 status_code=404, headers=_PRIVATE)
    record_fetch(store, found)
    return FileResponse(found.path, filename=found.name, headers=_PRIVATE,
                        content_disposition_type="attachment")


_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _back(request: Request) -> RedirectResponse:
    # 303: the browser follows with a GET, and the hand-off link leaves no history entry.
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _secure(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a TLS proxy)."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


ROUTES = [Route("/auth/session", session, methods=["GET"]),
          Route("/auth/sign-out", sign_out, methods=["GET", "POST"]),
          Route("/download/{token}", download, methods=["GET"])]
app = App(APP_SCRIPT, routes=ROUTES)


def _with_lingering_downloads(create: Callable[[], Runtime]) -> Callable[[], Runtime]:
    return lambda: linger_downloads(create())


# A subclass of App cannot be used: `streamlit run` recognises only a literal `App(...)` here
# (with a subclass it served a blank page). So the instance's runtime factory is wrapped.
app._create_runtime = _with_lingering_downloads(app._create_runtime)  # type: ignore[method-assign]  # noqa: SLF001

