"""The Students page's score-history chart (dashboard/student_profile.history_chart).

Its level bands must read without telling hues apart: the report charts' single-hue blue
ramp (lighter to darker with the level) and patterns, and each band named on the chart.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import pytest

from dashboard.chart_labels import BLUES, PATTERNS
from dashboard.student_profile import history_chart
from queries.labels import ALTERNATE_LEVELS, SUMMATIVE_LEVELS


def history(record_type: str, cuts: list[tuple[int, ...]], scores: list[int | None]
            ) -> pl.DataFrame:
    """A score history as ``queries.students.score_history`` gives it (the chart's columns)."""
    edges = ["min_scale_score", "level_2_from", "level_3_from",
             *(["level_4_from"] if record_type == "21" else []), "max_scale_score"]
    years = [f"{2021 + i}-{22 + i}" for i in range(len(scores))]
    return pl.DataFrame({"school_year": years, "record_type": [record_type] * len(years),
                         "overall_scale_score": scores,
                         **{e: [c[i] for c in cuts] for i, e in enumerate(edges)}},
                        schema_overrides={"overall_scale_score": pl.Int16})


def bands(fig: go.Figure) -> list[go.Bar]:
    return [t for t in fig.data if t.type == "bar"]


@pytest.mark.parametrize(("record_type", "names", "cuts", "scores"), [
    ("21", SUMMATIVE_LEVELS, [(1150, 1434, 1481, 1530, 1950), (1150, 1448, 1493, 1542, 1950)],
     [1470, 1520]),
    # The Alternate's top two bands are narrow: their names must not sit on each other.
    ("23", ALTERNATE_LEVELS, [(300, 344, 360, 400), (300, 544, 560, 600)], [336, 551]),
])
def test_level_bands_read_without_colour(record_type: str, names: tuple[str, ...],
                                         cuts: list[tuple[int, ...]],
                                         scores: list[int]) -> None:
    fig = history_chart(history(record_type, cuts, scores), record_type)
    k = len(names)

    # One hue, lightness ordered by level, and a pattern: as every level chart draws them.
    assert [b.marker.color for b in bands(fig)] == list(BLUES[k])
    assert [b.marker.pattern.shape or "" for b in bands(fig)] == list(PATTERNS[k])
    assert [b.name for b in bands(fig)] == [f"Level {i}: {n}" for i, n in enumerate(names, 1)]
    # Each band named on the chart (beside the latest year), in level order, apart.
    notes = [(a.text, a.y) for a in fig.layout.annotations]
    assert [t for t, _ in notes] == [f"{i} {n}" for i, n in enumerate(names, 1)]
    bottom, top = fig.layout.yaxis.range
    ys = [y for _, y in notes]
    assert all(bottom <= y <= top for y in ys)
    assert all(b - a >= (top - bottom) / 20 for a, b in zip(ys, ys[1:], strict=False))
    # A label sits on its own band where the band is wide enough to hold it.
    latest = cuts[-1]
    for i, (_, y) in enumerate(notes):
        low, high = max(latest[i], bottom), min(latest[i + 1], top)
        if high - low > (top - bottom) / 10:
            assert low <= y <= high, names[i]
    # The score line is black (dark over every band), with its numbers on it.
    (line,) = [t for t in fig.data if t.type == "scatter"]
    assert line.line.color == "#000000"
    assert list(line.y) == scores
    assert list(line.text) == [str(s) for s in scores]


def test_no_pastel_traffic_lights() -> None:
    fig = history_chart(history("21", [(1150, 1434, 1481, 1530, 1950)], [1500]), "21")
    reds_and_greens = {"#f4cccc", "#fce5cd", "#d9ead3", "#b6d7a8"}
    assert not {b.marker.color for b in bands(fig)} & reds_and_greens
