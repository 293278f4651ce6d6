"""Shared fixtures: everything is built by the project's own seeded generator (no ../shared)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from data.catalog.accounts import Account
from data.results.store import Store
from data.synth.demo_accounts import create_demo_accounts
from data.synth.generator import DemoSpec, build_demo, generate_files

# Property tests: reproducible in CI, exploring on a developer's machine. Each test's own
# @settings keeps its example count and deadline; a profile sets only what is left. Loaded here,
# before any test module, because @settings copies the profile when the module is imported.
# "ci" (CI set, as .ci/run does): the same examples every run, from a hash of the test, so a
# red CI is the code's doing and reruns identically; no timing health check on a shared machine.
settings.register_profile("ci", settings.get_profile("ci"), derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
# "default": new random examples every run, failures kept in .hypothesis/ and replayed first,
# and a failure prints the @reproduce_failure blob that replays it anywhere.
settings.register_profile("default", settings.get_profile("default"), print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

TINY = DemoSpec(students=600, years="2018-19..2025-26", seed=7)
"""Small but complete: every layout year, Alternate, NT, partial, EXD, movers, NPS."""


@pytest.fixture(scope="session")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """TOMS files of the tiny demo, by school year (read-only: copy before changing)."""
    directory = tmp_path_factory.mktemp("tiny-files")
    return {year: paths for year, paths, *_ in generate_files(TINY, directory) if paths}


@pytest.fixture(scope="session")
def tiny_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the tiny demo (read-only: use ``store_copy`` to change one)."""
    path = tmp_path_factory.mktemp("tiny-store") / "store"
    build_demo(TINY, Store(path), echo=lambda _: None)
    return path


SPRING_2020 = DemoSpec(students=400, years="2018-19..2020-21", seed=5, spring_2020=True)
"""A store with 2019-20 loaded (the students tested before testing stopped in March 2020)."""


@pytest.fixture(scope="session")
def spring_2020_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding ``SPRING_2020`` (read-only)."""
    path = tmp_path_factory.mktemp("spring-2020-store") / "store"
    build_demo(SPRING_2020, Store(path), echo=lambda _: None)
    return path


@pytest.fixture
def store_copy(tiny_store_path: Path, tmp_path: Path) -> Store:
    """A private copy of the tiny store that a test may change."""
    target = tmp_path / "store"
    shutil.copytree(tiny_store_path, target)
    return Store(target)


@pytest.fixture
def demo(store_copy: Store) -> dict[str, Account]:
    """The demo accounts of a private tiny store, by role."""
    return {a.role: a for a in create_demo_accounts(store_copy)}


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path``: equal digests mean a byte-identical store."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def digest() -> Callable[[Path], dict[str, str]]:
    """The ``tree_digest`` function, as a fixture."""
    return tree_digest


def pytest_unconfigure(config: pytest.Config) -> None:
    """Clean up what libraries keep for the whole process, before the interpreter exits.

    Left to the exit, each prints a ``ResourceWarning: Implicitly cleaning up
    <TemporaryDirectory ...>`` traceback after pytest's summary line:

    * Streamlit's AppTest module makes ``TMP_DIR`` when imported and never cleans it up;
    * kaleido's sync server (``dashboard.charts`` starts one per process for chart images)
      holds a Chromium and two temporary directories until its own atexit hook, which cleans
      them in time only if it happens to run before weakref's (atexit order is import order).
    """
    kaleido = sys.modules.get("kaleido")
    if kaleido is not None:
        kaleido.stop_sync_server(silence_warnings=True)
    app_test = sys.modules.get("streamlit.testing.v1.app_test")
    if app_test is not None:
        app_test.TMP_DIR.cleanup()
