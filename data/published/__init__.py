"""Published aggregates: the CDE public ELPAC research file, imported beside our own results.

``research_file`` reads and checks a file (ELPAC.md §5.3), ``source`` gets its text (a
``.zip`` within bounds, a strict decoding), ``store`` keeps imported files in the store's
``published/`` directory and the catalog's ``published_files`` table.
"""
