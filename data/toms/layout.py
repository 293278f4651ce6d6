"""The Student Score Data File's yearly layouts: header names in file order, matched to fields.

``data/toms/layouts/<year>.txt`` lists each yearly layout's headers in file order and maps each
header to a canonical field (headers change every year; ELPAC.md §3.1 "Layout stability").
What each canonical field is lives in ``data.toms.field_catalogue``. Here: reading those files,
choosing the layout a file's header row matches, the fields kept in ``extra_fields`` and the
layout as a table for ``elpac layout``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from data.toms.field_catalogue import FIELDS, Field, Kind, field_for


@dataclass(frozen=True)
class Layout:
    """One school year's file layout: headers in file order and their canonical fields."""

    year: str
    headers: tuple[str, ...]
    canonical: tuple[str | None, ...]
    """Canonical field per header; None for a blank filler column."""
    source: str
    note: str = ""
    """What a reader of this year's file must know (its ``# Note:`` line), or nothing."""

    @property
    def fields(self) -> list[Field]:
        """The canonical fields of this layout, in file order (fillers left out)."""
        return [field_for(c) for c in self.canonical if c is not None]


def _read_layout(year: str) -> Layout:
    text = resources.files("data.toms").joinpath(f"layouts/{year}.txt").read_text(encoding="utf-8")
    headers: list[str] = []
    canonical: list[str | None] = []
    source = note = ""
    for line in text.splitlines():
        if line.startswith("# Source:"):
            source = line.removeprefix("# Source:").strip().rstrip(".")
        if line.startswith("# Note:"):
            note = line.removeprefix("# Note:").strip()
        if not line or line.startswith("#"):
            continue
        header, _, canon = line.partition("\t")
        canon = canon or header
        headers.append(header)
        canonical.append(None if canon == "-" else canon)
    return Layout(year, tuple(headers), tuple(canonical), source, note)


LAYOUT_YEARS: tuple[str, ...] = ("2018-19", "2019-20", "2020-21", "2021-22", "2022-23", "2023-24",
                                 "2024-25")
"""Years with a layout of their own; later years are read with the newest one, by header name
[unconfirmed]. 2019-20 (testing stopped in March 2020) has no FinalTested... block: see
``data.toms.tested_blocks``."""


@cache
def layout(year: str) -> Layout:
    """The layout that files of ``year`` are written in (newest earlier layout if none).

    Examples
    --------
    >>> len(layout("2024-25").headers)
    376
    >>> len(layout("2019-20").headers)
    293
    >>> layout("2025-26").year
    '2024-25'
    """
    if year in LAYOUT_YEARS:
        return _read_layout(year)
    if year < LAYOUT_YEARS[0]:
        raise KeyError(f"no Student Score Data File layout before {LAYOUT_YEARS[0]}")
    earlier = [y for y in LAYOUT_YEARS if y <= year]
    return layout(earlier[-1])


def all_layouts() -> list[Layout]:
    """Every known layout, oldest first."""
    return [layout(y) for y in LAYOUT_YEARS]


def header_key(header: str) -> str:
    """Compare headers ignoring case, spaces and a byte-order mark."""
    return re.sub(r"\s+", "", header.replace("\ufeff", "")).casefold()


@cache
def _layout_keys() -> tuple[list[tuple[Layout, frozenset[str], dict[str, str | None]]],
                            dict[str, str]]:
    per_layout = []
    for lay in reversed(all_layouts()):  # newest first wins ties
        by_key = {header_key(h): c for h, c in zip(lay.headers, lay.canonical, strict=True)}
        per_layout.append((lay, frozenset(by_key), by_key))
    # Any layout's name for a canonical field is accepted too, so a file with a renamed column
    # still maps (the 2018-19 descriptive names collide with later "Blank" names, hence the
    # chosen layout's own names take precedence).
    every = {header_key(h): c for other in all_layouts()
             for h, c in zip(other.headers, other.canonical, strict=True) if c is not None}
    every.update({header_key(c): c for c in FIELDS})
    return per_layout, every


def match_layout(headers: list[str]) -> tuple[Layout, dict[str, str | None], list[str]]:
    """Find the layout whose header names best match a file's header row.

    Returns the layout, a map from each header the file has to its canonical field (None for
    fillers), and the headers no layout knows. Columns may be in any order.
    """
    keys = [header_key(h) for h in headers]
    per_layout, every = _layout_keys()
    best = max(per_layout, key=lambda item: sum(k in item[1] for k in keys))
    lay, _, by_key = best
    mapping: dict[str, str | None] = {}
    unknown: list[str] = []
    for header, key in zip(headers, keys, strict=True):
        if key in by_key:
            mapping[header] = by_key[key]
        elif key in every:
            mapping[header] = every[key]
        else:
            unknown.append(header)
    return lay, mapping, unknown


@cache
def extra_field_names() -> tuple[str, ...]:
    """Canonical fields kept verbatim in ``extra_fields``, in a fixed order (every layout's)."""
    names: list[str] = []
    seen: set[str] = set()
    for lay in all_layouts():
        for c in lay.canonical:
            if c is None or c in seen:
                continue
            seen.add(c)
            if not field_for(c).store and c != "EndofRecord":
                names.append(c)
    return tuple(names)


def _values_text(kind: Kind) -> str:
    if kind.values:
        return ", ".join(kind.values) + ("" if kind.name == "end" else "; blank")
    return kind.description


def layout_table(year: str) -> list[dict[str, str]]:
    """The layout of ``year`` as rows: position, header, canonical field, type, values, meaning.

    This is the "file layout with field descriptions and acceptable values" an LEA hands to its
    SIS vendor; ``elpac layout`` prints it as Markdown or CSV.
    """
    lay = layout(year)
    rows: list[dict[str, str]] = []
    for pos, (header, canon) in enumerate(zip(lay.headers, lay.canonical, strict=True), 1):
        if canon is None:
            rows.append({"position": str(pos), "header": header, "field": "", "type": "filler",
                         "acceptable_values": "blank", "meaning": "Blank filler column",
                         "store_column": ""})
            continue
        f = field_for(canon)
        rows.append({
            "position": str(pos), "header": header, "field": canon, "type": f.kind.name,
            "acceptable_values": f.kind.description if f.kind.name == "enum" and f.kind.description
            != "one of the listed codes" else _values_text(f.kind),
            "meaning": f.meaning + (" (required)" if f.required else ""),
            "store_column": f.store or (f"(fills {f.fallback_for} when the locked copy is "
                                        "missing)" if f.fallback_for else "extra_fields"),
        })
    return rows
