"""Browser-test infrastructure: a live dashboard server and Debian's Chromium.

Modelled on Streamlit's ``e2e_playwright/conftest.py``: one server per session on a free
loopback port, started the way users start it (``elpac serve``), output to a log file that
failure messages include, ready when ``/_stcore/health`` answers ``ok``.

Every test in this directory is marked ``browser``. ``make test`` runs them in a pytest call
of their own, without xdist, so one server serves them all (xdist groups are ignored by
pytest 9.2 with pytest-xdist 3.8: pytest-xdist issue #1386).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from data.results.store import Store
from data.synth.demo_accounts import create_demo_accounts
from elpac.serving import serve_command, start, stop

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
"""Screenshots for people to look at (git-ignored)."""
BROWSER_DIR = Path(__file__).resolve().parent
STARTUP_TIMEOUT_S = 60
RUN_TIMEOUT_MS = 30_000
CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium (scripts/ensure-chromium installs it); never a downloaded browser."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


@contextlib.contextmanager
def _serving(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run ``elpac serve`` on ``store`` on a free loopback port; yield its base URL."""
    log_path = tmp_path_factory.mktemp("streamlit-server") / "server.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("ELPAC_SCOPE", None)
    with log_path.open("wb") as log:
        try:
            server, url = start(serve_command(store), log=log, env=env,
                                timeout_s=STARTUP_TIMEOUT_S)
        except RuntimeError as exc:
            pytest.fail(f"{exc}\n--- {log_path} ---\n{log_path.read_text(errors='replace')}")
    try:
        yield url
    finally:
        stop(server)


@pytest.fixture(scope="session")
def streamlit_server(tiny_store_path: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a dashboard serving the tiny demo store (no accounts: no sign-in)."""
    with _serving(tiny_store_path, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def accounts_store(tiny_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny store with the demo accounts (``elpac demo`` makes them)."""
    path = tmp_path_factory.mktemp("accounts-store") / "store"
    shutil.copytree(tiny_store_path, path)
    create_demo_accounts(Store(path))
    return path


@pytest.fixture(scope="session")
def accounts_server(accounts_store: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a dashboard whose store has accounts: every session must sign in."""
    with _serving(accounts_store, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(streamlit_server: str) -> str:
    """The live server, as the base of relative ``page.goto`` URLs.

    Overriding this fixture is also needed: without pytest-base-url, pytest-playwright 0.10.0
    supplies a fallback ``base_url`` defined as an instance method of a plugin class, which
    pytest 9.2 reports as ``PytestRemovedIn10Warning`` and ``filterwarnings = error`` turns into
    a setup error of every browser test.
    """
    return streamlit_server


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    """Launch Debian's Chromium headless (pytest-playwright's fixture, overridden)."""
    return {
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, object]) -> dict[str, object]:
    """A laptop screen (1280 x 900): the sidebar's pickers sit below a menu of eleven pages.

    In Playwright's default 1280 x 720 the LEA picker is half off screen, and opening its list
    scrolls the sidebar, which closes the list again.
    """
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def wait_for_app(page: Page) -> None:
    """Wait until the app is connected and its script has finished running.

    ``stApp`` reports ``data-test-script-state`` as ``initial``, ``running``, then
    ``notRunning`` (checked on Streamlit 1.67; ``stStatusWidget`` only appears after a delay,
    so it misses short runs).
    """
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED",
                                  timeout=RUN_TIMEOUT_MS)
    expect(app).to_have_attribute("data-test-script-state", "notRunning",
                                  timeout=RUN_TIMEOUT_MS)


def wait_for_paint(page: Page, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """Wait until no element is still a grey placeholder (``stSkeleton``).

    The script may have finished while the browser still loads an element's code: metrics,
    tables and pickers show as grey boxes until then, and a screenshot taken then shows them.
    """
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)


@pytest.fixture
def open_app(page: Page, streamlit_server: str) -> Callable[[str], Page]:
    """Open a dashboard URL path (``""`` for the default page) and wait for its first run."""

    def _open(path: str = "") -> Page:
        page.goto(f"{streamlit_server}/{path}")
        wait_for_app(page)
        return page

    return _open


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Save a screenshot of the whole page to ``test-artifacts/NAME.png``; return its path.

    Streamlit scrolls inside its main container, so Playwright's ``full_page`` alone stops at
    the viewport: grow the viewport to the content's height first.
    """

    def _shoot(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        height = page.evaluate(
            "() => Math.max(...['stMain', 'stAppViewContainer']"
            ".map(id => document.querySelector(`[data-testid=\"${id}\"]`)?.scrollHeight ?? 0))"
        )
        viewport = page.viewport_size or {"width": 1280, "height": 720}
        page.set_viewport_size({"width": viewport["width"],
                                "height": max(viewport["height"], int(height))})
        wait_for_app(page)
        wait_for_paint(page)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        page.set_viewport_size(viewport)
        return path

    return _shoot
