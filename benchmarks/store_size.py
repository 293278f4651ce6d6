"""The store's size on disk by kind of file (issue 14: the statewide 8-year store, aim 1 GB).

Every file under the store counts once, however many data versions link it; what the current
version links is split by kind, everything else (old versions a reader still pins, files a
crashed load left) is "other versions".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.results.store import Store

if TYPE_CHECKING:
    from pathlib import Path

KINDS = (("records", ("part-0.parquet",)),
         ("rows not current", ("not_current.parquet",)),
         ("summaries", ("summary", "headline", "totals")),
         ("organisations and SSR counts", ("orgs.parquet", "ssr.parquet")))


def _kind(name: str) -> str:
    for kind, starts in KINDS:
        if name.startswith(starts):
            return kind
    return "other"


def store_sizes(path: str | Path) -> dict[str, int]:
    """Bytes on disk per kind: ``KINDS``, ``loads``, ``catalog``, ``other versions``."""
    store = Store(path)
    seen: set[tuple[int, int]] = set()
    sizes: dict[str, int] = {}

    def add(kind: str, file: Path) -> None:
        stat = file.stat()
        if (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            sizes[kind] = sizes.get(kind, 0) + stat.st_blocks * 512

    for year_file in store.year_files().values():
        for file in year_file.parent.iterdir():
            add(_kind(file.name), file)
    for file in sorted(p for p in store.path.rglob("*") if p.is_file()):
        parts = file.relative_to(store.path).parts
        # loads/: a store of schema 9 or older, before `elpac store upgrade`.
        kind = {"loads": "loads", "data": "other versions"}.get(parts[0], "catalog")
        add(kind, file)
    return sizes


def size_line(path: str | Path) -> str:
    """One line: the total and each kind, in MB."""
    sizes = store_sizes(path)
    order = [k for k, _ in KINDS] + ["other", "loads", "catalog", "other versions"]
    parts = ", ".join(f"{k} {sizes[k] / 1e6:,.0f} MB" for k in order if sizes.get(k))
    return f"store on disk: {sum(sizes.values()) / 1e6:,.0f} MB ({parts})"


def store_size_lines(path: str | Path, label: str) -> list[str]:
    """``size_line`` under ``label`` (the demo's store, the statewide store)."""
    return [f"{label} {size_line(path)}"]
