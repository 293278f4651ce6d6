"""README.md is a contract (STYLE.md rule 9; as datasette's ``tests/test_docs.py``).

Every page in the dashboard's ``st.navigation``, every command of the ``elpac`` CLI and every
metric has its README entry. Each check derives its list from the code (``dashboard/app.py``,
the typer app, ``METRICS`` and what ``queries.metrics`` publishes), never from a list kept
here, and its message says what is missing and where to add it. Each check is also fed a
README without one entry, so a check that cannot fail is caught too.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import typer.core
import typer.main

from data.results.summary import DOMAINS, MEASURES, METRIC_COLUMNS, METRICS
from elpac.cli import app as cli_app
from queries.metrics import levels_of, publish_arrays

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
APP = ROOT / "dashboard" / "app.py"

PAGES_SECTION = "The dashboard"
CLI_SECTION = "The command line"
METRICS_SECTION = "Report definitions"
COLUMNS_HEADER = "columns"


def section(readme: str, heading: str) -> str:
    """The text under ``## heading`` up to the next ``## `` heading ("" if there is none)."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    return match.group(1) if match else ""


# -- pages ----------------------------------------------------------------------------------

class Page(NamedTuple):
    """A dashboard page as ``st.Page`` declares it."""

    title: str
    url_path: str
    default: bool

    @property
    def address(self) -> str:
        """Where the browser shows it: the default page at the root (Streamlit ignores its
        url_path there)."""
        return "/" if self.default else f"/{self.url_path}"


def navigation_pages(source: str) -> list[Page]:
    """Every ``st.Page(...)`` of the router's source, with its literal title and url_path."""
    pages = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Page"):
            continue
        args = {k.arg: k.value for k in node.keywords}
        for name in ("title", "url_path"):
            if not isinstance(args.get(name), ast.Constant):
                raise AssertionError(
                    f"st.Page({ast.unparse(node.args[0])}, ...) in dashboard/app.py has no "
                    f"literal {name}=: give it one (the README names every page by its title "
                    "and address, and shared links depend on them)")
        default = args.get("default")
        pages.append(Page(args["title"].value, args["url_path"].value,
                          isinstance(default, ast.Constant) and default.value is True))
    return pages


def missing_pages(readme: str, pages: list[Page]) -> list[str]:
    """A sentence for each page without a ``**Title** (`/address`...`` entry in the README."""
    text = section(readme, PAGES_SECTION)
    return [f"dashboard page {p.title!r} (st.Page in dashboard/app.py, at {p.address}) has no "
            f"entry in README.md: under '## {PAGES_SECTION}', describe it starting "
            f"**{p.title}** (`{p.address}`, who may see it): what it is for and what it shows"
            for p in pages
            if not re.search(rf"\*\*{re.escape(p.title)}\*\*\s+\([^)]*`{re.escape(p.address)}`",
                             text)]


# -- command line ---------------------------------------------------------------------------

