"""Imports flow one way: ``dashboard`` -> ``queries`` -> ``data`` (STYLE.md, rule 1).

``data/`` and ``queries/`` must run without Streamlit (the CLI, the benchmarks and the tests
use them), a lower layer never imports a higher one, and the dashboard reaches ``data/`` only
through ``queries/`` (issue 10: what it needs from below, refusals and labels included, has a
``queries`` name). No module uses another module's private (``_x``) names: a helper another
module needs is made public where it belongs. Tests may (monkeypatching is fine).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN: dict[str, set[str]] = {
    "data": {"streamlit", "queries", "dashboard"},
    "queries": {"streamlit", "dashboard"},
    "dashboard": {"data"},
}
"""Layer -> top-level packages its modules must not import."""

PACKAGES = ("data", "queries", "documents", "dashboard", "elpac")
"""The project's own code, where no module may use another's private names."""


def imported_packages(source: str, module: str) -> set[str]:
    """Top-level packages a module's source imports, anywhere in it (functions included).

    ``module`` is the dotted name of the module (``data.results.store``), used to resolve relative
    imports such as ``from ..queries import x``.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")[: -node.level]
                target = ".".join([*package, node.module or ""]).strip(".")
                if not target:  # `from .. import x` above the top-level package
                    found.update(alias.name for alias in node.names)
                    continue
            else:
                target = node.module or ""
            found.add(target.partition(".")[0])
    return found


def layer_modules() -> list[tuple[str, Path]]:
    return [(layer, path) for layer in FORBIDDEN for path in sorted((ROOT / layer).rglob("*.py"))]


def module_name(path: Path) -> str:
    # A package's __init__ keeps its own name segment, so `from . import x` in data/__init__.py
    # resolves to `data`, as it does in data/results/store.py.
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_every_layer_has_modules() -> None:
    # Guard against the parametrised test below passing because it found nothing to check.
    layers = {layer for layer, _ in layer_modules()}
    assert layers == set(FORBIDDEN)
    assert (ROOT / "queries" / "store_summary.py").exists()


@pytest.mark.parametrize(
    ("layer", "path"),
    layer_modules(),
    ids=[str(path.relative_to(ROOT)) for _, path in layer_modules()],
)
def test_layer_imports_only_downward(layer: str, path: Path) -> None:
    imported = imported_packages(path.read_text(encoding="utf-8"), module_name(path))
    bad = sorted(imported & FORBIDDEN[layer])
    assert not bad, f"{path.relative_to(ROOT)} imports {', '.join(bad)} (STYLE.md rule 1)"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import streamlit as st", "queries.x", {"streamlit"}),
        ("import streamlit.components.v1", "queries.x", {"streamlit"}),
        ("from streamlit.testing.v1 import AppTest", "data.x", {"streamlit"}),
        ("def f():\n    import streamlit\n", "data.x", {"streamlit"}),
        ("from queries.store_summary import read_store_summary", "data.x", {"queries"}),
        ("from ..dashboard import cached", "queries.x", {"dashboard"}),
        ("from .. import dashboard", "queries.x", {"dashboard"}),
        ("from .store import Store", "data.x", {"data"}),
        ("from . import store", "data.__init__", {"data"}),
        ("import polars as pl\nfrom data.results.store import Store", "queries.x",
         {"polars", "data"}),
    ],
)
def test_imported_packages_finds_every_form(source: str, module: str,
                                            expected: set[str]) -> None:
    assert imported_packages(source, module) == expected


@pytest.mark.parametrize("layer", ["data", "queries", "dashboard"])
def test_no_python_functions_inside_polars(layer: str) -> None:
    # A Python function run by Polars (map_elements, map_batches) needs the GIL inside Polars'
    # thread pool: twenty dashboard sessions drawing a page at once deadlocked on one.
    # Format or compute in Python after Polars, or with Polars expressions.
    offenders = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("map_elements",
                                                                  "map_batches"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(source: str, module: str) -> set[str]:
    """Other modules' private names a module uses: ``from m import _x``, or ``m._x`` where
    ``m`` is a name it imported (a module, or a class or function from one).

    Returned as ``module._x``, resolved as :func:`imported_packages` resolves relative
    imports. A module's own private names, and dunder names, are not counted.
    """
    tree = ast.parse(source)
    found: set[str] = set()
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")[: -node.level]
                target = ".".join([*package, node.module or ""]).strip(".")
            else:
                target = node.module or ""
            for alias in node.names:
                if _private(alias.name):
                    found.add(f"{target}.{alias.name}")
                imported[alias.asname or alias.name] = f"{target}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.partition(".")[0]
                imported[local] = alias.name if alias.asname else local
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in imported):
            found.add(f"{imported[node.value.id]}.{node.attr}")
    return found


def project_modules() -> list[Path]:
    return [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


def test_no_module_uses_another_modules_private_names() -> None:
    uses = sorted(f"{path.relative_to(ROOT)}: {name}" for path in project_modules()
                  for name in private_uses(path.read_text(encoding="utf-8"), module_name(path)))
    assert uses == [], "make each helper public in the module where it belongs"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from queries.reports import _grades, read_report", "queries.x",
         {"queries.reports._grades"}),
        ("from .cli import _snapshot as snap", "elpac.distribution_cli", {"elpac.cli._snapshot"}),
        ("from queries import reports\nreports._row_groups(1)", "queries.x",
         {"queries.reports._row_groups"}),
        ("import data.catalog.audit as audit\naudit._tables()", "queries.x",
         {"data.catalog.audit._tables"}),
        ("from data.results.store import Store\nStore._lock", "queries.x",
         {"data.results.store.Store._lock"}),
        ("def f():\n    from dashboard import cached\n    return cached._store_at('x')",
         "dashboard.x", {"dashboard.cached._store_at"}),
        # Not counted: one's own private names, dunders, attributes of local values.
        ("def _own():\n    pass\n_own()", "queries.x", set()),
        ("from queries import scope\nscope.__doc__", "queries.x", set()),
        ("def f(store):\n    return store._lock()", "data.x", set()),
    ],
)
def test_private_uses_finds_every_form(source: str, module: str, expected: set[str]) -> None:
    assert private_uses(source, module) == expected
