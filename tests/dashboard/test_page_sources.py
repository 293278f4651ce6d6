"""No page prints a stray string: Streamlit's magic writes any bare string statement.

A docstring under a constant (``X = 1`` then ``\"\"\"...\"\"\"``) is a habit from modules, but in a
page script it appears on the page. Only the module docstring (first statement) is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).resolve().parents[2] / "dashboard" / "app_pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_bare_string_after_the_docstring(page: Path) -> None:
    body = ast.parse(page.read_text(encoding="utf-8")).body
    stray = [node.lineno for node in body[1:] if isinstance(node, ast.Expr)
             and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)]
    assert stray == [], f"{page.name}: bare strings at lines {stray} would show on the page"
