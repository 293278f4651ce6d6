"""``python -m elpac``: the same as the ``elpac`` command."""

from elpac.cli import main

main()