def cli_commands(app: typer.Typer) -> list[tuple[str, ...]]:
    """Every command path of the typer app (``("export", "students")``), hidden ones left out."""
    paths: list[tuple[str, ...]] = []

    def walk(group: typer.core.TyperGroup, path: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            if command.hidden:
                continue
            if isinstance(command, typer.core.TyperGroup):
                walk(command, (*path, name))
            else:
                paths.append((*path, name))

    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    walk(root, ())
    return paths


def documented_commands(readme: str) -> set[tuple[str, ...]]:
    """Command paths the command-line section's code block shows.

    A line is ``elpac COMMAND ...`` or ``elpac GROUP SUB ...``; one line may show several
    subcommands as ``a|b ...`` or ``a ... | b ...``.
    """
    out: set[tuple[str, ...]] = set()
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", section(readme, CLI_SECTION), re.M | re.S):
        for line in block.splitlines():
            words = line.split()
            if len(words) < 2 or words[0] != "elpac":
                continue
            out.add((words[1],))
            # The word after the group, and each word after a lone "|".
            heads = words[2:3] + [w for before, w in itertools.pairwise(words[2:])
                                  if before == "|"]
            out |= {(words[1], name) for head in heads for name in head.split("|")}
    return out


def missing_commands(readme: str, commands: list[tuple[str, ...]]) -> list[str]:
    """A sentence for each command path with no line in the README's command-line block."""
    shown = documented_commands(readme)
    return [f"`{command}` (a command of elpac.cli.app) has no line in README.md's "
            f"'## {CLI_SECTION}' code block: add `{command} ...` with its arguments and "
            "options there"
            for command in (" ".join(("elpac", *path)) for path in commands if path not in shown)]


# -- metrics --------------------------------------------------------------------------------

def declared_metrics() -> dict[str, str]:
    """Each metric the code declares, with where: the summary's sums and published measures."""
    declared = {name: "data/results/summary.py METRICS" for name, _, _ in METRICS}
    sums = {c: np.zeros(0, np.int64) for c in METRIC_COLUMNS}
    for test in ("summative", "alternate"):
        for name in publish_arrays(sums, test=test):
            declared.setdefault(name, "published by queries/metrics.py publish_arrays")
    return declared


PLACEHOLDERS = {"measure": MEASURES, "domain": DOMAINS,
                "k": tuple(str(k) for k in levels_of("summative", "overall"))}
"""What ``{measure}``, ``{domain}`` and ``{k}`` stand for in the table's columns cells."""


def documented_metrics(readme: str) -> dict[str, re.Pattern[str]]:
    """The column names in the columns cells of the Report definitions table, as patterns."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section(readme, METRICS_SECTION).splitlines() if line.startswith("|")]
    if not rows or COLUMNS_HEADER not in rows[0]:
        return {}
    at = rows[0].index(COLUMNS_HEADER)
    patterns = {}
    for row in rows[2:]:  # after the header and its --- line
        for name in re.findall(r"`([^`]+)`", row[at] if at < len(row) else ""):
            regex = re.escape(name)
            for key, values in PLACEHOLDERS.items():
                regex = regex.replace(re.escape(f"{{{key}}}"), f"(?:{'|'.join(values)})")
            patterns[name] = re.compile(regex)
    return patterns


def missing_metrics(readme: str, declared: dict[str, str]) -> list[str]:
    """A sentence for each declared metric no columns cell of the README's table names."""
    patterns = documented_metrics(readme).values()
    return [f"metric `{name}` ({where}) has no row in README.md's '## {METRICS_SECTION}' "
            f"table: name it in the '{COLUMNS_HEADER}' cell of the row that defines it "
            "(`{measure}`, `{domain}` and `{k}` stand for each measure, domain and level), "
            "or add a row"
            for name, where in declared.items()
            if not any(p.fullmatch(name) for p in patterns)]


# -- the contract ---------------------------------------------------------------------------

def test_every_page_has_a_readme_entry() -> None:
    pages = navigation_pages(APP.read_text(encoding="utf-8"))
    assert pages, ("found no st.Page(...) in dashboard/app.py: point tests/test_docs.py at "
                   "where the pages are declared now")
    missing = missing_pages(README, pages)
    assert not missing, "\n".join(missing)


def test_every_cli_command_has_a_readme_line() -> None:
    commands = cli_commands(cli_app)
    assert commands
    missing = missing_commands(README, commands)
    assert not missing, "\n".join(missing)


def test_every_metric_has_a_report_definitions_row() -> None:
    declared = declared_metrics()
    assert {"n_enrolled", "overall_sumsq", "overall_mean", "reading_l3_pct"} <= set(declared)
    missing = missing_metrics(README, declared)
    assert not missing, "\n".join(missing)


def test_every_name_in_the_columns_cells_is_a_metric() -> None:
    # The other way round: a renamed or removed metric leaves no stale name in the table.
    declared = declared_metrics()
    stale = [name for name, pattern in documented_metrics(README).items()
             if not any(pattern.fullmatch(metric) for metric in declared)]
    assert not stale, (f"README.md's '## {METRICS_SECTION}' table names columns no metric "
                       f"has: {stale}; rename or remove them there")


# -- each check can fail --------------------------------------------------------------------

def test_a_page_without_its_entry_or_with_another_address_is_reported() -> None:
    pages = navigation_pages(APP.read_text(encoding="utf-8"))
    for page in pages:
        untitled = README.replace(f"**{page.title}**", page.title)
        assert missing_pages(untitled, pages) == missing_pages(untitled, [page])
        assert len(missing_pages(untitled, [page])) == 1
        moved = README.replace(f"`{page.address}`", f"`{page.address}-old`")
        assert missing_pages(moved, [page]) != []
    [message] = missing_pages(README.replace("**Custom report**", "Custom report"), pages)
    assert message.startswith("dashboard page 'Custom report' (st.Page in dashboard/app.py, "
                              "at /report) has no entry in README.md: under '## The dashboard'")


def test_a_page_without_a_literal_title_is_refused() -> None:
    with pytest.raises(AssertionError, match="no literal title="):
        navigation_pages('P = st.Page("app_pages/x.py", title=TITLE, url_path="x")')


def _cli_readme(commands: list[tuple[str, ...]]) -> str:
    lines = "\n".join(" ".join(("elpac", *path, "[--store DIR]")) for path in commands)
    return f"# x\n\n## {CLI_SECTION}\n\n```sh\n{lines}\n```\n\n## Next\n"


def test_a_cli_command_without_its_line_is_reported() -> None:
    commands = cli_commands(cli_app)
    assert missing_commands(_cli_readme(commands), commands) == []
    for path in commands:
        others = [p for p in commands if p != path]
        [message] = missing_commands(_cli_readme(others), commands)
        assert message.startswith(f"`{' '.join(('elpac', *path))}` (a command of elpac.cli.app)")
    # In the real README: a subcommand sharing a line with others, and a command of its own.
    assert missing_commands(README.replace("coverage --year Y", "--year Y"),
                            [("ssr-delivery", "coverage")]) != []
    assert missing_commands(README.replace("elpac loads ", "elpac "), [("loads",)]) != []


def test_a_metric_without_its_row_is_reported() -> None:
    declared = declared_metrics()
    readme = README.replace("`is_suppressed`", "")
    [message] = missing_metrics(readme, declared)
    assert message.startswith("metric `is_suppressed` (published by queries/metrics.py")
    readme = README.replace("`{measure}_sumsq`", "")
    assert [m.split("`")[1] for m in missing_metrics(readme, declared)] == [
        f"{m}_sumsq" for m in MEASURES]
    no_column = README.replace(f"| {COLUMNS_HEADER} |", "| code |")
    assert len(missing_metrics(no_column, declared)) == len(declared)


def test_hidden_commands_and_groups_need_no_line() -> None:
    app, group = typer.Typer(), typer.Typer()
    app.command("shown")(lambda: None)
    app.command("old-name", hidden=True)(lambda: None)
    group.command("sub")(lambda: None)
    group.command("secret", hidden=True)(lambda: None)
    app.add_typer(group, name="group")
    app.add_typer(group, name="alias", hidden=True)  # as an old name kept for scripts
    assert sorted(cli_commands(app)) == [("group", "sub"), ("shown",)]
