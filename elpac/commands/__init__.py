"""The ``elpac`` commands, one module per command or command group (``elpac.cli`` adds them)."""
