"""Published measures from the summary's additive sums (ELPAC.md §4, UND-SA).

* Number enrolled, tested, tested with scores: counts.
* Mean scale score: sum of scale scores / number with that score (tested with scores).
* Standard error of the mean: sample standard deviation / sqrt(n); the error band is
  mean ± 1 standard error, as CERS draws it.
* Percent at a level: students at the level / students with any level *of that measure*
  (``{measure}_total``), times 100.
* Suppression (``suppress=True``): a row with fewer than ``threshold`` students tested with
  scores (zero too) keeps its enrolled and tested counts; every score cell becomes null and
  ``is_suppressed`` true (exports write ``*``). ELPAC.md §5: "no scores for any group with
  fewer than 11 students", so a group with no student tested with scores shows ``*`` rather
  than zeros. For an aggregate-only account a row is also suppressed when subtracting it from
  another row, or another from it, would give a smaller group's scores (complementary
  suppression, ``queries.suppression``).

Reports have tens to a few thousand rows, where NumPy on whole columns is much faster than
building a Polars query per call; the result is one Polars frame.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from data.results.summary import DOMAINS, MEASURES, METRIC_COLUMNS

SUPPRESSION_THRESHOLD = 11
"""No scores for groups with fewer than 11 students (ELPAC.md §5.1)."""

COUNT_COLUMNS = ("n_enrolled", "n_tested", "n_scored", "n_not_tested", "n_partial",
                 "n_exempt_domain")


def levels_of(test: str, measure: str) -> tuple[int, ...]:
    """Level numbers of a measure: 1-4, or 1-3 for domains and the Alternate."""
    return (1, 2, 3) if test == "alternate" or measure in DOMAINS else (1, 2, 3, 4)


def score_columns(test: str = "summative") -> list[str]:
    """Names of every score cell (what suppression blanks), for one test."""
    cols: list[str] = []
    for m in MEASURES:
        cols += [f"{m}_total", f"{m}_mean", f"{m}_se", f"{m}_band_low", f"{m}_band_high"]
        cols += [f"{m}_l{k}_{x}" for k in levels_of(test, m) for x in ("count", "pct")]
    for d in DOMAINS:
        cols += [f"{d}_total"] + [f"{d}_l{k}_{x}" for k in (1, 2, 3) for x in ("count", "pct")]
    return cols


def publish_arrays(sums: dict[str, np.ndarray], *, test: str = "summative",
                   suppress: bool = False, threshold: int = SUPPRESSION_THRESHOLD,
                   also_hidden: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Published columns (counts, measures, flags) from summed metric columns.

    Score cells are float arrays with NaN where there is no value or the row is suppressed;
    ``publish`` turns NaN into null. ``also_hidden`` suppresses more rows whatever their size
    (complementary suppression, ``queries.suppression``).
    """
    out: dict[str, np.ndarray] = {c: sums[c] for c in COUNT_COLUMNS}
    scored = sums["n_scored"]
    # Zero is fewer than the threshold too (ELPAC.md §5): its 0 counts and totals are hidden.
    hidden = scored < threshold if suppress else np.zeros(len(scored), bool)
    if also_hidden is not None:
        hidden = hidden | also_hidden
    with np.errstate(divide="ignore", invalid="ignore"):
        for m in MEASURES:
            n = sums[f"{m}_n"].astype(float)
            total, s, ss = sums[f"{m}_n"], sums[f"{m}_sum"].astype(float), sums[
                f"{m}_sumsq"].astype(float)
            mean = np.where(n > 0, s / n, np.nan)
            var = np.where(n > 1, (ss - s * s / np.where(n > 0, n, 1)) / (n - 1), np.nan)
            se = np.where(n > 1, np.sqrt(np.maximum(var, 0.0) / np.where(n > 0, n, 1)), np.nan)
            out[f"{m}_total"] = total
            out[f"{m}_mean"] = mean
            out[f"{m}_se"] = se
            out[f"{m}_band_low"] = mean - se
            out[f"{m}_band_high"] = mean + se
            for k in levels_of(test, m):
                count = sums[f"{m}_l{k}"]
                out[f"{m}_l{k}_count"] = count
                out[f"{m}_l{k}_pct"] = np.where(n > 0, count / n * 100, np.nan)
        for d in DOMAINS:
            n = sums[f"{d}_n"].astype(float)
            out[f"{d}_total"] = sums[f"{d}_n"]
            for k in (1, 2, 3):
                count = sums[f"{d}_l{k}"]
                out[f"{d}_l{k}_count"] = count
                out[f"{d}_l{k}_pct"] = np.where(n > 0, count / n * 100, np.nan)
    # Hidden rows blanked in one step over all score cells: per column, np.where cost 60
    # passes (3.4 ms for a statewide table's 11,000 rows, against 0.35 ms).
    cells = score_columns(test)
    block = np.empty((len(scored), len(cells)), order="F")
    for j, c in enumerate(cells):
        block[:, j] = out[c]
    block[hidden] = np.nan
    out.update({c: block[:, j] for j, c in enumerate(cells)})
    out["has_scores"] = scored > 0
    out["is_suppressed"] = hidden
    return out


INTEGER_SCORE_CELLS = ("_total", "_count")


def to_frame(columns: dict[str, object]) -> pl.DataFrame:
    """One Polars frame from published arrays: NaN -> null, counts back to integers."""
    series = []
    for name, values in columns.items():
        if isinstance(values, pl.Series):
            series.append(values.alias(name))
        elif isinstance(values, np.ndarray) and values.dtype.kind == "f":
            s = pl.Series(name, values, nan_to_null=True)
            if name.endswith(INTEGER_SCORE_CELLS):
                s = s.cast(pl.Int64)
            series.append(s)
        else:
            series.append(pl.Series(name, values))
    return pl.DataFrame(series)


def publish(sums: pl.DataFrame, *, test: str = "summative", suppress: bool = False,
            threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """Turn a frame of summed metric columns into published measures; keep other columns.

    Examples
    --------
    >>> import polars as pl
    >>> row = {c: 0 for c in METRIC_COLUMNS}
    >>> row.update(n_enrolled=3, n_tested=3, n_scored=2, overall_n=2, overall_sum=2900,
    ...            overall_sumsq=2 * 1450**2, overall_l2=2)
    >>> publish(pl.DataFrame([row])).select("overall_mean", "overall_se",
    ...                                     "overall_l2_pct").row(0)
    (1450.0, 0.0, 100.0)
    """
    arrays = {c: sums.get_column(c).to_numpy() for c in METRIC_COLUMNS}
    published = publish_arrays(arrays, test=test, suppress=suppress, threshold=threshold)
    others = {c: sums.get_column(c) for c in sums.columns if c not in METRIC_COLUMNS}
    return pl.concat([pl.DataFrame(list(others.values())), to_frame(published)],
                     how="horizontal") if others else to_frame(published)
