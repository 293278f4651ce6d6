"""The process ``elpac serve`` starts: Streamlit, with the dashboard's libraries imported first.

Streamlit imports a page's modules when the first visitor's script runs, so without this the
first visit after start-up also waited for Plotly, Polars, DuckDB, PyArrow and the query
modules to import. Importing them here, before the server listens, moves that wait to
start-up, where nobody is watching a blank page.

Run as ``python -m elpac.serve_app run dashboard/app.py [streamlit options]``.
"""

from __future__ import annotations

import importlib
import sys

WARM_MODULES = (
    "duckdb", "polars", "pyarrow", "numpy", "plotly.graph_objects", "plotly.io",
    "streamlit.elements.plotly_chart", "streamlit.elements.arrow",
    "data.results.store", "queries.reports", "queries.snapshot", "queries.ssr",
    "queries.ssr_delivery", "documents.ssr",
)
"""What the home page's first run imports. Not ``dashboard.*``: their ``st.cache_data``
functions must be made once Streamlit's runtime exists, or they keep a cache of their own."""


def main() -> None:
    """Import ``WARM_MODULES``, then hand the command line to Streamlit's."""
    for name in WARM_MODULES:
        importlib.import_module(name)
    from streamlit.web import cli

    sys.exit(cli.main())


if __name__ == "__main__":
    main()
