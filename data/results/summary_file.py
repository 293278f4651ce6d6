"""The summary on disk: small zstd-compressed Arrow batches, and an index of each organisation.

A year's summary (``data.results.summary``) is written as three *cuts*, each an Arrow IPC file
sorted by ``KEYS`` with an index of every organisation's rows (``<cut>_index.parquet``):

* ``summary``: every cell;
* ``headline``: all students (group 001), every grade;
* ``totals``: all students, all grades: one row per organisation and test, what a statewide
  table of every LEA and school reads.

A report reads the smallest cut that holds its groups and grades, finds its organisations'
rows in the index, and decompresses only the batches (``BATCH_ROWS`` rows) those rows are in.

Narrow and compressed (issue 14: 317 MB a year uncompressed, the store's largest part):

* a row holds no organisation: the index says which rows are whose (a file is sorted by them);
* its student group and grade are dictionary-encoded, one byte each;
* metrics one metric predicts are stored as what the prediction misses (``encode``), almost
  always 0: ``n_tested`` as ``n_enrolled - n_tested``, a measure's ``_n`` as ``_n`` minus its
  level counts, a ``_sumsq`` as ``_sumsq - floor(_sum ** 2 / _n)`` (``n`` times the variance);
* each column takes the narrowest integer type its values fit, and the batches are zstd
  compressed.

Measured on the statewide 2024-25 year (1.49 M cells): 317 MB before, 48 MB now; a batch of
8,192 rows decompresses in about 2 ms on two busy cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc

from data.results.summary import (
    ALL_GRADES,
    DOMAINS,
    HEADLINE_GROUP,
    INDEX_KEYS,
    MEASURES,
    METRIC_COLUMNS,
)

if TYPE_CHECKING:
    from pathlib import Path

BATCH_ROWS = 8192
"""Rows per compressed batch. Each column of a batch is compressed apart, and the cost per
column dominated small batches: with 2,048 rows a statewide table by ethnicity (1.1 M cells)
spent 1.2 s decompressing, three times the uncompressed file's whole report. An LEA's cells
(about 1,000) still span one or two batches (47.8 MB a statewide year, 51.1 MB with 2,048)."""
CUTS = ("summary", "headline", "totals")
"""The cuts of a year's summary, largest first; a report reads the last that holds its rows."""
WHOLE_CUTS = ("headline", "totals")
"""Cuts whose batches are decoded whole when read (``SummaryCut.decode_whole``)."""
ENCODING = "residuals-1"
"""Schema metadata naming how metrics are stored (``encode``), checked when a file is opened."""


def cut_of(groups: set[str], grades: set[str]) -> str:
    """The smallest cut holding every cell of ``groups`` x ``grades``.

    Examples
    --------
    >>> cut_of({"001"}, {"13"}), cut_of({"001"}, {"05", "13"}), cut_of({"001", "004"}, {"13"})
    ('totals', 'headline', 'summary')
    """
    if groups <= {HEADLINE_GROUP}:
        return "totals" if grades <= {ALL_GRADES} else "headline"
    return "summary"


def _cut(summary: pl.DataFrame, cut: str) -> pl.DataFrame:
    if cut == "summary":
        return summary
    headline = summary.filter(pl.col("group_id") == HEADLINE_GROUP)
    return headline if cut == "headline" else headline.filter(pl.col("grade") == ALL_GRADES)


# -- metrics as residuals --------------------------------------------------------------------

