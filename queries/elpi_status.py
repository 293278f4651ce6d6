"""The ELPI of an organisation or group: rate, status, change, colour (ELPI.md §4), exactly.

Everything is worked out on whole numbers: the rate is ``progress / (counted + adjustment)``
and every cut point is compared as ``100 * progress >= cut * denominator``, so a school at
exactly 45 % is Medium whatever binary floating point would make of 45/100. The change is
``current rate - prior rate``, both unrounded (§4), compared the same way.

Choices where the guide leaves room, each written here once and tested:

* change edges [unconfirmed in the guide's headings, §4]: the prose, symmetric: more than 10
  points either way is significant, 2 to 10 (both included) is Declined or Increased, less
  than 2 either way is Maintained;
* the participation adjustment (§4): when an organisation's EL enrolment is 30 or more and
  fewer than 95 % of it tested, the students short of 95 % are added to the denominator,
  rounded up to whole students [unconfirmed rounding];
* a change needs a status in both years (11 or more counted each year); without one there is
  no colour either [our reading: the Dashboard gives a colour from status and change].
"""

from __future__ import annotations

import numpy as np

STATUS_CUTS: tuple[tuple[str, int], ...] = (
    ("Very Low", 0), ("Low", 35), ("Medium", 45), ("High", 55), ("Very High", 65))
"""Status from the rate (ELPI.md §4): each status from its cut (percent) up to the next."""
NO_DATA = "No Data"
"""The status of fewer than ``MIN_STATUS`` students counted (§4)."""
CHANGE_LEVELS: tuple[str, ...] = ("Declined Significantly", "Declined", "Maintained",
                                  "Increased", "Increased Significantly")
CHANGE_EDGES = (2, 10)
"""Points of change: under 2 is Maintained; 2 to 10 Declined/Increased; over 10 significant."""
COLOURS: dict[str, tuple[str, str, str, str, str]] = {
    "Very High": ("Yellow", "Green", "Blue", "Blue", "Blue"),
    "High": ("Orange", "Yellow", "Green", "Green", "Blue"),
    "Medium": ("Orange", "Orange", "Yellow", "Green", "Green"),
    "Low": ("Red", "Orange", "Orange", "Yellow", "Yellow"),
    "Very Low": ("Red", "Red", "Red", "Orange", "Yellow"),
}
"""Colour by status (row) and change level (columns in ``CHANGE_LEVELS`` order), §4."""
COLOUR_ORDER: tuple[str, ...] = ("Red", "Orange", "Yellow", "Green", "Blue")
"""The five colours, lowest performance first (how the Dashboard's gauge reads)."""
MIN_STATUS = 11
"""A status needs 11 or more students counted (§4)."""
MIN_COLOUR = 30
"""A colour needs 30 or more students counted (§4)."""
MIN_COLOUR_LTEL = {"school": 30, "lea": 15, "county": 15, "state": 15}
"""Long-term English learners as a group: 15 or more for LEAs, 30 for schools (§4); counties
and the state follow LEAs [our reading]."""
LTEL_GROUP = "250"
PARTICIPATION_TARGET = 95
"""Percent of enrolled ELs expected to test (§4)."""
PARTICIPATION_MIN_ENROLLED = 30
"""The adjustment applies only to an EL enrolment of 30 or more (§4)."""


