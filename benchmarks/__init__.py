"""Benchmarks: ``python -m benchmarks`` (``make bench``). Figures are medians of one run."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


def median_ms(fn: Callable[[], object], repeats: int, *, warm: int = 3) -> float:
    """``fn``'s median time in milliseconds over ``repeats`` calls, after ``warm`` unmeasured."""
    import statistics
    import time

    for _ in range(warm):
        fn()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB, since it started its program.

    ``getrusage``'s ``ru_maxrss`` is not that on Linux: ``exec`` carries over the high-water
    mark of the process it replaced, so a child started by a parent holding 0.9 GB reported
    0.9 GB whatever it did. ``VmHWM`` belongs to the new program's memory alone.
    """
    from pathlib import Path

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
