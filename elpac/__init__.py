"""The ``elpac`` command line."""