def _floor_square_over(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``floor(s * s / n)`` exactly in int64 (0 where ``n`` is 0), without overflowing.

    ``s * s`` alone would overflow past 3 billion (a measure's sum over 1.5 M students);
    ``s * (s // n) + s * (s % n) // n`` stays below ``s * n``.
    """
    safe = np.where(n > 0, n, 1)
    q, r = np.divmod(s, safe)
    return np.where(n > 0, s * q + (s * r) // safe, 0)


def _residual_plan() -> list[tuple[str, str, tuple[str, ...]]]:
    """Each predicted metric as (column, how, from), in decoding order.

    ``minus`` stores ``from[0] - column``; ``over`` stores ``column`` minus the sum of
    ``from``; ``square`` stores ``column - floor(from[0] ** 2 / from[1])``. Each column's
    ``from`` is decoded before it.
    """
    plan = [("n_tested", "minus", ("n_enrolled",)), ("n_scored", "minus", ("n_tested",))]
    for m in MEASURES:
        plan += [(f"{m}_n", "over", tuple(f"{m}_l{k}" for k in (1, 2, 3, 4))),
                 (f"{m}_sumsq", "square", (f"{m}_sum", f"{m}_n"))]
    plan += [(f"{d}_n", "over", tuple(f"{d}_l{k}" for k in (1, 2, 3))) for d in DOMAINS]
    return plan


_PLAN = _residual_plan()
_AT = {c: i for i, c in enumerate(METRIC_COLUMNS)}


def encode(values: np.ndarray) -> np.ndarray:
    """Metric columns (int64, ``METRIC_COLUMNS`` order) as stored: residuals where predicted."""
    out = values.copy(order="F")  # column by column: each column contiguous
    for column, how, source in _PLAN:
        i, src = _AT[column], [_AT[s] for s in source]
        if how == "minus":
            out[:, i] = values[:, src[0]] - values[:, i]
        elif how == "over":
            out[:, i] = values[:, i] - values[:, src].sum(axis=1)
        else:
            out[:, i] = values[:, i] - _floor_square_over(values[:, src[0]], values[:, src[1]])
    return out


def decode(stored: np.ndarray) -> np.ndarray:
    """The metric columns back from ``encode``'s: the inverse, in place (int64)."""
    for column, how, source in _PLAN:
        i, src = _AT[column], [_AT[s] for s in source]
        if how == "minus":
            stored[:, i] = stored[:, src[0]] - stored[:, i]
        elif how == "over":
            stored[:, i] += stored[:, src].sum(axis=1)
        else:
            stored[:, i] += _floor_square_over(stored[:, src[0]], stored[:, src[1]])
    return stored


# -- writing ---------------------------------------------------------------------------------

def _narrowest(low: int, high: int) -> type[np.signedinteger]:
    """The narrowest integer type that holds every value from ``low`` to ``high``."""
    for kind in (np.int8, np.int16, np.int32):
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            return kind
    return np.int64


def _check_exact(low: np.ndarray, high: np.ndarray, path: Path) -> None:
    """Refuse values ``decode`` could not give back exactly (int64 overflow; never seen).

    ``low`` and ``high`` are each metric's least and greatest value. ``_floor_square_over``
    stays exact while a sum times its count is below 2**63: a sum of scale scores over 65
    million students.
    """
    for m in MEASURES:
        s, n = _AT[f"{m}_sum"], _AT[f"{m}_n"]
        if int(low[s]) < 0 or int(high[s]) * int(high[n]) >= 2**62:
            raise ValueError(f"the summary's {m} sums cannot be stored exactly in {path.name}")


def _dictionary(column: pl.Series, labels: list[str]) -> pa.DictionaryArray:
    # An empty mapping gives the strings back, which are no codes: an empty summary's.
    codes = (column.replace_strict(labels, list(range(len(labels))), return_dtype=pl.Int8)
             if labels else pl.Series(column.name, [], pl.Int8))
    return pa.DictionaryArray.from_arrays(codes.to_arrow(), pa.array(labels, pa.string()))


WRITE_PIECES = 16
"""A cut is encoded this many pieces at a time (whole batches each), not whole at once: the
statewide summary's metrics as int64 are 0.5 GB, and encoding held three copies (issue 14)."""


def _pieces(frame: pl.DataFrame, batches_per_piece: int | None) -> list[pl.DataFrame]:
    """``frame`` in pieces of whole batches (``WRITE_PIECES`` of them unless told)."""
    n_batches = -(-frame.height // BATCH_ROWS)
    per = batches_per_piece or max(1, -(-n_batches // WRITE_PIECES))
    rows = per * BATCH_ROWS
    return [frame.slice(start, rows) for start in range(0, frame.height, rows)] or [frame]


def _metrics(piece: pl.DataFrame) -> np.ndarray:
    return piece.select(pl.col(METRIC_COLUMNS).cast(pl.Int64)).to_numpy(order="fortran")


def _bounds(pieces: list[pl.DataFrame]) -> np.ndarray:
    """Each metric's least and greatest value, then as stored (``encode``): 4 rows.

    All 0 for no rows, which the narrowest type holds.
    """
    found = []
    for piece in pieces:
        if piece.height:
            values = _metrics(piece)
            stored = encode(values)
            found.append(np.stack([values.min(axis=0), values.max(axis=0),
                                   stored.min(axis=0), stored.max(axis=0)]))
    if not found:
        return np.zeros((4, len(METRIC_COLUMNS)), np.int64)
    every = np.stack(found)
    return np.stack([every[:, 0].min(axis=0), every[:, 1].max(axis=0),
                     every[:, 2].min(axis=0), every[:, 3].max(axis=0)])


def write_cut(frame: pl.DataFrame, path: Path, *,
              batches_per_piece: int | None = None) -> list[Path]:
    """Write one cut (sorted by ``KEYS``) and its index; return both paths.

    Two passes over the cut's pieces (``_pieces``): the first finds each stored column's
    narrowest type over every piece, the second encodes and writes each piece in it, so the
    file is the one the whole cut encoded at once would give, without holding that.
    """
    pieces = _pieces(frame, batches_per_piece)
    raw_low, raw_high, low, high = _bounds(pieces)
    _check_exact(raw_low, raw_high, path)
    kinds = [_narrowest(int(a), int(b)) for a, b in zip(low, high, strict=True)]
    labels = {c: frame.get_column(c).unique().sort().to_list() for c in ("group_id", "grade")}
    schema = pa.schema(
        [pa.field(c, pa.dictionary(pa.int8(), pa.string())) for c in labels]
        + [pa.field(c, pa.from_numpy_dtype(k)) for c, k in zip(METRIC_COLUMNS, kinds,
                                                                  strict=True)],
        metadata={"encoding": ENCODING, "batch_rows": str(BATCH_ROWS)})
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema,
                                                             options=options) as writer:
        for piece in pieces:
            stored = encode(_metrics(piece))
            table = pa.Table.from_arrays(
                [_dictionary(piece.get_column(c), labels[c]) for c in labels]
                + [pa.array(stored[:, j].astype(k)) for j, k in enumerate(kinds)],
                schema=schema)
            del stored
            for batch in table.to_batches(max_chunksize=BATCH_ROWS):
                writer.write_batch(batch)
    index = (frame.select(INDEX_KEYS).with_row_index("start")
             .group_by(INDEX_KEYS, maintain_order=True)
             .agg(pl.col("start").min(), (pl.col("start").max() + 1).alias("stop")))
    index_path = index_file(path)
    index.write_parquet(index_path, compression="zstd")
    return [path, index_path]


def write_summary(summary: pl.DataFrame, directory: Path) -> list[Path]:
    """Write every cut of a year's summary (``build_summary``'s frame) into ``directory``."""
    return [p for cut in CUTS for p in write_cut(_cut(summary, cut), directory / f"{cut}.arrow")]


def index_file(path: Path) -> Path:
    """The index beside a cut's file."""
    return path.with_name(path.stem + "_index.parquet")


# -- reading ---------------------------------------------------------------------------------

def org_key() -> pl.Expr:
    """One string naming an organisation (level, county, LEA, school).

    A join on one column instead of four: 1.2 ms against 1.7 ms for 11,000 organisations.
    """
    return pl.concat_str(list(INDEX_KEYS[1:]), separator="|").alias("key")


@dataclass(frozen=True)
class Batch:
    """One decompressed batch: each row's group and grade (dictionary codes) and metrics.

    The metric columns are kept as stored (narrow, residuals); ``values`` decodes the rows a
    report takes.
    """

    groups: np.ndarray
    grades: np.ndarray
    columns: tuple[np.ndarray, ...]
    """One per ``METRIC_COLUMNS`` entry, as stored (views of the decompressed buffers)."""
    decoded: np.ndarray | None = None
    """Every row decoded at once, rows contiguous (``SummaryCut.decode_whole``)."""

    @property
    def nbytes(self) -> int:
        """Memory held."""
        return (self.groups.nbytes + self.grades.nbytes + sum(c.nbytes for c in self.columns)
                + (0 if self.decoded is None else self.decoded.nbytes))

    def values(self, rows: np.ndarray) -> np.ndarray:
        """The metrics of some rows, decoded (int64, one column per ``METRIC_COLUMNS`` entry).

        Only the rows asked for are decoded: a statewide table by ethnicity takes one row
        in eight of the batches it reads.
        """
        if self.decoded is not None:
            return self.decoded[rows]
        out = np.empty((len(rows), len(self.columns)), dtype=np.int64, order="F")
        for j, column in enumerate(self.columns):
            out[:, j] = column[rows]
        return decode(out)


class SummaryCut:
    """One cut of a year's summary, opened: its index, and its batches one at a time.

    The file is memory-mapped: only the compressed batches read are paged in.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reader = pa.ipc.open_file(pa.memory_map(str(path)))
        meta = self._reader.schema.metadata or {}
        if meta.get(b"encoding") != ENCODING.encode():
            raise ValueError(f"{path} is not a summary this version can read")
        self.batch_rows = int(meta[b"batch_rows"])
        self.n_batches = self._reader.num_record_batches
        self.index = pl.read_parquet(index_file(path))
        # The small cuts serve most reports (every statewide table, every longitudinal one):
        # their batches are decoded once and kept so; the full one decodes rows on demand.
        self.decode_whole = path.stem in WHOLE_CUTS
        self._keyed: dict[str, pl.DataFrame] = {}
        self._by_key: dict[str, pl.DataFrame] = {}
        self.group_ids: list[str] = []
        self.grades: list[str] = []
        if self.n_batches:
            first = self._reader.get_batch(0)
            self.group_ids = first.column("group_id").dictionary.to_pylist()
            self.grades = first.column("grade").dictionary.to_pylist()

    def find(self, record_type: str, keys: pl.Series) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
        """Where the rows of organisations (``org_key`` values) of one test are.

        Returns the positions in ``keys`` the cut has rows for, and their start and stop
        rows. A binary search in the index sorted by key: a dictionary of every organisation
        held 9 MB of Python objects a cut (issue 14: the engine's memory).
        """
        table = self._by_key.get(record_type)
        if table is None:
            table = self.keyed(record_type).sort("key")
            self._by_key[record_type] = table
        column = table.get_column("key")
        if column.len() == 0 or keys.len() == 0:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty
        at = np.minimum(column.search_sorted(keys, side="left").to_numpy(), column.len() - 1)
        hit = np.flatnonzero((column.gather(at) == keys).to_numpy())
        at = at[hit]
        return (hit.astype(np.int64), table.get_column("start").to_numpy()[at].astype(np.int64),
                table.get_column("stop").to_numpy()[at].astype(np.int64))

    def keyed(self, record_type: str) -> pl.DataFrame:
        """``key`` (``org_key``), ``start`` and ``stop`` of every organisation of a test."""
        found = self._keyed.get(record_type)
        if found is None:
            found = self.index.filter(pl.col("record_type") == record_type).select(
                org_key(), "start", "stop")
            self._keyed[record_type] = found
        return found

    def batch(self, i: int) -> Batch:
        """Batch ``i``, decompressed (its metrics still as stored)."""
        raw = self._reader.get_batch(i)
        batch = Batch(_numpy(raw.column("group_id").indices),
                      _numpy(raw.column("grade").indices),
                      tuple(_numpy(raw.column(c)) for c in METRIC_COLUMNS))
        if not self.decode_whole:
            return batch
        every = np.arange(len(batch.groups))
        return Batch(batch.groups, batch.grades, (), np.ascontiguousarray(batch.values(every)))


def _numpy(array: pa.Array) -> np.ndarray:
    """An integer column without nulls as a NumPy view of its buffer.

    ``pa.Array.to_numpy`` imports pandas on first use: 0.3 s and 40 MB of a report process.
    """
    if not pa.types.is_signed_integer(array.type) or array.null_count:
        raise ValueError(f"a summary column is {array.type} with nulls: not this layout")
    dtype = np.dtype(f"int{array.type.bit_width}")
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset
                         * dtype.itemsize)
