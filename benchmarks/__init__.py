"""Benchmarks: ``python -m benchmarks`` (``make bench``). Figures are medians of one run."""


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
