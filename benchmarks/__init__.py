"""Benchmarks: ``python -m benchmarks`` (``make bench``). Figures are medians of one run."""