def participation_adjustment(enrolled: np.ndarray, tested: np.ndarray) -> np.ndarray:
    """Students added to the denominator: the shortfall to 95 % tested (ELPI.md §4).

    Examples
    --------
    >>> participation_adjustment(np.array([100, 100, 29, 40]), np.array([90, 95, 10, 37]))
    array([5, 0, 0, 1])
    """
    enrolled, tested = np.asarray(enrolled, np.int64), np.asarray(tested, np.int64)
    needed = -(-PARTICIPATION_TARGET * enrolled // 100)  # rounded up to whole students
    short = np.maximum(needed - tested, 0)
    return np.where(enrolled >= PARTICIPATION_MIN_ENROLLED, short, 0)


def status_of(progress: np.ndarray, denominator: np.ndarray, counted: np.ndarray
              ) -> np.ndarray:
    """Status labels from the rate; ``No Data`` under ``MIN_STATUS`` counted.

    Examples
    --------
    >>> status_of(np.array([46, 45, 10]), np.array([76, 100, 10]), np.array([76, 100, 10]))
    array(['High', 'Medium', 'No Data'], dtype='<U16')
    """
    progress = np.asarray(progress, np.int64)
    denominator = np.asarray(denominator, np.int64)
    out = np.full(len(progress), STATUS_CUTS[0][0], dtype="<U16")
    for name, cut in STATUS_CUTS[1:]:
        out[100 * progress >= cut * denominator] = name
    out[np.asarray(counted) < MIN_STATUS] = NO_DATA
    return out


def rate_of(progress: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """The rate in percent, unrounded (NaN where nobody is counted)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(denominator) > 0,
                        100 * np.asarray(progress, float) / np.asarray(denominator), np.nan)


def change_level_of(progress: np.ndarray, denominator: np.ndarray, prior_progress: np.ndarray,
                    prior_denominator: np.ndarray, has_both: np.ndarray) -> np.ndarray:
    """Change level (``CHANGE_LEVELS``) from the unrounded rates; ``""`` without both years.

    ``change * d * pd = 100 * (p * pd - pp * d)`` compared with ``edge * d * pd``: whole
    numbers, so an edge is exact.

    Examples
    --------
    >>> change_level_of(np.array([46]), np.array([76]), np.array([54]), np.array([93]),
    ...                 np.array([True]))
    array(['Increased'], dtype='<U32')
    """
    p, d = np.asarray(progress, np.int64), np.asarray(denominator, np.int64)
    pp, pd = np.asarray(prior_progress, np.int64), np.asarray(prior_denominator, np.int64)
    both = np.asarray(has_both, bool) & (d > 0) & (pd > 0)
    scaled = 100 * (p * pd - pp * d)
    unit = d * pd
    small, big = CHANGE_EDGES
    out = np.full(len(p), "", dtype="<U32")
    out[both & (scaled < -big * unit)] = CHANGE_LEVELS[0]
    out[both & (scaled >= -big * unit) & (scaled <= -small * unit)] = CHANGE_LEVELS[1]
    out[both & (scaled > -small * unit) & (scaled < small * unit)] = CHANGE_LEVELS[2]
    out[both & (scaled >= small * unit) & (scaled <= big * unit)] = CHANGE_LEVELS[3]
    out[both & (scaled > big * unit)] = CHANGE_LEVELS[4]
    return out


def colour_of(status: np.ndarray, change_level: np.ndarray, counted: np.ndarray,
              minimum: np.ndarray) -> np.ndarray:
    """Colour from status and change level (``COLOURS``); ``""`` under ``minimum`` counted.

    Examples
    --------
    >>> colour_of(np.array(["High"]), np.array(["Increased"]), np.array([76]), np.array([30]))
    array(['Green'], dtype='<U16')
    """
    out = np.full(len(status), "", dtype="<U16")
    index = {name: i for i, name in enumerate(CHANGE_LEVELS)}
    for i, (s, c, n, m) in enumerate(zip(status.tolist(), change_level.tolist(),
                                         np.asarray(counted).tolist(),
                                         np.asarray(minimum).tolist(), strict=True)):
        if s in COLOURS and c in index and n >= m:
            out[i] = COLOURS[s][index[c]]
    return out


def next_status(status: np.ndarray) -> np.ndarray:
    """The status above each one (``""`` for Very High and No Data)."""
    names = [name for name, _ in STATUS_CUTS]
    after = dict(zip(names, [*names[1:], ""], strict=True))
    return np.array([after.get(s, "") for s in status.tolist()], dtype="<U16")


def more_to_next_status(progress: np.ndarray, denominator: np.ndarray, counted: np.ndarray,
                        status: np.ndarray) -> np.ndarray:
    """How many more counted students progressing would reach the next status (the what-if).

    ``-1`` where there is none to reach (Very High, No Data) or too few counted students are
    not yet progressing to get there.

    Examples
    --------
    >>> more_to_next_status(np.array([44]), np.array([100]), np.array([100]),
    ...                     np.array(["Low"]))
    array([1])
    """
    cuts = dict(STATUS_CUTS)
    p, d = np.asarray(progress, np.int64), np.asarray(denominator, np.int64)
    out = np.full(len(p), -1, dtype=np.int64)
    for i, s in enumerate(next_status(status).tolist()):
        if not s:
            continue
        short = cuts[s] * int(d[i]) - 100 * int(p[i])
        k = max(0, -(-short // 100))
        if k <= int(counted[i]) - int(p[i]):
            out[i] = k
    return out
